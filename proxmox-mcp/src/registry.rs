//! The set of tools a server offers: built in, filtered, extended, selected.
//!
//! A [`Selection`] names tools the way an operator writes them in `PROXMOX_TOOLS` and
//! `PROXMOX_EXCLUDE_TOOLS`: entries separated by commas (or white space), each one
//! - a tool name, `proxmox_get_vms`;
//! - a glob, `proxmox_get_*` or `proxmox_agent_?et_*`: `*` is any run of characters, `?` one;
//! - a toolset, `@ha`: one per area (the files under `tools/`, see [`crate::tools::TOOLSETS`])
//!   and two per tier, `@read` (every basic tool) and `@elevated`.
//!
//! [`Registry::select`] keeps what a selection names, [`Registry::exclude`] drops it; both keep
//! the registry's order, and both refuse an entry that names nothing ([`SelectionError`]).

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
/// use proxmox_mcp::registry::Selection;
/// let readers = Registry::builtin().filter(|t| !t.elevated);
/// assert!(readers.get("proxmox_get_nodes").is_some());
/// let two = Registry::builtin().only(&["proxmox_get_nodes", "proxmox_get_vms"]);
/// assert_eq!(two.len(), 2);
/// let no_commands = Registry::builtin()
///     .exclude(&Selection::parse("proxmox_execute_vm_command,proxmox_agent_*"))
///     .unwrap();
/// assert!(no_commands.get("proxmox_agent_exec").is_none());
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

    /// Every tool this crate ships, area by area (the area toolsets of [`crate::tools::TOOLSETS`]).
    pub fn builtin() -> Self {
        let mut registry = Registry::new();
        for toolset in crate::tools::TOOLSETS {
            if let Members::Area(tools) = toolset.members {
                registry.entries.extend(tools.iter().copied());
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

    /// Keep the tools `selection` names, in this registry's order. An entry that names nothing
    /// (an unknown tool or toolset, a glob that matches no tool) is an error; a tool is known if
    /// it is in this registry or built in, so selections compose with filters.
    ///
    /// ```
    /// use proxmox_mcp::Registry;
    /// use proxmox_mcp::registry::Selection;
    /// let ha = Registry::builtin().select(&Selection::parse("@ha, proxmox_get_vms")).unwrap();
    /// assert_eq!(ha.iter().next().unwrap().name, "proxmox_get_vms"); // the registry's order
    /// let err = Registry::builtin().select(&Selection::parse("@vms")).unwrap_err();
    /// assert!(err.to_string().starts_with("unknown toolset \"@vms\""));
    /// ```
    pub fn select(self, selection: &Selection) -> Result<Self, SelectionError> {
        selection.check(&self)?;
        Ok(self.filter(|t| selection.matches(t)))
    }

    /// Drop the tools `selection` names; entries are checked as [`Registry::select`] checks them.
    pub fn exclude(self, selection: &Selection) -> Result<Self, SelectionError> {
        selection.check(&self)?;
        Ok(self.filter(|t| !selection.matches(t)))
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

/// A named set of tools: `@name` in a [`Selection`]. The built-in ones are
/// [`crate::tools::TOOLSETS`].
#[derive(Clone, Copy)]
pub struct Toolset {
    pub name: &'static str,
    /// What is in it, in a few words (the README's table of toolsets).
    pub about: &'static str,
    pub members: Members,
}

/// Which tools a [`Toolset`] holds.
#[derive(Clone, Copy)]
pub enum Members {
    /// The tools of one area: one file under `tools/`.
    Area(&'static [&'static ToolDescriptor]),
    /// Every tool of a tier, of any area (tools of your own too).
    Tier { elevated: bool },
}

impl Toolset {
    /// The tools of one area.
    pub const fn area(name: &'static str, about: &'static str, tools: &'static [&'static ToolDescriptor]) -> Self {
        Toolset { name, about, members: Members::Area(tools) }
    }

    /// Every tool of a tier.
    pub const fn tier(name: &'static str, about: &'static str, elevated: bool) -> Self {
        Toolset { name, about, members: Members::Tier { elevated } }
    }

    pub fn contains(&self, tool: &ToolDescriptor) -> bool {
        match self.members {
            Members::Area(tools) => tools.iter().any(|t| t.name == tool.name),
            Members::Tier { elevated } => tool.elevated == elevated,
        }
    }
}

impl fmt::Debug for Toolset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.name)
    }
}

/// Tools named by names, globs and toolsets (see the [module](self) for the syntax).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    entries: Vec<Entry>,
}

/// One entry of a [`Selection`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `proxmox_get_vms`
    Tool(String),
    /// `proxmox_get_*`: `*` is any run of characters, `?` any one.
    Glob(String),
    /// `@ha`, stored without the `@`.
    Toolset(String),
}

