//! Secrets never show: not in logs at `trace` (text or JSON, however the filter is spelt, span
//! directives included), not on stdout (results, errors), not in the message that refuses a
//! secret of the wrong type. Planted secrets go through every tool that takes one, against
//! `--demo`; the API token through the real server against a mock Proxmox.

mod common;

use common::mcp::Session;
use common::{Pve, TOKEN_SECRET, api};
use httpmock::Method::GET;
use proxmox_mcp::client::{Params, Secret};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::server::ProxmoxServer;
use proxmox_mcp::{Client, Registry};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::AsyncReadExt;

const LXC_PASSWORD: &str = "Planted-lxc-password-7c1e";
const CIFS_PASSWORD: &str = "Planted-cifs-password-2b9d";
const PBS_PASSWORD: &str = "Planted-pbs-password-4a0f";
const PBS_KEY: &str = "Planted-pbs-encryption-key-91ce";
const KEYRING: &str = "Planted-ceph-keyring-AQB5c0dl";
const NEW_PASSWORD: &str = "Planted-new-password-e3b7";
const NEW_KEYRING: &str = "Planted-new-keyring-58aa";
const NEW_KEY: &str = "Planted-new-encryption-key-c0de";
/// Given inside a value of the wrong type (an object where a string belongs).
const IN_AN_OBJECT: &str = "Planted-in-an-object-55e2";
/// Inside a line that is not JSON at all, and one that is JSON of the wrong shape.
const IN_A_BROKEN_LINE: &str = "Planted-broken-line-0d3c";
const IN_A_WRONG_SHAPE: &str = "Planted-wrong-shape-3e8a";
const IN_AN_ARGUMENTS_STRING: &str = "Planted-arguments-string-6f1b";

const PLANTED: &[&str] = &[
    LXC_PASSWORD,
    CIFS_PASSWORD,
    PBS_PASSWORD,
    PBS_KEY,
    KEYRING,
    NEW_PASSWORD,
    NEW_KEYRING,
    NEW_KEY,
    IN_AN_OBJECT,
    IN_A_BROKEN_LINE,
    IN_A_WRONG_SHAPE,
    IN_AN_ARGUMENTS_STRING,
];

const FINGERPRINT: &str =
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";

/// Every tool that takes a secret, with one planted in each secret argument: all must succeed.
fn secret_calls() -> Vec<(&'static str, Value)> {
    vec![
        (
            "proxmox_create_lxc",
            json!({ "node": "pve1", "vmid": 400, "ostemplate": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
                    "password": LXC_PASSWORD }),
        ),
        (
            "proxmox_create_storage",
            json!({ "storage": "smb1", "type": "cifs", "server": "192.0.2.10", "share": "backups",
                    "username": "backup", "password": CIFS_PASSWORD }),
        ),
        (
            "proxmox_create_storage",
            json!({ "storage": "pbs1", "type": "pbs", "server": "192.0.2.11", "datastore": "store1",
                    "username": "backup@pbs", "password": PBS_PASSWORD, "encryption-key": PBS_KEY,
                    "fingerprint": FINGERPRINT }),
        ),
        (
            "proxmox_create_storage",
            json!({ "storage": "ceph1", "type": "rbd", "monhost": "192.0.2.12", "pool": "rbd",
                    "username": "admin", "keyring": KEYRING }),
        ),
        ("proxmox_update_storage", json!({ "storage": "smb1", "password": NEW_PASSWORD })),
        ("proxmox_update_storage", json!({ "storage": "ceph1", "keyring": NEW_KEYRING })),
        ("proxmox_update_storage", json!({ "storage": "pbs1", "encryption-key": NEW_KEY })),
        // What was stored is read back: the definition does not hold the secrets.
        ("proxmox_get_storage_config", json!({ "storage": "pbs1" })),
        ("proxmox_get_storage_config", json!({ "storage": "ceph1" })),
        ("proxmox_list_storage_config", json!({})),
    ]
}

