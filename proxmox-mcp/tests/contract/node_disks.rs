//! The node disk tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, call_ok};
use serde_json::json;

pub async fn node_disk_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    let calls = [
        ("proxmox_get_node_disks", json!({ "node": "pve1" })),
        (
            "proxmox_get_node_disks",
            json!({ "node": "pve1", "include_partitions": true, "skip_smart": true, "type": "unused" }),
        ),
        ("proxmox_get_disk_smart", json!({ "node": "pve1", "disk": "/dev/sda" })),
        ("proxmox_get_disk_smart", json!({ "node": "pve1", "disk": "/dev/nvme0n1", "health_only": true })),
        ("proxmox_get_node_lvm", json!({ "node": "pve1" })),
        ("proxmox_get_node_zfs", json!({ "node": "pve1" })),
    ];
    for (tool, args) in calls {
        call_ok(&mut s, tool, args).await;
    }
    assert!(s.close().await.success());
}
