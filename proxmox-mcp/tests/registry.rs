//! The registry: the built-in set, filtering, extending, duplicate names; and the shape of
//! every tool definition clients see.

use proxmox_mcp::{Api, Method, Registry, SchemaDetail, ToolOutput, ToolResult, pve_tool};
use rmcp::model::{ListToolsResult, Tool};
use serde_json::Value;

/// A tool named like a built-in one.
#[pve_tool(path = "/nodes", method = GET, name = "proxmox_get_nodes")]
async fn shadow(api: Api) -> ToolResult {
    let _ = api;
    Ok(ToolOutput::new("", ()))
}

#[test]
fn only_a_download_from_a_url_reaches_beyond_the_cluster() {
    let open: Vec<_> = Registry::builtin().iter().filter(|t| t.open_world).map(|t| t.name).collect();
    assert_eq!(open, ["proxmox_download_url_to_storage"]);
    let tool = Registry::builtin().tool("proxmox_download_url_to_storage", SchemaDetail::Full).unwrap();
    assert_eq!(tool.annotations.unwrap().open_world_hint, Some(true));
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

/// The MCP meaning of a tool's hints, reading an absent one as the spec's default.
fn hints(tool: &Tool) -> [bool; 4] {
    let a = tool.annotations.clone().unwrap_or_default();
    let read_only = a.read_only_hint.unwrap_or(false);
    // Destructive and idempotent mean something only when the tool is not read-only.
    let destructive = !read_only && a.destructive_hint.unwrap_or(true);
    let idempotent = read_only || a.idempotent_hint.unwrap_or(false);
    [read_only, destructive, idempotent, a.open_world_hint.unwrap_or(true)]
}

#[test]
fn every_schema_is_flat_strict_and_annotated() {
    for detail in [SchemaDetail::Full, SchemaDetail::Compact] {
        for tool in Registry::builtin().tools(detail) {
            let schema = Value::Object((*tool.input_schema).clone());
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
            assert!(tool.title.is_some() && tool.annotations.is_some(), "{}", tool.name);
        }
    }
    for tool in Registry::builtin().tools(SchemaDetail::Full) {
        for (name, prop) in tool.input_schema["properties"].as_object().unwrap() {
            assert!(prop.get("description").is_some(), "{}.{name} has no description", tool.name);
        }
        let a = tool.annotations.as_ref().expect("annotations");
        assert!(
            a.read_only_hint.is_some()
                && a.destructive_hint.is_some()
                && a.idempotent_hint.is_some()
                && a.open_world_hint.is_some()
        );
    }
}

/// Compact leaves out words and checks, never a parameter, a type, a limit or a hint's meaning.
#[test]
fn compact_definitions_mean_what_the_full_ones_do() {
    let registry = Registry::builtin();
    let full = registry.tools(SchemaDetail::Full);
    let compact = registry.tools(SchemaDetail::Compact);
    assert_eq!(full.len(), compact.len());
    let total: usize = full.iter().map(|t| t.input_schema["properties"].as_object().unwrap().len()).sum();
    let mut rare = 0;
    for (f, c) in full.iter().zip(&compact) {
        assert_eq!(f.name, c.name);
        assert_eq!(f.title, c.title);
        assert_eq!(hints(f), hints(c), "{}", f.name);
        let (fd, cd) = (f.description.as_deref().unwrap(), c.description.as_deref().unwrap());
        assert!(!cd.is_empty() && cd.len() <= fd.len(), "{}: {cd:?}", f.name);
        assert_eq!(fd.ends_with("[elevated]"), cd.ends_with("[elevated]"), "{}", f.name);
        assert_eq!(f.input_schema.get("required"), c.input_schema.get("required"), "{}", f.name);
        let (fp, cp) =
            (f.input_schema["properties"].as_object().unwrap(), c.input_schema["properties"].as_object().unwrap());
        assert_eq!(fp.keys().collect::<Vec<_>>(), cp.keys().collect::<Vec<_>>(), "{}", f.name);
        for (name, fprop) in fp {
            let cprop = cp[name].as_object().unwrap();
            assert!(!fprop.to_string().contains("x-rare"), "{}.{name}: the full listing keeps no marks", f.name);
            if cprop.is_empty() {
                rare += 1; // a rare option: named only
                continue;
            }
            for key in ["enum", "minimum", "maximum", "default"] {
                // `minimum: 0` of an unsigned type goes when nothing bounds it from above.
                if key != "minimum" || fprop[key] != 0 || fprop.get("maximum").is_some() {
                    assert_eq!(fprop.get(key), cprop.get(key), "{}.{name}: {key}", f.name);
                }
            }
            // A string enum may leave its type implicit.
            if !(cprop.contains_key("enum") && fprop["type"] == "string") {
                assert_eq!(fprop.get("type"), cprop.get("type"), "{}.{name}: type", f.name);
            }
            for key in ["description", "pattern", "maxLength", "format"] {
                assert!(!cprop.contains_key(key), "{}.{name}: {key}", f.name);
            }
        }
    }
    // Most options are shown with their type; rare ones are the exception.
    assert!(rare * 5 < total, "{rare} of {total} parameters are named only");
}

/// The default listing, every tool with elevation on (the 143 of the old server and the ones
/// added since), stays within the budget of the listing issue: 85,000 bytes. (The old
/// TypeScript server's was 71,136 bytes for its 143 tools, without titles, hints or limits.)
#[test]
fn default_tools_list_stays_within_its_budget() {
    let result = ListToolsResult::with_all_items(Registry::builtin().tools(SchemaDetail::default()));
    let bytes = serde_json::to_vec(&result).unwrap().len();
    assert!(bytes <= 85_000, "tools/list is {bytes} bytes");
    eprintln!("tools/list: {bytes} bytes");
}

#[test]
fn tools_list_snapshots() {
    insta::assert_json_snapshot!("tools_list", Registry::builtin().tools(SchemaDetail::Full));
    insta::assert_json_snapshot!("tools_list_compact", Registry::builtin().tools(SchemaDetail::Compact));
}
