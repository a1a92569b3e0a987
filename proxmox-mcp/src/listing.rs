//! How tools are shown to the client in `tools/list`: in full, or compact.
//!
//! Every tool definition goes into the agent's context on every turn, so its size is paid in
//! tokens for the whole conversation. The full definition carries everything the descriptor
//! knows: the whole description, each parameter's description, patterns, lengths and formats.
//! The compact one (the default) keeps what an agent needs to call the tool right: the name,
//! title, the description's first sentence, each parameter's name, a few words on what it does,
//! type, enum, numeric limits and default, what is required, and the hints. What it leaves out
//! (`additionalProperties: false` among it: the instructions say it once) is still enforced: a
//! call that breaks a pattern or a length gets an error naming the argument and the rule, before
//! anything reaches Proxmox.
//!
//! An option few calls need (a tuning knob, a deprecated setting) can be marked
//! `#[schemars(extend("x-rare" = true))]`: the compact listing then shows its name and type only,
//! so the agent knows it exists; the full listing shows it like any other.
//!
//! The compact listing describes each parameter in a few words (the first clause of its
//! description), except those whose name says it all (`node`, `vmid`, ...); a title that only
//! restates the tool's name is left out.

use crate::tool::ToolDescriptor;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::Value;
use std::str::FromStr;
use std::sync::Arc;

/// How much of each tool's definition `tools/list` carries (`PROXMOX_TOOL_SCHEMA`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SchemaDetail {
    /// Name, title, first sentence, parameter names, types, enums, limits, hints that differ
    /// from MCP's defaults. About 40% of the full size for the built-in tools.
    #[default]
    Compact,
    /// Everything: whole descriptions, parameter descriptions, patterns, lengths, all four hints.
    Full,
}

impl FromStr for SchemaDetail {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "compact" => Ok(SchemaDetail::Compact),
            "full" => Ok(SchemaDetail::Full),
            other => Err(format!("must be compact or full (got \"{other}\")")),
        }
    }
}

/// The MCP definition of a tool at a level of detail.
pub fn mcp_tool(d: &ToolDescriptor, detail: SchemaDetail) -> Tool {
    let mut description = match detail {
        SchemaDetail::Full => d.description.to_string(),
        SchemaDetail::Compact => first_sentence(d.description).to_string(),
    };
    if d.task && detail == SchemaDetail::Full {
        // In the compact listing the `wait` parameter says it, and the instructions what it does.
        description.push(' ');
        description.push_str(TASK_NOTE);
    }
    if d.elevated && detail == SchemaDetail::Full {
        // The server's instructions say what elevated means and how to allow it. In the compact
        // listing the hints say it: an elevated tool is one that is not read-only.
        description.push_str(" [elevated]");
    }
    let mut schema = d.input_schema();
    let annotations = match detail {
        SchemaDetail::Full => {
            forget_rare(&mut schema);
            ToolAnnotations::new()
                .read_only(d.read_only())
                .destructive(d.destructive())
                .idempotent(d.idempotent())
                .open_world(d.open_world)
        }
        SchemaDetail::Compact => {
            compact_schema(&mut schema);
            compact_hints(d)
        }
    };
    let tool = Tool::new(d.name, description, Arc::new(schema)).annotate(annotations);
    match detail {
        SchemaDetail::Compact if restates(d.title, d.name) => tool,
        _ => tool.with_title(d.title),
    }
}

/// Whether a title only restates the tool's name (`Get nodes` for `proxmox_get_nodes`): every
/// word of it is a word of the name.
fn restates(title: &str, name: &str) -> bool {
    let words: Vec<String> = name.split('_').map(str::to_ascii_lowercase).collect();
    title.split_whitespace().all(|w| words.contains(&w.to_ascii_lowercase()))
}

/// Said of every tool that starts a Proxmox task (the instructions say the rest).
pub const TASK_NOTE: &str = "Waits for the task (`wait`).";

/// The description up to the end of its first sentence (a `.` followed by a space, not in
/// `e.g.`/`i.e.`), or all of it.
pub fn first_sentence(text: &str) -> &str {
    let mut from = 0;
    while let Some(i) = text[from..].find(". ").map(|i| from + i) {
        let before = &text[..i];
        if !(before.ends_with("e.g") || before.ends_with("i.e") || before.ends_with("etc")) {
            return &text[..=i];
        }
        from = i + 2;
    }
    text
}

