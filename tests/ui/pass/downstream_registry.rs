//! A crate of its own adding a tool to the built-in ones, the way a custom agent does.
use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, Registry, ToolOutput, ToolResult, pve_tool};

/// List a node's APT update candidates.
#[pve_tool(path = "/nodes/<node>/apt/update", method = GET, category = "Updates")]
pub async fn my_list_updates(api: Api, node: Node) -> ToolResult {
    let updates: Vec<serde_json::Value> = api.send(()).await?;
    Ok(ToolOutput::new(format!("{} updates on {node}", updates.len()), updates))
}

fn main() {
    let registry = Registry::builtin()
        .filter(|t| !t.elevated)
        .add(&MY_LIST_UPDATES)
        .expect("no other tool has this name");
    assert!(registry.get("my_list_updates").is_some());
    let again = registry.clone().add(&MY_LIST_UPDATES).unwrap_err();
    assert!(again.to_string().contains("my_list_updates"));
}
