//! A tool's arguments checked against the tool's own input schema, before anything else reads
//! them: one mechanism for every tool, built in or downstream.
//!
//! The schema a client sees in `tools/list` (in full) is the rule: types, `required`,
//! `additionalProperties`, lengths, ranges, patterns, enums and array bounds are all enforced
//! here by a JSON Schema validator compiled once per tool. What a schema cannot say (a volume id
//! without `..`, a file under the upload directory) stays in the validated types and the tools.
//!
//! Before checking, two things agents commonly send are normalised, guided by the schema:
//! - `null` means "not given" (strict function-calling schemas make agents send it), and so does
//!   `""` for an optional argument that could not be empty anyway;
//! - an old name of a parameter (`"x-aliases": ["fsname"]`) or of a value
//!   (`"x-value-aliases": {"none": "0"}`) is read as the current one (an old name that is a
//!   parameter too is read as both);
//! - a value in a neighbouring JSON shape is read as the declared one: `"100"` for an
//!   integer, `22` for a string, `1`/`0` for a boolean, `true`/`false` for a 0/1 integer, a list
//!   for a comma-separated string and the reverse, and `"32G"` for a size in GiB (a property
//!   marked `"x-unit": "GiB"`), and a Proxmox property string (`"virtio,bridge=vmbr0"`) for an
//!   object whose schema says how to read one (`"x-property-string"`).
//!
//! Messages name the argument and the rule, never the value (it may be a secret); each
//! argument gets its first broken rule.

use crate::__private::JsonObject;
use crate::tool::{ToolDescriptor, ToolError};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// The compiled validators, one per tool descriptor (keyed by its address: descriptors are
/// `static`).
fn validators() -> &'static RwLock<HashMap<usize, Arc<Compiled>>> {
    static CACHE: OnceLock<RwLock<HashMap<usize, Arc<Compiled>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

struct Compiled {
    schema: Value,
    validator: Result<jsonschema::Validator, String>,
    facts: Facts,
}

/// What the schema says about a tool, for the call (computed once per tool).
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts {
    /// It addresses a guest by `vmid`, with `node` optional (see [`crate::guests`]).
    pub finds_guest: bool,
    /// It takes an optional `type`, qemu or lxc.
    pub guest_type_arg: bool,
}

fn compiled(tool: &'static ToolDescriptor) -> Arc<Compiled> {
    let key = tool as *const ToolDescriptor as usize;
    if let Some(c) = validators().read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return c.clone();
    }
    let raw = (tool.schema)();
    let guest_type_arg = raw
        .get("properties")
        .and_then(|p| p.get("type"))
        .and_then(|t| t.get("enum"))
        .and_then(Value::as_array)
        .is_some_and(|e| e.iter().any(|v| v == "qemu") && e.iter().any(|v| v == "lxc"));
    let facts = Facts { finds_guest: crate::tool::finds_guest(tool, &raw), guest_type_arg };
    let schema = Value::Object(tool.input_schema());
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .map_err(|e| format!("the input schema of `{}` does not compile: {e}", tool.name));
    let c = Arc::new(Compiled { schema, validator, facts });
    validators().write().unwrap_or_else(|e| e.into_inner()).insert(key, c.clone());
    c
}

/// The input schema of one of `tool`'s parameters, from the schema compiled for its checks
/// (made once per tool, not per call).
pub(crate) fn property(tool: &'static ToolDescriptor, name: &str) -> Option<Value> {
    compiled(tool).schema.get("properties").and_then(|p| p.get(name)).cloned()
}

