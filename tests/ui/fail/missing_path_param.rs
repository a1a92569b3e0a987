use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Start a VM.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/start", method = POST, elevated)]
async fn start_vm(api: Api, node: Node) -> ToolResult {
    let _ = (api, node);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
