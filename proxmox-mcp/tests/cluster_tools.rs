//! The Node & Cluster tools against a mock Proxmox: exact requests and rendered results.

mod common;

use common::{AUTH, Pve, api};
use httpmock::Method::GET;
use serde_json::json;

#[tokio::test]
async fn get_nodes_lists_every_node() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/nodes", json!([
        { "node": "pve2", "status": "offline" },
        { "node": "pve1", "status": "online", "uptime": 93_784, "cpu": 0.125, "mem": 4_294_967_296u64, "maxmem": 17_179_869_184u64, "maxcpu": 8 },
    ])).await;
    let out = pve.ok("proxmox_get_nodes", json!({})).await;
    m.assert_async().await;
    assert!(
        out.text.contains("🟢 **pve1** (online) — uptime 1d 2h 3m, CPU 12.5%, memory 4.00 GiB / 16.00 GiB (25.0%)"),
        "{}",
        out.text
    );
    assert!(out.text.contains("🔴 **pve2** (offline)"), "{}", out.text);
    assert!(out.text.find("pve1") < out.text.find("pve2"), "sorted by name");
    assert_eq!(out.data["total"], 2);
    assert_eq!(out.data["items"][0]["node"], "pve1");
}

#[tokio::test]
async fn get_node_status_reads_the_node() {
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/nodes/pve1/status",
            json!({
                "uptime": 3600, "cpu": 0.05, "loadavg": ["0.10", "0.20", "0.30"],
                "memory": { "used": 1073741824u64, "total": 4294967296u64, "free": 3221225472u64 },
                "rootfs": { "used": 5368709120u64, "total": 21474836480u64 },
                "pveversion": "pve-manager/9.1.2/abc", "cpuinfo": { "model": "AMD EPYC", "cpus": 8 },
                "current-kernel": { "release": "6.14.8-2-pve" }
            }),
        )
        .await;
    // Basic tier: works without PROXMOX_ALLOW_ELEVATED (the old server wrongly required it).
    let out = pve.call_with("proxmox_get_node_status", json!({ "node": "pve1" }), false).await.unwrap();
    m.assert_async().await;
    for expected in [
        "**Node pve1**",
        "Uptime: 1h 0m",
        "Load average: 0.10, 0.20, 0.30",
        "CPU: 5.0%",
        "Memory: 1.00 GiB / 4.00 GiB (25.0%)",
        "Root disk: 5.00 GiB / 20.00 GiB (25.0%)",
        "pve-manager/9.1.2",
        "6.14.8-2-pve",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert_eq!(out.data["cpuinfo"]["model"], "AMD EPYC");
}

#[tokio::test]
async fn get_node_network_filters_by_type() {
    let pve = Pve::start().await;
    let filtered = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/network")).query_param("type", "bridge").header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "iface": "vmbr0", "type": "bridge", "active": 1, "cidr": "192.0.2.10/24", "gateway": "192.0.2.1", "bridge_ports": "eno1" }
            ]}));
        })
        .await;
    let out = pve.ok("proxmox_get_node_network", json!({ "node": "pve1", "type": "bridge" })).await;
    filtered.assert_async().await;
    assert!(out.text.contains("🟢 **vmbr0** (bridge) 192.0.2.10/24, gateway 192.0.2.1, ports eno1"), "{}", out.text);

    let all = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/network")).query_param_missing("type");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.ok("proxmox_get_node_network", json!({ "node": "pve2" })).await;
    all.assert_async().await;
    assert_eq!(out.text, "No network interfaces found on pve2.");

    let err = pve.call("proxmox_get_node_network", json!({ "node": "pve1", "type": "wifi" })).await.unwrap_err();
    assert!(err.to_string().contains("`type`"), "{err}");
}

#[tokio::test]
async fn get_node_dns_shows_resolvers() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/dns")).header("authorization", AUTH);
            then.status(200)
                .json_body(json!({ "data": { "search": "example.com", "dns1": "192.0.2.53", "dns2": "192.0.2.54" } }));
        })
        .await;
    let out = pve.ok("proxmox_get_node_dns", json!({ "node": "pve1" })).await;
    m.assert_async().await;
    assert_eq!(out.text, "🌐 **DNS of pve1**\n• Search domain: example.com\n• DNS 1: 192.0.2.53\n• DNS 2: 192.0.2.54");
    assert_eq!(out.data["dns2"], "192.0.2.54");
}

#[tokio::test]
async fn get_network_iface_reads_one_interface() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/nodes/pve1/network/vmbr0.100", json!({ "type": "vlan", "method": "static", "cidr": "198.51.100.2/24", "autostart": 1, "families": ["inet"] })).await;
    let out = pve.ok("proxmox_get_network_iface", json!({ "node": "pve1", "iface": "vmbr0.100" })).await;
    m.assert_async().await;
    assert!(out.text.contains("• type: vlan\n• method: static\n• cidr: 198.51.100.2/24"), "{}", out.text);
    assert!(out.text.contains("• families: [\"inet\"]"), "{}", out.text);
}

#[tokio::test]
async fn get_cluster_status_combines_nodes_and_quorum() {
    let pve = Pve::start().await;
    let nodes = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes"));
            then.status(200).json_body(json!({ "data": [
                { "node": "pve1", "status": "online", "cpu": 0.5, "maxcpu": 4, "mem": 2147483648u64, "maxmem": 8589934592u64, "uptime": 60 },
                { "node": "pve2", "status": "online", "cpu": 0.0, "maxcpu": 4, "mem": 2147483648u64, "maxmem": 8589934592u64, "uptime": 60 },
                { "node": "pve3", "status": "offline" }
            ]}));
        })
        .await;
    let status = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/status"));
            then.status(200).json_body(json!({ "data": [
                { "type": "cluster", "id": "cluster", "name": "lab", "quorate": 1, "nodes": 3, "version": 5 },
                { "type": "node", "id": "node/pve1", "name": "pve1", "online": 1 }
            ]}));
        })
        .await;
    let out = pve.call_with("proxmox_get_cluster_status", json!({}), false).await.unwrap();
    nodes.assert_async().await;
    status.assert_async().await;
    for expected in [
        "Health: 🟡 Warning",
        "Cluster: lab",
        "Quorate: yes",
        "Nodes online: 2/3",
        "CPU: 25.0% of 8 cores",
        "Memory: 4.00 GiB / 16.00 GiB (25.0%)",
        "🔴 **pve3** (offline)",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert_eq!(out.data["healthy"], false);
    assert_eq!(out.data["nodes_online"], 2);
}

#[tokio::test]
async fn get_next_vmid_reads_the_id() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/cluster/nextid", json!("104")).await;
    let out = pve.ok("proxmox_get_next_vmid", json!({})).await;
    m.assert_async().await;
    assert_eq!(out.text, "🆔 Next available VMID: 104");
    assert_eq!(out.data["vmid"], 104);
}