/// Secrets of the wrong type: refused, naming the argument.
fn wrong_type_calls() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "proxmox_create_lxc",
            json!({ "node": "pve1", "vmid": 401, "ostemplate": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
                    "password": { "value": IN_AN_OBJECT } }),
            "password",
        ),
        ("proxmox_update_storage", json!({ "storage": "smb1", "password": [{ "p": IN_AN_OBJECT }] }), "password"),
        ("proxmox_update_storage", json!({ "storage": "ceph1", "keyring": { "k": IN_AN_OBJECT } }), "keyring"),
        ("proxmox_update_storage", json!({ "storage": "pbs1", "encryption-key": true }), "encryption-key"),
    ]
}

/// Read a child's pipe to its end in the background (so the logs never fill the pipe and get
/// dropped, unseen).
fn drain(mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// Every way of asking for the most logs, in each format.
fn log_settings() -> Vec<Vec<(&'static str, String)>> {
    let spellings: &[(&str, &str)] = &[
        ("PROXMOX_LOG_LEVEL", "trace"),
        ("RUST_LOG", "trace"),
        ("PROXMOX_LOG_LEVEL", "trace,[serve_inner]=trace"),
        ("RUST_LOG", "[serve_inner]=trace"),
        ("PROXMOX_LOG_LEVEL", "trace,rmcp=trace,rmcp::service=trace,[{name}]=trace,[{id}]=trace"),
        ("PROXMOX_LOG_LEVEL", "debug,[transport_worker]=trace,[serve_inner]=trace,rmcp::transport=trace"),
    ];
    let mut out = Vec::new();
    for format in ["text", "json"] {
        for (var, value) in spellings {
            out.push(vec![(*var, value.to_string()), ("PROXMOX_LOG_FORMAT", format.to_string())]);
        }
    }
    out
}

fn assert_clean(what: &str, settings: &[(&str, String)], text: &str) {
    for secret in PLANTED.iter().chain([&TOKEN_SECRET]) {
        assert!(!text.contains(secret), "{what} under {settings:?} shows {secret}:\n{text}");
    }
}

/// One session against `--demo`: every secret tool, the wrong types, and lines a broken client
/// could send with a secret inside. Returns (stdout, stderr).
async fn demo_session(settings: &[(&str, String)]) -> (String, String) {
    let mut env = vec![("PROXMOX_ALLOW_ELEVATED", "true".to_string()), ("PROXMOX_DEMO_TASK_SECONDS", "0".to_string())];
    env.extend(settings.iter().cloned());
    let mut s = Session::spawn_with_args(&["--demo"], &env);
    let stderr = drain(s.child.stderr.take().unwrap());
    s.initialize().await;
    for (tool, args) in secret_calls() {
        let result = s.call(tool, args.clone()).await;
        assert_ne!(result["isError"], true, "{tool} {args}: {result}");
    }
    for (tool, args, arg) in wrong_type_calls() {
        let result = s.call(tool, args.clone()).await;
        assert_eq!(result["isError"], true, "{tool} {args}: {result}");
        let text = common::mcp::text(&result);
        assert!(text.contains(arg), "{tool}: the error names {arg}: {text}");
    }
    // Not JSON: ignored by the server (no answer).
    s.send_line(&format!(
        r#"{{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{{"name":"proxmox_create_lxc","arguments":{{"password":"{IN_A_BROKEN_LINE}""#
    ))
    .await;
    // JSON, but not a request: answered with an error.
    s.send_line(&format!(
        r#"{{"jsonrpc":"2.0","id":78,"method":"tools/call","params":{{"name":5,"arguments":{{"password":"{IN_A_WRONG_SHAPE}"}}}}}}"#
    ))
    .await;
    let _ = s.recv().await;
    s.send(json!({ "jsonrpc": "2.0", "id": 79, "method": "tools/call",
                   "params": { "name": "proxmox_create_lxc", "arguments": format!("password={IN_AN_ARGUMENTS_STRING}") } }))
        .await;
    let _ = s.recv().await;
    // Still answering.
    let pong = s.request(80, "ping", json!({})).await;
    assert!(pong.get("result").is_some(), "{pong}");
    assert!(s.close().await.success());
    let stderr = tokio::time::timeout(Duration::from_secs(10), stderr).await.unwrap().unwrap();
    (s.seen.join("\n"), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_tool_argument_in_any_log_or_output() {
    for settings in log_settings() {
        let (stdout, stderr) = demo_session(&settings).await;
        assert_clean("stdout", &settings, &stdout);
        assert_clean("stderr", &settings, &stderr);
        // The logs were there (so their silence about secrets means something), none dropped.
        assert!(stderr.contains("tool call ok"), "{settings:?}: no tool call logged:\n{stderr}");
        assert!(stderr.contains("proxmox_create_storage"), "{settings:?}:\n{stderr}");
        assert!(!stderr.contains("dropped"), "{settings:?}: log lines were dropped");
        if settings.iter().any(|(k, v)| *k == "PROXMOX_LOG_FORMAT" && v == "json") {
            let first = stderr.lines().next().unwrap_or("");
            assert!(serde_json::from_str::<Value>(first).is_ok(), "not JSON logs: {first}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_token_is_in_no_log_at_trace() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/dns"));
            then.status(200).json_body(json!({ "data": { "search": "example.com", "dns1": "192.0.2.53" } }));
        })
        .await;
    let ca = std::env::temp_dir().join(format!("proxmox-mcp-secrets-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, httpmock::server::DEFAULT_CA_CERTIFICATE).unwrap();
    for settings in log_settings() {
        let mut env = vec![
            ("PROXMOX_HOST", "127.0.0.1".to_string()),
            ("PROXMOX_PORT", pve.server.port().to_string()),
            ("PROXMOX_TOKEN_NAME", "mcp".into()),
            ("PROXMOX_TOKEN_VALUE", TOKEN_SECRET.into()),
            ("PROXMOX_SSL_MODE", "verify".into()),
            ("PROXMOX_SSL_CA_CERT", ca.display().to_string()),
        ];
        env.extend(settings.iter().cloned());
        let mut s = Session::spawn(&env);
        let stderr = drain(s.child.stderr.take().unwrap());
        s.initialize().await;
        let ok = s.call("proxmox_get_node_dns", json!({ "node": "pve1" })).await;
        assert_ne!(ok["isError"], true, "{ok}");
        // An answer Proxmox refuses, too (the mock has no such path).
        let _ = s.call("proxmox_get_node_status", json!({ "node": "pve1" })).await;
        assert!(s.close().await.success());
        let stderr = tokio::time::timeout(Duration::from_secs(10), stderr).await.unwrap().unwrap();
        assert!(stderr.contains("proxmox request"), "{settings:?}: the client's trace is there:\n{stderr}");
        assert_clean("stderr", &settings, &stderr);
        assert_clean("stdout", &settings, &s.seen.join("\n"));
    }
}

#[test]
fn a_secret_shows_only_on_its_way_to_proxmox() {
    let secret = Secret::new(LXC_PASSWORD);
    assert_eq!(format!("{secret:?}"), "[redacted]");
    assert_eq!(format!("{secret}"), "[redacted]");
    assert_eq!(serde_json::to_value(&secret).unwrap(), json!("[redacted]"));
    let params = Params::from_serialize(&json!({ "password": LXC_PASSWORD, "user": "root" })).unwrap();
    assert_eq!(params.get("password"), Some(LXC_PASSWORD));
    assert!(!format!("{params:?}").contains(LXC_PASSWORD), "{params:?}");
    assert!(format!("{params:?}").contains("root"), "{params:?}");
    #[derive(serde::Serialize)]
    struct Sent {
        password: Secret,
    }
    let sent = Params::from_serialize(&Sent { password: secret.clone() }).unwrap();
    assert_eq!(sent.get("password"), Some(LXC_PASSWORD));
    // And hidden again afterwards.
    assert_eq!(serde_json::to_value(&secret).unwrap(), json!("[redacted]"));
}

#[test]
fn secret_arguments_are_write_only_strings_in_the_schema() {
    let registry = Registry::builtin();
    for (tool, arg) in [
        ("proxmox_create_lxc", "password"),
        ("proxmox_create_storage", "password"),
        ("proxmox_create_storage", "keyring"),
        ("proxmox_create_storage", "encryption-key"),
        ("proxmox_update_storage", "password"),
        ("proxmox_update_storage", "keyring"),
        ("proxmox_update_storage", "encryption-key"),
    ] {
        let schema = Value::Object(registry.get(tool).unwrap().input_schema());
        let prop = &schema["properties"][arg];
        assert_eq!(prop["type"], "string", "{tool}.{arg}: {prop}");
        assert_eq!(prop["writeOnly"], true, "{tool}.{arg}: {prop}");
    }
}

/// The message that refuses a secret never holds it, whatever the wrong value (checked in
/// process, so a serde message slipping through would show here too).
#[tokio::test]
async fn a_secret_of_the_wrong_type_is_not_echoed() {
    let server = ProxmoxServer::new(
        Registry::builtin(),
        Client::with_transport(DemoCluster::with_task_duration(Duration::ZERO)),
        true,
    );
    let wrong = [
        json!({ "value": IN_AN_OBJECT }),
        json!([{ "v": IN_AN_OBJECT }]),
        json!(IN_AN_OBJECT.len() as f64 + 0.5),
        json!(-918273645),
        json!(false),
    ];
    for (tool, base, arg) in [
        (
            "proxmox_create_lxc",
            json!({ "node": "pve1", "vmid": 400, "ostemplate": "local:vztmpl/x.tar.zst" }),
            "password",
        ),
        ("proxmox_create_storage", json!({ "storage": "s1", "type": "cifs", "server": "h", "share": "s" }), "password"),
        ("proxmox_create_storage", json!({ "storage": "s1", "type": "rbd" }), "keyring"),
        (
            "proxmox_create_storage",
            json!({ "storage": "s1", "type": "pbs", "server": "h", "datastore": "d" }),
            "encryption-key",
        ),
        ("proxmox_update_storage", json!({ "storage": "local" }), "password"),
        ("proxmox_update_storage", json!({ "storage": "local" }), "keyring"),
        ("proxmox_update_storage", json!({ "storage": "local" }), "encryption-key"),
    ] {
        for value in &wrong {
            let mut args = base.clone();
            args[arg] = value.clone();
            let Value::Object(map) = args else { unreachable!() };
            let result = server.call(tool, map).await.unwrap();
            let shown = serde_json::to_string(&result).unwrap();
            assert_eq!(result.is_error, Some(true), "{tool} {arg}={value}: {shown}");
            assert!(shown.contains(arg), "{tool}: names {arg}: {shown}");
            assert!(!shown.contains(IN_AN_OBJECT), "{tool} {arg}={value}: {shown}");
            assert!(!shown.contains("918273645"), "{tool} {arg}={value}: {shown}");
        }
        // Too short a password: the rule, not the value.
        if tool == "proxmox_create_lxc" {
            let mut args = base.clone();
            args[arg] = json!("Pl4");
            let Value::Object(map) = args else { unreachable!() };
            let shown = serde_json::to_string(&server.call(tool, map).await.unwrap()).unwrap();
            assert!(!shown.contains("Pl4"), "{tool}: {shown}");
        }
    }
}

/// The audit log (PROXMOX_AUDIT_LOG) has a line for each tool call, `stdio` as the caller, and
/// none of the planted secrets: secret arguments are redacted by schema and by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_holds_no_secret() {
    let path = std::env::temp_dir().join(format!("proxmox-mcp-secrets-audit-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let settings = [("PROXMOX_AUDIT_LOG", path.display().to_string())];
    let (stdout, stderr) = demo_session(&settings).await;
    assert_clean("stdout", &settings, &stdout);
    assert_clean("stderr", &settings, &stderr);
    let audit = std::fs::read_to_string(&path).expect("the audit log was written");
    let _ = std::fs::remove_file(&path);
    assert_clean("the audit log", &settings, &audit);
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(lines.len(), secret_calls().len() + wrong_type_calls().len(), "{audit}");
    for line in &lines {
        assert_eq!(line["token"], "stdio", "{line}");
        assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
        assert!(line["ms"].is_u64(), "{line}");
    }
    assert!(audit.contains("\"password\":\"[redacted]\""), "{audit}");
    assert_eq!(lines[0]["outcome"], "ok");
    assert!(lines[0]["upid"].as_str().is_some_and(|u| u.starts_with("UPID:")), "{}", lines[0]);
    assert_eq!(lines.last().unwrap()["outcome"], "invalid_arguments");
}
