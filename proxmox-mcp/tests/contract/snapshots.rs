//! The snapshot tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, call_ok, entry};
use crate::common::mcp::{Session, text};
use serde_json::json;

/// The snapshot names fakepve lists, through our own list tool.
async fn names(s: &mut Session, tool: &str, vmid: u32) -> Vec<String> {
    let list = call_ok(s, tool, json!({ "node": "pve1", "vmid": vmid })).await;
    list["structuredContent"]["snapshots"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", text(&list)))
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect()
}

pub async fn snapshot_scenario_against_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    for (kind, vmid) in [("vm", 100), ("lxc", 200)] {
        let list = format!("proxmox_list_snapshots_{kind}");
        assert!(names(&mut s, &list, vmid).await.is_empty());
        let create = format!("proxmox_create_snapshot_{kind}");
        let mut args =
            json!({ "node": "pve1", "vmid": vmid, "snapname": "before-upgrade", "description": "kernel 6.14" });
        if kind == "vm" {
            args["vmstate"] = json!(true);
        }
        let created = call_ok(&mut s, &create, args).await;
        assert!(created["structuredContent"]["upid"].as_str().unwrap().starts_with("UPID:pve1:"), "{created}");
        call_ok(&mut s, &create, json!({ "node": "pve1", "vmid": vmid, "snapname": "after" })).await;
        assert_eq!(names(&mut s, &list, vmid).await.len(), 2);
        let listed = call_ok(&mut s, &list, json!({ "node": "pve1", "vmid": vmid })).await;
        assert_eq!(entry(&listed, "snapshots", "name", "before-upgrade")["description"], "kernel 6.14");
        assert_eq!(entry(&listed, "snapshots", "name", "after")["parent"], "before-upgrade");
        assert_eq!(listed["structuredContent"]["current_parent"], "after", "{}", text(&listed));

        call_ok(
            &mut s,
            &format!("proxmox_rollback_snapshot_{kind}"),
            json!({ "node": "pve1", "vmid": vmid, "snapname": "before-upgrade", "start": true }),
        )
        .await;
        let listed = call_ok(&mut s, &list, json!({ "node": "pve1", "vmid": vmid })).await;
        assert_eq!(listed["structuredContent"]["current_parent"], "before-upgrade", "{}", text(&listed));

        let delete = format!("proxmox_delete_snapshot_{kind}");
        call_ok(&mut s, &delete, json!({ "node": "pve1", "vmid": vmid, "snapname": "after" })).await;
        call_ok(&mut s, &delete, json!({ "node": "pve1", "vmid": vmid, "snapname": "before-upgrade", "force": true }))
            .await;
        assert!(names(&mut s, &list, vmid).await.is_empty());
    }
    // Both guests run again after a rollback with `start`.
    let status = call_ok(&mut s, "proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 200, "type": "lxc" })).await;
    assert_eq!(status["structuredContent"]["status"], "running");
    assert!(s.close().await.success());
}
