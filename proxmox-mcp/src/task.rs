//! Waiting for a Proxmox task: the UPID a tool started is followed to its end, within a
//! deadline, so the agent gets the outcome in the same call instead of polling.
//!
//! - The task's status is polled at `/nodes/{node}/tasks/{upid}/status`, with the node read
//!   from the UPID: once a second for the first five seconds (most tasks end by then), then
//!   backing off to every 3 s.
//! - A task not visible yet right after dispatch, and a transient error (timeout, refused
//!   connection, a 5xx), are waited through; a node that goes offline (595) is reported.
//! - The log is read as it grows (only the new lines each time), for the progress messages, the
//!   warnings and the last lines of a failed task.
//! - At the deadline the task is reported as still running; it goes on in Proxmox.
//!
//! Progress goes to a [`ProgressSink`] when the caller gave one (the MCP server does when the
//! request carries a `progressToken`).

use crate::client::{ApiError, Client, Method, Params};
use crate::path::ApiPath;
use crate::tool::BoxFuture;
use crate::types::{Node, Upid};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The default time a tool waits for the task it started (`PROXMOX_TASK_WAIT`): under the
/// ~60 s a call may take in Claude Desktop and Codex.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(45);
/// The longest wait a call may ask for (`wait`, `timeout`).
pub const MAX_WAIT_SECS: u64 = 3600;
/// Lines of the log kept for a failed task.
pub const LOG_TAIL: usize = 20;
/// Warnings listed at most.
const MAX_WARNINGS: usize = 20;
/// A log line is cut to this many characters.
const MAX_LINE: usize = 300;
/// Log lines read per request, and requests per read (so a read is bounded).
const LOG_PAGE: usize = 500;
const LOG_PAGES: usize = 20;
/// How long a UPID may stay invisible after dispatch before it counts as missing.
const NOT_VISIBLE_GRACE: Duration = Duration::from_secs(10);
/// Transient errors in a row that end the wait.
const MAX_TRANSIENT: u32 = 3;

/// A progress report while waiting: seconds elapsed of the deadline, and the newest log line.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub elapsed_s: f64,
    pub deadline_s: f64,
    pub message: Option<String>,
}

/// Where progress reports go (e.g. MCP `notifications/progress`).
pub type ProgressSink = Arc<dyn Fn(Progress) -> BoxFuture<()> + Send + Sync>;

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

/// What became of a task, as an agent needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskReport {
    pub upid: String,
    pub node: String,
    /// The task type (`qmstart`, `vzdump`, …) and its object (usually the guest id).
    pub kind: String,
    pub id: String,
    pub status: Status,
    /// `OK`, `WARNINGS: n`, or the error it ended with; `None` while running.
    pub exitstatus: Option<String>,
    pub duration_s: f64,
    /// The newest lines of its log (at most [`LOG_TAIL`]).
    pub log_tail: Vec<String>,
    /// The log's warning lines, for an exit status `WARNINGS: n`.
    pub warnings: Vec<String>,
}

impl TaskReport {
    /// Stopped with `OK` or `WARNINGS: n`.
    pub fn succeeded(&self) -> bool {
        self.status == Status::Stopped && self.exitstatus.as_deref().is_some_and(is_success)
    }
    /// Stopped with anything else.
    pub fn failed(&self) -> bool {
        self.status == Status::Stopped && !self.succeeded()
    }
    /// The newest log line, if any.
    pub fn newest_line(&self) -> Option<&str> {
        self.log_tail.last().map(String::as_str)
    }

    /// `structuredContent.task`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "upid": self.upid,
            "node": self.node,
            "type": self.kind,
            "id": self.id,
            "status": self.status.as_str(),
            "exitstatus": self.exitstatus,
            "duration_s": (self.duration_s * 10.0).round() / 10.0,
            "log_tail": self.log_tail,
        });
        if !self.warnings.is_empty() {
            v["warnings"] = json!(self.warnings);
        }
        v
    }

    /// The lines a result text gets about the task.
    pub fn summary(&self) -> String {
        let secs = format!("{:.1} s", self.duration_s);
        match (self.status, self.exitstatus.as_deref()) {
            (Status::Running, _) => {
                let mut s = format!(
                    "⏳ Still running after {secs}; it goes on in Proxmox. Wait more with proxmox_wait_task (upid {}).",
                    self.upid
                );
                if let Some(line) = self.newest_line() {
                    s.push_str(&format!("\n• Newest log line: {line}"));
                }
                s
            }
            (Status::Stopped, Some("OK")) => format!("• Finished: OK in {secs}"),
            (Status::Stopped, Some(status)) if is_success(status) => {
                let mut s = format!("⚠️ Finished with {status} in {secs}:");
                for w in &self.warnings {
                    s.push_str(&format!("\n  {w}"));
                }
                s
            }
            (Status::Stopped, status) => {
                let mut s = format!("Task failed after {secs}: {}", status.unwrap_or("no exit status"));
                if !self.log_tail.is_empty() {
                    s.push_str("\n• Last log lines:");
                    for line in &self.log_tail {
                        s.push_str(&format!("\n  {line}"));
                    }
                }
                s
            }
        }
    }
}

