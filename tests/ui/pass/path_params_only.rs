use proxmox_mcp::types::{Node, VmId};
use proxmox_mcp::{Api, Method, ToolOutput, ToolResult, pve_tool};

/// Reboot a VM.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/reboot", method = POST, elevated, category = "Power")]
async fn reboot_vm(
    api: Api,
    /// The node.
    node: Node,
    /// The VM.
    vmid: VmId,
) -> ToolResult {
    let upid: String = api.send(()).await?;
    Ok(ToolOutput::task(format!("VM {vmid} reboots"), &node, upid))
}

fn main() {
    assert_eq!(REBOOT_VM.method, Method::Post);
    assert_eq!(REBOOT_VM.path, Some("/nodes/{node}/qemu/{vmid}/status/reboot"));
    assert_eq!(REBOOT_VM.category, "Power");
    assert!(REBOOT_VM.elevated);
    let schema = (REBOOT_VM.schema)();
    assert_eq!(schema["required"], serde_json::json!(["node", "vmid"]));
    assert_eq!(schema["properties"]["node"]["description"], "The node.");
}
