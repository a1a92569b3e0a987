//! The built binary end to end: a real MCP client handshake over stdio against a mock Proxmox
//! over HTTPS, stdout carrying nothing but JSON-RPC, secrets never in the logs; and start-up
//! configuration errors.

mod common;

use common::mcp::{BIN, Session};
use common::{AUTH, Pve, TOKEN_SECRET, api};
use httpmock::Method::GET;
use proxmox_mcp::SchemaDetail;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

fn ca_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("proxmox-mcp-test-ca-{}.pem", std::process::id()));
    std::fs::write(&path, httpmock::server::DEFAULT_CA_CERTIFICATE).unwrap();
    path
}

fn env_for(pve: &Pve) -> Vec<(&'static str, String)> {
    vec![
        ("PROXMOX_HOST", "127.0.0.1".into()),
        ("PROXMOX_PORT", pve.server.port().to_string()),
        ("PROXMOX_TOKEN_NAME", "mcp".into()),
        ("PROXMOX_TOKEN_VALUE", TOKEN_SECRET.into()),
        ("PROXMOX_SSL_MODE", "verify".into()),
        ("PROXMOX_SSL_CA_CERT", ca_file().display().to_string()),
        // The most verbose logging, to prove the token never shows even there.
        ("PROXMOX_LOG_LEVEL", "trace".into()),
        ("PROXMOX_LOG_FORMAT", "json".into()),
    ]
}

#[tokio::test]
async fn a_client_session_over_stdio() {
    let pve = Pve::start().await;
    let dns = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/dns")).header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": { "search": "example.com", "dns1": "192.0.2.53" } }));
        })
        .await;
    let denied = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/status"));
            then.status(403).body("{\"data\":null}");
        })
        .await;
    let mut s = Session::spawn(&env_for(&pve));

    let init = s.initialize().await;
    assert_eq!(init["serverInfo"]["name"], "proxmox-mcp");
    assert_eq!(init["protocolVersion"], "2025-06-18");
    assert!(init["capabilities"]["tools"].is_object());
    assert!(init["instructions"].as_str().unwrap().contains("disabled"));

    // Compact definitions by default, of the basic tools only (elevated operations are off); the
    // hints mean what the descriptor says, absent ones read as MCP's defaults.
    let list = s.request(2, "tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().unwrap();
    let registry = proxmox_mcp::Registry::builtin();
    assert_eq!(json!(tools), json!(registry.clone().filter(|t| !t.elevated).tools(SchemaDetail::Compact)));
    for t in tools {
        let d = registry.get(t["name"].as_str().unwrap()).unwrap();
        let hint = |name: &str, default: bool| t["annotations"][name].as_bool().unwrap_or(default);
        assert_eq!(hint("readOnlyHint", false), d.read_only(), "{}", d.name);
        if !d.read_only() {
            assert_eq!(hint("destructiveHint", true), d.destructive(), "{}", d.name);
            assert_eq!(hint("idempotentHint", false), d.idempotent(), "{}", d.name);
        }
        assert_eq!(hint("openWorldHint", true), d.open_world, "{}", d.name);
    }

    let call =
        s.request(3, "tools/call", json!({ "name": "proxmox_get_node_dns", "arguments": { "node": "pve1" } })).await;
    dns.assert_async().await;
    assert_eq!(call["result"]["isError"], false, "{call}");
    assert!(call["result"]["content"][0]["text"].as_str().unwrap().contains("Search domain: example.com"));
    assert_eq!(call["result"]["structuredContent"]["dns1"], "192.0.2.53");

    let bad =
        s.request(4, "tools/call", json!({ "name": "proxmox_get_node_dns", "arguments": { "node": "../etc" } })).await;
    assert_eq!(bad["result"]["isError"], true);
    assert!(bad["result"]["content"][0]["text"].as_str().unwrap().starts_with("❌ Error: invalid arguments\n• `node`"));

    let forbidden =
        s.request(5, "tools/call", json!({ "name": "proxmox_get_node_status", "arguments": { "node": "pve1" } })).await;
    denied.assert_async().await;
    assert_eq!(forbidden["result"]["isError"], true);
    assert_eq!(forbidden["result"]["structuredContent"]["error"]["status"], 403);

    let unknown = s.request(6, "tools/call", json!({ "name": "proxmox_no_such_tool", "arguments": {} })).await;
    assert!(unknown["error"]["code"].is_i64(), "{unknown}");
    assert!(unknown["error"]["message"].as_str().unwrap().contains("proxmox_no_such_tool"));

    let discover = s.request(7, "server/discover", json!({})).await;
    assert!(discover["error"].is_object(), "{discover}");

    // A secret in tool arguments never reaches the logs, even at trace level.
    let secret = "Tr0ub4dor-demo-password";
    let refused = s
        .call(
            "proxmox_create_lxc",
            json!({ "node": "pve1", "vmid": 300, "ostemplate": "local:vztmpl/debian-13.tar.zst", "password": secret }),
        )
        .await;
    assert_eq!(refused["isError"], true);
    // Not listed, yet known: the refusal says how to enable it.
    assert_eq!(refused["structuredContent"]["error"]["kind"], "permission_denied", "{refused}");

    let ping = s.request(8, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));

    // Closing stdin ends the server cleanly.
    let status = s.close().await;
    assert!(status.success(), "{status:?}");
    for line in &s.seen {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON-RPC on stdout: {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
    }
    let mut stderr = String::new();
    s.child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
    assert!(stderr.contains("tool call ok"), "logs go to stderr: {stderr}");
    for line in stderr.lines() {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("PROXMOX_LOG_FORMAT=json: {line}"));
        assert!(entry["level"].is_string(), "{line}");
    }
    assert!(!stderr.contains(TOKEN_SECRET), "the token leaked into the logs");
    assert!(!stderr.contains(secret), "a password argument leaked into the logs");
    for line in &s.seen {
        assert!(!line.contains(TOKEN_SECRET), "the token leaked into a result");
    }
}