/// A task's headline, said while it runs ("VM 100 is being cloned to 101", "VM 100 is
/// starting", "Backup of VM 100 started"), as it reads once it has ended well ("VM 100 was
/// cloned to 101", "VM 100 started", "Backup of VM 100 finished").
///
/// ```
/// use proxmox_mcp::task::ended;
/// assert_eq!(ended("Snapshot 'a' of VM 100 is being taken"), "Snapshot 'a' of VM 100 was taken");
/// assert_eq!(ended("Container 200 is migrating from pve1 to pve2"), "Container 200 migrated from pve1 to pve2");
/// assert_eq!(ended("VM 100 is shutting down"), "VM 100 shut down");
/// assert_eq!(ended("Download of a.iso into local started"), "Download of a.iso into local finished");
/// assert_eq!(ended("Something else"), "Something else");
/// ```
pub fn ended(headline: &str) -> String {
    const RUNNING: &[(&str, &str)] = &[
        (" is being ", " was "),
        (" is starting", " started"),
        (" is shutting down", " shut down"),
        (" is rebooting", " rebooted"),
        (" is migrating ", " migrated "),
    ];
    for (running, done) in RUNNING {
        if let Some(i) = headline.find(running) {
            return format!("{}{done}{}", &headline[..i], &headline[i + running.len()..]);
        }
    }
    match headline.strip_suffix(" started") {
        Some(head) => format!("{head} finished"),
        None => headline.to_string(),
    }
}

fn is_success(exitstatus: &str) -> bool {
    exitstatus == "OK" || exitstatus.starts_with("WARNINGS")
}

/// A wait that could not go on.
#[derive(Debug)]
pub enum WaitError {
    /// The task's node went offline (or out of the cluster's reach) while waiting.
    NodeOffline { node: String, upid: String, error: ApiError },
    /// Proxmox could not be asked about the task.
    Api(ApiError),
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::NodeOffline { node, upid, error } => write!(
                f,
                "Node {node} went offline while waiting for task {upid}: {error} The task may still be running there; \
                 when the node is back, proxmox_wait_task (upid {upid}) reports it."
            ),
            WaitError::Api(e) => e.fmt(f),
        }
    }
}

/// The parts of a UPID: `UPID:node:pid:pstart:starttime:type:id:user:`.
struct UpidParts {
    node: Node,
    kind: String,
    id: String,
    starttime: Option<u64>,
}

fn parts(upid: &Upid) -> Option<UpidParts> {
    let fields: Vec<&str> = upid.as_str().split(':').collect();
    Some(UpidParts {
        node: Node::new(*fields.get(1)?).ok()?,
        kind: fields.get(5)?.to_string(),
        id: fields.get(6)?.to_string(),
        starttime: u64::from_str_radix(fields.get(4)?, 16).ok(),
    })
}

/// The node a UPID belongs to.
pub fn node_of(upid: &Upid) -> Option<Node> {
    parts(upid).map(|p| p.node)
}

/// The log, read as it grows.
struct Log {
    next: usize,
    tail: VecDeque<String>,
    warnings: Vec<String>,
}

impl Log {
    fn new() -> Self {
        Log { next: 0, tail: VecDeque::new(), warnings: Vec::new() }
    }

    /// Read the lines not read yet (bounded). A failure leaves what was read.
    async fn read_new(&mut self, client: &Client, base: &ApiPath) {
        let path = base.clone().join_lit("log");
        for _ in 0..LOG_PAGES {
            let params = Params(vec![("start".into(), self.next.to_string()), ("limit".into(), LOG_PAGE.to_string())]);
            let Ok(Value::Array(lines)) = client.request(Method::Get, &path, params).await else { return };
            let count = lines.len();
            for line in lines {
                let text = line.get("t").and_then(Value::as_str).unwrap_or_default();
                let text: String = text.chars().take(MAX_LINE).collect();
                if (text.starts_with("WARN") || text.contains(" WARN: ")) && self.warnings.len() < MAX_WARNINGS {
                    self.warnings.push(text.clone());
                }
                if self.tail.len() == LOG_TAIL {
                    self.tail.pop_front();
                }
                self.tail.push_back(text);
            }
            self.next += count;
            if count < LOG_PAGE {
                return;
            }
        }
    }
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Logs, when dropped before the wait ended, that the task goes on (a client's cancellation).
struct CancelNote<'a> {
    upid: &'a str,
    done: bool,
}

impl Drop for CancelNote<'_> {
    fn drop(&mut self) {
        if !self.done {
            tracing::info!(upid = self.upid, "stopped waiting for the task; the Proxmox task goes on");
        }
    }
}

