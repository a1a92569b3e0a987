//! Guests by id alone: a tool that addresses a guest finds its node (and type) from one
//! `/cluster/resources` request; a wrong node or the wrong kind of guest is explained. Against
//! the demo cluster (VM 100 and container 200 on pve1, VM 101 stopped on pve1).

use proxmox_mcp::client::{Request, Transport, TransportFuture};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::server::render;
use proxmox_mcp::{Client, Context, Registry, ToolError, ToolResult};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The demo cluster, counting the requests made to it.
#[derive(Clone)]
struct Counted {
    demo: DemoCluster,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Transport for Counted {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        self.paths.lock().unwrap().push(format!("{} {}", request.method, request.path));
        self.demo.send(request)
    }
    fn describe(&self) -> String {
        "counted demo".into()
    }
}

struct Cluster {
    counted: Counted,
    ctx: Context,
}

impl Cluster {
    fn new() -> Self {
        let counted = Counted { demo: DemoCluster::with_task_duration(Duration::ZERO), paths: Arc::default() };
        let ctx = Context::new(Client::with_transport(counted.clone()), true);
        Cluster { counted, ctx }
    }
    async fn call(&self, tool: &str, args: Value) -> ToolResult {
        let Value::Object(args) = args else { panic!("object") };
        Registry::builtin().get(tool).unwrap().call(self.ctx.clone(), args).await
    }
    fn lookups(&self) -> usize {
        self.counted.paths.lock().unwrap().iter().filter(|p| p.contains("/cluster/resources")).count()
    }
}

