//! Waiting for tasks, in the library: every task tool follows its UPID to the end, within a
//! deadline, with progress. Proxmox is a scripted transport here (each status poll answers the
//! next step of a script); time is paused, so deadlines pass at once.

use proxmox_mcp::client::{RawResponse, Request, Transport, TransportFuture};
use proxmox_mcp::task::{Progress, ProgressSink};
use proxmox_mcp::types::{Node, VmId};
use proxmox_mcp::{Api, ApiError, Client, Context, Method, Registry, ToolError, ToolResult, pve_tool};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const UPID: &str = "UPID:pve2:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:";

/// What a status poll answers.
#[derive(Clone)]
enum Step {
    Running,
    Stopped(&'static str),
    /// An error status with Proxmox's message.
    Status(u16, &'static str),
    /// No connection.
    Refused,
}

#[derive(Clone, Default)]
struct Script {
    steps: Arc<Mutex<VecDeque<Step>>>,
    log: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Script {
    fn new(steps: &[Step], log: &[&str]) -> Self {
        let s = Script::default();
        s.steps.lock().unwrap().extend(steps.iter().cloned());
        s.log.lock().unwrap().extend(log.iter().map(|l| l.to_string()));
        s
    }
    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
    fn polls(&self) -> usize {
        self.requests().iter().filter(|r| r.ends_with("/status")).count()
    }
}

fn ok(data: Value) -> Result<RawResponse, ApiError> {
    Ok(RawResponse { status: 200, reason: None, body: json!({ "data": data }).to_string().into_bytes() })
}

impl Transport for Script {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        let path = request.path.to_string();
        self.requests.lock().unwrap().push(format!("{} {path}", request.method));
        let answer = if request.method == Method::Post {
            ok(json!(UPID))
        } else if path.ends_with("/status") {
            let mut steps = self.steps.lock().unwrap();
            // The last step repeats.
            let step = if steps.len() > 1 { steps.pop_front() } else { steps.front().cloned() };
            match step.unwrap_or(Step::Running) {
                Step::Running => ok(json!({ "status": "running", "upid": UPID, "type": "qmstart", "id": "100" })),
                Step::Stopped(exit) => ok(json!({ "status": "stopped", "exitstatus": exit, "upid": UPID,
                    "starttime": 1000, "endtime": 1007 })),
                Step::Status(code, message) => {
                    Ok(RawResponse { status: code, reason: Some(message.into()), body: b"{\"data\":null}".to_vec() })
                }
                Step::Refused => Err(ApiError::Connect("connection refused".into())),
            }
        } else if path.ends_with("/log") {
            let start: usize = request.params.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
            let limit: usize = request.params.get("limit").and_then(|s| s.parse().ok()).unwrap_or(50);
            let lines: Vec<Value> = self
                .log
                .lock()
                .unwrap()
                .iter()
                .enumerate()
                .skip(start)
                .take(limit)
                .map(|(n, t)| json!({ "n": n + 1, "t": t }))
                .collect();
            ok(Value::Array(lines))
        } else {
            ok(Value::Null)
        };
        Box::pin(async move { answer })
    }
    fn describe(&self) -> String {
        "script".into()
    }
}

/// A downstream tool that starts a task, written as any user of the library would.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/start", method = POST, elevated, task)]
async fn start_it(api: Api, node: Node, vmid: VmId) -> ToolResult {
    api.start_task((), &node, format!("VM {vmid} is starting")).await
}

async fn run(script: &Script, args: Value, progress: Option<ProgressSink>) -> ToolResult {
    let ctx = Context::new(Client::with_transport(script.clone()), true).with_progress(progress);
    let Value::Object(args) = args else { panic!("object") };
    START_IT.call(ctx, args).await
}

fn start() -> Value {
    json!({ "node": "pve2", "vmid": 100 })
}

#[tokio::test(start_paused = true)]
async fn an_ok_task_is_a_success_with_its_outcome() {
    let script = Script::new(&[Step::Running, Step::Running, Step::Stopped("OK")], &["starting", "TASK OK"]);
    let out = run(&script, start(), None).await.unwrap();
    let task = &out.data["task"];
    assert_eq!(task["status"], "stopped");
    assert_eq!(task["exitstatus"], "OK");
    assert_eq!((task["upid"].as_str(), task["node"].as_str()), (Some(UPID), Some("pve2")));
    assert_eq!((task["type"].as_str(), task["id"].as_str()), (Some("qmstart"), Some("100")));
    assert_eq!(task["duration_s"], 7.0);
    assert_eq!(task["log_tail"], json!(["starting", "TASK OK"]));
    assert_eq!(out.data["upid"], UPID);
    assert_eq!(script.polls(), 3);
    // The node comes from the UPID: every poll asks pve2.
    assert!(
        script.requests().iter().skip(1).all(|r| r.starts_with("GET /nodes/pve2/tasks/")),
        "{:?}",
        script.requests()
    );
    // It has ended: the headline says so, in the past.
    assert!(out.text.starts_with("✅ VM 100 started\n"), "{}", out.text);
    assert!(out.text.contains("• Finished: OK in 7.0 s"), "{}", out.text);
    let shown = proxmox_mcp::server::render(Ok(out));
    assert_eq!(shown.is_error, Some(false));
}

#[tokio::test(start_paused = true)]
async fn warnings_are_a_success_that_lists_them() {
    let log = ["INFO: starting", "WARN: mp0 of 201 is not in the backup", "INFO: done", "TASK WARNINGS: 1"];
    let script = Script::new(&[Step::Stopped("WARNINGS: 1")], &log);
    let out = run(&script, start(), None).await.unwrap();
    assert_eq!(out.data["task"]["exitstatus"], "WARNINGS: 1");
    assert_eq!(out.data["task"]["warnings"], json!(["WARN: mp0 of 201 is not in the backup"]));
    assert!(out.text.contains("WARNINGS: 1") && out.text.contains("mp0 of 201"), "{}", out.text);
}

#[tokio::test(start_paused = true)]
async fn a_failed_task_is_an_error_with_the_end_of_its_log() {
    let mut log: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
    log.push("TASK ERROR: VM 100 already running".into());
    let log: Vec<&str> = log.iter().map(String::as_str).collect();
    let script = Script::new(&[Step::Running, Step::Stopped("VM 100 already running")], &log);
    let err = run(&script, start(), None).await.unwrap_err();
    let ToolError::TaskFailed(failure) = &err else { panic!("{err:?}") };
    assert_eq!(failure.report.exitstatus.as_deref(), Some("VM 100 already running"));
    let shown = proxmox_mcp::server::render(Err(err));
    assert_eq!(shown.is_error, Some(true));
    let data = shown.structured_content.unwrap();
    assert_eq!(data["error"]["kind"], "task_failed");
    assert_eq!(data["error"]["exitstatus"], "VM 100 already running");
    let tail = data["task"]["log_tail"].as_array().unwrap();
    assert_eq!(tail.len(), 20);
    assert_eq!(tail[0], "line 12");
    assert_eq!(tail[19], "TASK ERROR: VM 100 already running");
    assert_eq!(data["task"]["status"], "stopped");
}

#[tokio::test(start_paused = true)]
async fn a_task_not_visible_yet_is_waited_for() {
    let steps = [Step::Status(500, "no such task"), Step::Status(404, "not found"), Step::Running, Step::Stopped("OK")];
    let script = Script::new(&steps, &["TASK OK"]);
    let out = run(&script, start(), None).await.unwrap();
    assert_eq!(out.data["task"]["exitstatus"], "OK");
    assert_eq!(script.polls(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_transient_error_is_survived() {
    let script = Script::new(&[Step::Running, Step::Refused, Step::Status(503, "busy"), Step::Stopped("OK")], &[]);
    let out = run(&script, start(), None).await.unwrap();
    assert_eq!(out.data["task"]["status"], "stopped");
    // Errors that do not pass are reported.
    let script = Script::new(&[Step::Refused], &[]);
    let err = run(&script, start(), None).await.unwrap_err();
    assert!(matches!(err, ToolError::Api(ApiError::Connect(_))), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn a_node_going_offline_mid_wait_is_reported() {
    let script = Script::new(&[Step::Running, Step::Status(595, "no route to host")], &[]);
    let err = run(&script, start(), None).await.unwrap_err().to_string();
    assert!(err.contains("Node pve2 went offline") && err.contains(UPID), "{err}");
    assert!(err.contains("proxmox_wait_task"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn at_the_deadline_the_task_is_still_running_and_not_an_error() {
    let script = Script::new(&[Step::Running], &["starting", "copying 40%"]);
    let args = json!({ "node": "pve2", "vmid": 100, "wait": 10 });
    let started = tokio::time::Instant::now();
    let out = run(&script, args, None).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(10) && waited < Duration::from_secs(11), "{waited:?}");
    assert_eq!(out.data["task"]["status"], "running");
    assert_eq!(out.data["task"]["exitstatus"], Value::Null);
    assert!(out.text.contains("Still running") && out.text.contains("proxmox_wait_task"), "{}", out.text);
    assert!(out.text.starts_with("✅ VM 100 is starting\n"), "still running, as it runs: {}", out.text);
    assert!(out.text.contains("copying 40%"), "the newest log line: {}", out.text);
    // Once a second, then backing off: fewer polls than seconds.
    let polls = script.polls();
    assert!((4..10).contains(&polls), "{polls} polls in 10 s");
}

#[tokio::test(start_paused = true)]
async fn wait_zero_returns_the_upid_without_polling() {
    let script = Script::new(&[Step::Running], &[]);
    let out = run(&script, json!({ "node": "pve2", "vmid": 100, "wait": 0 }), None).await.unwrap();
    assert_eq!(out.data["upid"], UPID);
    assert_eq!(out.data["task"]["status"], "running");
    assert_eq!(script.requests(), vec![format!("POST /nodes/pve2/qemu/100/status/start")]);
    // `wait` is checked like every argument.
    let err = run(&script, json!({ "node": "pve2", "vmid": 100, "wait": 3601 }), None).await.unwrap_err();
    let ToolError::InvalidArguments(list) = err else { panic!() };
    assert_eq!(list, vec![("wait".to_string(), "must be at most 3600".to_string())]);
}

#[tokio::test(start_paused = true)]
async fn progress_goes_to_the_sink_only_when_asked() {
    let script = Script::new(&[Step::Running, Step::Running, Step::Stopped("OK")], &["starting", "step 2"]);
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink: ProgressSink = {
        let seen = seen.clone();
        Arc::new(move |p| {
            seen.lock().unwrap().push(p);
            Box::pin(async {})
        })
    };
    run(&script, json!({ "node": "pve2", "vmid": 100, "wait": 30 }), Some(sink)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one report per poll while running: {seen:?}");
    assert!(seen.iter().all(|p| p.deadline_s == 30.0));
    assert!(seen[0].elapsed_s <= seen[1].elapsed_s);
    assert_eq!(seen[1].message.as_deref(), Some("step 2"));
    // Without a sink, the log is read once, at the end.
    let script = Script::new(&[Step::Running, Step::Running, Step::Stopped("OK")], &["starting"]);
    run(&script, start(), None).await.unwrap();
    assert_eq!(script.requests().iter().filter(|r| r.ends_with("/log")).count(), 1);
}

#[tokio::test(start_paused = true)]
async fn every_built_in_task_tool_takes_wait_and_waits() {
    let registry = Registry::builtin();
    let tasks: Vec<_> = registry.iter().filter(|t| t.task).collect();
    assert!(tasks.len() >= 39, "{}", tasks.len());
    for t in &tasks {
        let schema = Value::Object(t.input_schema());
        assert_eq!(schema["properties"]["wait"]["maximum"], 3600, "{}", t.name);
        assert!(t.elevated, "{} starts a task and changes the cluster", t.name);
    }
    // A built-in one, end to end: proxmox_start_vm follows its task.
    let script = Script::new(&[Step::Running, Step::Stopped("OK")], &["TASK OK"]);
    let ctx = Context::new(Client::with_transport(script.clone()), true);
    let Value::Object(args) = json!({ "node": "pve2", "vmid": 100 }) else { panic!() };
    let out = registry.get("proxmox_start_vm").unwrap().call(ctx, args).await.unwrap();
    assert_eq!(out.data["task"]["exitstatus"], "OK");
    assert_eq!(out.data["vmid"], 100);
}

#[tokio::test(start_paused = true)]
async fn wait_task_follows_any_task_and_stop_task_stops_one() {
    let registry = Registry::builtin();
    let script = Script::new(&[Step::Running, Step::Stopped("OK")], &["TASK OK"]);
    let ctx = Context::new(Client::with_transport(script.clone()), true);
    let call = |tool: &str, args: Value| {
        let Value::Object(args) = args else { panic!() };
        registry.get(tool).unwrap().call(ctx.clone(), args)
    };
    let out = call("proxmox_wait_task", json!({ "upid": UPID })).await.unwrap();
    assert_eq!(out.data["task"]["exitstatus"], "OK");
    assert!(script.requests().iter().all(|r| r.starts_with("GET /nodes/pve2/tasks/")), "{:?}", script.requests());
    let err = call("proxmox_wait_task", json!({ "upid": UPID, "node": "pve1" })).await.unwrap_err();
    let ToolError::InvalidArguments(list) = err else { panic!() };
    assert_eq!(list[0].0, "node");
    assert!(list[0].1.contains("runs on pve2"), "{list:?}");

    let out = call("proxmox_stop_task", json!({ "upid": UPID })).await.unwrap();
    assert_eq!(out.data["node"], "pve2");
    assert!(script.requests().iter().any(|r| r == &format!("DELETE /nodes/pve2/tasks/{}", upid_in_path())));
    // Elevated: refused with elevation off, nothing sent.
    let quiet = Script::default();
    let ctx = Context::new(Client::with_transport(quiet.clone()), false);
    let Value::Object(args) = json!({ "upid": UPID }) else { panic!() };
    let err = registry.get("proxmox_stop_task").unwrap().call(ctx, args).await.unwrap_err();
    assert!(matches!(err, ToolError::PermissionDenied(_)));
    assert!(quiet.requests().is_empty());
}

/// The UPID as it appears in a request path (percent-encoded).
fn upid_in_path() -> String {
    let path = proxmox_mcp::ApiPath::root().join(&proxmox_mcp::types::Upid::new(UPID).unwrap());
    path.to_string().trim_start_matches('/').to_string()
}
