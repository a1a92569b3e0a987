//! The audit trail (`PROXMOX_AUDIT_LOG`): one JSON line per tool call, on either transport.
//!
//! ```text
//! {"time":"2026-11-02T10:15:00.123Z","token":"ci","tool":"proxmox_start_vm","arguments":{"vmid":100},
//!  "outcome":"ok","upid":"UPID:pve1:…","ms":812}
//! ```
//!
//! `token` is the HTTP caller's token name, or `stdio`. Arguments are redacted by the tool's
//! schema (properties marked `writeOnly`, the secrets) and by name (anything whose name holds
//! `password`, `secret`, `token` or `key`). `outcome` is `ok`, `refused` (permission, scope,
//! not granted to the token), or the error's kind (`proxmox`, `invalid_arguments`,
//! `task_failed`, …). Lines are appended (`O_APPEND`) by a thread of their own: a call never
//! waits for the disk; when the queue is full a line is dropped and counted, and the count is
//! written to the log when it drains.

use serde_json::{Map, Value, json};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many lines may wait for the writer.
const QUEUE_LINES: usize = 8192;
/// The longest string value kept in a line's arguments, in bytes.
const MAX_VALUE: usize = 512;

enum Message {
    Line(String),
    Flush(std::sync::mpsc::Sender<()>),
}

/// Where audit lines go. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    queue: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").field("dropped", &self.dropped()).finish_non_exhaustive()
    }
}

impl AuditLog {
    /// `stderr`, or a file opened for appending (created if missing).
    pub fn open(target: &str) -> std::io::Result<AuditLog> {
        let out: Box<dyn Write + Send> = if target == "stderr" {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::fs::OpenOptions::new().create(true).append(true).open(target)?)
        };
        Ok(AuditLog::to_writer(out))
    }

    /// Lines to any writer (tests).
    pub fn to_writer(out: Box<dyn Write + Send>) -> AuditLog {
        let (queue, rx) = std::sync::mpsc::sync_channel(QUEUE_LINES);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        // If the thread cannot start, every line is dropped (and counted).
        let _ =
            std::thread::Builder::new().name("proxmox-mcp-audit".into()).spawn(move || write_lines(rx, out, counter));
        AuditLog { queue, dropped }
    }

    /// Queue one call's line; never waits.
    pub fn record(&self, call: &CallRecord<'_>) {
        let line = call.to_json().to_string();
        match self.queue.try_send(Message::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Lines dropped so far because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Wait (at most `timeout`) until what is queued is written: before the process exits.
    pub fn flush(&self, timeout: Duration) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.queue.try_send(Message::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(timeout);
        }
    }
}

fn write_lines(rx: Receiver<Message>, mut out: Box<dyn Write + Send>, dropped: Arc<AtomicU64>) {
    let mut reported = 0;
    for message in rx {
        match message {
            Message::Line(mut line) => {
                line.push('\n');
                // One write per line: with O_APPEND, lines of several processes do not interleave.
                if out.write_all(line.as_bytes()).and_then(|_| out.flush()).is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Message::Flush(done) => {
                let _ = out.flush();
                let _ = done.send(());
            }
        }
        let now = dropped.load(Ordering::Relaxed);
        if now > reported {
            let line = json!({ "time": rfc3339(SystemTime::now()), "dropped": now }).to_string() + "\n";
            if out.write_all(line.as_bytes()).is_ok() {
                reported = now;
            }
        }
    }
}

/// One tool call, as the audit log records it.
pub struct CallRecord<'a> {
    pub caller: &'a str,
    pub tool: &'a str,
    /// Already redacted (see [`redact`]).
    pub arguments: Value,
    pub outcome: &'a str,
    pub upid: Option<&'a str>,
    pub duration: Duration,
}

impl CallRecord<'_> {
    pub fn to_json(&self) -> Value {
        let mut line = json!({
            "time": rfc3339(SystemTime::now()),
            "token": self.caller,
            "tool": self.tool,
            "arguments": self.arguments,
            "outcome": self.outcome,
        });
        if let Some(upid) = self.upid {
            line["upid"] = upid.into();
        }
        line["ms"] = u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX).into();
        line
    }
}

/// Whether an argument's name says it holds a secret.
pub fn sensitive_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token", "key"].iter().any(|w| name.contains(w))
}

/// `arguments` with each secret replaced by `"[redacted]"`: the properties of `schema` marked
/// `writeOnly: true`, and (at any depth) those with a [`sensitive_name`]. Long strings are cut.
pub fn redact(schema: &Map<String, Value>, arguments: &Map<String, Value>) -> Value {
    let properties = schema.get("properties").and_then(Value::as_object);
    Value::Object(
        arguments
            .iter()
            .map(|(name, value)| {
                let write_only = properties
                    .and_then(|p| p.get(name))
                    .and_then(|p| p.get("writeOnly"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let value = if write_only || sensitive_name(name) {
                    Value::String("[redacted]".into())
                } else {
                    redact_value(value, 0)
                };
                (name.clone(), value)
            })
            .collect(),
    )
}

fn redact_value(value: &Value, depth: usize) -> Value {
    match value {
        _ if depth > 8 => Value::String("…".into()),
        Value::String(s) if s.len() > MAX_VALUE => Value::String(crate::format::truncate(s, MAX_VALUE)),
        Value::Array(items) => Value::Array(items.iter().take(64).map(|v| redact_value(v, depth + 1)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .take(64)
                .map(|(k, v)| {
                    let v =
                        if sensitive_name(k) { Value::String("[redacted]".into()) } else { redact_value(v, depth + 1) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What the audit log says of a result: `ok`, `refused`, or the error's kind.
pub fn outcome(result: &rmcp::model::CallToolResult) -> String {
    if result.is_error != Some(true) {
        return "ok".into();
    }
    let kind = result
        .structured_content
        .as_ref()
        .and_then(|d| d.get("error"))
        .and_then(|e| e.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or("error");
    match kind {
        "permission_denied" | "out_of_scope" | "write_refused" | "not_granted" => "refused".into(),
        other => other.to_string(),
    }
}

/// `2026-11-02T10:15:00.123Z`
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    crate::format::rfc3339(i64::try_from(since.as_secs()).unwrap_or(i64::MAX / 2), since.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(951_782_400_007)), "2000-02-29T00:00:00.007Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_225_599)), "2025-12-31T23:59:59.000Z");
    }

    #[test]
    fn redacts_by_schema_and_by_name() {
        let schema = json!({ "properties": { "cipassword": { "type": "string", "writeOnly": true }, "pin": { "writeOnly": true } } });
        let args = json!({ "vmid": 100, "cipassword": "hunter2", "pin": "1234", "api_token": "t", "nested": { "sshkey": "k", "x": 1 } });
        let out = redact(schema.as_object().unwrap(), args.as_object().unwrap()).to_string();
        for secret in ["hunter2", "1234", "\"t\"", "\"k\""] {
            assert!(!out.contains(secret), "{out}");
        }
        assert!(out.contains("\"vmid\":100") && out.contains("\"x\":1"), "{out}");
    }
}
