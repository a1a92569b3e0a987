//! Every tool with a fixed request path calls an endpoint the Proxmox VE 9.1 API has, with that
//! method (the API schema in `../shared/pve-api/endpoints.json`; parameters are checked per call
//! by the fakepve contract tests).

use proxmox_mcp::Registry;
use serde_json::Value;
use std::collections::BTreeSet;

fn endpoints(file: &str) -> BTreeSet<(String, String)> {
    let path = format!("{}/../../shared/pve-api/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let api: Value = serde_json::from_str(&text).expect("endpoints JSON");
    api["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter_map(|e| Some((e["method"].as_str()?.to_string(), normalise(e["path"].as_str()?))))
        .collect()
}

/// `{anything}` → `{}`, so our parameter names need not be the schema's.
fn normalise(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
}

#[test]
fn fixed_paths_exist_in_the_api() {
    let v91 = endpoints("endpoints.json");
    let mut checked = 0;
    for tool in Registry::builtin().iter() {
        let Some(template) = tool.path else { continue };
        // A `{param}` of ours may stand for an API parameter or for literals chosen by an enum
        // (`{type}` = qemu|lxc, `{command}` = start|stop|…): it matches any segment.
        let ours: Vec<&str> = template.split('/').collect();
        let found = v91.iter().any(|(method, path)| {
            let theirs: Vec<&str> = path.split('/').collect();
            *method == tool.method.to_string()
                && theirs.len() == ours.len()
                && ours.iter().zip(&theirs).all(|(o, t)| o.starts_with('{') || o == t)
        });
        assert!(found, "{}: {} {template} is not in the PVE 9.1 API", tool.name, tool.method);
        checked += 1;
    }
    assert!(checked > 100, "only {checked} tools have a fixed path");
}
