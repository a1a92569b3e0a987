//! `#[serde(rename = "...")]` on an argument is its key for the schema and the call alike.
use proxmox_mcp::client::{Request, Transport, TransportFuture};
use proxmox_mcp::types::Node;
use proxmox_mcp::{Api, Client, Context, ToolOutput, ToolResult, pve_tool};
use serde_json::{Value, json};

/// Show a node's log.
#[pve_tool(path = "/nodes/<node>/syslog", method = GET)]
async fn node_log(
    api: Api,
    /// The node.
    #[serde(rename = "node-name")]
    node: Node,
    /// How many lines.
    #[serde(rename = "max-lines", default)]
    #[schemars(range(max = 100))]
    limit: u32,
) -> ToolResult {
    let path = api.path().expect("the tool has a path").to_string();
    Ok(ToolOutput::new(format!("{path} {node} {limit}"), ()))
}

/// The tool never sends a request.
struct Unreachable;

impl Transport for Unreachable {
    fn send(&self, _: Request) -> TransportFuture<'_> {
        unreachable!("node_log sends nothing")
    }
    fn describe(&self) -> String {
        "nothing".into()
    }
}

fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let schema = (NODE_LOG.schema)();
    let mut names: Vec<_> = schema["properties"].as_object().unwrap().keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["max-lines", "node-name"]);
    assert_eq!(schema["required"], json!(["node-name"]));
    assert_eq!(schema["properties"]["node-name"]["description"], "The node.");
    assert_eq!(schema["properties"]["max-lines"]["maximum"], 100);
    assert_eq!(NODE_LOG.path, Some("/nodes/{node-name}/syslog"));

    let ctx = Context::new(Client::with_transport(Unreachable), false);
    let out = NODE_LOG.call(ctx.clone(), args(json!({ "node-name": "pve1", "max-lines": 5 }))).await.unwrap();
    assert_eq!(out.text, "/nodes/pve1/syslog pve1 5");
    let out = NODE_LOG.call(ctx.clone(), args(json!({ "node-name": "pve1" }))).await.unwrap();
    assert_eq!(out.text, "/nodes/pve1/syslog pve1 0");
    // The Rust name is not a parameter.
    let err = NODE_LOG.call(ctx, args(json!({ "node": "pve1", "limit": 5 }))).await.unwrap_err();
    assert!(err.to_string().contains("`node-name`"), "{err}");
}
