//! The set of tools a server offers: built in, filtered, extended.

use crate::listing::{SchemaDetail, mcp_tool};
use crate::tool::{Origin, ToolDescriptor};
use rmcp::model::Tool;
use std::fmt;
use std::sync::Arc;

/// Two tools with one name.
#[derive(Clone, Debug)]
pub struct DuplicateTool {
    pub name: &'static str,
    pub first: Origin,
    pub second: Origin,
}

impl fmt::Display for DuplicateTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tool `{}` is defined twice: in {} and in {}", self.name, self.first, self.second)
    }
}

impl std::error::Error for DuplicateTool {}

/// An ordered set of tools with unique names.
///
/// ```
/// use proxmox_mcp::Registry;
/// let readers = Registry::builtin().filter(|t| !t.elevated);
/// assert!(readers.get("proxmox_get_nodes").is_some());
/// let two = Registry::builtin().only(&["proxmox_get_nodes", "proxmox_get_vms"]);
/// assert_eq!(two.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<&'static ToolDescriptor>,
}

impl Registry {
    /// No tools.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Every tool this crate ships.
    pub fn builtin() -> Self {
        let mut registry = Registry::new();
        for group in crate::tools::GROUPS {
            for descriptor in *group {
                registry.entries.push(descriptor);
            }
        }
        debug_assert!(registry.check_unique().is_ok(), "built-in tool names are unique (tested)");
        registry
    }

    /// Add one tool; a name already present is an error naming both definitions.
    #[allow(clippy::should_implement_trait)] // `add` is the registry verb, not arithmetic
    pub fn add(mut self, descriptor: &'static ToolDescriptor) -> Result<Self, DuplicateTool> {
        if let Some(existing) = self.get(descriptor.name) {
            return Err(DuplicateTool { name: descriptor.name, first: existing.origin, second: descriptor.origin });
        }
        self.entries.push(descriptor);
        Ok(self)
    }

    /// Add several tools (see [`Registry::add`]).
    pub fn extend<'a>(
        mut self,
        descriptors: impl IntoIterator<Item = &'a &'static ToolDescriptor>,
    ) -> Result<Self, DuplicateTool> {
        for d in descriptors {
            self = self.add(d)?;
        }
        Ok(self)
    }

    /// Keep the tools for which `keep` is true (by name, category, tier, method, path…).
    pub fn filter(mut self, keep: impl Fn(&ToolDescriptor) -> bool) -> Self {
        self.entries.retain(|d| keep(d));
        self
    }

    /// Keep only these names.
    pub fn only(self, names: &[&str]) -> Self {
        self.filter(|t| names.contains(&t.name))
    }

    /// Drop these names.
    pub fn without(self, names: &[&str]) -> Self {
        self.filter(|t| !names.contains(&t.name))
    }

    pub fn get(&self, name: &str) -> Option<&'static ToolDescriptor> {
        self.entries.iter().find(|d| d.name == name).copied()
    }

    /// The MCP definition of a tool (schema, title, hints) at a level of detail.
    pub fn tool(&self, name: &str, detail: SchemaDetail) -> Option<Tool> {
        self.get(name).map(|d| mcp_tool(d, detail))
    }

    /// The descriptors, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static ToolDescriptor> + '_ {
        self.entries.iter().copied()
    }

    /// The MCP definitions, in order: what `tools/list` answers.
    pub fn tools(&self, detail: SchemaDetail) -> Vec<Tool> {
        self.iter().map(|d| mcp_tool(d, detail)).collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn check_unique(&self) -> Result<(), DuplicateTool> {
        for (i, a) in self.entries.iter().enumerate() {
            if let Some(b) = self.entries[..i].iter().find(|b| b.name == a.name) {
                return Err(DuplicateTool { name: a.name, first: b.origin, second: a.origin });
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|d| d.name)).finish()
    }
}

/// Shared handle used by the server.
pub(crate) type SharedRegistry = Arc<Registry>;
