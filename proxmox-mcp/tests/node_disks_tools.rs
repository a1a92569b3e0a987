//! The Node Disk Query tools against a mock Proxmox (exact requests, rendered results) and
//! against fakepve (the real API schema).

mod common;

use common::{AUTH, Pve, api};
use httpmock::Method::GET;
use serde_json::json;

#[tokio::test]
async fn get_node_disks_sends_filters_as_query_parameters() {
    let pve = Pve::start().await;
    let filtered = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/disks/list"))
                .query_param("include-partitions", "1")
                .query_param("skipsmart", "0")
                .query_param("type", "journal_disks")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "devpath": "/dev/sdb", "size": 2_000_398_934_016u64, "vendor": "ATA     ", "model": "WDC WD20EFRX", "serial": "WD-123", "health": "FAILED", "type": "hdd" },
                { "devpath": "/dev/nvme0n1", "size": 512_110_190_592u64, "model": "Samsung SSD 980", "serial": "S64", "used": "LVM", "health": "PASSED", "type": "nvme", "gpt": 1 }
            ]}));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_get_node_disks",
            json!({ "node": "pve1", "include_partitions": true, "skip_smart": false, "type": "journal_disks" }),
        )
        .await;
    filtered.assert_async().await;
    assert!(
        out.text
            .contains("🟢 **/dev/nvme0n1** — 476.94 GiB nvme, Samsung SSD 980, serial S64, used by LVM, health PASSED"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("🔴 **/dev/sdb** — 1.82 TiB hdd, ATA WDC WD20EFRX, serial WD-123, unused, health FAILED"),
        "{}",
        out.text
    );
    assert_eq!(out.data["total"], 2);

    let plain = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve2/disks/list"))
                .query_param_missing("include-partitions")
                .query_param_missing("skipsmart")
                .query_param_missing("include_partitions")
                .query_param_missing("type");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.ok("proxmox_get_node_disks", json!({ "node": "pve2" })).await;
    plain.assert_async().await;
    assert_eq!(out.text, "No disks found on pve2.");

    let err =
        pve.call("proxmox_get_node_disks", json!({ "node": "pve1", "type": "ssd" })).await.unwrap_err().to_string();
    assert!(err.contains("`type`"), "{err}");
}

#[tokio::test]
async fn get_disk_smart_uses_healthonly() {
    let pve = Pve::start().await;
    let health = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/disks/smart"))
                .query_param("disk", "/dev/sda")
                .query_param("healthonly", "1")
                .query_param_missing("health_only")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": { "health": "PASSED" } }));
        })
        .await;
    let out =
        pve.ok("proxmox_get_disk_smart", json!({ "node": "pve1", "disk": "/dev/sda", "health_only": true })).await;
    health.assert_async().await;
    assert_eq!(out.text, "💽 **SMART of /dev/sda on pve1**\n• Health: 🟢 PASSED");

    let full = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/disks/smart")).query_param("disk", "/dev/sdb").query_param_missing("healthonly");
            then.status(200).json_body(json!({ "data": { "health": "PASSED", "type": "ata", "attributes": [
                { "id": "  5", "name": "Reallocated_Sector_Ct", "value": 100, "worst": 100, "threshold": 10, "raw": "0", "fail": "-" },
                { "id": "194", "name": "Temperature_Celsius", "value": 67, "worst": 50, "threshold": 0, "raw": "33" }
            ]}}));
        })
        .await;
    let out = pve.ok("proxmox_get_disk_smart", json!({ "node": "pve1", "disk": "/dev/sdb" })).await;
    full.assert_async().await;
    assert!(out.text.contains("• Type: ata\n\n| ID | Attribute | Value | Worst | Threshold | Raw |"), "{}", out.text);
    assert!(out.text.contains("| 194 | Temperature_Celsius | 67 | 50 | 0 | 33 |"), "{}", out.text);

    let nvme = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/disks/smart")).query_param("disk", "/dev/nvme0n1");
            then.status(200).json_body(json!({ "data": { "health": "PASSED", "type": "text", "text": "Critical Warning: 0x00\nTemperature: 35 Celsius\n" } }));
        })
        .await;
    let out = pve.ok("proxmox_get_disk_smart", json!({ "node": "pve1", "disk": "/dev/nvme0n1" })).await;
    nvme.assert_async().await;
    assert!(out.text.ends_with("```\nCritical Warning: 0x00\nTemperature: 35 Celsius\n```"), "{}", out.text);

    // Only block device paths, checked before any request.
    for bad in ["sda", "/dev/../etc/passwd", "/dev/sda;reboot", "/dev/"] {
        let err =
            pve.call("proxmox_get_disk_smart", json!({ "node": "pve1", "disk": bad })).await.unwrap_err().to_string();
        assert!(err.contains("`disk`"), "{bad}: {err}");
    }
}

#[tokio::test]
async fn get_node_lvm_shows_groups_and_pvs() {
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/nodes/pve1/disks/lvm",
            json!({ "leaf": 0, "children": [
                { "name": "pve", "size": 107_374_182_400u64, "free": 26_843_545_600u64, "leaf": 0, "children": [
                    { "name": "/dev/sda3", "size": 107_374_182_400u64, "free": 26_843_545_600u64, "leaf": 1 }
                ]}
            ]}),
        )
        .await;
    let out = pve.ok("proxmox_get_node_lvm", json!({ "node": "pve1" })).await;
    m.assert_async().await;
    assert!(
        out.text.contains("• **pve** — used 75.00 GiB / 100.00 GiB (75.0%), free 25.00 GiB\n  ◦ /dev/sda3 — 100.00 GiB, free 25.00 GiB"),
        "{}",
        out.text
    );
    assert_eq!(out.data["children"][0]["name"], "pve");

    let none = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/disks/lvm"));
            then.status(200).json_body(json!({ "data": { "leaf": 0, "children": [] } }));
        })
        .await;
    let out = pve.ok("proxmox_get_node_lvm", json!({ "node": "pve2" })).await;
    none.assert_async().await;
    assert_eq!(out.text, "No LVM volume groups on pve2.");
}

#[tokio::test]
async fn get_node_zfs_lists_pools() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/nodes/pve1/disks/zfs", json!([
        { "name": "rpool", "size": 1_000_000_000_000u64, "alloc": 250_000_000_000u64, "free": 750_000_000_000u64, "frag": 12, "dedup": 1.0, "health": "ONLINE" },
        { "name": "backup", "size": 100, "alloc": 90, "free": 10, "frag": 50, "dedup": 1.25, "health": "DEGRADED" }
    ])).await;
    let out = pve.ok("proxmox_get_node_zfs", json!({ "node": "pve1" })).await;
    m.assert_async().await;
    assert!(
        out.text.contains("🟢 **rpool** (ONLINE) — allocated 232.83 GiB / 931.32 GiB (25.0%), free 698.49 GiB, fragmentation 12%, dedup 1.00x"),
        "{}",
        out.text
    );
    assert!(out.text.contains("🔴 **backup** (DEGRADED)"), "{}", out.text);
    assert!(out.text.find("backup") < out.text.find("rpool"), "sorted");
}
