//! A custom agent on the library: the built-in read-only tools plus a tool of its own, served
//! over MCP stdio with the usual PROXMOX_* configuration.
//!
//! ```text
//! PROXMOX_HOST=pve.example.com PROXMOX_TOKEN_NAME=mcp PROXMOX_TOKEN_VALUE=... \
//!     cargo run -p examples --example custom_agent
//! ```

use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, Config, Registry, ToolOutput, ToolResult, pve_tool};
use serde_json::Value;
use std::process::ExitCode;

/// Show which Proxmox VE version a node runs.
#[pve_tool(path = "/nodes/<node>/version", method = GET, category = "Custom", title = "Node version")]
pub async fn node_version(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
) -> ToolResult {
    let v: Value = api.send(()).await?;
    let text = format!("{node} runs Proxmox VE {} (release {})", v["version"], v["release"]).replace('"', "");
    Ok(ToolOutput::new(text, v))
}

/// The agent's tools: every built-in tool that only reads, and ours.
pub fn registry() -> Result<Registry, proxmox_mcp::DuplicateTool> {
    Registry::builtin().filter(|t| !t.elevated && t.read_only()).add(&NODE_VERSION)
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("custom_agent: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let registry = match registry() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("custom_agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    match proxmox_mcp::server::serve_stdio(registry, &config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custom_agent: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use httpmock::MockServer;
    use proxmox_mcp::client::tls::TlsSettings;
    use proxmox_mcp::{Client, Context, SslMode};
    use serde_json::json;

    #[tokio::test]
    async fn node_version_asks_the_node() {
        let server = MockServer::start_async().await;
        let m = server
            .mock_async(|when, then| {
                when.path("/api2/json/nodes/pve1/version");
                then.status(200).json_body(json!({ "data": { "version": "9.1.2", "release": "9.1" } }));
            })
            .await;
        let config = Config {
            port: server.port(),
            tls: TlsSettings {
                mode: SslMode::Verify,
                ca_pem: Some(httpmock::server::DEFAULT_CA_CERTIFICATE.into()),
                fingerprint: None,
            },
            ..Config::new("127.0.0.1", "mcp", "secret")
        };
        let ctx = Context::new(config.client().unwrap(), false);
        let registry = registry().unwrap();
        let tool = registry.get("node_version").unwrap();
        let out = tool.call(ctx, json!({ "node": "pve1" }).as_object().unwrap().clone()).await.unwrap();
        m.assert_async().await;
        assert_eq!(out.text, "pve1 runs Proxmox VE 9.1.2 (release 9.1)");
        assert!(registry.get("proxmox_get_vms").is_some());
    }

    /// The same tool on the built-in demo cluster: a whole simulated Proxmox as a test double,
    /// with faults on demand (a failing request, an offline node, a slow answer).
    #[tokio::test]
    async fn node_version_on_the_demo_cluster() {
        use proxmox_mcp::demo::DemoCluster;
        use std::time::{Duration, Instant};

        let cluster = DemoCluster::new();
        let ctx = Context::new(Client::with_transport(cluster.clone()), false);
        let registry = registry().unwrap();
        let tool = registry.get("node_version").unwrap();
        let args = json!({ "node": "pve2" }).as_object().unwrap().clone();
        let out = tool.call(ctx.clone(), args.clone()).await.unwrap();
        assert_eq!(out.text, "pve2 runs Proxmox VE 9.1.2 (release 9.1)");

        cluster.fail_next(1, 500, "simulated outage");
        let err = tool.call(ctx.clone(), args.clone()).await.unwrap_err();
        assert!(err.to_string().contains("simulated outage"), "{err}");
        assert!(tool.call(ctx.clone(), args.clone()).await.is_ok(), "only the next request fails");

        cluster.set_node_online("pve2", false);
        let err = tool.call(ctx.clone(), args.clone()).await.unwrap_err();
        assert!(err.to_string().contains("595"), "{err}");
        cluster.set_node_online("pve2", true);

        cluster.set_latency(Duration::from_millis(100));
        let t = Instant::now();
        tool.call(ctx.clone(), args).await.unwrap();
        assert!(t.elapsed() >= Duration::from_millis(100));

        // The built-in read-only tools of the agent work on the same cluster.
        let vms = registry.get("proxmox_get_vms").unwrap().call(ctx, Default::default()).await.unwrap();
        assert!(vms.text.contains("web"), "{}", vms.text);
    }
}
