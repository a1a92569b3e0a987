//! The storage tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, assert_accepted, call_ok, entry};
use serde_json::json;
use std::path::PathBuf;

/// A fresh directory for this test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("proxmox-mcp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn storage_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let dir = scratch_dir("fakepve-upload");
    std::fs::write(dir.join("tiny.iso"), b"not really an iso").unwrap();
    let mut s = pve.session_with(&[("PROXMOX_UPLOAD_DIR", dir.to_str().unwrap().to_string())]).await;

    let calls = [
        ("proxmox_list_storage_config", json!({})),
        ("proxmox_list_storage_config", json!({ "type": "dir" })),
        ("proxmox_get_storage_config", json!({ "storage": "local" })),
        (
            "proxmox_create_storage",
            json!({ "storage": "scratch", "type": "dir", "path": "/mnt/scratch", "content": "iso,backup" }),
        ),
        (
            "proxmox_create_storage",
            json!({ "storage": "nfs1", "type": "nfs", "server": "192.0.2.20", "export": "/srv", "content": "backup", "prune-backups": "keep-last=2" }),
        ),
        (
            "proxmox_update_storage",
            json!({ "storage": "scratch", "content": "iso,vztmpl", "nodes": "pve1", "prune-backups": "keep-daily=3" }),
        ),
        ("proxmox_update_storage", json!({ "storage": "nfs1", "options": "vers=4.2", "delete": "prune-backups" })),
        (
            "proxmox_upload_to_storage",
            json!({ "node": "pve1", "storage": "local", "content": "iso", "file": "tiny.iso" }),
        ),
        (
            "proxmox_download_url_to_storage",
            json!({ "node": "pve1", "storage": "local", "url": "https://example.com/alpine.iso", "content": "iso", "checksum": "a".repeat(64), "checksum-algorithm": "sha256" }),
        ),
        ("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local" })),
        (
            "proxmox_list_storage_content",
            json!({ "node": "pve1", "storage": "local-lvm", "content": "images", "vmid": 100 }),
        ),
        (
            "proxmox_delete_storage_content",
            json!({ "node": "pve1", "storage": "local", "volume": "local:iso/debian-13.iso" }),
        ),
        ("proxmox_delete_storage", json!({ "storage": "nfs1" })),
    ];
    for (tool, args) in calls {
        call_ok(&mut s, tool, args).await;
    }
    // The effects, read back through our tools.
    let cfg = s.call("proxmox_get_storage_config", json!({ "storage": "scratch" })).await;
    assert_eq!(
        (&cfg["structuredContent"]["content"], &cfg["structuredContent"]["nodes"]),
        (&json!("iso,vztmpl"), &json!("pve1"))
    );
    let list = s.call("proxmox_list_storage_config", json!({})).await;
    assert_eq!(entry(&list, "items", "storage", "scratch")["type"], "dir", "{list}");
    let storages = list["structuredContent"]["items"].as_array().unwrap().iter().map(|s| &s["storage"]);
    assert!(!storages.clone().any(|s| s == "nfs1"), "nfs1 deleted: {list}");
    let content =
        s.call("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local", "content": "iso" })).await;
    let volids: Vec<&str> =
        content["structuredContent"]["items"].as_array().unwrap().iter().filter_map(|i| i["volid"].as_str()).collect();
    assert!(volids.contains(&"local:iso/tiny.iso"), "uploaded: {volids:?}");
    assert!(volids.contains(&"local:iso/alpine.iso"), "downloaded: {volids:?}");
    assert!(!volids.contains(&"local:iso/debian-13.iso"), "deleted: {volids:?}");

    // Backups and single-file restore: fakepve answers these from the schema (no PBS behind it).
    for (tool, args) in [
        ("proxmox_prune_backups", json!({ "node": "pve1", "storage": "local" })),
        (
            "proxmox_prune_backups",
            json!({ "node": "pve1", "storage": "local", "keep-last": 2, "vmid": 100, "type": "qemu", "dry_run": false }),
        ),
        (
            "proxmox_list_file_restore",
            json!({ "node": "pve1", "storage": "local", "volume": "local:backup/vzdump-qemu-100-2025_01_01-00_00_00.vma.zst" }),
        ),
        (
            "proxmox_download_file_restore",
            json!({ "node": "pve1", "storage": "local", "volume": "local:backup/vzdump-qemu-100-2025_01_01-00_00_00.vma.zst", "path": "/etc/hostname" }),
        ),
    ] {
        let result = s.call(tool, args).await;
        assert_accepted(tool, &result);
    }
    call_ok(&mut s, "proxmox_delete_storage", json!({ "storage": "scratch" })).await;
    assert!(s.close().await.success());
    let _ = std::fs::remove_dir_all(dir);
}