impl Selection {
    /// Read entries separated by commas or white space; empty entries are skipped. Parsing
    /// cannot fail: whether an entry names anything is for [`Selection::check`] to say.
    pub fn parse(text: &str) -> Selection {
        let entries = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .map(|e| match e.strip_prefix('@') {
                Some(toolset) => Entry::Toolset(toolset.to_string()),
                None if e.contains(['*', '?']) => Entry::Glob(e.to_string()),
                None => Entry::Tool(e.to_string()),
            })
            .collect();
        Selection { entries }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// No entries: selects nothing, excludes nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an entry names this tool.
    pub fn matches(&self, tool: &ToolDescriptor) -> bool {
        self.entries.iter().any(|e| e.matches(tool))
    }

    /// Every entry names something: a toolset of [`crate::tools::TOOLSETS`], a tool of
    /// `registry` or of the built-in ones, or (a glob) at least one of those tools.
    pub fn check(&self, registry: &Registry) -> Result<(), SelectionError> {
        let builtin = Registry::builtin();
        let known = || registry.iter().chain(builtin.iter().filter(|t| registry.get(t.name).is_none()));
        for entry in &self.entries {
            let (kind, ok) = match entry {
                Entry::Toolset(name) => (Unknown::Toolset, crate::tools::toolset(name).is_some()),
                Entry::Tool(name) => (Unknown::Tool, known().any(|t| t.name == name)),
                Entry::Glob(_) => (Unknown::Glob, known().any(|t| entry.matches(t))),
            };
            if !ok {
                let toolsets: Vec<&'static str> = crate::tools::TOOLSETS.iter().map(|t| t.name).collect();
                let tools: Vec<&'static str> = known().map(|t| t.name).collect();
                let suggestions = match entry {
                    Entry::Toolset(name) => similar(name, &toolsets, 2).into_iter().map(|t| format!("@{t}")).collect(),
                    Entry::Tool(name) => similar(name, &tools, 3).into_iter().map(str::to_string).collect(),
                    Entry::Glob(_) => Vec::new(),
                };
                return Err(SelectionError { kind, entry: entry.to_string(), suggestions, tools, toolsets });
            }
        }
        Ok(())
    }
}

impl Entry {
    pub fn matches(&self, tool: &ToolDescriptor) -> bool {
        match self {
            Entry::Tool(name) => tool.name == name,
            Entry::Glob(pattern) => crate::format::glob_match(pattern, tool.name),
            Entry::Toolset(name) => crate::tools::toolset(name).is_some_and(|t| t.contains(tool)),
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Tool(s) | Entry::Glob(s) => f.write_str(s),
            Entry::Toolset(s) => write!(f, "@{s}"),
        }
    }
}

/// The entries, joined by commas: text that parses back to the same selection.
impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            e.fmt(f)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selection {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Selection::parse(s))
    }
}

/// What a [`SelectionError`] could not find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    Tool,
    Toolset,
    /// A glob that matches no tool.
    Glob,
}

/// An entry of a [`Selection`] that names nothing; it says which, and what the valid ones are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionError {
    pub kind: Unknown,
    /// The entry as written (`@vms`, `proxmox_get_vm`, `proxmox_agnet_*`).
    pub entry: String,
    /// Valid names close to the entry.
    pub suggestions: Vec<String>,
    /// Every tool name the entry could have named, in the registry's order.
    pub tools: Vec<&'static str>,
    /// Every toolset name (without `@`).
    pub toolsets: Vec<&'static str>,
}

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Unknown::Tool => write!(f, "unknown tool \"{}\"", self.entry)?,
            Unknown::Toolset => write!(f, "unknown toolset \"{}\"", self.entry)?,
            Unknown::Glob => write!(f, "\"{}\" matches no tool", self.entry)?,
        }
        if !self.suggestions.is_empty() {
            write!(f, " (did you mean {}?)", self.suggestions.join(" or "))?;
        }
        let toolsets: Vec<String> = self.toolsets.iter().map(|t| format!("@{t}")).collect();
        write!(f, "; the toolsets are {}", toolsets.join(", "))?;
        if self.kind != Unknown::Toolset {
            write!(f, "; the tools are {}", self.tools.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for SelectionError {}

/// The names within `max` edits of `word`, closest first (at most three).
fn similar<'a>(word: &str, names: &[&'a str], max: usize) -> Vec<&'a str> {
    let mut close: Vec<(usize, &str)> =
        names.iter().map(|n| (distance(word, n), *n)).filter(|(d, _)| *d <= max).collect();
    close.sort_by_key(|(d, _)| *d);
    close.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Shared handle used by the server.
pub(crate) type SharedRegistry = Arc<Registry>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_any_run_and_any_one_character() {
        for (pattern, name, expected) in [
            ("proxmox_agent_*", "proxmox_agent_exec", true),
            ("proxmox_agent_*", "proxmox_agent_", true),
            ("proxmox_agent_*", "proxmox_execute_vm_command", false),
            ("*", "", true),
            ("*", "anything", true),
            ("*_vm", "proxmox_start_vm", true),
            ("*_vm", "proxmox_start_vms", false),
            ("proxmox_*_snapshot_*", "proxmox_rollback_snapshot_lxc", true),
            ("proxmox_*_snapshot_*", "proxmox_list_snapshots_lxc", false),
            ("*a*a*a", "aaa", true),
            ("*a*a*a", "aa", false),
            ("proxmox_st??t_vm", "proxmox_start_vm", true),
            ("proxmox_st?t_vm", "proxmox_start_vm", false),
            ("?", "", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**x", "abx", true),
        ] {
            assert_eq!(crate::format::glob_match(pattern, name), expected, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn entries_are_names_globs_and_toolsets_separated_by_commas_or_space() {
        let s = Selection::parse(" proxmox_get_vms,proxmox_get_*, @ha\n@read,,proxmox_?et_nodes ");
        assert_eq!(
            s.entries(),
            [
                Entry::Tool("proxmox_get_vms".into()),
                Entry::Glob("proxmox_get_*".into()),
                Entry::Toolset("ha".into()),
                Entry::Toolset("read".into()),
                Entry::Glob("proxmox_?et_nodes".into()),
            ]
        );
        assert_eq!(s.to_string(), "proxmox_get_vms,proxmox_get_*,@ha,@read,proxmox_?et_nodes");
        assert_eq!(Selection::parse(&s.to_string()), s);
        assert!(Selection::parse(" , ").is_empty());
        assert_eq!("@ha".parse::<Selection>().unwrap(), Selection::parse("@ha"));
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("proxmox_get_vm", "proxmox_get_vms"), 1);
        assert_eq!(similar("snapshot", &["snapshots", "ha", "nodes"], 2), ["snapshots"]);
    }
}