#[tokio::test]
async fn a_guest_is_found_by_its_id_alone() {
    let c = Cluster::new();
    let status = c.call("proxmox_get_vm_status", json!({ "vmid": 100 })).await.unwrap();
    assert_eq!(status.data["status"], "running", "{}", status.data);
    // The type too: 200 is a container.
    let ct = c.call("proxmox_get_vm_status", json!({ "vmid": 200 })).await.unwrap();
    assert!(c.counted.paths.lock().unwrap().iter().any(|p| p.contains("/lxc/200/status")), "{ct:?}");
    let config = c.call("proxmox_get_vm_config", json!({ "vmid": 100 })).await.unwrap();
    assert_eq!(config.data["name"], "web");
    // One listing served the three calls.
    assert_eq!(c.lookups(), 1);
    // A node given is used as given: no lookup.
    c.call("proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 101 })).await.unwrap();
    assert_eq!(c.lookups(), 1);
}

#[tokio::test]
async fn the_listing_says_node_is_optional_where_a_guest_is_addressed() {
    let registry = Registry::builtin();
    let required = |tool: &str| {
        let schema = Value::Object(registry.get(tool).unwrap().input_schema());
        schema["required"].as_array().cloned().unwrap_or_default()
    };
    assert!(!required("proxmox_get_vm_status").contains(&json!("node")));
    assert!(!required("proxmox_start_vm").contains(&json!("node")));
    assert!(!required("proxmox_create_backup_vm").contains(&json!("node")));
    // A create names a new guest: its node must be given.
    assert!(required("proxmox_create_vm").contains(&json!("node")));
    assert!(required("proxmox_restore_backup_lxc").contains(&json!("node")));
    let addressed = registry
        .iter()
        .filter(|t| {
            let s = Value::Object(t.input_schema());
            s["properties"].get("vmid").is_some()
                && s["properties"].get("node").is_some()
                && !s["required"].as_array().is_some_and(|r| r.contains(&json!("node")))
        })
        .count();
    assert!(addressed >= 70, "{addressed} tools find a guest's node");
}

#[tokio::test]
async fn the_wrong_kind_of_guest_names_the_tool_to_use() {
    let c = Cluster::new();
    let err = c.call("proxmox_get_vm_config", json!({ "vmid": 200 })).await.unwrap_err();
    let ToolError::InvalidArguments(list) = &err else { panic!("{err:?}") };
    assert_eq!(list[0].0, "vmid");
    assert!(list[0].1.contains("200 is a container") && list[0].1.contains("proxmox_get_lxc_config"), "{list:?}");
    let err = c.call("proxmox_start_lxc", json!({ "vmid": 101 })).await.unwrap_err();
    assert!(err.to_string().contains("101 is a VM") && err.to_string().contains("proxmox_start_vm"), "{err}");
    // With the node given, Proxmox's not-found is explained the same way.
    let err = c.call("proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 200 })).await.unwrap_err();
    let shown = render(Err(err));
    let data = shown.structured_content.unwrap();
    assert!(data["error"]["hint"].as_str().unwrap().contains("proxmox_get_lxc_config"), "{data}");
}

#[tokio::test]
async fn a_wrong_node_gets_where_the_guest_is() {
    let c = Cluster::new();
    let err = c.call("proxmox_get_vm_config", json!({ "node": "pve2", "vmid": 100 })).await.unwrap_err();
    let ToolError::Hinted(inner, hint) = &err else { panic!("{err:?}") };
    assert!(matches!(**inner, ToolError::Api(proxmox_mcp::ApiError::NotFound(_))), "{inner:?}");
    assert!(hint.contains("VM 100 is on pve1, not pve2"), "{hint}");
    let shown = render(Err(err));
    assert_eq!(shown.is_error, Some(true));
    let data = shown.structured_content.unwrap();
    assert!(data["error"]["hint"].as_str().unwrap().contains("node pve1"), "{data}");
    assert_eq!(data["error"]["status"], 404);
    // A guest that is nowhere.
    let err = c.call("proxmox_get_vm_status", json!({ "vmid": 999 })).await.unwrap_err();
    let ToolError::InvalidArguments(list) = &err else { panic!("{err:?}") };
    assert!(list[0].1.contains("no VM or container 999"), "{list:?}");
}

#[tokio::test]
async fn this_servers_own_changes_are_seen_at_once() {
    let c = Cluster::new();
    assert_eq!(c.call("proxmox_get_vm_status", json!({ "vmid": 101 })).await.unwrap().data["status"], "stopped");
    c.call("proxmox_migrate_vm", json!({ "vmid": 101, "target": "pve2" })).await.unwrap();
    // The migration dropped the cached listing: 101 is found on pve2 now.
    let status = c.call("proxmox_get_vm_status", json!({ "vmid": 101 })).await.unwrap();
    assert!(status.text.contains("pve2"), "{}", status.text);
    assert!(c.counted.paths.lock().unwrap().iter().any(|p| p.contains("/nodes/pve2/qemu/101/status")));
    // A new guest is found too.
    c.call("proxmox_create_vm", json!({ "node": "pve1", "vmid": 777, "disk_size": 1 })).await.unwrap();
    let config = c.call("proxmox_get_vm_config", json!({ "vmid": 777 })).await.unwrap();
    assert!(config.data.get("scsi0").is_some(), "{}", config.data);
}

#[tokio::test]
async fn get_vms_finds_guests_and_says_how_many_matched() {
    let c = Cluster::new();
    let all = c.call("proxmox_get_vms", json!({})).await.unwrap();
    let total = all.data["total"].as_u64().unwrap();
    assert_eq!(all.data["matched"], total);
    let ids = |out: &proxmox_mcp::ToolOutput| -> Vec<u64> {
        out.data["guests"].as_array().unwrap().iter().filter_map(|g| g["vmid"].as_u64()).collect()
    };
    let web = c.call("proxmox_get_vms", json!({ "name": "web" })).await.unwrap();
    assert_eq!(ids(&web), vec![100]);
    assert_eq!((web.data["matched"].as_u64(), web.data["total"].as_u64()), (Some(1), Some(total)));
    assert!(web.text.contains(&format!("1 of {total} match")), "{}", web.text);
    let globbed = c.call("proxmox_get_vms", json!({ "name": "*b*" })).await.unwrap();
    assert!(ids(&globbed).contains(&100) && ids(&globbed).contains(&101), "{:?}", ids(&globbed));
    let running = c.call("proxmox_get_vms", json!({ "status": "running", "type": "qemu" })).await.unwrap();
    assert!(running.data["guests"].as_array().unwrap().iter().all(|g| g["status"] == "running" && g["type"] == "qemu"));
    assert_eq!(ids(&c.call("proxmox_get_vms", json!({ "vmid": 200 })).await.unwrap()), vec![200]);
    let none = c.call("proxmox_get_vms", json!({ "name": "nothing-*" })).await.unwrap();
    assert_eq!(none.data["matched"], 0);
    assert!(none.text.contains(&format!("0 of {total}")), "{}", none.text);
    // Agents under strict schemas send "" and null for what they leave out.
    let loose = c.call("proxmox_get_vms", json!({ "name": "", "node": "", "pool": null, "status": "" })).await.unwrap();
    assert_eq!(loose.data["matched"], total);
}

#[tokio::test]
async fn errors_point_the_way() {
    let c = Cluster::new();
    let hint = |err: ToolError| {
        let data = render(Err(err)).structured_content.unwrap();
        data["error"]["hint"].as_str().unwrap_or_default().to_string()
    };
    // A running container cannot be destroyed: stop it first, or force.
    let err = c.call("proxmox_delete_lxc", json!({ "vmid": 200 })).await.unwrap_err();
    let h = hint(err);
    assert!(h.contains("proxmox_shutdown_lxc") && h.contains("force: true") && h.contains("purge"), "{h}");
    let err = c.call("proxmox_delete_vm", json!({ "vmid": 100 })).await.unwrap_err();
    let h = hint(err);
    assert!(h.contains("proxmox_shutdown_vm") && !h.contains("force"), "{h}");
    // An offline node: which one, and which are up.
    let err = c.call("proxmox_get_node_status", json!({ "node": "pve3" })).await.unwrap_err();
    let h = hint(err);
    assert!(h.contains("Node pve3 is offline") && h.contains("pve1, pve2"), "{h}");
    // A locked guest: the lock, and the task that holds it.
    let upid = c.counted.demo.with_state(|s| s.start_task("pve1", "qmclone", "101", Ok(()), |_| {}));
    c.counted.demo.with_state(|s| {
        let t = s.tasks.iter_mut().find(|t| t.upid == upid).unwrap();
        t.ends = std::time::Instant::now() + Duration::from_secs(60);
        t.done = false;
    });
    c.counted.demo.fail_next(1, 500, "VM is locked (clone)");
    let err = c.call("proxmox_start_vm", json!({ "node": "pve1", "vmid": 101, "wait": 0 })).await.unwrap_err();
    let h = hint(err);
    assert!(h.contains("locked (clone)") && h.contains(&upid) && h.contains("proxmox_wait_task"), "{h}");
    // A snapshot name already taken: where the taken ones are listed.
    let first = json!({ "vmid": 100, "snapname": "twice", "wait": 0 });
    c.call("proxmox_create_snapshot_vm", first.clone()).await.unwrap();
    let h = hint(c.call("proxmox_create_snapshot_vm", first).await.unwrap_err());
    assert!(h.contains("Choose another snapname (proxmox_list_snapshots_vm"), "{h}");
    // A running VM migrated without `online`: the argument, not Proxmox's command-line flag.
    let err = c.call("proxmox_migrate_vm", json!({ "vmid": 100, "target": "pve2" })).await.unwrap_err();
    let h = hint(err);
    assert!(h.contains("proxmox_migrate_vm again with online: true"), "{h}");
}

#[tokio::test]
async fn a_guests_firewall_options_are_found_by_its_id_alone() {
    let c = Cluster::new();
    let out = c.call("proxmox_get_firewall_options", json!({ "scope": "lxc", "vmid": 200 })).await.unwrap();
    assert!(out.text.contains("200"), "{}", out.text);
    assert!(c.counted.paths.lock().unwrap().iter().any(|p| p == "GET /nodes/pve1/lxc/200/firewall/options"));
    let err = c.call("proxmox_get_firewall_options", json!({ "scope": "vm", "vmid": 4242 })).await.unwrap_err();
    assert!(err.to_string().contains("`vmid` names no guest of the cluster"), "{err}");
}
