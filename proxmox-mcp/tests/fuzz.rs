//! Fuzzing on the stable toolchain: property-based tests (proptest) that nothing panics, whatever
//! the agent sends and whatever Proxmox answers.
//!
//! - every tool gets arbitrary JSON arguments, blind and guided by its schema (its own parameter
//!   names, values near valid ones, the valid call of `common::calls` with one argument
//!   changed), against the demo cluster;
//! - the MCP server gets malformed JSON-RPC lines (bytes, JSON of any shape, requests of odd
//!   shapes) and must answer a ping after each;
//! - every tool, called validly, gets Proxmox answers of arbitrary shapes and statuses.
//!
//! Cases per test: `PROPTEST_CASES` (default 256: about a second for the file, in debug).
//! A panic is caught twice: `ProxmoxServer::call` turns one into an error that says "internal
//! error of this server", which fails the case; `ToolDescriptor::call` is also run directly
//! under `catch_unwind`.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use proxmox_mcp::client::{ApiError, RawResponse, Request, Transport, TransportFuture};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::server::ProxmoxServer;
use proxmox_mcp::{Client, Context, Registry, ToolDescriptor};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|c| c.trim().parse().ok()).unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() })
}

/// A runtime whose clock is paused: task waits and backoffs take no real time.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap()
}

/// Strings an agent or Proxmox could plausibly send: ids, volumes, property strings, edge cases.
const WORDS: &[&str] = &[
    "",
    " ",
    "pve1",
    "pve2",
    "pve3",
    "100",
    "101",
    "200",
    "9000",
    "local",
    "local-lvm",
    "local:iso/debian.iso",
    "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
    "local-lvm:vm-100-disk-0",
    "vmbr0",
    "eth0",
    "scsi0",
    "net0",
    "virtio,bridge=vmbr0",
    "qemu",
    "lxc",
    "running",
    "stopped",
    "1G",
    "32G",
    "0",
    "-1",
    "1e9",
    "true",
    "yes",
    "../..",
    "a/b",
    "%2F",
    "\u{0}",
    "\n",
    "é",
    "🚀",
    "UPID:pve1:00001234:00000000:00000000:qmstart:100:root@pam:",
    "root@pam",
    "in",
    "out",
    "ACCEPT",
    "DROP",
    "tcp",
    "22",
    "10.0.0.1/24",
    "dhcp",
    "snap1",
    "keep-last=3",
    "iso",
    "backup",
    "images",
    "*",
    "?",
    "{",
    "null",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
        2 => prop::collection::vec(any::<char>(), 0..24).prop_map(|c| c.into_iter().collect()),
        1 => (prop::sample::select(WORDS), prop::sample::select(WORDS)).prop_map(|(a, b)| format!("{a}{b}")),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..10_000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        word().prop_map(Value::String),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(word(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every tool, with its parameter names and (if it has one) its valid call.
struct ToolInfo {
    tool: &'static ToolDescriptor,
    params: Vec<String>,
    valid: Option<Map<String, Value>>,
}

fn tools() -> Arc<Vec<ToolInfo>> {
    let calls = common::calls::calls();
    Arc::new(
        Registry::builtin()
            .iter()
            .map(|tool| {
                let schema = tool.input_schema();
                let mut params: Vec<String> = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                params.push("bogus".into());
                let valid = calls.iter().find(|(name, _)| *name == tool.name).and_then(|(_, args)| match fill(args) {
                    Value::Object(m) => Some(m),
                    _ => None,
                });
                ToolInfo { tool, params, valid }
            })
            .collect(),
    )
}

/// The placeholders of `common::calls` made concrete.
fn fill(v: &Value) -> Value {
    match v {
        Value::String(s) if s == "$UPID" => json!("UPID:pve1:00001234:00000000:00000000:qmstart:100:root@pam:"),
        Value::String(s) if s == "$PID" => json!(4242),
        Value::Array(a) => Value::Array(a.iter().map(fill).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), fill(v))).collect()),
        other => other.clone(),
    }
}

