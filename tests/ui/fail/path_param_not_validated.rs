use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// A plain String could hold `/` or `..`: it cannot fill a path segment.
#[pve_tool(path = "/nodes/<node>/status", method = GET)]
async fn status(api: Api, node: String) -> ToolResult {
    let _ = (api, node);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
