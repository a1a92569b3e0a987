use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};

/// `default` and `rename` only in the forms both the schema and the call understand.
#[pve_tool(path = "/nodes/<node>/syslog", method = GET)]
async fn syslog(
    api: Api,
    node: Node,
    #[serde(default = "fifty")] limit: u32,
    #[serde(rename(deserialize = "since-time"))] since: Option<String>,
) -> ToolResult {
    let _ = (api, node, limit, since);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
