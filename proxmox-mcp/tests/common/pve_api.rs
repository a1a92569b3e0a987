//! The Proxmox VE API schema, for the checks of our paths and of the demo's endpoints and answers
//! against the real API. It is AGPL data, never shipped here: it is read from
//!
//! - `PVE_API_SCHEMA`, a path to the schema in one of these forms, plain or gzipped (`.gz`):
//!   the flattened `{"endpoints": [{"method", "path", "params": [{"name"}], "returns"}]}`,
//!   fakepve's `{"paths": {"/nodes/{node}/…": {"GET": {"parameters": {"properties"}, "returns"}}}}`,
//!   or pve-docs' `apidata.js` tree (`[{"path", "info": {"GET": …}, "children": […]}]`);
//! - else the schema that fakepve (PyPI `fakepve[crypto]==0.5.0`) ships in its package,
//!   `fakepve/data/pve-api.json.gz`, found through fakepve's Python (see [`super::fakepve`]).
//!
//! Indexed parameters keep the schema's names in every form: `scsi[n]`, `net[n]`, `mp[n]`.

use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// One (method, path) of the API.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: String,
    /// The schema's template, e.g. `/nodes/{node}/qemu/{vmid}/config`.
    pub path: String,
    /// The names of its parameters, path parameters included.
    pub params: Vec<String>,
    /// The schema of its answer's `data`, to the depth the flattened form keeps (see
    /// [`compact_returns`]); `Value::Null` if the schema has none.
    pub returns: Value,
}

pub struct Schema {
    /// Where it was read from, for messages.
    pub source: String,
    pub endpoints: Vec<Endpoint>,
}

impl Schema {
    /// The schema from `PVE_API_SCHEMA`, else from fakepve's package data; `Err` says why there
    /// is none. A schema that is there but cannot be read is a panic, not a missing schema.
    pub fn load() -> Result<Schema, String> {
        if let Some(path) = std::env::var_os("PVE_API_SCHEMA") {
            return Ok(Schema::from_file(Path::new(&path)));
        }
        let dir = super::fakepve::package_dir()
            .map_err(|why| format!("no PVE API schema: set PVE_API_SCHEMA, or install fakepve ({why})"))?;
        Ok(Schema::from_file(&dir.join("data/pve-api.json.gz")))
    }

    /// Read a schema file of any of the three forms, plain or gzipped.
    pub fn from_file(path: &Path) -> Schema {
        let shown = path.display();
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("PVE API schema {shown}: {e}"));
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .unwrap_or_else(|e| panic!("PVE API schema {shown}: not gzipped JSON: {e}"));
            text
        } else {
            String::from_utf8(bytes).unwrap_or_else(|e| panic!("PVE API schema {shown}: {e}"))
        };
        // pve-docs' apidata.js is `const apiSchema = [...];`: the JSON is the array inside.
        let json = match (text.find('['), text.trim_start().starts_with('{')) {
            (Some(start), false) => &text[start..=text.rfind(']').unwrap_or(text.len() - 1)],
            _ => text.as_str(),
        };
        let value: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("PVE API schema {shown}: {e}"));
        let endpoints = endpoints(&value).unwrap_or_else(|| {
            panic!("PVE API schema {shown}: neither {{\"endpoints\": [..]}}, {{\"paths\": {{..}}}} nor an apidata tree")
        });
        assert!(endpoints.len() > 100, "PVE API schema {shown}: only {} endpoints", endpoints.len());
        Schema { source: shown.to_string(), endpoints }
    }

    /// The endpoint of this method and path template, the template's `{names}` ignored.
    pub fn endpoint(&self, method: &str, path: &str) -> Option<&Endpoint> {
        let want = shape(path);
        self.endpoints.iter().find(|e| e.method == method && shape(&e.path) == want)
    }
}