/// A call: which tool, with what arguments (blind, by its names, or its valid call changed).
fn tool_call(tools: Arc<Vec<ToolInfo>>) -> impl Strategy<Value = (usize, Map<String, Value>)> {
    (0..tools.len()).prop_flat_map(move |i| {
        let info = &tools[i];
        let names = info.params.clone();
        let blind = prop::collection::btree_map(word(), json_value(), 0..5).boxed();
        let named = prop::collection::btree_map(prop::sample::select(names.clone()), json_value(), 0..8).boxed();
        let near =
            prop::collection::btree_map(prop::sample::select(names.clone()), word().prop_map(Value::String), 0..8)
                .boxed();
        let strategies = match info.valid.clone() {
            Some(valid) => {
                let mutated = (prop::sample::select(names), json_value(), any::<bool>())
                    .prop_map(move |(name, value, remove)| {
                        let mut args = valid.clone();
                        if remove {
                            args.remove(&name);
                        } else {
                            args.insert(name, value);
                        }
                        args.into_iter().collect::<BTreeMap<_, _>>()
                    })
                    .boxed();
                prop_oneof![1 => blind, 2 => named, 2 => near, 3 => mutated].boxed()
            }
            None => prop_oneof![1 => blind, 2 => named, 2 => near].boxed(),
        };
        strategies.prop_map(move |args| (i, args.into_iter().collect()))
    })
}

/// What a panic looks like once `ProxmoxServer::call` caught it.
const CAUGHT_PANIC: &str = "internal error of this server";

#[test]
fn every_tool_survives_arbitrary_arguments() {
    let rt = runtime();
    let tools = tools();
    let registry = Registry::builtin();
    let succeeded = AtomicUsize::new(0);
    runner()
        .run(&tool_call(tools.clone()), |(i, args)| {
            let name = tools[i].tool.name;
            let server = ProxmoxServer::new(
                registry.clone(),
                Client::with_transport(DemoCluster::with_task_duration(Duration::ZERO)),
                true,
            );
            let result = rt.block_on(server.call(name, args.clone())).expect("a registered tool");
            let shown = serde_json::to_string(&result).unwrap();
            prop_assert!(!shown.contains(CAUGHT_PANIC), "{name} {args:?} panicked: {shown}");
            if result.is_error != Some(true) {
                succeeded.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // Some calls got past the argument checks (so the fuzzing reached the tools' own code).
    let succeeded = succeeded.into_inner();
    eprintln!("{succeeded} of {} calls succeeded", cases());
    assert!(cases() < 256 || succeeded > 0, "no call succeeded");
}

/// A Proxmox that answers every request with the next of its scripted answers (round robin).
struct Scripted {
    answers: Vec<Result<RawResponse, ApiError>>,
    next: AtomicUsize,
    /// Requests answered, over all cases.
    counted: Arc<AtomicUsize>,
}

impl Transport for Scripted {
    fn send(&self, _request: Request) -> TransportFuture<'_> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.counted.fetch_add(1, Ordering::Relaxed);
        let answer = self.answers[i % self.answers.len()].clone();
        Box::pin(async move { answer })
    }
    fn describe(&self) -> String {
        "scripted fuzz answers".into()
    }
}

/// An answer of any shape: JSON data of any shape under `data` (mostly), other bodies, statuses.
fn answer() -> impl Strategy<Value = Result<RawResponse, ApiError>> {
    let ok = |body: Vec<u8>| Ok(RawResponse { status: 200, reason: None, body });
    prop_oneof![
        6 => json_value().prop_map(move |data| ok(json!({ "data": data }).to_string().into_bytes())),
        1 => json_value().prop_map(move |v| ok(v.to_string().into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(ok),
        1 => (prop::sample::select(vec![400u16, 401, 403, 404, 500, 501, 595, 596, 599]), json_value(), word())
            .prop_map(|(status, errors, reason)| Ok(RawResponse {
                status,
                reason: Some(reason),
                body: json!({ "data": null, "errors": errors, "message": "x" }).to_string().into_bytes(),
            })),
        1 => Just(Err(ApiError::Timeout(Duration::from_secs(30)))),
        1 => Just(Err(ApiError::Interrupted("connection reset".into()))),
    ]
}

#[test]
fn every_renderer_survives_answers_of_any_shape() {
    let rt = runtime();
    let tools: Vec<(&'static ToolDescriptor, Map<String, Value>)> =
        tools().iter().filter_map(|t| Some((t.tool, t.valid.clone()?))).collect();
    assert!(tools.len() > 100, "valid calls for {} tools only", tools.len());
    let strategy = (0..tools.len(), prop::collection::vec(answer(), 1..6));
    let requests = Arc::new(AtomicUsize::new(0));
    runner()
        .run(&strategy, |(i, answers)| {
            let (tool, args) = &tools[i];
            let ctx = Context::new(
                Client::with_transport(Scripted { answers, next: AtomicUsize::new(0), counted: requests.clone() })
                    .with_retry(proxmox_mcp::client::Retry::NONE),
                true,
            );
            let call = tool.call(ctx, args.clone());
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(async { tokio::time::timeout(Duration::from_secs(24 * 3600), call).await })
            }));
            match outcome {
                Err(_) => Err(TestCaseError::fail(format!("{} panicked", tool.name))),
                Ok(Err(_)) => Err(TestCaseError::fail(format!("{} never finished", tool.name))),
                Ok(Ok(result)) => {
                    // Rendering the result must not panic either.
                    let _ = proxmox_mcp::server::render(result);
                    Ok(())
                }
            }
        })
        .unwrap();
    // The answers reached the tools (each valid call makes at least one request).
    assert!(requests.load(Ordering::Relaxed) >= cases() as usize, "{requests:?} requests");
}

/// A line a broken or hostile client could send.
fn hostile_line() -> impl Strategy<Value = Vec<u8>> {
    let methods = prop::sample::select(vec![
        "ping",
        "tools/call",
        "tools/list",
        "initialize",
        "notifications/cancelled",
        "notifications/initialized",
        "resources/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "x",
        "",
    ]);
    let id = prop_oneof![json_value(), (0u64..10).prop_map(Value::from), word().prop_map(Value::String)];
    let names: Vec<&'static str> = Registry::builtin().iter().map(|t| t.name).collect();
    let call_params = (prop::sample::select(names), json_value())
        .prop_map(|(name, arguments)| json!({ "name": name, "arguments": arguments }));
    let params = prop_oneof![json_value(), call_params];
    let request = (methods, id, params, any::<bool>()).prop_map(|(method, id, params, with_id)| {
        let mut m = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        if with_id {
            m["id"] = id;
        }
        m.to_string().into_bytes()
    });
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..80),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        4 => request,
        // A request cut short.
        1 => (json_value(), 0usize..200).prop_map(|(v, cut)| {
            let s = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": v }).to_string().into_bytes();
            s[..cut.min(s.len())].to_vec()
        }),
    ]
}

