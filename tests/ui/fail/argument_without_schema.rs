use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

struct Opaque;

/// An argument type with no JSON schema.
#[pve_tool(path = "/version", method = GET)]
async fn version(api: Api, thing: Opaque) -> ToolResult {
    let _ = (api, thing);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
