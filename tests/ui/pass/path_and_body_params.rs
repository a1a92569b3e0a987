use proxmox_mcp::types::{Node, VmId};
use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings changed on a VM.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Memory in MiB.
    #[schemars(range(min = 16))]
    memory: Option<u64>,
    /// A note.
    description: Option<String>,
}

/// Change a VM's memory or description.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, title = "Set VM settings", idempotent = true)]
async fn set_vm(
    api: Api,
    node: Node,
    vmid: VmId,
    /// Apply without waiting for pending changes.
    #[serde(default)]
    now: bool,
    #[flatten] settings: Settings,
) -> ToolResult {
    let _: serde_json::Value = api.send(&settings).await?;
    Ok(ToolOutput::new(format!("VM {vmid} on {node} updated (now: {now})"), ()))
}

fn main() {
    let schema = (SET_VM.schema)();
    let props = schema["properties"].as_object().unwrap();
    let mut names: Vec<_> = props.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["description", "memory", "node", "now", "vmid"]);
    assert_eq!(schema["properties"]["memory"]["minimum"], 16);
    assert_eq!(schema["additionalProperties"], false);
    assert!(!serde_json::to_string(&schema).unwrap().contains("$ref"));
    assert_eq!(SET_VM.title, "Set VM settings");
}
