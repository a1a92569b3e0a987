use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Typo in a key.
#[pve_tool(path = "/version", method = GET, elevatd)]
async fn version(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
