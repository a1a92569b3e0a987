//! The VM Query tools against a mock Proxmox: exact requests and rendered results.

mod common;

use common::{Pve, api};
use httpmock::Method::GET;
use serde_json::json;

async fn mock_nodes(pve: &Pve) -> httpmock::Mock<'_> {
    pve.mock_get(
        "/nodes",
        json!([
            { "node": "pve1", "status": "online" },
            { "node": "pve2", "status": "online" },
            { "node": "pve3", "status": "offline" }
        ]),
    )
    .await
}

#[tokio::test]
async fn get_vms_walks_online_nodes_and_reports_offline_ones() {
    let pve = Pve::start().await;
    let nodes = mock_nodes(&pve).await;
    let q1 = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/qemu"));
            then.status(200).json_body(json!({ "data": [
                { "vmid": 101, "name": "db", "status": "running", "cpu": 0.25, "mem": 1073741824u64, "maxmem": 2147483648u64, "uptime": 120 },
                { "vmid": 100, "name": "web", "status": "stopped", "mem": 999, "maxmem": 1000 }
            ]}));
        })
        .await;
    let l1 = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/lxc"));
            then.status(200).json_body(json!({ "data": [ { "vmid": 200, "name": "dns", "status": "running", "cpu": 0.01, "mem": 1, "maxmem": 4, "uptime": 60 } ]}));
        })
        .await;
    let q2 = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/qemu"));
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let l2 = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/lxc"));
            then.status(595).body("{\"data\":null}");
        })
        .await;
    let never = pve
        .server
        .mock_async(|when, then| {
            when.path_includes("/pve3/");
            then.status(500);
        })
        .await;
    let out = pve.ok("proxmox_get_vms", json!({})).await;
    nodes.assert_async().await;
    q1.assert_async().await;
    l1.assert_async().await;
    q2.assert_async().await;
    l2.assert_async().await;
    assert_eq!(never.calls_async().await, 0, "offline nodes are not asked");
    // CPU is the `cpu` field (the old server showed mem/maxmem there).
    assert!(
        out.text.contains("🟢 🖥️ **db** (101) on pve1 — running, up 2m, CPU 25.0%, memory 1.00 GiB / 2.00 GiB (50.0%)"),
        "{}",
        out.text
    );
    assert!(out.text.contains("🔴 🖥️ **web** (100) on pve1 — stopped"), "{}", out.text);
    assert!(out.text.contains("📦 **dns** (200)"), "{}", out.text);
    assert!(out.text.find("(100)") < out.text.find("(101)"), "sorted by vmid");
    assert!(out.text.contains("Not listed (node offline or unreachable): pve3, pve2"), "{}", out.text);
    assert_eq!(out.data["total"], 3);
    assert_eq!(out.data["guests"][2]["type"], "lxc");
    assert_eq!(out.data["unreachable_nodes"][0], "pve3");
}

#[tokio::test]
async fn get_vms_on_one_node_and_one_type() {
    let pve = Pve::start().await;
    let lxc = pve.mock_get("/nodes/pve2/lxc", json!([ { "vmid": 300, "status": "stopped" } ])).await;
    let other = pve
        .server
        .mock_async(|when, then| {
            when.path_excludes("/nodes/pve2/lxc");
            then.status(500);
        })
        .await;
    let out = pve.ok("proxmox_get_vms", json!({ "node": "pve2", "type": "lxc" })).await;
    lxc.assert_async().await;
    assert_eq!(other.calls_async().await, 0);
    assert!(out.text.contains("**VM-300** (300) on pve2 — stopped"), "{}", out.text);
}

#[tokio::test]
async fn get_vm_status_uses_the_guest_type() {
    let pve = Pve::start().await;
    let qemu = pve.mock_get("/nodes/pve1/qemu/100/status/current", json!({
        "vmid": 100, "name": "web", "status": "running", "qmpstatus": "running", "uptime": 7200, "cpu": 0.5, "cpus": 2,
        "mem": 536870912u64, "maxmem": 1073741824u64, "diskread": 1024, "diskwrite": 2048, "netin": 4096, "netout": 8192
    })).await;
    let out = pve.ok("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 100 })).await;
    qemu.assert_async().await;
    for expected in [
        "🟢 **web (100)**",
        "Node: pve1",
        "Type: qemu",
        "Uptime: 2h 0m",
        "CPU: 50.0% of 2 cores",
        "Memory: 512.00 MiB / 1.00 GiB (50.0%)",
        "Disk read/write: 1.00 KiB / 2.00 KiB",
        "Network in/out: 4.00 KiB / 8.00 KiB",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    let lxc = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/lxc/200/status/current"));
            then.status(200).json_body(json!({ "data": { "vmid": 200, "status": "stopped" } }));
        })
        .await;
    let out = pve.ok("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": "200", "type": "lxc" })).await;
    lxc.assert_async().await;
    assert!(out.text.starts_with("🔴 **container 200**"), "{}", out.text);
    assert!(!out.text.contains("Uptime"), "no usage when stopped: {}", out.text);
}

