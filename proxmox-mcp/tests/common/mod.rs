//! A mock Proxmox (httpmock over HTTPS, its own CA) and helpers to call tools against it.
#![allow(dead_code)]

pub mod fakepve;
pub mod mcp;

use httpmock::MockServer;
use proxmox_mcp::client::tls::TlsSettings;
use proxmox_mcp::{Client, Config, Context, Registry, SslMode, ToolOutput, ToolResult};
use serde_json::Value;
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
        Context::new(Client::from_config(&self.config(allow_elevated)).expect("client"), allow_elevated)
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
}

/// `/api2/json` + path
pub fn api(path: &str) -> String {
    format!("/api2/json{path}")
}

/// An elevated tool called without PROXMOX_ALLOW_ELEVATED: refused, and nothing sent.
pub async fn assert_refused(tool: &str, args: Value) {
    let pve = Pve::start().await;
    let any = pve
        .server
        .mock_async(|_, then| {
            then.status(200).json_body(serde_json::json!({ "data": null }));
        })
        .await;
    match pve.call_with(tool, args, false).await {
        Err(proxmox_mcp::ToolError::PermissionDenied(name)) => assert_eq!(name, tool),
        other => panic!("{tool} was not refused: {other:?}"),
    }
    assert_eq!(any.calls_async().await, 0, "{tool} sent a request although refused");
}