/// The hints whose value is not the one MCP assumes when a hint is absent (read-only false,
/// destructive true, idempotent false, open-world true). Destructive and idempotent mean
/// something only for a tool that is not read-only, so a read-only tool says neither.
fn compact_hints(d: &ToolDescriptor) -> ToolAnnotations {
    let mut hints = ToolAnnotations::new();
    if !d.open_world {
        hints = hints.open_world(false);
    }
    if d.read_only() {
        return hints.read_only(true);
    }
    if !d.destructive() {
        hints = hints.destructive(false);
    }
    if d.idempotent() {
        hints = hints.idempotent(true);
    }
    hints
}

/// Keywords the compact schema keeps on a property; the rest (descriptions, patterns, lengths,
/// formats) stay in the full schema and in the argument checks.
const KEPT: &[&str] = &[
    "type",
    "enum",
    "const",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "minimum",
    "maximum",
    "default",
    "anyOf",
    "oneOf",
    "minItems",
    "maxItems",
];

fn compact_schema(schema: &mut JsonObject) {
    // Every tool refuses parameters it does not list (the argument checks name them, and the
    // instructions say so once); the full listing keeps the keyword on each tool.
    schema.remove("additionalProperties");
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            let brief = prop
                .get("description")
                .and_then(Value::as_str)
                .filter(|_| needs_words(name, prop))
                .and_then(|d| brief(name, d));
            compact_property(prop);
            if let (Some(brief), Value::Object(obj)) = (brief, &mut *prop) {
                obj.insert("description".into(), Value::String(brief));
            }
            if ["vmid", "newid"].contains(&name.as_str())
                && let Value::Object(obj) = prop
            {
                // vmid's 100 to 999999999 is common knowledge; the check still enforces it.
                obj.remove("minimum");
                obj.remove("maximum");
            }
        }
    }
}

/// Parameters whose name says what they are (and the firewall rule fields, which are the
/// firewall's own terms): the compact listing gives them no description.
const SELF_EXPLAINED: &[&str] = &[
    "node",
    "vmid",
    "newid",
    "wait",
    "limit",
    "offset",
    "name",
    "comment",
    "description",
    "digest",
    "pool",
    "snapname",
    "hostname",
    "storage",
    "upid",
    "id",
    "enable",
    "source",
    "dest",
    "sport",
    "dport",
    "proto",
    "macro",
    "icmp-type",
    "log",
    "iface",
    "pos",
    "skiplock",
    "disable",
    "enabled",
    "firewall",
    "onboot",
    "shared",
];

/// The longest parameter description the compact listing carries, in characters.
const BRIEF_MAX: usize = 44;

/// Whether a parameter's name and schema leave its meaning open: a flag (what does `purge`
/// do?) or a number (in which unit?). A string's pattern, an enum's values and an object's
/// fields say more of themselves; their descriptions stay in the full listing.
fn needs_words(name: &str, prop: &Value) -> bool {
    prop.get(RARE) != Some(&Value::Bool(true))
        && prop.get("enum").is_none()
        && (matches!(prop.get("type").and_then(Value::as_str), Some("boolean" | "integer" | "number"))
            || WORDED_STRINGS.contains(&name))
}

/// Strings whose form is Proxmox's own and not guessable from the name: their words keep an
/// example.
const WORDED_STRINGS: &[&str] = &[
    "typefilter",
    "schedule",
    "size",
    "delete",
    "prune-backups",
    "targetstorage",
    "statusfilter",
    "resources",
    "nodes",
    "since",
    "until",
    "efidisk0",
    "tpmstate0",
    "machine",
    "disk",
    "target",
    "net",
    "mp",
    "volume",
    "archive",
    "ostemplate",
    "iso",
    "file",
    "path",
    "filepath",
    "content",
    "sid",
    "resource",
    "ip",
    "ip6",
    "cpu",
    "rename",
    "exclude",
    "startcursor",
    "endcursor",
    "type",
    "userfilter",
    "target-storage",
    "notes-template",
    "fleecing",
    "performance",
    "bwlimit",
    "migration",
    "replication",
    "ha",
    "crs",
    "next-id",
    "notify",
    "tag-style",
    "log_ratelimit",
    "action",
];