async fn start_with(env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(10), cmd.output()).await.unwrap().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn full_tool_definitions_on_request() {
    let pve = Pve::start().await;
    let mut env = env_for(&pve);
    env.push(("PROXMOX_TOOL_SCHEMA", "full".into()));
    let mut s = Session::spawn(&env);
    s.initialize().await;
    let list = s.request(2, "tools/list", json!({})).await;
    let full = proxmox_mcp::Registry::builtin().filter(|t| !t.elevated).tools(SchemaDetail::Full);
    assert_eq!(list["result"]["tools"], json!(full));
    let node = &list["result"]["tools"][1]["inputSchema"]["properties"]["node"];
    assert!(node["description"].is_string() && node["pattern"].is_string(), "{node}");
}

#[tokio::test]
async fn the_server_lists_what_the_listing_variables_select() {
    let pve = Pve::start().await;
    let mut env = env_for(&pve);
    env.extend([
        ("PROXMOX_ALLOW_ELEVATED", "true".to_string()),
        ("PROXMOX_TOOLS", "@ha,@agent".into()),
        ("PROXMOX_EXCLUDE_TOOLS", "proxmox_execute_vm_command,proxmox_agent_*".into()),
    ]);
    let mut s = Session::spawn(&env);
    s.initialize().await;
    let list = s.request(2, "tools/list", json!({})).await;
    let ha = proxmox_mcp::Registry::builtin().select(&proxmox_mcp::Selection::parse("@ha")).unwrap();
    assert_eq!(list["result"]["tools"], json!(ha.tools(SchemaDetail::Compact)));
    let gone = s
        .request(3, "tools/call", json!({ "name": "proxmox_agent_ping", "arguments": { "node": "pve1", "vmid": 100 } }))
        .await;
    assert!(gone["error"]["message"].as_str().unwrap().contains("unknown tool"), "{gone}");
    assert!(s.close().await.success());
}

