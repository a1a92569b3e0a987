use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Relative path.
#[pve_tool(path = "version", method = GET)]
async fn version(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
