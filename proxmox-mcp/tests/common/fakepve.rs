//! fakepve (PyPI `fakepve[crypto]==0.5.0`, AGPL, never vendored) as a separate process: a fake
//! Proxmox that checks every request against the real API schema and keeps state for guests,
//! tasks, snapshots, storage content, pools and firewall.
//!
//! The Python comes from `FAKEPVE_PYTHON`, else `<workspace>/.venv-fakepve/bin/python` (what
//! `.ci/run` creates). Missing in CI (`CI=true`) is a failure; elsewhere the contract tests say
//! they were skipped.

use super::mcp::Session;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Deserialize)]
pub struct Endpoint {
    pub port: u16,
    pub ca: String,
    pub user: String,
    pub token_name: String,
    pub token_value: String,
}

pub struct FakePve {
    pub endpoint: Endpoint,
    _child: Child,
}

fn python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("FAKEPVE_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv-fakepve/bin/python"));
    venv.exists().then_some(venv)
}

impl FakePve {
    /// Start a fresh fake cluster, or `None` (with a note) when fakepve is not installed outside CI.
    pub async fn start() -> Option<FakePve> {
        let Some(python) = python() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "fakepve is required in CI: run .ci/run (it creates .venv-fakepve) or set FAKEPVE_PYTHON"
            );
            eprintln!(
                "SKIPPED: fakepve not installed (python3 -m venv .venv-fakepve && .venv-fakepve/bin/pip install 'fakepve[crypto]==0.5.0')"
            );
            return None;
        };
        let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fakepve/launch.py");
        let mut child = Command::new(&python)
            .arg(launcher)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("fakepve starts within 30 s")
            .unwrap()
            .expect("fakepve printed its address");
        let endpoint: Endpoint = serde_json::from_str(&line).unwrap_or_else(|e| panic!("launcher said {line:?}: {e}"));
        Some(FakePve { endpoint, _child: child })
    }

    /// The server's environment for this fake: TLS verified against fakepve's certificate.
    pub fn env(&self, allow_elevated: bool) -> Vec<(&'static str, String)> {
        vec![
            ("PROXMOX_HOST", "127.0.0.1".into()),
            ("PROXMOX_PORT", self.endpoint.port.to_string()),
            ("PROXMOX_USER", self.endpoint.user.clone()),
            ("PROXMOX_TOKEN_NAME", self.endpoint.token_name.clone()),
            ("PROXMOX_TOKEN_VALUE", self.endpoint.token_value.clone()),
            ("PROXMOX_SSL_MODE", "verify".into()),
            ("PROXMOX_SSL_CA_CERT", self.endpoint.ca.clone()),
            ("PROXMOX_ALLOW_ELEVATED", allow_elevated.to_string()),
            ("PROXMOX_RATE_LIMIT", "0".into()),
            ("PROXMOX_LOG_LEVEL", "warn".into()),
        ]
    }

    /// Our server, initialised, talking to this fake.
    pub async fn session(&self) -> Session {
        let mut s = Session::spawn(&self.env(true));
        s.initialize().await;
        s
    }
}

/// Fail if a tool's result shows Proxmox rejected our request (400: wrong parameter; 404/501:
/// wrong path or method) — those mean the request does not match the real API.
pub fn assert_accepted(tool: &str, result: &Value) {
    let status = result["structuredContent"]["error"]["status"].as_u64();
    assert!(
        !matches!(status, Some(400 | 404 | 501)),
        "{tool}: fakepve rejected the request ({status:?}): {}",
        super::mcp::text(result)
    );
}

/// Fail unless the call succeeded.
pub fn assert_ok(tool: &str, result: &Value) {
    assert_accepted(tool, result);
    assert_eq!(result["isError"], false, "{tool} failed: {}", super::mcp::text(result));
}

/// Call a tool through MCP and expect success; returns the result.
pub async fn call_ok(s: &mut Session, tool: &str, args: Value) -> Value {
    let result = s.call(tool, args).await;
    assert_ok(tool, &result);
    result
}

/// One key of a guest's configuration as our config tool `tool` (e.g. proxmox_get_vm_config)
/// reads it from pve1.
pub async fn config_value(s: &mut Session, tool: &str, vmid: u64, key: &str) -> Option<String> {
    let result = call_ok(s, tool, json!({ "node": "pve1", "vmid": vmid })).await;
    result["structuredContent"][key].as_str().map(str::to_string)
}

/// A stopped VM `vm` (a `disk_size` GiB disk) and container `ct` (a `disk_size` GiB root disk,
/// from fakepve's Debian 13 template) of our own on pve1, created through our tools, so that
/// configuration changes apply at once.
pub async fn create_guests(s: &mut Session, vm: u64, ct: u64, disk_size: u64) {
    call_ok(s, "proxmox_create_vm", json!({ "node": "pve1", "vmid": vm, "disk_size": disk_size })).await;
    let template = "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst";
    call_ok(
        s,
        "proxmox_create_lxc",
        json!({ "node": "pve1", "vmid": ct, "ostemplate": template, "rootfs": disk_size }),
    )
    .await;
}
