//! The README stays true: its tools reference is the registry's, its configuration table names
//! every variable, and it shows the two commands.

use proxmox_mcp::Registry;
use proxmox_mcp::config::VARIABLES;

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