/// One in-process MCP session over a pipe: write lines, read answers.
struct Pipe {
    to_server: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    from_server: tokio::io::Lines<tokio::io::BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
}

impl Pipe {
    async fn start() -> Pipe {
        use rmcp::ServiceExt as _;
        use tokio::io::AsyncBufReadExt as _;
        let (client, server_end) = tokio::io::duplex(1 << 20);
        let server = ProxmoxServer::new(
            Registry::builtin(),
            Client::with_transport(DemoCluster::with_task_duration(Duration::ZERO)),
            true,
        );
        tokio::spawn(async move {
            if let Ok(running) = server.serve(tokio::io::split(server_end)).await {
                let _ = running.waiting().await;
            }
        });
        let (read, write) = tokio::io::split(client);
        let mut pipe = Pipe { to_server: write, from_server: tokio::io::BufReader::new(read).lines() };
        pipe.line(json!({ "jsonrpc": "2.0", "id": "init", "method": "initialize",
            "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "fuzz", "version": "1" } } })
            .to_string().as_bytes())
            .await;
        pipe.answer_to("init").await.expect("initialized");
        pipe.line(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
        pipe
    }

    async fn line(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt as _;
        self.to_server.write_all(bytes).await.unwrap();
        self.to_server.write_all(b"\n").await.unwrap();
        self.to_server.flush().await.unwrap();
    }

    /// Read until the answer with this id; `None` if the server stopped or went quiet.
    async fn answer_to(&mut self, id: &str) -> Option<Value> {
        loop {
            let line =
                tokio::time::timeout(Duration::from_secs(3600), self.from_server.next_line()).await.ok()?.ok()??;
            let v: Value = serde_json::from_str(&line).ok()?;
            if v["id"] == id {
                return Some(v);
            }
        }
    }
}

#[test]
fn the_server_keeps_answering_after_malformed_lines() {
    let rt = runtime();
    let pipe = std::cell::RefCell::new(rt.block_on(Pipe::start()));
    let n = AtomicUsize::new(0);
    runner()
        .run(&prop::collection::vec(hostile_line(), 1..4), |lines| {
            let mut pipe = pipe.borrow_mut();
            let id = format!("ping-{}", n.fetch_add(1, Ordering::Relaxed));
            let pong = rt.block_on(async {
                for line in &lines {
                    pipe.line(line).await;
                }
                pipe.line(json!({ "jsonrpc": "2.0", "id": id, "method": "ping" }).to_string().as_bytes()).await;
                pipe.answer_to(&id).await
            });
            let shown: Vec<String> = lines.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
            prop_assert!(
                pong.as_ref().is_some_and(|p| p.get("result").is_some()),
                "no answer to a ping after {shown:?}: {pong:?}"
            );
            Ok(())
        })
        .unwrap();
}