/// Normalise `args` (see the module documentation) and check them against `tool`'s schema.
/// Every broken rule is reported, each with the argument it concerns.
pub fn check(tool: &'static ToolDescriptor, args: &mut JsonObject) -> Result<Facts, ToolError> {
    let c = compiled(tool);
    let validator = c.validator.as_ref().map_err(|e| ToolError::Other(format!("internal error: {e}")))?;
    args.retain(|_, v| !v.is_null());
    let required: Vec<&str> =
        c.schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    if let Some(Value::Object(props)) = c.schema.get("properties") {
        args.retain(|name, v| {
            !(v.as_str() == Some("")
                && !required.contains(&name.as_str())
                && props.get(name).is_some_and(refuses_empty))
        });
        for (name, prop) in props {
            for alias in prop.get("x-aliases").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
            {
                // An alias that is a parameter of its own too (upload's `filename`) keeps its
                // meaning, and its rules: it is copied, not moved.
                let moved = if props.contains_key(alias) { args.get(alias).cloned() } else { args.remove(alias) };
                if !args.contains_key(name)
                    && let Some(v) = moved
                {
                    args.insert(name.clone(), v);
                }
            }
        }
        for (name, value) in args.iter_mut() {
            if let Some(prop) = props.get(name) {
                if let (Some(Value::Object(aliases)), Value::String(s)) = (prop.get("x-value-aliases"), &*value)
                    && let Some(current) = aliases.get(s.as_str())
                {
                    *value = current.clone();
                }
                coerce(value, prop);
            }
        }
    }
    let instance = Value::Object(std::mem::take(args));
    let mut problems: Vec<(String, String)> = Vec::new();
    for error in validator.iter_errors(&instance) {
        for problem in describe(&error, &c.schema) {
            if !problems.iter().any(|(arg, _)| *arg == problem.0) {
                problems.push(problem);
            }
        }
    }
    if let Value::Object(map) = instance {
        *args = map;
    }
    if problems.is_empty() { Ok(c.facts) } else { Err(ToolError::InvalidArguments(problems)) }
}

/// Whether a property's schema refuses `""` (so an empty string can only mean "not given").
fn refuses_empty(schema: &Value) -> bool {
    if schema.get("type").and_then(Value::as_str).is_some_and(|t| t != "string") {
        return true;
    }
    if schema.get("minLength").and_then(Value::as_u64).is_some_and(|n| n > 0) {
        return true;
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        return !values.iter().any(|v| v == "");
    }
    schema
        .get("pattern")
        .and_then(Value::as_str)
        .and_then(|p| regex::Regex::new(p).ok())
        .is_some_and(|re| !re.is_match(""))
}

/// Read a scalar given in a neighbouring JSON type as the type the schema declares.
fn coerce(value: &mut Value, schema: &Value) {
    let Some(ty) = schema.get("type").and_then(Value::as_str) else {
        // `anyOf`/`oneOf`: leave it to the alternatives.
        return;
    };
    let new = match (ty, &*value) {
        ("integer", Value::String(s)) => {
            let s = s.trim();
            let s = match schema.get("x-unit").and_then(Value::as_str) {
                Some("GiB") => {
                    ["GiB", "GB", "G", "gib", "gb", "g"].iter().find_map(|u| s.strip_suffix(u)).unwrap_or(s).trim_end()
                }
                _ => s,
            };
            s.parse::<i64>().ok().map(Value::from)
        }
        ("number", Value::String(s)) => {
            s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)
        }
        ("integer", Value::Bool(b)) if schema.get("maximum") == Some(&Value::from(1)) => {
            Some(Value::from(u8::from(*b)))
        }
        ("boolean", Value::Number(n)) => match n.as_u64() {
            Some(0) => Some(Value::Bool(false)),
            Some(1) => Some(Value::Bool(true)),
            _ => None,
        },
        ("boolean", Value::String(s)) => match s.trim() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        ("string", Value::Number(n)) if n.is_u64() => Some(Value::String(n.to_string())),
        // A list for a comma-separated string (`"100,101"` given as `[100, 101]`).
        ("string", Value::Array(items)) if !items.is_empty() && items.iter().all(|i| i.is_string() || i.is_u64()) => {
            let parts: Vec<String> =
                items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect();
            Some(Value::String(parts.join(",")))
        }
        ("array", Value::String(s)) => {
            let parts = s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| Value::String(p.into()));
            let mut list = Value::Array(parts.collect());
            if let Some(item_schema) = schema.get("items")
                && let Value::Array(items) = &mut list
            {
                items.iter_mut().for_each(|item| coerce(item, item_schema));
            }
            Some(list)
        }
        // A Proxmox property string for an object (`"virtio,bridge=vmbr0,tag=20"`), where the
        // schema says how to read one (`x-property-string`).
        ("object", Value::String(s)) => schema.get("x-property-string").map(|how| property_string(s, how, schema)),
        ("array", _) => {
            if let (Value::Array(items), Some(item_schema)) = (&mut *value, schema.get("items")) {
                items.iter_mut().for_each(|item| coerce(item, item_schema));
            }
            None
        }
        _ => None,
    };
    if let Some(new) = new {
        *value = new;
    }
}

