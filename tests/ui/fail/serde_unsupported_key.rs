use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// Serde keys that would change the schema but not the call: each is refused.
#[pve_tool(path = "/nodes/<node>/syslog", method = GET)]
async fn syslog(
    api: Api,
    #[serde(alias = "nodename")] node: Node,
    #[serde(default, deserialize_with = "lenient")] limit: u32,
    #[serde(skip)] verbose: bool,
) -> ToolResult {
    let _ = (api, node, limit, verbose);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
