//! fakepve (PyPI `fakepve[crypto]==0.5.0`, AGPL, never vendored) as a separate process: a fake
//! Proxmox that checks every request against the real API schema and keeps state for guests,
//! tasks, snapshots, storage content, pools and firewall.
//!
//! The Python comes from `FAKEPVE_PYTHON`, else `<workspace>/.venv-fakepve/bin/python` (what
//! `.ci/run` creates). The contract tests (`tests/contract/`) are ignored, with the reason, when
//! it is missing, and fail when it is missing in CI (`CI=true`).

use super::mcp::Session;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How to install fakepve, for the messages that say it is missing.
pub const INSTALL: &str = "python3 -m venv .venv-fakepve && .venv-fakepve/bin/pip install 'fakepve[crypto]==0.5.0' \
     (what .ci/run does), or set FAKEPVE_PYTHON";

/// fakepve's Python: `FAKEPVE_PYTHON`, else the workspace's `.venv-fakepve`, if there.
pub fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FAKEPVE_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv-fakepve/bin/python"));
    venv.exists().then_some(venv)
}

/// The directory of the installed `fakepve` package (its `data/` holds the API schema), or why
/// there is none. Asked once per process.
pub fn package_dir() -> Result<PathBuf, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let python = python().ok_or_else(|| format!("fakepve is not installed: {INSTALL}"))?;
        let out = std::process::Command::new(&python)
            .args(["-c", "import fakepve, os; print(os.path.dirname(os.path.abspath(fakepve.__file__)))"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or_default();
            return Err(format!("{} cannot import fakepve ({last}): {INSTALL}", python.display()));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
    .clone()
}

/// Why fakepve cannot be run here, if it cannot.
pub fn missing() -> Option<String> {
    package_dir().err()
}

/// Every tool that fakepve accepted (see [`accepted`]) in a session of this process started by
/// [`FakePve::session`]: the contract tests' record of what they covered.
pub fn accepted_tools() -> BTreeSet<String> {
    ACCEPTED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

static ACCEPTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn record(tool: &str, result: &Value) {
    if accepted(result) {
        ACCEPTED.lock().unwrap_or_else(|e| e.into_inner()).insert(tool.to_string());
    }
}

/// The request reached fakepve and matched the API: the tool succeeded, or fakepve refused it
/// by its state (e.g. 500 "VM 100 is running"), not as a wrong request (400: wrong parameter;
/// 404/501: wrong path or method). A refusal of our own (invalid arguments) sent nothing.
pub fn accepted(result: &Value) -> bool {
    let error = &result["structuredContent"]["error"];
    result["isError"] == false
        || (error["kind"] == "proxmox" && error["status"].as_u64().is_some_and(|s| !matches!(s, 400 | 404 | 501)))
}

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

impl FakePve {
    /// Start a fresh fake cluster. fakepve must be installed (see [`missing`]).
    pub async fn start() -> FakePve {
        if let Some(why) = missing() {
            panic!("{why}");
        }
        let python = python().expect("fakepve's python");
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
        FakePve { endpoint, _child: child }
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

    /// Our server, initialised, talking to this fake, elevated tools allowed; the tools that
    /// fakepve accepts go to [`accepted_tools`].
    pub async fn session(&self) -> Session {
        self.session_with(&[]).await
    }

    /// [`FakePve::session`] with these environment variables besides.
    pub async fn session_with(&self, extra: &[(&'static str, String)]) -> Session {
        let mut env = self.env(true);
        env.extend_from_slice(extra);
        let mut s = Session::spawn(&env);
        s.on_result = Some(record);
        s.initialize().await;
        s
    }
}

/// A value of a result's data as text: Proxmox sends many numbers as strings, fakepve too.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The entry of the list `list` of a result's data whose `key` is `value` (as text).
pub fn entry<'a>(result: &'a Value, list: &str, key: &str, value: &str) -> &'a Value {
    let items = result["structuredContent"][list].as_array();
    items
        .and_then(|items| items.iter().find(|i| as_text(&i[key]) == value))
        .unwrap_or_else(|| panic!("no {key} {value} in `{list}`: {}", result["structuredContent"]))
}

/// The error of a failed result's data: its message, and its hint (what to change) if it has one.
pub fn error_text(result: &Value) -> String {
    let error = &result["structuredContent"]["error"];
    [&error["message"], &error["hint"]].iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join("\n")
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