/// An object read from a Proxmox property string: `key=value` items separated by commas, with
/// the sub-properties' `x-aliases` for Proxmox's own key names. The schema's
/// `x-property-string` says what a bare item is (`"default"`: the property it sets) and, for
/// `model=MAC`-style items whose key is one of that property's values, where the value goes
/// (`"keyed"`). Items that fit no property stay as they are, for the check to name.
fn property_string(s: &str, how: &Value, schema: &Value) -> Value {
    let props = schema.get("properties").and_then(Value::as_object);
    let default = how.get("default").and_then(Value::as_str);
    let keyed = how.get("keyed").and_then(Value::as_str);
    let is_default_value = |k: &str| {
        default
            .and_then(|d| props?.get(d)?.get("enum")?.as_array())
            .is_some_and(|values| values.iter().any(|v| v.as_str() == Some(k)))
    };
    let mut out = JsonObject::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (key, value) = match item.split_once('=') {
            None => match default {
                Some(d) => (d.to_string(), item.to_string()),
                None => (item.to_string(), String::new()),
            },
            Some((k, v)) if is_default_value(k) => {
                if let (Some(d), Some(kd)) = (default, keyed) {
                    out.insert(d.to_string(), Value::String(k.to_string()));
                    (kd.to_string(), v.to_string())
                } else {
                    (k.to_string(), v.to_string())
                }
            }
            Some((k, v)) => (k.to_string(), v.to_string()),
        };
        let name = props
            .and_then(|p| {
                p.iter().find(|(_, sub)| {
                    sub.get("x-aliases").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x == key.as_str()))
                })
            })
            .map_or(key, |(name, _)| name.clone());
        let mut value = Value::String(value);
        if let Some(sub) = props.and_then(|p| p.get(&name)) {
            coerce(&mut value, sub);
        }
        out.insert(name, value);
    }
    Value::Object(out)
}

/// `/username` → `username`; `/command/3` → `command[3]`; `/rules/0/port` → `rules[0].port`.
fn argument(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if out.is_empty() {
            out = seg;
        } else if seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push_str(&format!(".{seg}"));
        }
    }
    out
}

/// The subschema that holds the keyword at `schema_path` (`/properties/node/pattern` → the
/// schema of `node`).
fn holder<'a>(schema: &'a Value, schema_path: &str) -> Option<&'a Value> {
    let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
    schema.pointer(parent)
}

/// The most parameter names an unknown-parameter error lists.
const MAX_NAMED: usize = 40;