#[tokio::test]
async fn configuration_errors_stop_start_up_with_one_line() {
    let base =
        [("PROXMOX_HOST", "pve.example.com"), ("PROXMOX_TOKEN_NAME", "mcp"), ("PROXMOX_TOKEN_VALUE", TOKEN_SECRET)];
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("PROXMOX_HOST", None, "PROXMOX_HOST: is required"),
        ("PROXMOX_TOKEN_VALUE", None, "PROXMOX_TOKEN_VALUE: is required"),
        ("PROXMOX_SSL_MODE", Some("sloppy"), "PROXMOX_SSL_MODE: must be one of strict, verify, insecure"),
        ("PROXMOX_ALLOW_ELEVATED", Some("sure"), "PROXMOX_ALLOW_ELEVATED: must be true or false"),
        ("PROXMOX_PORT", Some("99999"), "PROXMOX_PORT: must be a port number from 1 to 65535"),
        ("PROXMOX_SSL_CA_CERT", Some("/nonexistent/ca.pem"), "PROXMOX_SSL_CA_CERT: cannot read"),
        ("PROXMOX_TOOL_SCHEMA", Some("verbose"), "PROXMOX_TOOL_SCHEMA: must be compact or full"),
        ("PROXMOX_TOOLS", Some("proxmox_get_vm"), "PROXMOX_TOOLS: unknown tool \"proxmox_get_vm\""),
        ("PROXMOX_EXCLUDE_TOOLS", Some("@nope"), "PROXMOX_EXCLUDE_TOOLS: unknown toolset \"@nope\""),
    ];
    for (var, value, expected) in cases {
        let mut env: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| k != var).collect();
        if let Some(v) = value {
            env.push((var, v));
        }
        let (code, stdout, stderr) = start_with(&env).await;
        assert_eq!(code, 2, "{var}: {stderr}");
        assert!(stdout.is_empty(), "{var}: stdout must stay clean: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{var}: one line: {stderr}");
        assert!(stderr.contains(expected), "{var}: {stderr}");
        assert!(!stderr.contains(TOKEN_SECRET));
    }
}

#[tokio::test]
async fn help_version_and_the_tools_reference() {
    let (code, stdout, _) = start_with(&[]).await;
    assert_eq!(code, 2, "no configuration: {stdout}");
    let mut cmd = Command::new(BIN);
    let help = cmd.arg("--help").env_clear().output().await.unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for var in [
        "PROXMOX_HOST",
        "PROXMOX_USER",
        "PROXMOX_TOKEN_NAME",
        "PROXMOX_TOKEN_VALUE",
        "PROXMOX_SSL_MODE",
        "PROXMOX_ALLOW_ELEVATED",
        "PROXMOX_PORT",
    ] {
        assert!(text.contains(var), "--help lists {var}");
    }
    let version = Command::new(BIN).arg("--version").env_clear().output().await.unwrap();
    assert_eq!(String::from_utf8(version.stdout).unwrap(), format!("proxmox-mcp {}\n", env!("CARGO_PKG_VERSION")));
    let list = Command::new(BIN).arg("--list-tools").env_clear().output().await.unwrap();
    assert!(String::from_utf8(list.stdout).unwrap().contains("`proxmox_get_vms`"));
    let bad = Command::new(BIN).arg("--frobnicate").env_clear().output().await.unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn a_cancelled_call_stops_and_the_server_keeps_answering() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/dns"));
            then.status(200).delay(Duration::from_secs(20)).json_body(json!({ "data": {} }));
        })
        .await;
    let mut s = Session::spawn(&env_for(&pve));
    s.initialize().await;
    let started = std::time::Instant::now();
    s.send(json!({ "jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": { "name": "proxmox_get_node_dns", "arguments": { "node": "pve1" } } }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.send(json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 9, "reason": "user" } })).await;
    let ping = s.request(10, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));
    assert!(s.close().await.success());
    assert!(started.elapsed() < Duration::from_secs(10), "the slow call did not hold the server");
    assert!(s.seen.iter().all(|l| !l.contains("\"id\":9") || l.contains("cancelled")), "{:?}", s.seen);
}

/// A client that never reads the server's stderr: the logs fill the pipe, and from then on lines
/// are dropped, not waited for. Every call is still answered, and the server exits promptly.
#[tokio::test]
async fn logging_never_blocks_the_protocol() {
    let mut s = Session::spawn_with_args(&["--demo"], &[("PROXMOX_LOG_LEVEL", "trace".into())]);
    s.initialize().await;
    let started = std::time::Instant::now();
    for i in 0..1500 {
        let result = s.call("proxmox_get_nodes", json!({})).await;
        assert_ne!(result["isError"], true, "call {i}: {result}");
    }
    assert!(started.elapsed() < Duration::from_secs(120), "{:?}", started.elapsed());
    let mut stderr = s.child.stderr.take().unwrap();
    assert!(s.close().await.success());
    // What stderr holds shows the logs outgrew the pipe (64 KiB on Linux): a blocking writer
    // would have stopped the server there.
    let mut logs = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stderr.read_to_end(&mut logs)).await.unwrap().unwrap();
    assert!(logs.len() > 60 * 1024, "only {} bytes of logs", logs.len());
}
