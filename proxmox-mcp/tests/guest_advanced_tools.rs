//! The VM/LXC Advanced tools (migrate, template, RRD data) against a mock Proxmox: exact
//! requests and rendered results; then against fakepve.

mod common;

use common::{AUTH, Pve, api, assert_refused, invalid_args};
use httpmock::Method::{GET, POST};
use serde_json::{Value, json};

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmigrate:100:root@pam!mcp:";

#[tokio::test]
async fn migrate_vm_sends_only_the_api_parameters() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/qemu/100/migrate"))
                .header("authorization", AUTH)
                .body("bwlimit=10240&migration_type=insecure&online=1&target=pve2&targetstorage=local-lvm%3Aceph&with-local-disks=1");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_migrate_vm",
            json!({ "node": "pve1", "vmid": 100, "target": "pve2", "online": true, "with-local-disks": true,
                    "targetstorage": "local-lvm:ceph", "bwlimit": 10240, "migration_type": "insecure" }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ VM 100 is migrating from pve1 to pve2"), "{}", out.text);
    assert_eq!(out.data["upid"], UPID);
    assert_eq!(out.data["node"], "pve1");
}

#[tokio::test]
async fn migrate_vm_refuses_what_proxmox_does_not_have() {
    let pve = Pve::start().await;
    let any = pve.fail_any().await;
    // A container's option is no VM's (the old server's `with-local-storage` is read as
    // `with-local-disks`: tests/old_argument_shapes.rs).
    let args = json!({ "node": "pve1", "vmid": 100, "target": "pve2", "restart": true });
    let list = invalid_args(pve.call("proxmox_migrate_vm", args).await);
    assert_eq!(list[0].0, "restart", "{list:?}");
    let list =
        invalid_args(pve.call("proxmox_migrate_vm", json!({ "node": "pve1", "vmid": 100, "target": "pve1" })).await);
    assert_eq!(list[0].0, "target");
    assert!(list[0].1.contains("already"), "{list:?}");
    let list = invalid_args(
        pve.call(
            "proxmox_migrate_vm",
            json!({ "node": "pve1", "vmid": 100, "target": "pve2", "targetstorage": "../x" }),
        )
        .await,
    );
    assert_eq!(list[0].0, "targetstorage", "{list:?}");
    let list = invalid_args(
        pve.call(
            "proxmox_migrate_vm",
            json!({ "node": "pve1", "vmid": 100, "target": "pve2", "migration_network": "10.0.0.0/33" }),
        )
        .await,
    );
    assert_eq!(list[0].0, "migration_network", "{list:?}");
    let list =
        invalid_args(pve.call("proxmox_migrate_vm", json!({ "node": "pve1", "vmid": 100, "target": "a/../b" })).await);
    assert_eq!(list[0].0, "target", "{list:?}");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn migrate_lxc_uses_the_container_parameters() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/lxc/200/migrate"))
                .header("authorization", AUTH)
                .body("restart=1&target=pve2&target-storage=local-lvm&timeout=60");
            then.status(200)
                .json_body(json!({ "data": UPID.replace("qmigrate", "vzmigrate").replace(":100:", ":200:") }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_migrate_lxc",
            json!({ "node": "pve1", "vmid": 200, "target": "pve2", "restart": true, "timeout": 60, "target-storage": "local-lvm" }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Container 200 is migrating from pve1 to pve2"), "{}", out.text);
    assert!(out.data["upid"].as_str().unwrap().contains("vzmigrate"));

    // `force` and `with-local-disks` are QEMU-only; a timeout needs a restart migration.
    let any = pve.fail_any().await;
    for bad in ["force", "with-local-disks"] {
        let mut args = json!({ "node": "pve1", "vmid": 200, "target": "pve2" });
        args[bad] = json!(true);
        let list = invalid_args(pve.call("proxmox_migrate_lxc", args).await);
        assert_eq!(list[0].0, bad, "{list:?}");
    }
    let list = invalid_args(
        pve.call("proxmox_migrate_lxc", json!({ "node": "pve1", "vmid": 200, "target": "pve2", "timeout": 60 })).await,
    );
    assert_eq!(list[0].0, "timeout");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn create_template_vm_with_and_without_a_disk() {
    let pve = Pve::start().await;
    let whole = pve
        .server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/101/template")).header("authorization", AUTH).body("");
            then.status(200).json_body(json!({ "data": UPID.replace("qmigrate", "qmtemplate") }));
        })
        .await;
    let out = pve.ok("proxmox_create_template_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    whole.assert_async().await;
    assert!(out.text.starts_with("✅ VM 101 is becoming a template"), "{}", out.text);
    assert!(out.data["upid"].as_str().unwrap().contains("qmtemplate"));
    let disk = pve
        .server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/102/template")).form_urlencoded_tuple("disk", "scsi1");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve.ok("proxmox_create_template_vm", json!({ "node": "pve1", "vmid": 102, "disk": "scsi1" })).await;
    disk.assert_async().await;
    assert!(out.text.contains("Disk scsi1 of VM 102"), "{}", out.text);
    for bad in ["scsi31", "virtio16", "net0", "scsi01", "ide0/.."] {
        let list = invalid_args(
            pve.call("proxmox_create_template_vm", json!({ "node": "pve1", "vmid": 102, "disk": bad })).await,
        );
        assert_eq!(list[0].0, "disk", "{bad}: {list:?}");
    }
    // The tool is flagged destructive: a template cannot go back.
    let registry = proxmox_mcp::Registry::builtin();
    for name in ["proxmox_create_template_vm", "proxmox_create_template_lxc"] {
        let t = registry.get(name).unwrap();
        assert!(t.elevated && t.destructive(), "{name}");
    }
}

#[tokio::test]
async fn create_template_lxc_answers_without_a_task() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/lxc/200/template")).header("authorization", AUTH).body("");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve.ok("proxmox_create_template_lxc", json!({ "node": "pve1", "vmid": 200 })).await;
    m.assert_async().await;
    assert_eq!(out.text, "✅ Container 200 on pve1 is now a template");
    assert_eq!(out.data, json!({ "node": "pve1", "vmid": 200 }));
}

fn points() -> Value {
    json!([
        { "time": 1767225480, "cpu": 0.10, "maxcpu": 2, "mem": 1073741824u64, "maxmem": 2147483648u64,
          "netin": 1024, "netout": 2048, "diskread": 0, "diskwrite": 4096 },
        { "time": 1767225540, "cpu": 0.30, "maxcpu": 2, "mem": 536870912u64, "maxmem": 2147483648u64,
          "netin": 3072, "netout": 2048, "diskread": 1024, "diskwrite": 0 },
        // A minute without data (the guest was off): no values, left out of the summary.
        { "time": 1767225600 }
    ])
}

#[tokio::test]
async fn vm_rrddata_summarises_the_points() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/qemu/100/rrddata"))
                .header("authorization", AUTH)
                .query_param("timeframe", "hour")
                .query_param_missing("cf");
            then.status(200).json_body(json!({ "data": points() }));
        })
        .await;
    let out = pve.ok("proxmox_get_vm_rrddata", json!({ "node": "pve1", "vmid": 100, "timeframe": "hour" })).await;
    m.assert_async().await;
    for expected in [
        "📈 **VM 100 performance** (node pve1, last hour, AVERAGE)",
        "3 points, 2025-12-31 23:58:00 UTC to 2026-01-01 00:00:00 UTC",
        "• CPU: latest 30.0%, average 20.0%, max 30.0%",
        "• Memory: latest 512.00 MiB, average 768.00 MiB, max 1.00 GiB (of 2.00 GiB)",
        "• Network in: latest 3.00 KiB/s, average 2.00 KiB/s, max 3.00 KiB/s",
        "• Network out: latest 2.00 KiB/s",
        "• Disk read: latest 1.00 KiB/s, average 512 B/s, max 1.00 KiB/s",
        "• Disk write: latest 0 B/s, average 2.00 KiB/s, max 4.00 KiB/s",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert_eq!(out.data["total"], 3);
    assert_eq!(out.data["items"][0]["netin"], 1024);
    assert_eq!(out.data["summary"]["cpu"]["latest"], 0.3);
    assert_eq!(out.data["timeframe"], "hour");
}

