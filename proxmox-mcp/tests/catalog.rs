//! The built-in registry is the catalog: exactly the tools of `tests/data/catalog.json` (the 143
//! of the server this one replaces, and those added beyond it), each in its category.

use proxmox_mcp::Registry;
use serde_json::Value;
use std::collections::BTreeMap;

/// `tests/data/catalog.json`'s lists (`catalog`, `added`): tool name → category.
fn catalog(list: &str) -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/catalog.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).expect(path)).expect("catalog.json");
    let mut out = BTreeMap::new();
    for (category, names) in data[list].as_object().unwrap_or_else(|| panic!("catalog.json has no `{list}`")) {
        for name in names.as_array().expect("a list of tool names") {
            let name = name.as_str().expect("a tool name").to_string();
            assert!(out.insert(name.clone(), category.clone()).is_none(), "{name} is listed twice in `{list}`");
        }
    }
    out
}

#[test]
fn builtin_is_exactly_the_catalog_and_the_tools_added_since() {
    let (old, added) = (catalog("catalog"), catalog("added"));
    assert_eq!(old.len(), 143, "the catalog of the old server");
    let both: Vec<_> = old.keys().filter(|name| added.contains_key(*name)).collect();
    assert!(both.is_empty(), "in the catalog and listed as added: {both:?}");
    let expected: BTreeMap<&str, &str> = old.iter().chain(&added).map(|(n, c)| (n.as_str(), c.as_str())).collect();
    let registry = Registry::builtin();
    let actual: BTreeMap<&str, &str> = registry.iter().map(|t| (t.name, t.category)).collect();
    assert_eq!(actual.len(), registry.len(), "no tool twice in the registry");
    let missing: Vec<_> = expected.keys().filter(|n| !actual.contains_key(*n)).collect();
    let extra: Vec<_> = actual.keys().filter(|n| !expected.contains_key(*n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not in the registry: {missing:?}; in the registry but not in tests/data/catalog.json \
         (add a new tool to `added`, under its category): {extra:?}"
    );
    for (name, category) in &expected {
        assert_eq!(actual[name], *category, "{name}'s category");
    }
}
