//! The built-in registry is the catalog: exactly the tools of `tests/data/catalog.json` (the 143
//! of the server this one replaces, and those added beyond it), each in its category. And every
//! tool of the registry is exercised: with the call of `tests/common/calls.rs` against a mock
//! that records the requests, it sends the request its descriptor declares, and an elevated one
//! is refused without elevation before any request. (That fakepve accepts a call of every tool
//! is checked by `tests/contract`.)

mod common;

use common::calls::{calls, fill};
use common::with;
use proxmox_mcp::client::{Request, Transport, TransportFuture};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::server::render;
use proxmox_mcp::{Client, Context, Registry, ToolDescriptor};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `tests/data/catalog.json`'s lists (`catalog`, `added`): tool name → category.
fn catalog(list: &str) -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/catalog.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).expect(path)).expect("catalog.json");
    let mut out = BTreeMap::new();
    for (category, names) in data[list].as_object().unwrap_or_else(|| panic!("catalog.json has no `{list}`")) {
        for name in names.as_array().expect("a list of tool names") {
            let name = name.as_str().expect("a tool name").to_string();
            assert!(out.insert(name.clone(), category.clone()).is_none(), "{name} is listed twice in `{list}`");
        }
    }
    out
}

#[test]
fn builtin_is_exactly_the_catalog_and_the_tools_added_since() {
    let (old, added) = (catalog("catalog"), catalog("added"));
    assert_eq!(old.len(), 143, "the catalog of the old server");
    let both: Vec<_> = old.keys().filter(|name| added.contains_key(*name)).collect();
    assert!(both.is_empty(), "in the catalog and listed as added: {both:?}");
    let expected: BTreeMap<&str, &str> = old.iter().chain(&added).map(|(n, c)| (n.as_str(), c.as_str())).collect();
    let registry = Registry::builtin();
    let actual: BTreeMap<&str, &str> = registry.iter().map(|t| (t.name, t.category)).collect();
    assert_eq!(actual.len(), registry.len(), "no tool twice in the registry");
    let missing: Vec<_> = expected.keys().filter(|n| !actual.contains_key(*n)).collect();
    let extra: Vec<_> = actual.keys().filter(|n| !expected.contains_key(*n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not in the registry: {missing:?}; in the registry but not in tests/data/catalog.json \
         (add a new tool to `added`, under its category): {extra:?}"
    );
    for (name, category) in &expected {
        assert_eq!(actual[name], *category, "{name}'s category");
    }
}

/// The demo cluster as a mock that records every request it is sent.
#[derive(Clone)]
struct Recording {
    demo: DemoCluster,
    sent: Arc<Mutex<Vec<Request>>>,
}

impl Recording {
    fn new() -> Self {
        Recording { demo: DemoCluster::with_task_duration(Duration::ZERO), sent: Arc::default() }
    }

    /// The requests sent since the last call.
    fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }

    /// Call `tool` through this mock; the result as MCP shows it (`structuredContent`, `isError`).
    async fn call(
        &self,
        tool: &'static ToolDescriptor,
        args: &Value,
        allow_elevated: bool,
        upload_dir: &std::path::Path,
    ) -> Value {
        let ctx = Context::new(Client::with_transport(self.clone()), allow_elevated)
            .with_upload_dir(Some(upload_dir.to_path_buf()));
        let Value::Object(args) = args.clone() else { panic!("{}: arguments must be an object", tool.name) };
        serde_json::to_value(render(tool.call(ctx, args).await)).expect("a result")
    }
}

impl Transport for Recording {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        self.sent.lock().unwrap().push(request.clone());
        self.demo.send(request)
    }

    fn describe(&self) -> String {
        "the demo cluster, recording".into()
    }
}

/// The call of every registry tool in `tests/common/calls.rs`; a tool without one fails here.
fn table() -> Vec<(&'static str, Value)> {
    let table = calls();
    let in_table: BTreeMap<&str, usize> = table.iter().enumerate().map(|(i, (t, _))| (*t, i)).collect();
    assert_eq!(in_table.len(), table.len(), "each tool once in tests/common/calls.rs");
    let registry = Registry::builtin();
    let missing: Vec<&str> = registry.iter().map(|t| t.name).filter(|n| !in_table.contains_key(n)).collect();
    assert!(missing.is_empty(), "tools without a call in tests/common/calls.rs: {missing:?}");
    let unknown: Vec<&str> = in_table.keys().copied().filter(|n| registry.get(n).is_none()).collect();
    assert!(unknown.is_empty(), "calls of tools that are not in the registry: {unknown:?}");
    table
}

/// A file the upload tool may send, in a directory of its own.
fn upload_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("proxmox-mcp-catalog-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tiny.iso"), vec![0u8; 4096]).unwrap();
    dir
}

