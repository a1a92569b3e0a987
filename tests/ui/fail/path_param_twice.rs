use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Twice.
#[pve_tool(path = "/nodes/<node>/x/<node>", method = GET)]
async fn twice(api: Api, node: Node) -> ToolResult {
    let _ = (api, node);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
