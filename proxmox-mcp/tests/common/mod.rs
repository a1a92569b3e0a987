//! A mock Proxmox (httpmock over HTTPS, its own CA) and helpers to call tools against it.
#![allow(dead_code)]

pub mod calls;
pub mod fakepve;
pub mod mcp;
pub mod pve_api;

use httpmock::Method::{self, GET};
use httpmock::{Mock, MockServer};
use proxmox_mcp::client::tls::TlsSettings;
use proxmox_mcp::{Config, Context, Registry, SslMode, ToolError, ToolOutput, ToolResult};
use serde_json::{Value, json};
use std::time::Duration;

pub const TOKEN_SECRET: &str = "5f2c1d9e-0b7a-4c3e-9a61-7d2e8f4b1c0a";
/// The exact header Proxmox expects for root@pam!mcp.
pub const AUTH: &str = "PVEAPIToken=root@pam!mcp=5f2c1d9e-0b7a-4c3e-9a61-7d2e8f4b1c0a";

pub struct Pve {
    pub server: MockServer,
}

impl Pve {
    pub async fn start() -> Self {
        Pve { server: MockServer::start_async().await }
    }

    /// A configuration pointing at the mock, trusting its CA (no insecure mode).
    pub fn config(&self, allow_elevated: bool) -> Config {
        Config {
            port: self.server.port(),
            tls: TlsSettings {
                mode: SslMode::Verify,
                ca_pem: Some(httpmock::server::DEFAULT_CA_CERTIFICATE.as_bytes().to_vec()),
                fingerprint: None,
            },
            allow_elevated,
            timeout: Duration::from_secs(5),
            rate_limit: 0.0,
            ..Config::new("127.0.0.1", "mcp", TOKEN_SECRET)
        }
    }

    pub fn context(&self, allow_elevated: bool) -> Context {
        // Mock tests check the requests a tool makes; waiting for tasks is tested in tasks.rs.
        Context::new(self.config(allow_elevated).client().expect("client"), allow_elevated)
            .with_task_wait(Duration::ZERO)
    }

    /// Call a built-in tool with elevated operations allowed.
    pub async fn call(&self, tool: &str, args: Value) -> ToolResult {
        self.call_with(tool, args, true).await
    }

    pub async fn call_with(&self, tool: &str, args: Value, allow_elevated: bool) -> ToolResult {
        let registry = Registry::builtin();
        let descriptor = registry.get(tool).unwrap_or_else(|| panic!("no tool {tool}"));
        let Value::Object(args) = args else { panic!("arguments must be an object") };
        descriptor.call(self.context(allow_elevated), args).await
    }

    /// Call and expect success.
    pub async fn ok(&self, tool: &str, args: Value) -> ToolOutput {
        match self.call(tool, args).await {
            Ok(out) => out,
            Err(e) => panic!("{tool} failed: {e}"),
        }
    }

    /// A mock of `GET /api2/json<path>` with our token, answering `{"data": data}`.
    pub async fn mock_get(&self, path: &str, data: Value) -> Mock<'_> {
        let path = api(path);
        self.server
            .mock_async(move |when, then| {
                when.method(GET).path(path).header("authorization", AUTH);
                then.status(200).json_body(json!({ "data": data }));
            })
            .await
    }

    /// A mock of `method /api2/json<path>` with our token and (at least) these form fields,
    /// answering `{"data": data}`.
    pub async fn mock_form(&self, method: Method, path: &str, form: &[(&str, &str)], data: Value) -> Mock<'_> {
        let path = api(path);
        let form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.server
            .mock_async(move |when, then| {
                let mut when = when.method(method).path(path).header("authorization", AUTH);
                for (k, v) in &form {
                    when = when.form_urlencoded_tuple(k, v);
                }
                then.status(200).json_body(json!({ "data": data }));
            })
            .await
    }

    /// A guest configuration change: `GET path` answers `cfg`, a `PUT path` with (at least) these
    /// form fields answers null, both with our token. Returns the (read, write) mocks.
    pub async fn mock_config_change(&self, path: &str, cfg: Value, form: &[(&str, &str)]) -> (Mock<'_>, Mock<'_>) {
        (self.mock_get(path, cfg).await, self.mock_form(Method::PUT, path, form, Value::Null).await)
    }

    /// A mock of `DELETE /api2/json<path>` with our token, (at least) these query parameters and
    /// no body, answering `{"data": data}`.
    pub async fn mock_delete(&self, path: &str, query: &[(&str, &str)], data: Value) -> Mock<'_> {
        let path = api(path);
        let query: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.server
            .mock_async(move |when, then| {
                let mut when = when.method(Method::DELETE).path(path).header("authorization", AUTH);
                for (k, v) in &query {
                    when = when.query_param(k, v);
                }
                when.body("");
                then.status(200).json_body(json!({ "data": data }));
            })
            .await
    }

    /// A mock that answers any request with 200 and `{"data": data}`: a test that expects
    /// nothing to be sent checks afterwards that it was called 0 times.
    pub async fn answer_any(&self, data: Value) -> Mock<'_> {
        self.server
            .mock_async(move |_, then| {
                then.status(200).json_body(json!({ "data": data }));
            })
            .await
    }

    /// A mock that answers any request with 500, to prove nothing was sent.
    pub async fn fail_any(&self) -> Mock<'_> {
        self.server
            .mock_async(|_, then| {
                then.status(500);
            })
            .await
    }
}

