//! The demo cluster answers like Proxmox: state that follows tasks, Proxmox's error shapes for
//! what it does not know, and fault injection for tests of your own tools.

use proxmox_mcp::client::{Params, Request};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::{ApiError, ApiPath, Client, Context, Method, Registry, ToolError};
use serde_json::{Value, json};
use std::time::Duration;

async fn call(
    cluster: &DemoCluster,
    tool: &str,
    args: Value,
    allow_elevated: bool,
) -> Result<proxmox_mcp::ToolOutput, ToolError> {
    let ctx = Context::new(Client::with_transport(cluster.clone()), allow_elevated);
    let registry = Registry::builtin();
    let Value::Object(args) = args else { panic!("object") };
    registry.get(tool).unwrap_or_else(|| panic!("{tool}")).call(ctx, args).await
}

#[tokio::test]
async fn reads_show_a_believable_cluster() {
    let cluster = DemoCluster::new();
    let nodes = call(&cluster, "proxmox_get_nodes", json!({}), false).await.unwrap();
    assert_eq!(nodes.data["total"], 3);
    assert!(nodes.text.contains("🔴 **pve3** (offline)"));
    let vms = call(&cluster, "proxmox_get_vms", json!({}), false).await.unwrap();
    assert!(vms.text.contains("**web** (100) on pve1 — running"), "{}", vms.text);
    assert!(vms.text.contains("template"), "{}", vms.text);
    assert_eq!(vms.data["unreachable_nodes"][0], "pve3");
    let status = call(&cluster, "proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 200, "type": "lxc" }), false)
        .await
        .unwrap();
    assert_eq!(status.data["status"], "running");
}

#[tokio::test]
async fn unknown_paths_methods_and_parameters_get_proxmox_errors() {
    let cluster = DemoCluster::new();
    let client = Client::with_transport(cluster.clone());
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve1/nonsense"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(501), "{err}");
    let err = client.request(Method::Delete, &ApiPath::lit("/version"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(501), "{err}");
    let params = Params(vec![("bogus".into(), "1".into())]);
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve1/dns"), params).await.unwrap_err();
    let ApiError::BadRequest { errors, .. } = &err else { panic!("{err:?}") };
    assert!(errors.contains_key("bogus"), "{errors:?}");
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve3/dns"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(595));
}

#[tokio::test]
async fn tasks_take_their_time_and_the_status_follows() {
    let cluster = DemoCluster::with_task_duration(Duration::from_millis(300));
    let request = |action: &'static str| {
        Request::new(Method::Post, ApiPath::lit("/nodes/pve1/qemu/101/status").join_lit(action), Params::default())
    };
    let upid = cluster.handle(&request("start")).unwrap();
    let upid = upid.as_str().unwrap().to_string();
    assert!(upid.starts_with("UPID:pve1:") && upid.contains(":qmstart:101:"), "{upid}");
    let status = || cluster.with_state(|s| s.guest(101).map(|g| g.status.clone()).unwrap_or_default());
    assert_eq!(status(), "stopped", "not before the task ends");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status(), "running");
    // Starting a running VM: the task ends with Proxmox's error.
    let again = cluster.handle(&request("start")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let task = cluster
        .handle(&Request::new(
            Method::Get,
            ApiPath::lit("/nodes/pve1/tasks")
                .join(&again.as_str().unwrap().parse::<proxmox_mcp::types::Upid>().unwrap())
                .join_lit("status"),
            Params::default(),
        ))
        .unwrap();
    assert_eq!(task["status"], "stopped");
    assert_eq!(task["exitstatus"], "VM 101 already running");
}

#[tokio::test]
async fn faults_can_be_injected() {
    let cluster = DemoCluster::new();
    cluster.fail_next(2, 500, "simulated outage");
    for _ in 0..2 {
        let err = call(&cluster, "proxmox_get_nodes", json!({}), false).await.unwrap_err();
        assert!(err.to_string().contains("simulated outage"), "{err}");
    }
    assert!(call(&cluster, "proxmox_get_nodes", json!({}), false).await.is_ok());

    cluster.set_node_online("pve2", false);
    let err = call(&cluster, "proxmox_get_vms", json!({ "node": "pve2" }), false).await.unwrap_err();
    assert!(err.to_string().contains("595"), "{err}");

    cluster.set_latency(Duration::from_millis(200));
    let started = std::time::Instant::now();
    call(&cluster, "proxmox_get_next_vmid", json!({}), false).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
}

/// The Proxmox VE 9.1 API schema, flattened (AGPL data: read here, never shipped). A checkout
/// elsewhere (a git worktree) can point PVE_API_SCHEMA at it.
const API_SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pve-api/endpoints.json");

/// `/nodes/{node}/qemu/{vmid}` → `/nodes/{}/qemu/{}`: paths compared without value names.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_demo_simulates_only_what_the_proxmox_api_has() {
    let path = std::env::var("PVE_API_SCHEMA").unwrap_or_else(|_| API_SCHEMA.to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    // (method, path shape) → the parameter names of that endpoint
    let mut api: std::collections::HashMap<(String, String), Vec<String>> = Default::default();
    for e in schema["endpoints"].as_array().unwrap() {
        let params = e["params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
        api.insert((e["method"].as_str().unwrap().to_string(), shape(e["path"].as_str().unwrap())), params);
    }
    // A numbered key (scsi1, mp0) is listed as its family (scsi[n], mp[n]).
    let has = |params: &[String], name: &str| {
        let family = format!("{}[n]", name.trim_end_matches(|c: char| c.is_ascii_digit()));
        params.iter().any(|p| p == name || *p == family)
    };
    // Configuration keys to try on the endpoints that take keys beyond their list.
    let keys = [
        "scsi0",
        "scsi30",
        "virtio1",
        "sata2",
        "ide2",
        "efidisk0",
        "tpmstate0",
        "net0",
        "net31",
        "ipconfig0",
        "unused0",
        "usb1",
        "serial0",
        "hostpci0",
        "name",
        "memory",
        "cores",
        "sockets",
        "cpu",
        "ostype",
        "boot",
        "agent",
        "scsihw",
        "balloon",
        "numa",
        "bios",
        "machine",
        "vga",
        "ciuser",
        "sshkeys",
        "onboot",
        "tags",
        "description",
        "hostname",
        "rootfs",
        "mp0",
        "mp255",
        "dev0",
        "swap",
        "unprivileged",
        "features",
        "arch",
        "timezone",
        "nameserver",
        "searchdomain",
        "startup",
        "protection",
        "cpulimit",
        "cpuunits",
        "bogus",
        "scsi",
        "net",
    ];
    let endpoints = proxmox_mcp::demo::simulated_endpoints();
    assert!(endpoints.len() > 100, "{}", endpoints.len());
    let mut problems = Vec::new();
    for e in &endpoints {
        let kinds: &[&str] = if e.path.contains("{kind}") { &["qemu", "lxc"] } else { &[""] };
        for kind in kinds {
            let path = e.path.replace("{kind}", kind).replace("+}", "}");
            let Some(params) = api.get(&(e.method.to_string(), shape(&path))) else {
                problems.push(format!("{} {path}: not in the API", e.method));
                continue;
            };
            for p in e.params {
                if !has(params, p) {
                    problems.push(format!("{} {path}: takes `{p}`, which the API does not", e.method));
                }
            }
            if let Some(takes) = e.takes_also {
                let accepted: Vec<&str> = keys.iter().copied().filter(|k| takes(k, "1")).collect();
                assert!(accepted.len() > 5, "{} {path} takes almost no configuration keys: {accepted:?}", e.method);
                for k in accepted {
                    if !has(params, k) {
                        problems.push(format!("{} {path}: takes the key `{k}`, which the API does not", e.method));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} mismatches with the API schema:\n{}", problems.len(), problems.join("\n"));
}
