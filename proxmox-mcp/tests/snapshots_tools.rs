//! The Snapshots tools: exact requests against a mock Proxmox, refusal without elevation, bad
//! input, and a create → list → rollback → delete → list scenario against fakepve.

mod common;

use common::{Pve, api, assert_refused, assert_refused_arg, assert_task, expect};
use serde_json::json;

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmsnapshot:100:root@pam!mcp:";

#[tokio::test]
async fn create_snapshot_sends_name_description_and_vmstate() {
    let out = expect(
        "proxmox_create_snapshot_vm",
        json!({ "node": "pve1", "vmid": 100, "snapname": "before-upgrade", "description": "kernel 6.14", "vmstate": true }),
        "POST",
        "/nodes/pve1/qemu/100/snapshot",
        &[("snapname", "before-upgrade"), ("description", "kernel 6.14"), ("vmstate", "1")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Snapshot 'before-upgrade' of VM 100 (with RAM) is being taken");
    assert!(out.text.contains("• Description: kernel 6.14"), "{}", out.text);
    assert_eq!(out.data["snapname"], "before-upgrade");
    assert_eq!(out.data["vmid"], 100);
    // No description: none is sent (the old server sent an empty one).
    let out = expect(
        "proxmox_create_snapshot_lxc",
        json!({ "node": "pve1", "vmid": 200, "snapname": "s1" }),
        "POST",
        "/nodes/pve1/lxc/200/snapshot",
        &[("snapname", "s1")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Snapshot 's1' of Container 200 is being taken");
}

#[tokio::test]
async fn list_snapshots_is_newest_first_without_current() {
    let snaps = json!([
        { "name": "old", "snaptime": 1_700_000_000u64, "description": "first\n" },
        { "name": "current", "description": "You are here!", "parent": "new", "running": 1, "digest": "abc" },
        { "name": "new", "snaptime": 1_709_251_199u64, "description": "", "parent": "old", "vmstate": 1 },
        { "name": "broken", "snaptime": 1_600_000_000u64, "snapstate": "prepare" }
    ]);
    let out = expect(
        "proxmox_list_snapshots_vm",
        json!({ "node": "pve1", "vmid": 100 }),
        "GET",
        "/nodes/pve1/qemu/100/snapshot",
        &[],
        snaps,
    )
    .await;
    assert!(out.text.starts_with("📸 **Snapshots of VM 100 on pve1** (3)"), "{}", out.text);
    let (new, old, broken) =
        (out.text.find("**new**").unwrap(), out.text.find("**old**").unwrap(), out.text.find("**broken**").unwrap());
    assert!(new < old && old < broken, "newest first: {}", out.text);
    assert!(out.text.contains("• **new** — 2024-02-29 23:59:59 UTC (parent: old), with RAM"), "{}", out.text);
    assert!(out.text.contains("• **old** — 2023-11-14 22:13:20 UTC — first"), "{}", out.text);
    assert!(out.text.contains("**broken** — 2020-09-13 12:26:40 UTC, ⚠️ incomplete (prepare)"), "{}", out.text);
    assert!(out.text.ends_with("The current state is based on 'new'."), "{}", out.text);
    assert!(!out.text.contains("You are here"), "{}", out.text);
    assert_eq!(out.data["total"], 3);
    assert_eq!(out.data["current_parent"], "new");
    assert_eq!(out.data["snapshots"][0]["name"], "new");

    let out = expect(
        "proxmox_list_snapshots_lxc",
        json!({ "node": "pve1", "vmid": 200 }),
        "GET",
        "/nodes/pve1/lxc/200/snapshot",
        &[],
        json!([{ "name": "current", "description": "You are here!" }]),
    )
    .await;
    assert_eq!(out.text, "No snapshots of Container 200 on pve1.");
    assert_eq!(out.data["total"], 0);
}

#[tokio::test]
async fn list_snapshots_is_basic() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method("GET").path(api("/nodes/pve1/qemu/100/snapshot"));
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.call_with("proxmox_list_snapshots_vm", json!({ "node": "pve1", "vmid": 100 }), false).await.unwrap();
    m.assert_async().await;
    assert_eq!(out.text, "No snapshots of VM 100 on pve1.");
}

#[tokio::test]
async fn rollback_and_delete_name_the_snapshot_in_the_path() {
    let out = expect(
        "proxmox_rollback_snapshot_vm",
        json!({ "node": "pve1", "vmid": 100, "snapname": "before-upgrade", "start": true }),
        "POST",
        "/nodes/pve1/qemu/100/snapshot/before-upgrade/rollback",
        &[("start", "1")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "VM 100 is being rolled back to snapshot 'before-upgrade'");
    assert!(out.text.contains("⚠️ Everything since the snapshot"), "{}", out.text);
    let out = expect(
        "proxmox_rollback_snapshot_lxc",
        json!({ "node": "pve1", "vmid": 200, "snapname": "s1" }),
        "POST",
        "/nodes/pve1/lxc/200/snapshot/s1/rollback",
        &[],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Container 200 is being rolled back to snapshot 's1'");
    let out = expect(
        "proxmox_delete_snapshot_vm",
        json!({ "node": "pve1", "vmid": 100, "snapname": "old", "force": true }),
        "DELETE",
        "/nodes/pve1/qemu/100/snapshot/old",
        &[("force", "1")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Snapshot 'old' of VM 100 is being deleted");
    let out = expect(
        "proxmox_delete_snapshot_lxc",
        json!({ "node": "pve1", "vmid": 200, "snapname": "s1" }),
        "DELETE",
        "/nodes/pve1/lxc/200/snapshot/s1",
        &[],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Snapshot 's1' of Container 200 is being deleted");
    assert_eq!(out.data["snapname"], "s1");
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_argument() {
    for (tool, args, named) in [
        ("proxmox_create_snapshot_vm", json!({ "node": "pve1", "vmid": 100 }), "snapname"),
        ("proxmox_create_snapshot_vm", json!({ "node": "pve1", "vmid": 100, "snapname": "1st" }), "snapname"),
        ("proxmox_create_snapshot_vm", json!({ "node": "pve1", "vmid": 100, "snapname": "current" }), "snapname"),
        ("proxmox_create_snapshot_vm", json!({ "node": "pve1", "vmid": 100, "snapname": "Pending" }), "snapname"),
        ("proxmox_create_snapshot_lxc", json!({ "node": "pve1", "vmid": 200, "snapname": "vzdump" }), "snapname"),
        (
            "proxmox_create_snapshot_lxc",
            json!({ "node": "pve1", "vmid": 200, "snapname": "s", "vmstate": true }),
            "vmstate",
        ),
        (
            "proxmox_create_snapshot_lxc",
            json!({ "node": "pve1", "vmid": 200, "snapname": &"a".repeat(41) }),
            "snapname",
        ),
        ("proxmox_rollback_snapshot_vm", json!({ "node": "pve1", "vmid": 100, "snapname": "../x" }), "snapname"),
        ("proxmox_delete_snapshot_lxc", json!({ "node": "pve1", "vmid": 200, "snapname": "a%2Fb" }), "snapname"),
        ("proxmox_list_snapshots_vm", json!({ "node": "pve1", "vmid": 1 }), "vmid"),
    ] {
        assert_refused_arg(tool, args, named).await;
    }
}

#[tokio::test]
async fn changing_tools_are_elevated_and_refused_without_elevation() {
    for (tool, args) in [
        ("proxmox_create_snapshot_lxc", json!({ "node": "pve1", "vmid": 200, "snapname": "s1" })),
        ("proxmox_create_snapshot_vm", json!({ "node": "pve1", "vmid": 100, "snapname": "s1" })),
        ("proxmox_rollback_snapshot_lxc", json!({ "node": "pve1", "vmid": 200, "snapname": "s1" })),
        ("proxmox_rollback_snapshot_vm", json!({ "node": "pve1", "vmid": 100, "snapname": "s1" })),
        ("proxmox_delete_snapshot_lxc", json!({ "node": "pve1", "vmid": 200, "snapname": "s1" })),
        ("proxmox_delete_snapshot_vm", json!({ "node": "pve1", "vmid": 100, "snapname": "s1" })),
    ] {
        assert_refused(tool, args).await;
    }
    let registry = proxmox_mcp::Registry::builtin();
    for name in ["proxmox_rollback_snapshot_vm", "proxmox_rollback_snapshot_lxc", "proxmox_delete_snapshot_vm"] {
        assert!(registry.get(name).unwrap().destructive(), "{name} is destructive");
    }
}
