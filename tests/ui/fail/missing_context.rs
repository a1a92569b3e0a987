use proxmox_mcp::types::Node;
use proxmox_mcp::{ToolOutput, ToolResult, pve_tool};

/// The request context must come first.
#[pve_tool(path = "/nodes/<node>/status", method = GET)]
async fn status(node: Node) -> ToolResult {
    let _ = node;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