/// A parameter's description as the compact listing carries it: its first clause (up to `. ` or
/// `; `), without what is in parentheses, examples or a leading article, cut at a
/// word before [`BRIEF_MAX`] characters; none for a parameter in [`SELF_EXPLAINED`].
fn brief(name: &str, description: &str) -> Option<String> {
    if SELF_EXPLAINED.contains(&name) {
        return None;
    }
    let first = first_sentence(description);
    // A string in a Proxmox format keeps its first example: the form says more than words.
    let example = WORDED_STRINGS
        .contains(&name)
        .then(|| first.split_once("e.g. ").map(|(_, rest)| rest.split([' ', ')', ';']).next().unwrap_or("")))
        .flatten()
        .map(|e| e.trim_end_matches(['.', ',']))
        .filter(|e| !e.is_empty() && e.len() <= 64);
    let clause = first.split("; ").next().unwrap_or(first);
    // Examples are in the full listing.
    let clause = clause.split(", e.g.").next().unwrap_or(clause).split(" e.g.").next().unwrap_or(clause);
    // Parentheses hold defaults, limits and asides: the schema has the first two.
    let mut plain = String::with_capacity(clause.len());
    let mut depth = 0usize;
    for c in clause.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let mut text = plain.split_whitespace().collect::<Vec<_>>().join(" ").replace(" ,", ",").replace(" :", ":");
    for article in ["The ", "A ", "An "] {
        if let Some(rest) = text.strip_prefix(article) {
            let mut chars = rest.chars();
            text = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
            break;
        }
    }
    let text = text.trim_end_matches(['.', ',', ':', ' ']);
    let text = text.strip_suffix(", e.g").unwrap_or(text).trim_end_matches([',', ' ']);
    if text.is_empty() {
        return None;
    }
    let words = if text.chars().count() <= BRIEF_MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(BRIEF_MAX).collect();
        let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
        format!("{}…", cut.trim_end_matches([',', ':', ' ']))
    };
    Some(match example {
        Some(e) => format!("{words}, e.g. {e}"),
        None => words,
    })
}

/// The keyword marking a rare option (see the module documentation).
const RARE: &str = "x-rare";

/// Drop our own `x-` keywords (the rare mark, aliases, units): they are for this server's
/// listing and argument checks, not for clients.
fn forget_rare(schema: &mut JsonObject) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for prop in props.values_mut() {
            if let Value::Object(obj) = prop {
                obj.retain(|k, _| !k.starts_with("x-"));
                forget_rare(obj);
            }
        }
    }
}

fn compact_property(schema: &mut Value) {
    let Value::Object(obj) = schema else { return };
    if obj.get(RARE) == Some(&Value::Bool(true)) {
        // Its name and type (or values) only; limits and words are in the full listing.
        obj.retain(|k, _| k == "type" || k == "enum" || k == "items");
        if obj.contains_key("enum") {
            obj.remove("type");
        }
        if let Some(Value::Object(items)) = obj.get_mut("items") {
            items.retain(|k, _| k == "type" || k == "enum");
        }
        return;
    }
    obj.retain(|k, _| KEPT.contains(&k.as_str()));
    // `minimum: 0` says what no agent would doubt (a count, a size, seconds); the check still
    // refuses a negative value.
    if obj.get("minimum") == Some(&Value::from(0)) {
        obj.remove("minimum");
    }
    // A list of strings to choose from says the type itself.
    let all_strings = |values: &Vec<Value>| values.iter().all(Value::is_string);
    if obj.get("type") == Some(&Value::from("string"))
        && obj.get("enum").and_then(Value::as_array).is_some_and(all_strings)
    {
        obj.remove("type");
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = obj.get_mut(key) {
            compact_property(inner);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(variants)) = obj.get_mut(key) {
            variants.iter_mut().for_each(compact_property);
        }
    }
    compact_schema(obj);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentence_skips_abbreviations() {
        assert_eq!(first_sentence("Start a VM. Returns the task."), "Start a VM.");
        assert_eq!(first_sentence("Add a NIC, e.g. net1 on vmbr0. More."), "Add a NIC, e.g. net1 on vmbr0.");
        assert_eq!(first_sentence("One sentence only."), "One sentence only.");
        assert_eq!(first_sentence("No full stop"), "No full stop");
    }

    #[test]
    fn detail_parses_and_says_the_choices() {
        assert_eq!("".parse::<SchemaDetail>().unwrap(), SchemaDetail::Compact);
        assert_eq!(" FULL ".parse::<SchemaDetail>().unwrap(), SchemaDetail::Full);
        let e = "verbose".parse::<SchemaDetail>().unwrap_err();
        assert!(e.contains("compact or full"), "{e}");
    }
}