/// What a broken rule means for the agent, as (argument, rule) pairs.
fn describe(error: &jsonschema::ValidationError<'_>, schema: &Value) -> Vec<(String, String)> {
    let arg = argument(error.instance_path().as_str());
    let at = holder(schema, error.schema_path().as_str());
    let about = at
        .and_then(|s| s.get("description"))
        .and_then(Value::as_str)
        .map(|d| format!(" ({})", d.trim_end_matches('.')))
        .unwrap_or_default();
    let rule = match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            let name = if arg.is_empty() { name } else { format!("{arg}.{name}") };
            return vec![(name, "is required".into())];
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            // The names it does take, so the next call can use the right one.
            let mut known: Vec<&str> = at
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map_or_else(Vec::new, |p| p.keys().map(String::as_str).collect());
            known.sort_unstable();
            let takes = match known.len() {
                0 => String::new(),
                n if n > MAX_NAMED => format!(" (it takes {}, …)", known[..MAX_NAMED].join(", ")),
                _ => format!(" (it takes {})", known.join(", ")),
            };
            let what = if arg.is_empty() { "a parameter of this tool" } else { "a field here" };
            return unexpected
                .iter()
                .map(|name| {
                    let name = if arg.is_empty() { name.clone() } else { format!("{arg}.{name}") };
                    (name, format!("is not {what}{takes}"))
                })
                .collect();
        }
        ValidationErrorKind::Type { .. } => {
            let expected = match at.and_then(|s| s.get("type")) {
                Some(Value::String(t)) => article(t),
                Some(Value::Array(ts)) => {
                    ts.iter().filter_map(Value::as_str).map(article).collect::<Vec<_>>().join(" or ")
                }
                _ => "another type".into(),
            };
            format!("has the wrong type: it must be {expected}")
        }
        ValidationErrorKind::MaxLength { limit } => format!("is too long: at most {limit} characters"),
        ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".to_string(),
        ValidationErrorKind::MinLength { limit } => format!("is too short: at least {limit} characters"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("must be more than {limit}"),
        ValidationErrorKind::MultipleOf { multiple_of, .. } => format!("must be a multiple of {multiple_of}"),
        ValidationErrorKind::Pattern { pattern } => format!("must match the pattern {pattern}{about}"),
        ValidationErrorKind::Enum { options } => match options.as_array() {
            Some(values) => format!(
                "must be one of: {}",
                values
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("must be one of {options}"),
        },
        ValidationErrorKind::Constant { expected_value } => format!("must be {expected_value}"),
        ValidationErrorKind::MaxItems { limit } => format!("has too many items: at most {limit}"),
        ValidationErrorKind::MinItems { limit: 1 } => "must have at least one item".to_string(),
        ValidationErrorKind::MinItems { limit } => format!("has too few items: at least {limit}"),
        ValidationErrorKind::UniqueItems => "must not repeat an item".to_string(),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            format!("is none of the accepted forms{about}")
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => format!("matches more than one form{about}"),
        ValidationErrorKind::FalseSchema => "is not allowed here".to_string(),
        other => format!("breaks the schema's `{}` rule", keyword(other)),
    };
    let arg = if arg.is_empty() { "arguments".to_string() } else { arg };
    vec![(arg, rule)]
}

fn keyword(kind: &ValidationErrorKind) -> String {
    kind.keyword().to_string()
}

fn article(ty: &str) -> String {
    match ty {
        "integer" | "array" | "object" => format!("an {ty}"),
        other => format!("a {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn argument_names_follow_the_instance_path() {
        assert_eq!(argument("/username"), "username");
        assert_eq!(argument("/command/3"), "command[3]");
        assert_eq!(argument("/rules/0/port"), "rules[0].port");
        assert_eq!(argument(""), "");
    }

    #[test]
    fn neighbouring_scalars_are_read_as_the_declared_type() {
        let cases = [
            (json!({"type": "integer"}), json!("100"), json!(100)),
            (json!({"type": "integer"}), json!("abc"), json!("abc")),
            (json!({"type": "integer", "x-unit": "GiB"}), json!("32G"), json!(32)),
            (json!({"type": "integer"}), json!("32G"), json!("32G")),
            (json!({"type": "number"}), json!("1.5"), json!(1.5)),
            (json!({"type": "boolean"}), json!(1), json!(true)),
            (json!({"type": "boolean"}), json!("false"), json!(false)),
            (json!({"type": "boolean"}), json!(2), json!(2)),
            (json!({"type": "string"}), json!(22), json!("22")),
            (json!({"type": "string"}), json!(-1), json!(-1)),
            (json!({"type": "string"}), json!([100, "101"]), json!("100,101")),
            (json!({"type": "array", "items": {"type": "integer"}}), json!("1, 2"), json!([1, 2])),
            (json!({"type": "integer", "minimum": 0, "maximum": 1}), json!(true), json!(1)),
            (json!({"type": "array", "items": {"type": "string"}}), json!([1, "a"]), json!(["1", "a"])),
        ];
        for (schema, given, expected) in cases {
            let mut v = given.clone();
            coerce(&mut v, &schema);
            assert_eq!(v, expected, "{given} under {schema}");
        }
    }
}
