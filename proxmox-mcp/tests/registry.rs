//! The registry: the built-in set, filtering, extending, duplicate names; and the shape of
//! every tool definition clients see.

use proxmox_mcp::{Api, Method, Registry, ToolOutput, ToolResult, pve_tool};

/// A tool named like a built-in one.
#[pve_tool(path = "/nodes", method = GET, name = "proxmox_get_nodes")]
async fn shadow(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

#[test]
fn duplicate_names_are_refused_with_both_origins() {
    let err = Registry::builtin().add(&SHADOW).unwrap_err();
    assert_eq!(err.name, "proxmox_get_nodes");
    let text = err.to_string();
    assert!(text.contains("proxmox_mcp::tools::cluster"), "{text}");
    assert!(text.contains("registry.rs"), "{text}");
    assert!(Registry::builtin().without(&["proxmox_get_nodes"]).add(&SHADOW).is_ok());
}

#[test]
fn filters_by_name_category_tier_and_method() {
    let all = Registry::builtin();
    let query = all.clone().filter(|t| t.category == "VM Query");
    assert_eq!(query.len(), 5);
    let reads = all.clone().filter(|t| t.method == Method::Get);
    assert!(reads.iter().all(|t| t.read_only()) && reads.len() < all.len());
    assert_eq!(all.clone().only(&["proxmox_get_vms", "nope"]).len(), 1);
    assert_eq!(all.clone().without(&["proxmox_get_vms"]).len(), all.len() - 1);
    let basic = all.clone().filter(|t| !t.elevated);
    assert!(!basic.is_empty() && basic.len() < all.len());
}

#[test]
fn every_schema_is_flat_strict_and_annotated() {
    for tool in Registry::builtin().tools() {
        let schema = serde_json::Value::Object((*tool.input_schema).clone());
        let text = schema.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("$defs") && !text.contains("definitions"),
            "{}: {text}",
            tool.name
        );
        assert_eq!(schema["type"], "object", "{}", tool.name);
        assert_eq!(schema["additionalProperties"], false, "{}", tool.name);
        assert!(schema.get("anyOf").is_none() && schema.get("oneOf").is_none(), "{}", tool.name);
        assert!(schema["properties"].is_object(), "{}", tool.name);
        for (name, prop) in schema["properties"].as_object().unwrap() {
            assert!(prop.get("description").is_some(), "{}.{name} has no description", tool.name);
        }
        let a = tool.annotations.as_ref().expect("annotations");
        assert!(
            a.read_only_hint.is_some()
                && a.destructive_hint.is_some()
                && a.idempotent_hint.is_some()
                && a.open_world_hint.is_some()
        );
        assert!(tool.title.is_some());
    }
}

#[test]
fn tools_list_snapshot() {
    let tools: Vec<_> = Registry::builtin().tools().cloned().collect();
    insta::assert_json_snapshot!("tools_list", tools);
}
