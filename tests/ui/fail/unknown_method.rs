use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Proxmox has no PATCH.
#[pve_tool(path = "/version", method = PATCH)]
async fn version(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
