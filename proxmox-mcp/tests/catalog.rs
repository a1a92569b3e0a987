//! The built-in registry is the catalog: exactly the 143 tool names of
//! `../shared/spec/tools.json`, each in its category, each tested against a mock and fakepve.

use proxmox_mcp::Registry;
use serde_json::Value;
use std::collections::BTreeSet;

fn catalog() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/tools.json");
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e} (CI has ../shared beside the project)"));
    serde_json::from_str(&text).expect("tools.json")
}

#[test]
fn builtin_is_exactly_the_catalog() {
    let catalog = catalog();
    let expected: BTreeSet<&str> = catalog.iter().filter_map(|t| t["name"].as_str()).collect();
    let registry = Registry::builtin();
    let actual: BTreeSet<&str> = registry.iter().map(|t| t.name).collect();
    assert_eq!(registry.len(), 143, "no duplicates");
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, not in the catalog {extra:?}");
    for t in &catalog {
        let name = t["name"].as_str().unwrap_or_default();
        let tool = registry.get(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(tool.category, t["category"].as_str().unwrap_or_default(), "{name}'s category");
    }
}

#[test]
fn every_tool_is_tested_against_a_mock_and_fakepve() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let files: Vec<String> = std::fs::read_dir(dir)
        .expect("tests dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    let quoted = |name: &str| format!("\"{name}\"");
    // A mock test builds its mocks with httpmock's `mock_async`, or with the mock builders of
    // tests/common that wrap it: `expect(..)` (a function, not `.expect`), `.mock_get(..)`, ...
    let mocks = |f: &str| {
        f.contains("mock_async")
            || f.match_indices("expect(")
                .any(|(i, _)| !f[..i].ends_with(|c: char| c == '.' || c == '_' || c.is_alphanumeric()))
            || [".mock_get(", ".mock_form(", ".mock_delete(", ".mock_config_change("].iter().any(|m| f.contains(m))
    };
    // firewall_tools.rs builds the names of its three scopes (cluster, VM, container) with
    // `format!("proxmox_{verb}_{scope}_firewall_{plural}")`; its tests cover each tool per scope.
    let generated = |name: &str| name.contains("_firewall_") && files.iter().any(|f| f.contains("_firewall_{plural}"));
    for tool in Registry::builtin().iter().filter(|t| !generated(t.name)) {
        let q = quoted(tool.name);
        assert!(files.iter().any(|f| mocks(f) && f.contains(&q)), "{} has no mock test", tool.name);
        assert!(
            files.iter().any(|f| f.contains("FakePve::start") && f.contains(&q)),
            "{} is not called in a fakepve contract test",
            tool.name
        );
        if tool.elevated {
            assert!(
                files.iter().any(|f| f.contains("assert_refused(") && f.contains(&q)),
                "{} has no refused-call test",
                tool.name
            );
        }
    }
}
