use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Not async.
#[pve_tool(path = "/version", method = GET)]
fn version(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

fn main() {}
