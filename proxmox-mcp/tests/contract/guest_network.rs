//! The guest network tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, call_ok, config_value, create_guests};
use crate::common::mcp::text;
use serde_json::json;

pub async fn network_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    create_guests(&mut s, 320, 321, 1).await;

    // VM: add net1, read it back, change it (the MAC stays), remove it.
    call_ok(
        &mut s,
        "proxmox_add_network_vm",
        json!({ "node": "pve1", "vmid": 320, "net": "net1", "bridge": "vmbr0", "vlan": 10, "firewall": true }),
    )
    .await;
    let net1 = config_value(&mut s, "proxmox_get_vm_config", 320, "net1").await.expect("net1 added");
    assert!(net1.starts_with("virtio") && net1.contains("tag=10") && net1.contains("firewall=1"), "{net1}");
    // Proxmox adds a MAC address (`virtio=BC:24:..`); fakepve 0.5 does so only at creation.
    let mac = net1.split(',').next().unwrap().strip_prefix("virtio=").map(str::to_string);
    call_ok(
        &mut s,
        "proxmox_update_network_vm",
        json!({ "node": "pve1", "vmid": 320, "net": "net1", "model": "e1000", "vlan": 0, "rate": 50 }),
    )
    .await;
    let net1 = config_value(&mut s, "proxmox_get_vm_config", 320, "net1").await.unwrap();
    let model = match &mac {
        Some(mac) => format!("e1000={mac},"),
        None => "e1000,".to_string(),
    };
    assert!(net1.starts_with(&model), "model changed, MAC kept: {net1}");
    assert!(!net1.contains("tag=") && net1.contains("rate=50"), "{net1}");
    call_ok(&mut s, "proxmox_remove_network_vm", json!({ "node": "pve1", "vmid": 320, "net": "net1" })).await;
    assert_eq!(config_value(&mut s, "proxmox_get_vm_config", 320, "net1").await, None, "net1 removed");

    // Container: the same.
    call_ok(
        &mut s,
        "proxmox_add_network_lxc",
        json!({ "node": "pve1", "vmid": 321, "net": "net1", "ip": "192.0.2.30/24", "gw": "192.0.2.1" }),
    )
    .await;
    let net1 = config_value(&mut s, "proxmox_get_lxc_config", 321, "net1").await.expect("net1 added");
    assert!(net1.starts_with("name=eth1") && net1.contains("ip=192.0.2.30/24"), "{net1}");
    call_ok(
        &mut s,
        "proxmox_update_network_lxc",
        json!({ "node": "pve1", "vmid": 321, "net": "net1", "ip": "dhcp", "vlan": 40 }),
    )
    .await;
    let net1 = config_value(&mut s, "proxmox_get_lxc_config", 321, "net1").await.unwrap();
    assert!(net1.contains("ip=dhcp") && net1.contains("tag=40") && net1.contains("name=eth1"), "{net1}");
    call_ok(&mut s, "proxmox_remove_network_lxc", json!({ "node": "pve1", "vmid": 321, "net": "net1" })).await;
    assert_eq!(config_value(&mut s, "proxmox_get_lxc_config", 321, "net1").await, None, "net1 removed");
    let missing = s.call("proxmox_remove_network_lxc", json!({ "node": "pve1", "vmid": 321, "net": "net1" })).await;
    assert_eq!(missing["isError"], true, "{}", text(&missing));
    assert!(s.close().await.success());
}
