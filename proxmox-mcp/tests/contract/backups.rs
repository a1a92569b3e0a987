//! The backup tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, assert_accepted, call_ok};
use crate::common::mcp::text;
use serde_json::json;

const VM_BACKUP: &str = "local:backup/vzdump-qemu-100-2025_01_31-12_00_00.vma.zst";
const CT_BACKUP: &str = "local:backup/vzdump-lxc-200-2025_01_31-12_00_00.tar.zst";

pub async fn backup_scenario_against_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    // Backups start as tasks (fakepve answers vzdump from the schema and stores no archive).
    let backup =
        call_ok(&mut s, "proxmox_create_backup_vm", json!({ "node": "pve1", "vmid": 100, "storage": "local" })).await;
    assert!(backup["structuredContent"]["upid"].as_str().unwrap().starts_with("UPID:pve1:"), "{backup}");
    call_ok(
        &mut s,
        "proxmox_create_backup_lxc",
        json!({
            "node": "pve1", "vmid": 200, "storage": "local", "mode": "stop", "compress": "0",
            "notes-template": "{{guestname}}", "protected": false, "remove": true, "bwlimit": 0
        }),
    )
    .await;
    for compress in ["1", "gzip", "lzo", "zstd"] {
        call_ok(
            &mut s,
            "proxmox_create_backup_vm",
            json!({ "node": "pve1", "vmid": 101, "mode": "suspend", "compress": compress }),
        )
        .await;
    }
    // The listing shows what fakepve holds: the seeded storage has no backups.
    let list = call_ok(&mut s, "proxmox_list_backups", json!({ "node": "pve1" })).await;
    assert_eq!(list["structuredContent"]["total"], 0, "{}", text(&list));
    assert_eq!(list["structuredContent"]["items"], json!([]), "{list}");
    call_ok(&mut s, "proxmox_list_backups", json!({ "node": "pve1", "storage": "local", "vmid": 100 })).await;

    // A restore is accepted as the real API takes it: the container one starts its task (which
    // then fails in fakepve: the archive does not exist); fakepve does not model VM restores.
    let restored = call_ok(
        &mut s,
        "proxmox_restore_backup_lxc",
        json!({ "node": "pve1", "vmid": 300, "archive": CT_BACKUP, "storage": "local-lvm", "unique": true }),
    )
    .await;
    assert!(restored["structuredContent"]["upid"].as_str().unwrap().contains(":vzrestore:300:"), "{restored}");
    let vm = s
        .call(
            "proxmox_restore_backup_vm",
            json!({ "node": "pve1", "vmid": 105, "archive": VM_BACKUP, "storage": "local-lvm", "unique": true }),
        )
        .await;
    assert_accepted("proxmox_restore_backup_vm", &vm);
    let vm = s
        .call("proxmox_restore_backup_vm", json!({ "node": "pve1", "vmid": 101, "archive": VM_BACKUP, "force": true }))
        .await;
    assert_accepted("proxmox_restore_backup_vm", &vm);

    // Deleting a backup volume is a task too.
    let deleted =
        call_ok(&mut s, "proxmox_delete_backup", json!({ "node": "pve1", "storage": "local", "volume": VM_BACKUP }))
            .await;
    assert!(deleted["structuredContent"]["upid"].as_str().unwrap().contains(":imgdel:"), "{deleted}");
    assert!(s.close().await.success());
}
