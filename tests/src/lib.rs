//! Tests of `proxmox-mcp` from outside the library crate: `#[pve_tool]` compile-time rules
//! (`tests/macro_ui.rs` with the cases in `ui/`) and downstream use of the registry.
