//! Contract tests of the core's tools against fakepve: through MCP over stdio, TLS verified
//! against fakepve's certificate, every tool is called with valid arguments and none is
//! answered with a 400, 404 or 501.

use crate::common::fakepve::{FakePve, assert_ok, error_text};
use crate::common::mcp::{Session, text};
use serde_json::json;

pub async fn core_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    let calls = [
        ("proxmox_get_nodes", json!({})),
        ("proxmox_get_node_status", json!({ "node": "pve1" })),
        ("proxmox_get_node_network", json!({ "node": "pve1" })),
        ("proxmox_get_node_network", json!({ "node": "pve1", "type": "bridge" })),
        ("proxmox_get_node_dns", json!({ "node": "pve1" })),
        ("proxmox_get_network_iface", json!({ "node": "pve1", "iface": "vmbr0" })),
        ("proxmox_get_cluster_status", json!({})),
        ("proxmox_get_next_vmid", json!({})),
        ("proxmox_get_vms", json!({})),
        ("proxmox_get_vms", json!({ "node": "pve1", "type": "lxc" })),
        ("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 200, "type": "lxc" })),
        ("proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_get_lxc_config", json!({ "node": "pve1", "vmid": 200 })),
        ("proxmox_get_storage", json!({})),
        ("proxmox_get_storage", json!({ "node": "pve1" })),
    ];
    for (tool, args) in calls {
        let result = s.call(tool, args).await;
        assert_ok(tool, &result);
    }
    // What fakepve holds comes back through our tools.
    let vms = s.call("proxmox_get_vms", json!({})).await;
    let listed: Vec<u64> =
        vms["structuredContent"]["guests"].as_array().unwrap().iter().filter_map(|g| g["vmid"].as_u64()).collect();
    assert_eq!(listed, [100, 101, 200], "{}", text(&vms));
    let status = s.call("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 100 })).await;
    assert_eq!(status["structuredContent"]["status"], "running");
    let config = s.call("proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(config["structuredContent"]["scsi0"], "local-lvm:vm-101-disk-0,size=8G", "{config}");
    let next = s.call("proxmox_get_next_vmid", json!({})).await;
    assert_eq!(next["structuredContent"]["vmid"], 102);
    // A node that does not exist is a clear error, not a crash.
    let missing = s.call("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 999 })).await;
    assert_eq!(missing["isError"], true);
    assert!(s.close().await.success());
}

pub async fn a_wrong_token_is_a_clear_401() {
    let pve = FakePve::start().await;
    let mut env = pve.env(false);
    env.retain(|(k, _)| *k != "PROXMOX_TOKEN_VALUE");
    env.push(("PROXMOX_TOKEN_VALUE", "00000000-0000-0000-0000-000000000000".into()));
    let mut s = Session::spawn(&env);
    s.initialize().await;
    let result = s.call("proxmox_get_nodes", json!({})).await;
    assert_eq!(result["isError"], true);
    assert_eq!(result["structuredContent"]["error"]["status"], 401);
    assert!(error_text(&result).contains("PROXMOX_TOKEN_VALUE"), "{result}");
    // And strict mode refuses fakepve's self-signed certificate, naming its fingerprint.
    let mut env = pve.env(false);
    env.retain(|(k, _)| !matches!(*k, "PROXMOX_SSL_MODE" | "PROXMOX_SSL_CA_CERT"));
    let mut s = Session::spawn(&env);
    s.initialize().await;
    let result = s.call("proxmox_get_nodes", json!({})).await;
    assert_eq!(result["isError"], true);
    let error = error_text(&result);
    assert!(error.contains("TLS failed") && error.contains("PROXMOX_SSL_FINGERPRINT="), "{result}");
}
