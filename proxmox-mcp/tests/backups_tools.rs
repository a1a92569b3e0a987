//! The Backups tools: exact requests against a mock Proxmox, refusal without elevation, bad
//! input, and backup → list → restore → delete against fakepve.

mod common;

use common::{AUTH, Pve, api, assert_refused, assert_refused_arg, assert_task, expect};
use serde_json::{Value, json};

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:vzdump:100:root@pam!mcp:";
const VM_BACKUP: &str = "local:backup/vzdump-qemu-100-2025_01_31-12_00_00.vma.zst";
const CT_BACKUP: &str = "local:backup/vzdump-lxc-200-2025_01_31-12_00_00.tar.zst";

#[tokio::test]
async fn create_backup_posts_vzdump_with_zstd_by_default() {
    let out = expect(
        "proxmox_create_backup_vm",
        json!({ "node": "pve1", "vmid": 100 }),
        "POST",
        "/nodes/pve1/vzdump",
        &[("vmid", "100"), ("mode", "snapshot"), ("compress", "zstd")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Backup of VM 100 started");
    for expected in
        ["• Storage: the node's default", "• Mode: snapshot: live backup, no downtime", "• Compression: zstd"]
    {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert_eq!(out.data["vmid"], 100);
    assert_eq!(out.data["mode"], "snapshot");
    assert_eq!(out.data["storage"], Value::Null);
}

#[tokio::test]
async fn create_backup_sends_every_option() {
    let out = expect(
        "proxmox_create_backup_lxc",
        json!({
            "node": "pve1", "vmid": 200, "storage": "backups", "mode": "stop", "compress": "none",
            "notes-template": "{{guestname}} nightly", "protected": true, "remove": false, "bwlimit": 10240
        }),
        "POST",
        "/nodes/pve1/vzdump",
        &[
            ("vmid", "200"),
            ("storage", "backups"),
            ("mode", "stop"),
            ("compress", "0"),
            ("notes-template", "{{guestname}} nightly"),
            ("protected", "1"),
            ("remove", "0"),
            ("bwlimit", "10240"),
        ],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Backup of container 200 started");
    assert!(out.text.contains("• Storage: backups\n• Mode: stop: "), "{}", out.text);
    assert!(out.text.contains("• Compression: none"), "{}", out.text);
    for (given, sent) in [("0", "0"), ("1", "1"), ("gzip", "gzip"), ("lzo", "lzo")] {
        expect(
            "proxmox_create_backup_vm",
            json!({ "node": "pve1", "vmid": 100, "compress": given, "mode": "suspend" }),
            "POST",
            "/nodes/pve1/vzdump",
            &[("vmid", "100"), ("mode", "suspend"), ("compress", sent)],
            json!(UPID),
        )
        .await;
    }
}

#[tokio::test]
async fn list_backups_reads_backup_content_newest_first() {
    let items = json!([
        { "volid": "local:backup/vzdump-lxc-200-2024_01_01-00_00_00.tar.zst", "content": "backup", "format": "tar.zst",
          "size": 1_048_576, "ctime": 1_704_067_200u64, "vmid": 200, "subtype": "lxc" },
        { "volid": VM_BACKUP, "content": "backup", "format": "vma.zst", "size": 3_221_225_472u64,
          "ctime": 1_738_324_800u64, "vmid": 100, "notes": "web\nbefore upgrade", "protected": 1 },
        { "volid": "local:backup/odd.vma", "content": "backup", "format": "vma", "size": 1 }
    ]);
    // One storage: read as it is; a basic tool (it only reads), unlike the old server's.
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method("GET")
                .path(api("/nodes/pve1/storage/local/content"))
                .header("authorization", AUTH)
                .query_param("content", "backup")
                .query_param_count(".*", ".*", 1);
            then.status(200).json_body(json!({ "data": items }));
        })
        .await;
    let out =
        pve.call_with("proxmox_list_backups", json!({ "node": "pve1", "storage": "local" }), false).await.unwrap();
    m.assert_async().await;
    assert!(out.text.starts_with("💾 **Backups on local (pve1)** (3)"), "{}", out.text);
    let (vm, ct, odd) =
        (out.text.find("vzdump-qemu").unwrap(), out.text.find("vzdump-lxc").unwrap(), out.text.find("odd").unwrap());
    assert!(vm < ct && ct < odd, "newest first: {}", out.text);
    assert!(
        out.text.contains(&format!(
            "• **{VM_BACKUP}** — VM 100, 3.00 GiB, 2025-01-31 12:00:00 UTC, 🔒 protected\n  web before upgrade"
        )),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("vzdump-lxc-200-2024_01_01-00_00_00.tar.zst** — CT 200, 1.00 MiB, 2024-01-01 00:00:00 UTC"),
        "{}",
        out.text
    );
    assert!(out.text.contains("• **local:backup/odd.vma** — 1 B"), "{}", out.text);
    assert_eq!(out.data["total"], 3);
    assert_eq!(out.data["items"][0]["volid"], VM_BACKUP);

    let out = expect(
        "proxmox_list_backups",
        json!({ "node": "pve1", "storage": "pbs", "vmid": 101 }),
        "GET",
        "/nodes/pve1/storage/pbs/content",
        &[("content", "backup"), ("vmid", "101")],
        json!([]),
    )
    .await;
    assert_eq!(
        out.text,
        "No backups of guest 101 on pbs (pve1). Other storages may hold some: leave out `storage` to look at all of them."
    );
}

#[tokio::test]
async fn list_backups_without_a_storage_reads_every_backup_storage_once() {
    let pve = Pve::start().await;
    pve.mock_get("/nodes", json!([
        { "node": "pve1", "status": "online" }, { "node": "pve2", "status": "online" }, { "node": "pve3", "status": "offline" }
    ])).await;
    // Proxmox lists the storages whose content includes backup; nas is shared, local per node.
    for node in ["pve1", "pve2"] {
        let storages = json!([
            { "storage": "local", "type": "dir", "content": "backup,iso", "active": 1, "enabled": 1, "shared": 0 },
            { "storage": "nas", "type": "nfs", "content": "backup", "active": 1, "enabled": 1, "shared": 1 },
            { "storage": "old", "type": "dir", "content": "backup", "active": 0, "enabled": 0, "shared": 0 }
        ]);
        pve.server
            .mock_async(|when, then| {
                when.method("GET").path(api(&format!("/nodes/{node}/storage"))).query_param("content", "backup");
                then.status(200).json_body(json!({ "data": storages }));
            })
            .await;
    }
    let backup = |storage: &str, vmid: u64, ctime: u64| json!({ "volid": format!("{storage}:backup/vzdump-qemu-{vmid}-{ctime}.vma.zst"), "vmid": vmid, "ctime": ctime, "size": 1024, "format": "vma.zst" });
    let mut reads = Vec::new();
    for (node, storage, items) in [
        ("pve1", "local", json!([backup("local", 100, 1_700_000_100)])),
        ("pve2", "local", json!([backup("local", 100, 1_700_000_300)])),
        ("pve1", "nas", json!([backup("nas", 100, 1_700_000_200)])),
    ] {
        reads.push(
            pve.server
                .mock_async(|when, then| {
                    when.method("GET")
                        .path(api(&format!("/nodes/{node}/storage/{storage}/content")))
                        .query_param("content", "backup")
                        .query_param("vmid", "100");
                    then.status(200).json_body(json!({ "data": items }));
                })
                .await,
        );
    }
    let out = pve.call_with("proxmox_list_backups", json!({ "vmid": 100 }), false).await.unwrap();
    for read in &reads {
        // Each storage once: the shared one is not read again from pve2.
        read.assert_async().await;
    }
    assert!(out.text.starts_with("💾 **Backups of guest 100 on 3 storages** (3)"), "{}", out.text);
    let volids: Vec<&str> =
        out.data["items"].as_array().unwrap().iter().map(|b| b["volid"].as_str().unwrap()).collect();
    assert_eq!(
        volids,
        [
            "local:backup/vzdump-qemu-100-1700000300.vma.zst",
            "nas:backup/vzdump-qemu-100-1700000200.vma.zst",
            "local:backup/vzdump-qemu-100-1700000100.vma.zst"
        ],
        "newest first"
    );
    assert_eq!(out.data["items"][0]["node"], "pve2");
    assert!(out.text.contains("via pve2"), "{}", out.text);
    assert_eq!(out.data["unread"], json!(["pve3"]));
    assert!(out.text.contains("⚠️ Not read (node offline or storage unavailable): pve3"), "{}", out.text);
}

#[tokio::test]
async fn restore_vm_posts_archive_to_qemu() {
    let out = expect(
        "proxmox_restore_backup_vm",
        json!({
            "node": "pve1", "vmid": 100, "archive": VM_BACKUP, "storage": "local-lvm", "force": true, "unique": true,
            "start": true, "live-restore": false, "pool": "prod", "bwlimit": 0
        }),
        "POST",
        "/nodes/pve1/qemu",
        &[
            ("vmid", "100"),
            ("archive", VM_BACKUP),
            ("storage", "local-lvm"),
            ("force", "1"),
            ("unique", "1"),
            ("start", "1"),
            ("live-restore", "0"),
            ("pool", "prod"),
            ("bwlimit", "0"),
        ],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, &format!("Backup {VM_BACKUP} is being restored to VM 100"));
    assert!(out.text.contains("• Storage: local-lvm\n⚠️ An existing VM 100 is overwritten."), "{}", out.text);
    assert_eq!(out.data["archive"], VM_BACKUP);
    // No `restore` parameter: POST /nodes/{node}/qemu has none (the old server sent one).
    let out = expect(
        "proxmox_restore_backup_vm",
        json!({ "node": "pve1", "vmid": 105, "archive": VM_BACKUP }),
        "POST",
        "/nodes/pve1/qemu",
        &[("vmid", "105"), ("archive", VM_BACKUP)],
        json!(UPID),
    )
    .await;
    assert!(!out.text.contains("overwritten"), "{}", out.text);
}

#[tokio::test]
async fn restore_lxc_posts_the_archive_as_ostemplate_with_restore() {
    let out = expect(
        "proxmox_restore_backup_lxc",
        json!({ "node": "pve1", "vmid": 300, "archive": CT_BACKUP, "storage": "local-lvm", "unique": true, "pool": "prod" }),
        "POST",
        "/nodes/pve1/lxc",
        &[("vmid", "300"), ("ostemplate", CT_BACKUP), ("restore", "1"), ("storage", "local-lvm"), ("unique", "1"), ("pool", "prod")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, &format!("Backup {CT_BACKUP} is being restored to container 300"));
    expect(
        "proxmox_restore_backup_lxc",
        json!({ "node": "pve1", "vmid": 200, "archive": CT_BACKUP, "force": true, "start": true }),
        "POST",
        "/nodes/pve1/lxc",
        &[("vmid", "200"), ("ostemplate", CT_BACKUP), ("restore", "1"), ("force", "1"), ("start", "1")],
        json!(UPID),
    )
    .await;
}

#[tokio::test]
async fn delete_backup_deletes_the_volume() {
    let out = expect(
        "proxmox_delete_backup",
        json!({ "node": "pve1", "storage": "local", "volume": VM_BACKUP }),
        "DELETE",
        &format!("/nodes/pve1/storage/local/content/{VM_BACKUP}"),
        &[],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, &format!("Backup {VM_BACKUP} is being deleted from local"));
    assert!(out.text.contains("cannot be recovered"), "{}", out.text);
    assert_eq!(out.data["volume"], VM_BACKUP);
    // A PBS snapshot volume id holds more `/` and `:`; it stays one path tail.
    let pbs = "pbs:backup/vm/100/2025-01-31T12:00:00Z";
    expect(
        "proxmox_delete_backup",
        json!({ "node": "pve1", "storage": "pbs", "volume": pbs }),
        "DELETE",
        &format!("/nodes/pve1/storage/pbs/content/{pbs}"),
        &[],
        Value::Null,
    )
    .await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_argument() {
    for (tool, args, named) in [
        ("proxmox_create_backup_vm", json!({ "node": "pve1", "vmid": 100, "compress": "bzip2" }), "compress"),
        ("proxmox_create_backup_vm", json!({ "node": "pve1", "vmid": 100, "mode": "live" }), "mode"),
        ("proxmox_create_backup_vm", json!({ "node": "pve1", "vmid": 100, "storage": "Local" }), "storage"),
        ("proxmox_create_backup_vm", json!({ "node": "pve1", "vmid": 100, "notes-template": "x" }), "notes-template"),
        ("proxmox_create_backup_lxc", json!({ "node": "pve1", "vmid": 200, "protected": true }), "protected"),
        (
            "proxmox_create_backup_lxc",
            json!({ "node": "pve1", "vmid": 200, "storage": "local", "notes-template": "x".repeat(1025) }),
            "notes-template",
        ),
        ("proxmox_list_backups", json!({ "node": "pve1", "storage": "../etc" }), "storage"),
        ("proxmox_restore_backup_vm", json!({ "node": "pve1", "vmid": 100 }), "archive"),
        (
            "proxmox_restore_backup_vm",
            json!({ "node": "pve1", "vmid": 100, "archive": "/var/lib/vz/dump/x.vma" }),
            "archive",
        ),
        (
            "proxmox_restore_backup_vm",
            json!({ "node": "pve1", "vmid": 100, "archive": "local-lvm:vm-100-disk-0" }),
            "archive",
        ),
        (
            "proxmox_restore_backup_vm",
            json!({ "node": "pve1", "vmid": 100, "archive": "local:backup/../x" }),
            "archive",
        ),
        (
            "proxmox_restore_backup_vm",
            json!({ "node": "pve1", "vmid": 100, "archive": format!("local:backup/{}", "a".repeat(250)) }),
            "archive",
        ),
        (
            "proxmox_restore_backup_lxc",
            json!({ "node": "pve1", "vmid": 300, "archive": CT_BACKUP, "live-restore": true }),
            "live-restore",
        ),
        (
            "proxmox_restore_backup_lxc",
            json!({ "node": "pve1", "vmid": 300, "archive": CT_BACKUP, "pool": "a b" }),
            "pool",
        ),
        (
            "proxmox_delete_backup",
            json!({ "node": "pve1", "storage": "local", "volume": "local:iso/debian-13.iso" }),
            "volume",
        ),
        ("proxmox_delete_backup", json!({ "node": "pve1", "storage": "nfs", "volume": VM_BACKUP }), "volume"),
        (
            "proxmox_delete_backup",
            json!({ "node": "pve1", "storage": "local", "volume": "local:backup/%2e%2e/x" }),
            "volume",
        ),
    ] {
        assert_refused_arg(tool, args, named).await;
    }
}

#[tokio::test]
async fn changing_tools_are_elevated_and_refused_without_elevation() {
    for (tool, args) in [
        ("proxmox_create_backup_lxc", json!({ "node": "pve1", "vmid": 200 })),
        ("proxmox_create_backup_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_restore_backup_lxc", json!({ "node": "pve1", "vmid": 300, "archive": CT_BACKUP })),
        ("proxmox_restore_backup_vm", json!({ "node": "pve1", "vmid": 105, "archive": VM_BACKUP })),
        ("proxmox_delete_backup", json!({ "node": "pve1", "storage": "local", "volume": VM_BACKUP })),
    ] {
        assert_refused(tool, args).await;
    }
    let registry = proxmox_mcp::Registry::builtin();
    assert!(!registry.get("proxmox_list_backups").unwrap().elevated, "listing only reads");
    for name in ["proxmox_restore_backup_vm", "proxmox_restore_backup_lxc", "proxmox_delete_backup"] {
        assert!(registry.get(name).unwrap().destructive(), "{name} is destructive");
    }
}