/// `/nodes/{node}/qemu/{vmid}` → `/nodes/{}/qemu/{}`: paths compared without parameter names.
pub fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn endpoints(value: &Value) -> Option<Vec<Endpoint>> {
    let mut out = Vec::new();
    if let Some(list) = value.get("endpoints").and_then(Value::as_array) {
        // Flattened: one record per method and path.
        for e in list {
            let params = e["params"].as_array()?.iter().filter_map(|p| Some(p["name"].as_str()?.to_string()));
            out.push(Endpoint {
                method: e["method"].as_str()?.to_string(),
                path: e["path"].as_str()?.to_string(),
                params: params.collect(),
                returns: compact_returns(&e["returns"]),
            });
        }
    } else if let Some(paths) = value.get("paths").and_then(Value::as_object) {
        // fakepve: path → method → the method's info.
        for (path, methods) in paths {
            for (method, info) in methods.as_object()? {
                out.push(from_info(method, path, info));
            }
        }
    } else {
        // pve-docs: a tree of {path, info: {method: info}, children}.
        fn walk(nodes: &[Value], out: &mut Vec<Endpoint>) -> Option<()> {
            for node in nodes {
                let path = node["path"].as_str()?;
                for (method, info) in node["info"].as_object().into_iter().flatten() {
                    out.push(from_info(method, path, info));
                }
                walk(node["children"].as_array().map_or(&[], Vec::as_slice), out)?;
            }
            Some(())
        }
        walk(value.as_array()?, &mut out)?;
    }
    out.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    Some(out)
}

fn from_info(method: &str, path: &str, info: &Value) -> Endpoint {
    let mut params = Vec::new();
    parameter_names(&info["parameters"], &mut params);
    Endpoint { method: method.to_string(), path: path.to_string(), params, returns: compact_returns(&info["returns"]) }
}

/// The parameter names of a `parameters` schema: its `properties`, and those of the parts newer
/// schemas split them into (`allOf`, and a `oneOf` per type with its `type-property`, as
/// /cluster/ha/rules has them), each once.
fn parameter_names(schema: &Value, out: &mut Vec<String>) {
    let own = schema["properties"].as_object().into_iter().flat_map(|p| p.keys().cloned());
    let type_property = schema["type-property"].as_str().map(str::to_string);
    for name in own.chain(type_property) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    for part in ["allOf", "oneOf", "anyOf"].iter().filter_map(|k| schema[*k].as_array()).flatten() {
        parameter_names(part, out);
    }
}

/// A `returns` schema cut to what the flattened form keeps, so that every form gives the same
/// checks: the type and `optional` of the answer; of its properties (and of its items'
/// properties) the type, `optional` and `enum`, one level deep.
pub fn compact_returns(returns: &Value) -> Value {
    fn base(schema: &Value) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        out.insert("type".into(), schema["type"].clone());
        if optional(schema) {
            out.insert("optional".into(), true.into());
        }
        out
    }
    fn optional(schema: &Value) -> bool {
        matches!(&schema["optional"], Value::Bool(true)) || schema["optional"].as_u64().is_some_and(|n| n != 0)
    }
    fn fields(props: &Value) -> Option<Value> {
        let props = props.as_object().filter(|p| !p.is_empty())?;
        let fields = props.iter().map(|(name, prop)| {
            let mut field = base(prop);
            if let Some(values) = prop.get("enum") {
                field.insert("enum".into(), values.clone());
            }
            (name.clone(), Value::Object(field))
        });
        Some(Value::Object(fields.collect()))
    }
    if !returns.is_object() {
        return returns.clone();
    }
    let mut out = base(returns);
    if let Some(props) = fields(&returns["properties"]) {
        out.insert("properties".into(), props);
    }
    if returns["items"].is_object() {
        let mut items = serde_json::Map::new();
        items.insert("type".into(), returns["items"]["type"].clone());
        if let Some(props) = fields(&returns["items"]["properties"]) {
            items.insert("properties".into(), props);
        }
        out.insert("items".into(), Value::Object(items));
    }
    Value::Object(out)
}
