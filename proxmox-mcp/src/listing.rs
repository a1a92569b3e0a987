//! How tools are shown to the client in `tools/list`: in full, or compact.
//!
//! Every tool definition goes into the agent's context on every turn, so its size is paid in
//! tokens for the whole conversation. The full definition carries everything the descriptor
//! knows: the whole description, each parameter's description, patterns, lengths and formats.
//! The compact one (the default) keeps what an agent needs to call the tool right: the name,
//! title, the description's first sentence, each parameter's name, type, enum, numeric limits
//! and default, what is required, `additionalProperties: false`, and the hints. What it leaves
//! out is still enforced: a call that breaks a pattern or a length gets an error naming the
//! argument and the rule, before anything reaches Proxmox.
//!
//! An option few calls need (a tuning knob, a deprecated setting) can be marked
//! `#[schemars(extend("x-rare" = true))]`: the compact listing then shows its name only (an empty
//! schema, `{}`), so the agent knows it exists; the full listing shows it like any other.

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
    if d.task {
        description.push(' ');
        description.push_str(TASK_NOTE);
    }
    if d.elevated {
        // The server's instructions say what elevated means and how to allow it.
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
    Tool::new(d.name, description, Arc::new(schema)).with_title(d.title).annotate(annotations)
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
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for prop in props.values_mut() {
            compact_property(prop);
        }
    }
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
        obj.clear();
        return;
    }
    obj.retain(|k, _| KEPT.contains(&k.as_str()));
    // An unsigned number's `minimum: 0` comes from its Rust type, not from Proxmox; the
    // check still refuses a negative value.
    if obj.get("minimum") == Some(&Value::from(0)) && !obj.contains_key("maximum") {
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
