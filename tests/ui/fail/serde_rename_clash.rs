use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Two arguments under one key.
#[pve_tool(path = "/nodes/<node>/migrate", method = POST)]
async fn migrate(api: Api, node: Node, #[serde(rename = "node")] target: Node) -> ToolResult {
    let _ = (api, node, target);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