#[tokio::test]
async fn lxc_rrddata_with_max_and_no_data() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/lxc/200/rrddata"))
                .header("authorization", AUTH)
                .query_param("timeframe", "week")
                .query_param("cf", "MAX");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve
        .ok("proxmox_get_lxc_rrddata", json!({ "node": "pve1", "vmid": 200, "timeframe": "week", "cf": "MAX" }))
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("📈 **Container 200 performance** (node pve1, last week, MAX)"), "{}", out.text);
    assert!(out.text.contains("No performance data"), "{}", out.text);
    assert_eq!(out.data["total"], 0);
}

#[tokio::test]
async fn rrddata_requires_a_valid_timeframe() {
    let pve = Pve::start().await;
    let any = pve.fail_any().await;
    // Proxmox requires `timeframe`; left out it is `hour` (tests/old_argument_shapes.rs).
    for (tool, args) in [
        ("proxmox_get_vm_rrddata", json!({ "node": "pve1", "vmid": 100, "timeframe": "decade" })),
        ("proxmox_get_lxc_rrddata", json!({ "node": "pve1", "vmid": 200, "timeframe": "hour", "cf": "MIN" })),
        ("proxmox_get_lxc_rrddata", json!({ "node": "pve1", "vmid": 99, "timeframe": "hour" })),
    ] {
        let list = invalid_args(pve.call(tool, args.clone()).await);
        assert_eq!(list.len(), 1, "{args}: {list:?}");
    }
    assert_eq!(any.calls_async().await, 0);
    let schema = proxmox_mcp::Registry::builtin().get("proxmox_get_vm_rrddata").map(|t| t.input_schema()).unwrap();
    assert_eq!(schema["properties"]["timeframe"]["enum"], json!(["hour", "day", "week", "month", "year"]));
    assert_eq!(schema["properties"]["timeframe"]["default"], "hour");
    // Optional enums are plain string enums too.
    assert_eq!(schema["properties"]["cf"]["enum"], json!(["AVERAGE", "MAX"]), "{schema:?}");
    let schema = proxmox_mcp::Registry::builtin().get("proxmox_migrate_vm").map(|t| t.input_schema()).unwrap();
    assert_eq!(schema["properties"]["migration_type"]["enum"], json!(["secure", "insecure"]), "{schema:?}");
}

#[tokio::test]
async fn elevated_tools_are_refused_without_elevation() {
    assert_refused("proxmox_migrate_vm", json!({ "node": "pve1", "vmid": 100, "target": "pve2" })).await;
    assert_refused("proxmox_migrate_lxc", json!({ "node": "pve1", "vmid": 200, "target": "pve2", "restart": true }))
        .await;
    assert_refused("proxmox_create_template_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_refused("proxmox_create_template_lxc", json!({ "node": "pve1", "vmid": 200 })).await;
}