#[tokio::test]
async fn get_vm_config_lists_disks_and_nics_in_order() {
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/nodes/pve1/qemu/100/config",
            json!({
                "name": "web", "memory": "2048", "cores": 2, "ostype": "l26", "boot": "order=scsi0;net0",
                "scsi10": "local-lvm:vm-100-disk-2,size=1G", "scsi0": "local-lvm:vm-100-disk-0,size=32G",
                "scsi2": "local-lvm:vm-100-disk-1,size=8G", "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0",
                "scsihw": "virtio-scsi-single", "digest": "abc"
            }),
        )
        .await;
    let out = pve.ok("proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 100 })).await;
    m.assert_async().await;
    assert!(out.text.contains("• Memory: 2048 MiB\n• Cores: 2\n• Sockets: 1"), "{}", out.text);
    let (s0, s2, s10) =
        (out.text.find("scsi0:").unwrap(), out.text.find("scsi2:").unwrap(), out.text.find("scsi10:").unwrap());
    assert!(s0 < s2 && s2 < s10, "numeric order: {}", out.text);
    assert!(!out.text.contains("scsihw:"), "only numbered devices: {}", out.text);
    assert!(out.text.contains("• net0: virtio=BC:24:11:00:00:01,bridge=vmbr0"));
    assert_eq!(out.data["digest"], "abc");
}

#[tokio::test]
async fn get_lxc_config_shows_mount_points() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/nodes/pve1/lxc/200/config", json!({
        "hostname": "dns", "memory": 512, "ostype": "debian", "rootfs": "local-lvm:vm-200-disk-0,size=8G",
        "mp0": "local-lvm:vm-200-disk-1,mp=/srv,size=4G", "net0": "name=eth0,bridge=vmbr0,ip=dhcp", "unprivileged": 1
    })).await;
    let out = pve.ok("proxmox_get_lxc_config", json!({ "node": "pve1", "vmid": 200 })).await;
    m.assert_async().await;
    for expected in [
        "• Hostname: dns",
        "• Swap: 0 MiB",
        "• Cores: unlimited",
        "• Root disk: local-lvm:vm-200-disk-0,size=8G",
        "• mp0: local-lvm:vm-200-disk-1,mp=/srv,size=4G",
        "• net0: name=eth0",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
}

#[tokio::test]
async fn get_storage_lists_shared_storage_once_and_local_storage_per_node() {
    let pve = Pve::start().await;
    let nodes = mock_nodes(&pve).await;
    let s1 = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/storage"));
            then.status(200).json_body(json!({ "data": [
                { "storage": "local", "type": "dir", "content": "iso,vztmpl,backup", "used": 1073741824u64, "total": 4294967296u64, "enabled": 1, "active": 1 },
                { "storage": "ceph", "type": "rbd", "content": "images", "shared": 1, "used": 0, "total": 1024, "enabled": 1, "active": 1 }
            ]}));
        })
        .await;
    let s2 = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/storage"));
            then.status(200).json_body(json!({ "data": [
                { "storage": "ceph", "type": "rbd", "content": "images", "shared": 1, "enabled": 1, "active": 1 },
                { "storage": "local", "type": "dir", "content": "iso,vztmpl,backup", "used": 3221225472u64, "total": 4294967296u64, "enabled": 1, "active": 1 },
                { "storage": "backup", "type": "pbs", "content": "backup", "enabled": 0, "active": 0 }
            ]}));
        })
        .await;
    let out = pve.ok("proxmox_get_storage", json!({})).await;
    nodes.assert_async().await;
    s1.assert_async().await;
    s2.assert_async().await;
    // ceph once, seen from both nodes; each node's own `local` is a storage of its own.
    assert_eq!(out.data["total"], 4);
    assert_eq!(out.text.matches("**ceph**").count(), 1, "{}", out.text);
    assert!(
        out.text.contains("🟢 **ceph** (rbd) on pve1, pve2 — images; 0 B / 1.00 KiB (0.0%), shared"),
        "{}",
        out.text
    );
    assert_eq!(out.data["storages"][1]["nodes"], json!(["pve1", "pve2"]));
    assert!(
        out.text.contains("🟢 **local** (dir) on pve2 — iso,vztmpl,backup; 3.00 GiB / 4.00 GiB (75.0%)"),
        "{}",
        out.text
    );
    assert!(out.text.contains("🔴 **backup** (pbs) on pve2"), "{}", out.text);
    assert!(
        out.text.contains("🟢 **local** (dir) on pve1 — iso,vztmpl,backup; 1.00 GiB / 4.00 GiB (25.0%)"),
        "{}",
        out.text
    );
    assert!(out.text.contains("pve3"), "offline node named: {}", out.text);
}
