//! What a tool's schema declares is what the server enforces: every limited property of every
//! built-in tool, given a value that breaks its limit (length, range, pattern, enum, array
//! bounds, type), is refused with an error naming that argument, before any request is sent.

use proxmox_mcp::client::{Request, Transport, TransportFuture};
use proxmox_mcp::{Client, Context, Registry, SchemaDetail, ToolError};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A Proxmox that must never be asked: it records every request.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Transport for Recorder {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        self.0.lock().unwrap().push(format!("{} {}", request.method, request.path));
        Box::pin(async { Err(proxmox_mcp::ApiError::Connect("the recorder answers nothing".into())) })
    }
    fn describe(&self) -> String {
        "recorder".into()
    }
}

/// Values that break one keyword of `schema` each: (what is broken, the value). An optional
/// property's `""` is "not given", not a violation.
fn violations(schema: &Value, required: bool) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let ty = schema["type"].as_str();
    if let Some(n) = schema["maxLength"].as_u64() {
        out.push((format!("maxLength {n}"), Value::String("a".repeat(n as usize + 1))));
    }
    if let Some(n) = schema["minLength"].as_u64().filter(|n| *n > 1 || (*n == 1 && required)) {
        out.push((format!("minLength {n}"), Value::String("a".repeat(n as usize - 1))));
    }
    let step = if ty == Some("integer") { 1.0 } else { 0.5 };
    if let Some(m) = schema["minimum"].as_f64() {
        out.push((format!("minimum {m}"), json!(m - step)));
    }
    if let Some(m) = schema["maximum"].as_f64() {
        out.push((format!("maximum {m}"), json!(m + step)));
    }
    if let Some(values) = schema["enum"].as_array() {
        let bad = if values.iter().all(Value::is_string) { json!("not-one-of-them") } else { json!(-12345) };
        out.push(("enum".into(), bad));
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        let re = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("pattern {pattern}: {e}"));
        let candidate = ["!", "a b", "../..", "x\u{7f}", "-", "Ω", "0", "a", "A:", "/"]
            .into_iter()
            .find(|c| !re.is_match(c))
            .unwrap_or_else(|| panic!("no value breaks {pattern}"));
        out.push((format!("pattern {pattern}"), json!(candidate)));
    }
    if let Some(n) = schema["minItems"].as_u64().filter(|n| *n > 0) {
        out.push((format!("minItems {n}"), json!([])));
    }
    if let Some(n) = schema["maxItems"].as_u64() {
        out.push((format!("maxItems {n}"), Value::Array(vec![json!("x"); n as usize + 1])));
    }
    match ty {
        Some("string") => out.push(("type string".into(), json!({ "an": "object" }))),
        Some("integer" | "number") => out.push(("type number".into(), json!("many"))),
        Some("boolean") => out.push(("type boolean".into(), json!("perhaps"))),
        Some("array") => out.push(("type array".into(), json!({ "an": "object" }))),
        Some("object") => out.push(("type object".into(), json!([1]))),
        _ => {}
    }
    out
}

#[tokio::test]
async fn every_declared_limit_is_enforced_before_any_request() {
    let recorder = Recorder::default();
    let ctx = Context::new(Client::with_transport(recorder.clone()), true);
    let registry = Registry::builtin();
    let (mut limits, mut checked) = (0, 0);
    let mut unenforced = Vec::new();
    for tool in registry.iter() {
        let definition = registry.tool(tool.name, SchemaDetail::Full).unwrap();
        let schema = Value::Object((*definition.input_schema).clone());
        let required = |name: &str| schema["required"].as_array().is_some_and(|r| r.iter().any(|v| v == name));
        for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
            for (rule, value) in violations(prop, required(name)) {
                if !rule.starts_with("type") {
                    limits += 1;
                }
                let args = serde_json::Map::from_iter([(name.clone(), value.clone())]);
                match tool.call(ctx.clone(), args).await {
                    Err(ToolError::InvalidArguments(list))
                        if list.iter().any(|(arg, _)| {
                            arg == name || arg.starts_with(&format!("{name}[")) || arg.starts_with(&format!("{name}."))
                        }) =>
                    {
                        checked += 1
                    }
                    other => unenforced.push(format!("{}: `{name}` = {value} ({rule}) gave {other:?}", tool.name)),
                }
            }
        }
    }
    assert!(unenforced.is_empty(), "{} rules not enforced:\n{}", unenforced.len(), unenforced.join("\n"));
    assert!(recorder.0.lock().unwrap().is_empty(), "requests sent: {:?}", recorder.0.lock().unwrap());
    assert!(limits > 600, "only {limits} limits found in the full listing");
    println!("{checked} violations refused, {limits} of them limits (the rest types)");
}

#[tokio::test]
async fn errors_name_the_argument_and_the_rule_never_the_value() {
    let ctx = Context::new(Client::with_transport(Recorder::default()), true);
    let registry = Registry::builtin();
    let call = |tool: &str, args: Value| {
        let Value::Object(args) = args else { panic!("object") };
        registry.get(tool).unwrap().call(ctx.clone(), args)
    };
    let secret = "s3cr3t-".repeat(60);
    let err = call(
        "proxmox_create_storage",
        json!({ "storage": "pbs1", "type": "pbs", "server": "pbs.example.com", "datastore": "main",
                "username": secret, "password": secret }),
    )
    .await
    .unwrap_err();
    let ToolError::InvalidArguments(list) = &err else { panic!("{err:?}") };
    assert!(list.iter().any(|(arg, rule)| arg == "username" && rule.contains("at most 256")), "{list:?}");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");

    let err = call("proxmox_get_vm_status", json!({ "node": "pve/../x", "vmid": 5, "bogus": 1 })).await.unwrap_err();
    let ToolError::InvalidArguments(list) = &err else { panic!("{err:?}") };
    let rule = |name: &str| list.iter().find(|(a, _)| a == name).map(|(_, r)| r.clone()).unwrap_or_default();
    assert!(rule("node").starts_with("must match the pattern ^"), "{list:?}");
    assert_eq!(rule("vmid"), "must be at least 100");
    // The names it takes, for the next call.
    assert_eq!(rule("bogus"), "is not a parameter of this tool (it takes node, type, vmid)");
    assert!(!err.to_string().contains("pve/../x"), "{err}");

    // null is "not given", and so is "" where a value cannot be empty; numbers given as strings
    // are read as the schema says.
    let err = call("proxmox_get_node_status", json!({ "node": null })).await.unwrap_err();
    let ToolError::InvalidArguments(list) = &err else { panic!("{err:?}") };
    assert_eq!(list, &[("node".to_string(), "is required".to_string())]);
    let err =
        call("proxmox_get_node_syslog", json!({ "node": "pve1", "limit": "0", "service": "" })).await.unwrap_err();
    let ToolError::InvalidArguments(list) = &err else { panic!("{err:?}") };
    assert_eq!(list, &[("limit".to_string(), "must be at least 1".to_string())]);
}
