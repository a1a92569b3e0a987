//! An agent scoped to some guests and nodes (`PROXMOX_ALLOWED_VMIDS`, `PROXMOX_ALLOWED_NODES`,
//! `Context::with_scope`): calls addressing anything else are refused before any request, lists
//! show only what is in scope and say so, and new ids are picked inside the scope. Against the
//! demo cluster (VMs 100, 101 and container 200 on pve1; container 201 and template 9000 on pve2;
//! pve3 offline).

use proxmox_mcp::client::{Request, Transport, TransportFuture};
use proxmox_mcp::config::{Config, DemoConfig};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::server::render;
use proxmox_mcp::{Client, Context, Registry, Scope, ToolError, ToolResult};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The demo cluster, recording the requests made to it.
#[derive(Clone)]
struct Recorded {
    demo: DemoCluster,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Transport for Recorded {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        self.requests.lock().unwrap().push(format!("{} {}", request.method, request.path));
        self.demo.send(request)
    }
    fn describe(&self) -> String {
        "recorded demo".into()
    }
}

struct Cluster {
    recorded: Recorded,
    ctx: Context,
}

impl Cluster {
    fn scoped(vmids: Option<&str>, nodes: Option<&str>) -> Self {
        let recorded = Recorded { demo: DemoCluster::with_task_duration(Duration::ZERO), requests: Arc::default() };
        let mut scope = Scope::default();
        if let Some(v) = vmids {
            scope = scope.with_vmids(v).unwrap();
        }
        if let Some(n) = nodes {
            scope = scope.with_nodes(n).unwrap();
        }
        let ctx = Context::new(Client::with_transport(recorded.clone()), true).with_scope(scope);
        Cluster { recorded, ctx }
    }
    async fn call(&self, tool: &str, args: Value) -> ToolResult {
        let Value::Object(args) = args else { panic!("object") };
        Registry::builtin().get(tool).unwrap().call(self.ctx.clone(), args).await
    }
    fn requests(&self) -> Vec<String> {
        self.recorded.requests.lock().unwrap().clone()
    }
    fn forget(&self) {
        self.recorded.requests.lock().unwrap().clear();
    }
}

/// The refusal, its argument, and that nothing was sent.
async fn refused(c: &Cluster, tool: &str, args: Value, argument: &str) -> String {
    c.forget();
    let err = c.call(tool, args).await.unwrap_err();
    let ToolError::OutOfScope { argument: arg, .. } = &err else { panic!("{tool}: not out of scope: {err:?}") };
    assert_eq!(arg, argument, "{tool}: {err}");
    assert!(c.requests().is_empty(), "{tool} sent {:?}", c.requests());
    err.to_string()
}

