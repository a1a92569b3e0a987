use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Three mistakes, all reported at once.
#[pve_tool(path = "nodes/<node>/<vmid>", method = GET, colour = "blue")]
fn three(api: Api, node: Node) -> ToolResult {
    let _ = (api, node);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
