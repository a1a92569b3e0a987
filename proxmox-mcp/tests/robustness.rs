//! Nothing panics, whatever the agent sends and whatever Proxmox answers: every tool is called
//! with ill-typed and hostile values for each of its parameters, against a Proxmox that answers
//! with wrong shapes, errors and garbage.

mod common;

use common::Pve;
use proxmox_mcp::server::ProxmoxServer;
use proxmox_mcp::{Api, Registry, ToolResult, pve_tool};
use serde_json::{Value, json};
use std::time::Duration;

fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(0),
        json!(1e300),
        json!(u64::MAX),
        json!(""),
        json!("x".repeat(10_000)),
        json!("../../etc/passwd"),
        json!("a\u{0}b\nc"),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({ "nested": { "deep": [1] } }),
    ]
}

/// Answers Proxmox could give that no tool expects.
fn odd_answers() -> Vec<(u16, String)> {
    vec![
        (200, json!({ "data": 42 }).to_string()),
        (200, json!({ "data": "text" }).to_string()),
        (200, json!({ "data": [1, "a", null, { "x": [] }] }).to_string()),
        (200, json!({ "data": {} }).to_string()),
        (200, json!({ "data": null }).to_string()),
        (200, "<html>not json</html>".into()),
        (200, String::new()),
        (500, json!({ "data": null, "errors": { "x": 5 } }).to_string()),
        (400, json!({ "errors": "not a map" }).to_string()),
    ]
}

/// Stand-ins for the walk-through's `$UPID` and `$PID`.
fn fill(args: &mut Value) {
    match args {
        Value::Object(map) => map.values_mut().for_each(fill),
        Value::String(s) if s == "$UPID" => {
            *args = json!("UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:")
        }
        Value::String(s) if s == "$PID" => *args = json!(4242),
        _ => {}
    }
}

#[tokio::test]
async fn no_input_and_no_answer_makes_a_tool_panic() {
    let registry = Registry::builtin();
    for (status, body) in odd_answers() {
        let pve = Pve::start().await;
        pve.server
            .mock_async(|_, then| {
                then.status(status).body(body.clone());
            })
            .await;
        for tool in registry.iter() {
            let schema = tool.input_schema();
            let props: Vec<String> =
                schema["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
            // Every parameter hostile in turn; and all of them absent.
            let mut cases = vec![serde_json::Map::new()];
            if status == 200 && body.contains("42") {
                for prop in &props {
                    for value in hostile_values() {
                        let mut args = serde_json::Map::new();
                        args.insert(prop.clone(), value);
                        cases.push(args);
                    }
                }
            }
            // And the valid call of the walk-through, against this odd answer.
            if let Some((_, Value::Object(valid))) =
                common::calls::calls().into_iter().find(|(name, _)| *name == tool.name)
            {
                let mut valid = Value::Object(valid);
                fill(&mut valid);
                if let Value::Object(valid) = valid {
                    cases.push(valid);
                }
            }
            for args in cases {
                let call = tool.call(pve.context(true), args.clone());
                // A tool that polls may wait for its own timeout: that is not a panic.
                let _ = tokio::time::timeout(Duration::from_secs(2), call).await;
            }
        }
    }
}

/// A tool with a bug: it panics.
#[pve_tool(path = "/nodes", method = GET)]
async fn buggy(api: Api) -> ToolResult {
    let _ = api;
    panic!("a bug in a downstream tool")
}

#[tokio::test]
async fn a_panicking_tool_answers_an_error_and_the_server_goes_on() {
    let pve = Pve::start().await;
    let registry = Registry::builtin().add(&BUGGY).unwrap();
    let server = ProxmoxServer::new(registry, pve.config(false).client().unwrap(), false);
    let result = server.call("buggy", serde_json::Map::new()).await.expect("a known tool");
    assert_eq!(result.is_error, Some(true));
    let text = serde_json::to_value(&result.content).unwrap()[0]["text"].as_str().unwrap().to_string();
    assert!(text.contains("`buggy` stopped on an internal error of this server"), "{text}");
    // The next call is served as usual.
    let nodes = pve.mock_get("/nodes", json!([])).await;
    let result = server.call("proxmox_get_nodes", serde_json::Map::new()).await.expect("a known tool");
    assert_ne!(result.is_error, Some(true));
    nodes.assert_async().await;
}
