use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// A key given twice.
#[pve_tool(path = "/version", method = GET, method = POST)]
async fn version(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