/// Follow `upid` until it stops or `deadline` passes, reporting progress to `progress`.
/// A zero deadline makes no request: the task is reported as running.
pub async fn wait(
    client: &Client,
    upid: &Upid,
    deadline: Duration,
    progress: Option<&ProgressSink>,
) -> Result<TaskReport, WaitError> {
    let started = Instant::now();
    let parts =
        parts(upid).ok_or_else(|| WaitError::Api(ApiError::Decode(format!("the task id {upid} names no node"))))?;
    let mut report = TaskReport {
        upid: upid.to_string(),
        node: parts.node.to_string(),
        kind: parts.kind.clone(),
        id: parts.id.clone(),
        status: Status::Running,
        exitstatus: None,
        duration_s: 0.0,
        log_tail: Vec::new(),
        warnings: Vec::new(),
    };
    if deadline.is_zero() {
        return Ok(report);
    }
    let mut note = CancelNote { upid: upid.as_str(), done: false };
    let base = ApiPath::lit("/nodes").join(&parts.node).join_lit("tasks").join(upid);
    let status_path = base.clone().join_lit("status");
    let mut log = Log::new();
    let mut interval = Duration::from_secs(1);
    let mut polls = 0;
    let mut transient = 0;
    let duration = |status: &Value| {
        let start = status.get("starttime").and_then(Value::as_u64).or(parts.starttime);
        let end = status.get("endtime").and_then(Value::as_u64);
        match (start, end) {
            (Some(s), Some(e)) if e >= s => (e - s) as f64,
            _ => started.elapsed().as_secs_f64(),
        }
    };
    loop {
        match client.request(Method::Get, &status_path, Params::default()).await {
            Ok(status) => {
                transient = 0;
                report.duration_s = duration(&status);
                if status.get("status").and_then(Value::as_str) == Some("stopped") {
                    log.read_new(client, &base).await;
                    report.status = Status::Stopped;
                    report.exitstatus = Some(
                        status
                            .get("exitstatus")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown")
                            .chars()
                            .take(MAX_LINE)
                            .collect(),
                    );
                    break;
                }
                if let Some(sink) = progress {
                    log.read_new(client, &base).await;
                    let elapsed = started.elapsed().min(deadline);
                    sink(Progress {
                        elapsed_s: elapsed.as_secs_f64().round(),
                        deadline_s: deadline.as_secs_f64(),
                        message: log.tail.back().cloned(),
                    })
                    .await;
                }
            }
            // Right after dispatch the task may not be listed yet.
            Err(ApiError::NotFound(_)) if started.elapsed() < NOT_VISIBLE_GRACE => {}
            Err(error @ ApiError::NodeUnreachable(_)) => {
                note.done = true;
                return Err(WaitError::NodeOffline { node: report.node, upid: report.upid, error });
            }
            Err(
                e @ (ApiError::Timeout(_) | ApiError::Connect(_) | ApiError::Interrupted(_) | ApiError::Status { .. }),
            ) => {
                transient += 1;
                if transient > MAX_TRANSIENT {
                    note.done = true;
                    return Err(WaitError::Api(e));
                }
                tracing::debug!(upid = %upid, error = %e, "transient error while waiting for a task");
            }
            Err(e) => {
                note.done = true;
                return Err(WaitError::Api(e));
            }
        }
        let elapsed = started.elapsed();
        if elapsed >= deadline {
            log.read_new(client, &base).await;
            report.duration_s = report.duration_s.max(elapsed.as_secs_f64());
            break;
        }
        tokio::time::sleep(interval.min(deadline - elapsed)).await;
        polls += 1;
        if polls >= 5 {
            interval = (interval.mul_f64(1.5)).min(Duration::from_secs(3));
        }
    }
    note.done = true;
    report.log_tail = log.tail.into_iter().collect();
    report.warnings = log.warnings;
    if report.status == Status::Running && report.duration_s == 0.0 {
        report.duration_s = parts.starttime.map_or(0.0, |s| epoch_now().saturating_sub(s) as f64);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upids_give_their_node_type_and_object() {
        let upid = Upid::new("UPID:pve2:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:").unwrap();
        let p = parts(&upid).unwrap();
        assert_eq!((p.node.as_str(), p.kind.as_str(), p.id.as_str()), ("pve2", "qmstart", "100"));
        assert_eq!(p.starttime, Some(0x65F0A1B2));
    }

    #[test]
    fn outcomes_read_as_an_agent_needs() {
        let mut r = TaskReport {
            upid: "U".into(),
            node: "pve1".into(),
            kind: "vzdump".into(),
            id: "100".into(),
            status: Status::Stopped,
            exitstatus: Some("OK".into()),
            duration_s: 3.0,
            log_tail: vec![],
            warnings: vec![],
        };
        assert!(r.succeeded() && !r.failed());
        r.exitstatus = Some("WARNINGS: 1".into());
        assert!(r.succeeded());
        r.exitstatus = Some("command 'vzdump' failed: exit code 1".into());
        assert!(r.failed());
        r.status = Status::Running;
        r.exitstatus = None;
        assert!(!r.succeeded() && !r.failed());
        assert!(r.summary().contains("proxmox_wait_task"));
    }
}
