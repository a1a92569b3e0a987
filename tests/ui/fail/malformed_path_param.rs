use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Malformed.
#[pve_tool(path = "/nodes/<node/status", method = GET)]
async fn malformed(api: Api, node: Node) -> ToolResult {
    let _ = (api, node);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