/// `path` (as sent, `/nodes/pve1/qemu/100/config`) fits `template` (`/nodes/{node}/qemu/{vmid}/config`):
/// the literal segments in order, each `{param}` one or more segments (a volume id keeps its `/`).
fn fits(template: &str, path: &str) -> bool {
    fn fit(t: &[&str], p: &[&str]) -> bool {
        match (t.split_first(), p.split_first()) {
            (None, None) => true,
            (Some((seg, t_rest)), Some((_, p_rest))) if seg.starts_with('{') => {
                (1..=p.len()).any(|n| fit(t_rest, &p[n..])) || (t_rest.is_empty() && p_rest.is_empty())
            }
            (Some((seg, t_rest)), Some((first, p_rest))) => seg == first && fit(t_rest, p_rest),
            _ => false,
        }
    }
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('?').next().unwrap_or(path).split('/').filter(|s| !s.is_empty()).collect();
    fit(&t, &p)
}

/// Tools whose call in the table takes another request than the one their descriptor declares
/// (a dry run reads what it would change), and the arguments to add for the declared one.
static DECLARED_BY_ANOTHER_CALL: std::sync::LazyLock<Vec<(&str, Value)>> =
    std::sync::LazyLock::new(|| vec![("proxmox_prune_backups", json!({ "dry_run": false }))]);

#[tokio::test]
async fn every_elevated_tool_is_refused_without_elevation_before_any_request() {
    let dir = upload_dir("refused");
    let table: BTreeMap<&str, Value> = table().into_iter().collect();
    let registry = Registry::builtin();
    let mut refused = 0;
    for tool in registry.iter().filter(|t| t.elevated) {
        let mock = Recording::new();
        let result = mock.call(tool, &table[tool.name], false, &dir).await;
        let error = &result["structuredContent"]["error"];
        assert_eq!(error["kind"], "permission_denied", "{} was not refused: {result}", tool.name);
        assert_eq!(error["tool"], tool.name, "{result}");
        assert_eq!(result["isError"], true, "{result}");
        let sent = mock.take();
        assert!(sent.is_empty(), "{} sent {sent:?} although refused", tool.name);
        refused += 1;
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(refused > 50, "only {refused} elevated tools");
}

#[tokio::test]
async fn every_tool_sends_the_request_its_descriptor_declares() {
    let dir = upload_dir("declared");
    let registry = Registry::builtin();
    let mock = Recording::new();
    let (mut upid, mut pid) = (None::<String>, None::<u64>);
    let mut problems = Vec::new();
    for (name, mut args) in table() {
        let tool = registry.get(name).unwrap();
        fill(&mut args, &upid, &pid);
        // A basic tool runs without elevation; an elevated one is called with it.
        let result = mock.call(tool, &args, tool.elevated, &dir).await;
        let mut sent = mock.take();
        if let Some((_, also)) = DECLARED_BY_ANOTHER_CALL.iter().find(|(t, _)| *t == name) {
            let args = with(&args, also.clone());
            let again = mock.call(tool, &args, tool.elevated, &dir).await;
            assert_eq!(again["isError"], false, "{name} {args}: {again}");
            sent.extend(mock.take());
        }
        let data = &result["structuredContent"];
        if result["isError"] != false {
            problems.push(format!("{name} {args}: failed: {data}"));
            continue;
        }
        let shown: Vec<String> = sent.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        let declared = |r: &Request| tool.path.is_none_or(|t| r.method == tool.method && fits(t, &r.path.to_string()));
        if !sent.iter().any(declared) {
            let declares = tool.path.map_or("a request".to_string(), |t| format!("{} {t}", tool.method));
            problems.push(format!("{name}: declares {declares}, sent {shown:?}"));
        }
        if let Some(u) = data["upid"].as_str().filter(|u| u.starts_with("UPID:pve1:")) {
            upid = Some(u.to_string());
        }
        if let Some(p) = data["pid"].as_u64() {
            pid = Some(p);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(problems.is_empty(), "{} tools:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn paths_fit_their_templates() {
    assert!(fits("/nodes/{node}/qemu/{vmid}/config", "/nodes/pve1/qemu/100/config"));
    assert!(fits(
        "/nodes/{node}/storage/{storage}/content/{volume}",
        "/nodes/pve1/storage/local/content/local:iso/a.iso"
    ));
    assert!(fits("/nodes/{node}/{type}/{vmid}/status/{command}", "/nodes/pve1/lxc/200/status/start"));
    assert!(!fits("/nodes/{node}/qemu/{vmid}/config", "/nodes/pve1/lxc/100/config"));
    assert!(!fits("/nodes/{node}/qemu/{vmid}/config", "/nodes/pve1/qemu/100/config/x"));
    assert!(!fits("/nodes/{node}/qemu/{vmid}/config", "/nodes/pve1/qemu/config"));
}