#[tokio::test]
async fn calls_outside_the_scope_are_refused_before_any_request() {
    let c = Cluster::scoped(Some("100-199"), Some("pve1"));
    let text = refused(&c, "proxmox_get_vm_status", json!({ "vmid": 200 }), "vmid").await;
    assert!(text.contains("guest 200") && text.contains("guests 100-199 on nodes pve1"), "{text}");
    assert!(text.contains("PROXMOX_ALLOWED_VMIDS"), "{text}");
    refused(&c, "proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 9000 }), "vmid").await;
    let text = refused(&c, "proxmox_get_node_status", json!({ "node": "pve2" }), "node").await;
    assert!(text.contains("node pve2"), "{text}");
    refused(&c, "proxmox_migrate_vm", json!({ "vmid": 100, "target": "pve2" }), "target").await;
    refused(&c, "proxmox_clone_vm", json!({ "node": "pve1", "vmid": 100, "newid": 300 }), "newid").await;
    // Creates only inside the allowed ids.
    refused(&c, "proxmox_create_vm", json!({ "node": "pve1", "vmid": 250, "name": "x", "disk_size": 8 }), "vmid").await;
    refused(&c, "proxmox_create_ha_resource", json!({ "sid": "ct:200", "state": "started" }), "sid").await;
    refused(&c, "proxmox_create_ha_group", json!({ "group": "scoped", "nodes": "pve1:2,pve2:1" }), "nodes").await;
    refused(
        &c,
        "proxmox_wait_task",
        json!({ "upid": "UPID:pve2:00000001:00000002:00000003:qmstart:150:root@pam:" }),
        "upid",
    )
    .await;
    // Lists of ids, and selections that reach beyond the ids.
    let job = json!({ "id": "scoped", "schedule": "sat 03:00", "storage": "local", "mode": "snapshot" });
    let with = |k: &str, v: Value| {
        let mut j = job.clone();
        j[k] = v;
        j
    };
    refused(&c, "proxmox_create_cluster_backup_job", with("vmid", json!("100,250")), "vmid").await;
    refused(&c, "proxmox_create_cluster_backup_job", with("all", json!(true)), "all").await;
    refused(&c, "proxmox_create_cluster_backup_job", with("pool", json!("prod")), "pool").await;

    // The agent sees what it is and which argument.
    c.forget();
    let shown = render(c.call("proxmox_start_vm", json!({ "vmid": 201 })).await);
    assert_eq!(shown.is_error, Some(true));
    let data = shown.structured_content.unwrap();
    assert_eq!(data["error"]["kind"], "out_of_scope", "{data}");
    assert_eq!(data["error"]["argument"], "vmid");
    assert_eq!(data["error"]["scope"], "guests 100-199 on nodes pve1");
    let text = serde_json::to_value(&shown.content).unwrap()[0]["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("🚫 Out of Scope: `vmid` addresses guest 201"), "{text}");

    // Inside the scope, calls run as before.
    let status = c.call("proxmox_get_vm_status", json!({ "vmid": 100 })).await.unwrap();
    assert_eq!(status.data["status"], "running");
    let job = c.call("proxmox_create_cluster_backup_job", with("vmid", json!("100,101"))).await.unwrap();
    assert!(job.text.starts_with('✅'), "{}", job.text);
}

#[tokio::test]
async fn a_guest_found_by_id_on_a_node_outside_the_scope_is_refused() {
    // 201 is in the ids, but lives on pve2.
    let c = Cluster::scoped(Some("200-299"), Some("pve1"));
    let err = c.call("proxmox_stop_lxc", json!({ "vmid": 201 })).await.unwrap_err();
    assert!(matches!(err, ToolError::OutOfScope { ref argument, .. } if argument == "vmid"), "{err:?}");
    assert!(err.to_string().contains("guest 201 on node pve2"), "{err}");
    // Only the lookup was made.
    assert_eq!(c.requests(), vec!["GET /cluster/resources".to_string()]);
    c.call("proxmox_get_vm_status", json!({ "vmid": 200 })).await.unwrap();
}

#[tokio::test]
async fn lists_show_only_the_scope_and_say_so() {
    let c = Cluster::scoped(Some("100-199"), Some("pve1"));
    let vms = c.call("proxmox_get_vms", json!({})).await.unwrap();
    let ids: Vec<u64> = vms.data["guests"].as_array().unwrap().iter().map(|g| g["vmid"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![100, 101], "{}", vms.data);
    assert!(vms.text.contains("🔒 Scoped to guests 100-199 on nodes pve1"), "{}", vms.text);
    assert!(!vms.text.contains("pve2"), "{}", vms.text);
    assert_eq!(vms.data["scope"]["vmids"], "100-199");
    assert_eq!(vms.data["scope"]["nodes"], json!(["pve1"]));
    assert!(vms.data["scope"]["hidden"].as_u64().unwrap() >= 2, "{}", vms.data);

    let nodes = c.call("proxmox_get_nodes", json!({})).await.unwrap();
    let names: Vec<&str> =
        nodes.data["items"].as_array().unwrap().iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["pve1"]);
    assert_eq!(nodes.data["scope"]["hidden"], 2);

    let status = c.call("proxmox_get_cluster_status", json!({})).await.unwrap();
    assert_eq!(status.data["nodes_total"], 1, "{}", status.data);
    assert!(status.data["status"].as_array().unwrap().iter().all(|e| e["type"] != "node" || e["name"] == "pve1"));

    // Storage content on an allowed node: the archives and disks of other guests are hidden.
    let content = c.call("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local" })).await.unwrap();
    let text = serde_json::to_string(&content.data).unwrap();
    assert!(!text.contains("-200-"), "{text}");
    assert!(content.data.get("scope").is_some(), "{text}");

    // Tasks of guests outside the scope are not listed.
    c.call("proxmox_stop_vm", json!({ "vmid": 101 })).await.unwrap();
    let tasks = c.call("proxmox_list_cluster_tasks", json!({})).await.unwrap();
    let text = serde_json::to_string(&tasks.data).unwrap();
    assert!(text.contains("qmstop"), "{text}");
    assert!(tasks.data.get("scope").is_some(), "{text}");

    // The nightly job backs up every guest: not a job of this scope's.
    let jobs = c.call("proxmox_list_cluster_backup_jobs", json!({})).await.unwrap();
    assert!(!serde_json::to_string(&jobs.data).unwrap().contains("backup-5f3a2c1e-7d10"), "{}", jobs.text);
    assert_eq!(jobs.data["scope"]["hidden"], 1, "{}", jobs.data);

    // A read that lists nothing says nothing about scope.
    let config = c.call("proxmox_get_vm_config", json!({ "vmid": 100 })).await.unwrap();
    assert!(config.data.get("scope").is_none() && !config.text.contains("Scoped"), "{}", config.text);
}