/// `/api2/json` + path
pub fn api(path: &str) -> String {
    format!("/api2/json{path}")
}

/// An elevated tool called without PROXMOX_ALLOW_ELEVATED: refused, and nothing sent.
pub async fn assert_refused(tool: &str, args: Value) {
    let pve = Pve::start().await;
    let any = pve.answer_any(Value::Null).await;
    match pve.call_with(tool, args, false).await {
        Err(proxmox_mcp::ToolError::PermissionDenied(name)) => assert_eq!(name, tool),
        other => panic!("{tool} was not refused: {other:?}"),
    }
    assert_eq!(any.calls_async().await, 0, "{tool} sent a request although refused");
}

/// `base` (an object) with the fields of `extra` (an object) added or replaced.
pub fn with(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    for (k, v) in extra.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}

/// Call `tool` against a fresh mock that takes exactly one request: `method path` with exactly
/// these parameters (query string for GET and DELETE, a DELETE with no body; form body
/// otherwise), answering `answer`. Returns the (successful) result.
pub async fn expect(
    tool: &str,
    args: Value,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    answer: Value,
) -> ToolOutput {
    let pve = Pve::start().await;
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let query = method == "DELETE" || method == "GET";
    let m = pve
        .server
        .mock_async(|when, then| {
            let mut when = when.method(method).path(api(path)).header("authorization", AUTH);
            for (k, v) in &params {
                when = if query { when.query_param(k, v) } else { when.form_urlencoded_tuple(k, v) };
            }
            if method == "DELETE" {
                when.query_param_count(".*", ".*", params.len()).body("");
            } else if query {
                when.query_param_count(".*", ".*", params.len());
            } else {
                when.form_urlencoded_tuple_count(".*", ".*", params.len());
            }
            then.status(200).json_body(json!({ "data": answer }));
        })
        .await;
    let out = pve.ok(tool, args).await;
    m.assert_async().await;
    out
}

/// A task result: `✅ <what>`, node pve1 and the task `upid` in text and data.
pub fn assert_task(out: &ToolOutput, upid: &str, what: &str) {
    assert!(out.text.starts_with(&format!("✅ {what}")), "{}", out.text);
    assert!(out.text.contains(&format!("• Node: pve1\n• Task: {upid}")), "{}", out.text);
    assert_eq!(out.data["upid"], upid);
    assert_eq!(out.data["node"], "pve1");
}

/// The (argument, reason) list of an invalid-arguments refusal; any other result fails.
pub fn invalid_args(result: ToolResult) -> Vec<(String, String)> {
    match result {
        Err(ToolError::InvalidArguments(list)) => list,
        other => panic!("expected invalid arguments, got {other:?}"),
    }
}

/// `result` is an invalid-arguments refusal that names `arg`; `context` (the call) labels a failure.
pub fn assert_names_arg(result: ToolResult, arg: &str, context: impl std::fmt::Display) {
    match result {
        Err(ToolError::InvalidArguments(list)) => {
            // `delete[1]`, `rules[0].port`: the argument, and where in it.
            let names = |a: &String| a == arg || a.starts_with(&format!("{arg}[")) || a.starts_with(&format!("{arg}."));
            assert!(list.iter().any(|(a, _)| names(a)), "{context}: expected `{arg}` in {list:?}")
        }
        other => panic!("{context}: not refused as invalid: {other:?}"),
    }
}

/// `tool` with `args`, against a fresh mock, is refused as invalid naming `arg`, and sends nothing.
pub async fn assert_refused_arg(tool: &str, args: Value, arg: &str) {
    let pve = Pve::start().await;
    let any = pve.answer_any(Value::Null).await;
    let result = pve.call(tool, args.clone()).await;
    assert_eq!(any.calls_async().await, 0, "{tool} {args}: sent a request");
    assert_names_arg(result, arg, format!("{tool} {args}"));
}
