//! The disk tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, assert_accepted, call_ok, config_value, create_guests};
use serde_json::json;

pub async fn disk_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    create_guests(&mut s, 310, 311, 2).await;

    // VM: add a disk, see it, refuse the same slot again, grow and move it, remove it.
    call_ok(
        &mut s,
        "proxmox_add_disk_vm",
        json!({ "node": "pve1", "vmid": 310, "disk": "scsi1", "storage": "local-lvm", "size": 1, "discard": true }),
    )
    .await;
    let scsi1 = config_value(&mut s, "proxmox_get_vm_config", 310, "scsi1").await.expect("scsi1 added");
    assert!(scsi1.starts_with("local-lvm:") && scsi1.contains("discard=on"), "{scsi1}");
    let again = s
        .call(
            "proxmox_add_disk_vm",
            json!({ "node": "pve1", "vmid": 310, "disk": "scsi1", "storage": "local-lvm", "size": 1 }),
        )
        .await;
    assert_eq!(again["isError"], true);
    let error = &again["structuredContent"]["error"];
    assert_eq!(error["kind"], "invalid_arguments", "{again}");
    assert!(error["arguments"]["disk"].as_str().unwrap_or_default().contains("already in use"), "{again}");
    call_ok(&mut s, "proxmox_resize_disk_vm", json!({ "node": "pve1", "vmid": 310, "disk": "scsi0", "size": "+1G" }))
        .await;
    let moved = s
        .call(
            "proxmox_move_disk_vm",
            json!({ "node": "pve1", "vmid": 310, "disk": "scsi0", "storage": "local-lvm", "delete": false }),
        )
        .await;
    assert_accepted("proxmox_move_disk_vm", &moved);
    call_ok(&mut s, "proxmox_remove_disk_vm", json!({ "node": "pve1", "vmid": 310, "disk": "scsi1" })).await;
    assert_eq!(config_value(&mut s, "proxmox_get_vm_config", 310, "scsi1").await, None, "scsi1 removed");

    // Container: add a mount point, see it, grow the root disk, move and remove the mount point.
    call_ok(
        &mut s,
        "proxmox_add_mountpoint_lxc",
        json!({ "node": "pve1", "vmid": 311, "mp": "mp0", "storage": "local-lvm", "size": 1, "path": "/srv/data" }),
    )
    .await;
    let mp0 = config_value(&mut s, "proxmox_get_lxc_config", 311, "mp0").await.expect("mp0 added");
    assert!(mp0.starts_with("local-lvm:") && mp0.contains("mp=/srv/data"), "{mp0}");
    call_ok(&mut s, "proxmox_resize_disk_lxc", json!({ "node": "pve1", "vmid": 311, "disk": "rootfs", "size": "+1G" }))
        .await;
    let rootfs = config_value(&mut s, "proxmox_get_lxc_config", 311, "rootfs").await.unwrap();
    assert!(rootfs.contains("size=3G"), "rootfs grown from 2G by 1G: {rootfs}");
    let moved = s
        .call("proxmox_move_disk_lxc", json!({ "node": "pve1", "vmid": 311, "disk": "mp0", "storage": "local-lvm" }))
        .await;
    assert_accepted("proxmox_move_disk_lxc", &moved);
    call_ok(&mut s, "proxmox_remove_mountpoint_lxc", json!({ "node": "pve1", "vmid": 311, "mp": "mp0" })).await;
    assert_eq!(config_value(&mut s, "proxmox_get_lxc_config", 311, "mp0").await, None, "mp0 removed");
    assert!(s.close().await.success());
}