#[tokio::test]
async fn storage_definitions_of_other_nodes_are_hidden() {
    // local-zfs is defined for pve1 and pve2 only; the others are on every node.
    let everywhere = Cluster::scoped(None, None);
    let all = everywhere.call("proxmox_list_storage_config", json!({})).await.unwrap();
    assert!(serde_json::to_string(&all.data).unwrap().contains("local-zfs"), "{}", all.text);
    let pve2 = Cluster::scoped(None, Some("pve2"));
    let seen = pve2.call("proxmox_list_storage_config", json!({})).await.unwrap();
    assert!(serde_json::to_string(&seen.data).unwrap().contains("local-zfs"), "{}", seen.text);
    let pve3 = Cluster::scoped(None, Some("pve3"));
    let seen = pve3.call("proxmox_list_storage_config", json!({})).await.unwrap();
    let text = serde_json::to_string(&seen.data).unwrap();
    assert!(!text.contains("local-zfs") && text.contains("\"local\""), "{text}");
    assert_eq!(seen.data["scope"]["hidden"], 1, "{}", seen.data);
}

#[tokio::test]
async fn without_a_scope_nothing_changes() {
    let c = Cluster::scoped(None, None);
    let vms = c.call("proxmox_get_vms", json!({})).await.unwrap();
    assert_eq!(vms.data["guests"].as_array().unwrap().len(), 5, "{}", vms.data);
    assert!(vms.data.get("scope").is_none() && !vms.text.contains("Scoped"));
    let next = c.call("proxmox_get_next_vmid", json!({})).await.unwrap();
    assert_eq!(next.data["vmid"], 102);
    c.call("proxmox_get_vm_status", json!({ "vmid": 9000 })).await.unwrap();
    let content = c.call("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local" })).await.unwrap();
    assert!(serde_json::to_string(&content.data).unwrap().contains("-200-"));
}

#[tokio::test]
async fn the_next_id_is_inside_the_scope_and_creates_stay_there() {
    let c = Cluster::scoped(Some("100-101,150-151"), None);
    let next = c.call("proxmox_get_next_vmid", json!({})).await.unwrap();
    assert_eq!(next.data["vmid"], 150, "{}", next.text);
    assert!(next.text.contains("150") && next.text.contains("100-101,150-151"), "{}", next.text);
    // Proxmox confirmed that one.
    assert!(c.requests().iter().any(|r| r == "GET /cluster/nextid"), "{:?}", c.requests());
    c.call("proxmox_create_vm", json!({ "node": "pve1", "vmid": 150, "name": "in-scope", "disk_size": 8 }))
        .await
        .unwrap();
    let next = c.call("proxmox_get_next_vmid", json!({})).await.unwrap();
    assert_eq!(next.data["vmid"], 151);
    c.call("proxmox_create_vm", json!({ "node": "pve1", "vmid": 151, "name": "in-scope-2", "disk_size": 8 }))
        .await
        .unwrap();
    let err = c.call("proxmox_get_next_vmid", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("no free guest id is left inside this server's scope"), "{err}");
    assert!(err.to_string().contains("PROXMOX_ALLOWED_VMIDS"), "{err}");
    // Only nodes scoped: the cluster's own next id.
    let c = Cluster::scoped(None, Some("pve1"));
    assert_eq!(c.call("proxmox_get_next_vmid", json!({})).await.unwrap().data["vmid"], 102);
}

#[test]
fn the_variables_set_the_scope_and_bad_values_name_the_variable() {
    let base = |extra: &'static [(&'static str, &'static str)]| {
        move |name: &str| match name {
            "PROXMOX_HOST" => Some("pve.example.com".to_string()),
            "PROXMOX_TOKEN_NAME" => Some("mcp".to_string()),
            "PROXMOX_TOKEN_VALUE" => Some("secret".to_string()),
            _ => extra.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()),
        }
    };
    let config = Config::from_lookup(base(&[])).unwrap();
    assert!(config.scope.is_unrestricted());
    let config =
        Config::from_lookup(base(&[("PROXMOX_ALLOWED_VMIDS", "300, 100-199"), ("PROXMOX_ALLOWED_NODES", "pve1,pve2")]))
            .unwrap();
    assert_eq!(config.scope.vmids_spec().as_deref(), Some("100-199,300"));
    assert!(config.scope.allows_node("pve2") && !config.scope.allows_node("pve3"));
    for (var, value) in [
        ("PROXMOX_ALLOWED_VMIDS", "100-abc"),
        ("PROXMOX_ALLOWED_VMIDS", "42"),
        ("PROXMOX_ALLOWED_VMIDS", "200-100"),
        ("PROXMOX_ALLOWED_VMIDS", ","),
        ("PROXMOX_ALLOWED_NODES", "pve1,../etc"),
    ] {
        let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([(var, value)]));
        let err = Config::from_lookup(base(vars)).unwrap_err();
        assert_eq!(err.variable, var, "{value}: {err}");
        assert!(!err.to_string().contains('\n'), "{err}");
        let err = DemoConfig::from_lookup(base(vars)).unwrap_err();
        assert_eq!(err.variable, var);
    }
}

#[tokio::test]
async fn a_bad_scope_stops_the_server_with_one_line_and_exit_2() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_proxmox-mcp"))
        .arg("--demo")
        .env_clear()
        .env("PROXMOX_ALLOWED_VMIDS", "100-")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("PROXMOX_ALLOWED_VMIDS"), "{stderr}");
}
