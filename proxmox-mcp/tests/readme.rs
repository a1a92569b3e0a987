//! The README stays true: its tools reference is the registry's, its configuration table names
//! every variable, its table of toolsets is the library's, and it shows the two commands.

use proxmox_mcp::config::VARIABLES;
use proxmox_mcp::{Registry, Selection};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md")
}

#[test]
fn tools_reference_matches_the_registry() {
    let readme = readme();
    let start = readme.find("<!-- tools:start -->\n").expect("start marker") + "<!-- tools:start -->\n".len();
    let end = readme.find("<!-- tools:end -->").expect("end marker");
    let expected = proxmox_mcp::tools::reference(&Registry::builtin());
    assert!(
        readme[start..end] == expected,
        "README tools reference is stale: regenerate it with `proxmox-mcp --list-tools`"
    );
}

#[test]
fn configuration_table_names_every_variable() {
    let readme = readme();
    for (name, _, _) in VARIABLES {
        assert!(readme.contains(&format!("| `{name}` |")), "README lacks {name}");
    }
    assert!(readme.contains("cargo test --workspace"));
    assert!(readme.contains("cargo run --release -p proxmox-mcp"));
}

#[test]
fn toolsets_table_matches_the_library() {
    let readme = readme();
    for toolset in proxmox_mcp::tools::TOOLSETS {
        let tools = Registry::builtin().select(&Selection::parse(&format!("@{}", toolset.name))).unwrap();
        let elevated = tools.iter().filter(|t| t.elevated).count();
        let row = format!("| `@{}` | {} | {elevated} | {} |\n", toolset.name, tools.len(), toolset.about);
        assert!(readme.contains(&row), "README lacks the toolset row {row}");
    }
}
