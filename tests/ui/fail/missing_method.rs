use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// No method.
#[pve_tool(path = "/version")]
async fn version(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
