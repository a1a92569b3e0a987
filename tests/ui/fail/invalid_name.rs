use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Spaces are not allowed in tool names.
#[pve_tool(path = "/version", method = GET, name = "get version")]
async fn version(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
