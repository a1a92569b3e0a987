use proxmox_mcp::{Api, Registry, SchemaDetail, ToolOutput, ToolResult, pve_tool};
use serde_json::Value;

/// Show the Proxmox version.
#[pve_tool(path = "/version", method = GET)]
async fn pve_version(api: Api) -> ToolResult {
    let v: Value = api.send(()).await?;
    Ok(ToolOutput::new(format!("Proxmox VE {}", v["version"]), v))
}

fn main() {
    let registry = Registry::new().add(&PVE_VERSION).unwrap();
    let tool = registry.tool("pve_version", SchemaDetail::Full).unwrap();
    assert_eq!(tool.input_schema.get("type").unwrap(), "object");
    assert_eq!(PVE_VERSION.path, Some("/version"));
    assert!(!PVE_VERSION.elevated);
}
