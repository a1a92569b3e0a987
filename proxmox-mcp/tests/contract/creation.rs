//! The creation tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, call_ok};
use crate::common::mcp::text;
use serde_json::json;

pub async fn creation_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    let templates = call_ok(&mut s, "proxmox_list_templates", json!({ "node": "pve1" })).await;
    let template = templates["structuredContent"]["items"][0]["volid"].as_str().unwrap().to_string();
    assert_eq!(template, "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst");

    call_ok(
        &mut s,
        "proxmox_create_vm",
        json!({
            "node": "pve1", "vmid": 300, "name": "build", "memory": 1024, "cores": 2, "cpu": "host",
            "disk_size": 4, "iso": "local:iso/debian-13.iso", "agent": true, "description": "made by a test",
            "net0": { "bridge": "vmbr0", "vlan": 30, "firewall": true }
        }),
    )
    .await;
    let ct = call_ok(
        &mut s,
        "proxmox_create_lxc",
        json!({
            "node": "pve1", "vmid": 301, "ostemplate": template, "hostname": "cache", "password": "s3cret-pw",
            "memory": 256, "swap": 0, "cores": 1, "rootfs": 2, "features": { "nesting": true },
            "net0": { "ip": "192.0.2.20/24", "gw": "192.0.2.1" }
        }),
    )
    .await;
    assert!(!ct.to_string().contains("s3cret-pw"), "the password is shown: {ct}");

    // Both exist now, with what we asked for.
    let vms = s.call("proxmox_get_vms", json!({ "node": "pve1" })).await;
    let listed: Vec<u64> =
        vms["structuredContent"]["guests"].as_array().unwrap().iter().filter_map(|g| g["vmid"].as_u64()).collect();
    assert!(listed.contains(&300) && listed.contains(&301), "{}", text(&vms));
    let config = call_ok(&mut s, "proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 300 })).await;
    let cfg = &config["structuredContent"];
    assert_eq!(cfg["name"], "build");
    assert_eq!(cfg["cpu"], "host");
    assert_eq!(cfg["scsihw"], "virtio-scsi-single");
    assert!(cfg["scsi0"].as_str().unwrap().starts_with("local-lvm:vm-300-disk-0"), "{cfg}");
    assert!(cfg["scsi0"].as_str().unwrap().contains("size=4G"), "{cfg}");
    assert!(cfg["ide2"].as_str().unwrap().starts_with("local:iso/debian-13.iso"), "{cfg}");
    let net0 = cfg["net0"].as_str().unwrap();
    assert!(net0.starts_with("virtio=") && net0.contains("bridge=vmbr0") && net0.contains("tag=30"), "{net0}");
    assert_eq!(cfg["boot"], "order=scsi0;ide2;net0");

    let config = call_ok(&mut s, "proxmox_get_lxc_config", json!({ "node": "pve1", "vmid": 301 })).await;
    let cfg = &config["structuredContent"];
    assert_eq!(cfg["hostname"], "cache");
    assert_eq!(cfg["unprivileged"], 1);
    assert!(cfg["rootfs"].as_str().unwrap().starts_with("local-lvm:"), "{cfg}");
    assert!(cfg["rootfs"].as_str().unwrap().contains("size=2G"), "{cfg}");
    let net0 = cfg["net0"].as_str().unwrap();
    assert!(
        net0.starts_with("name=eth0") && net0.contains("ip=192.0.2.20/24") && net0.contains("gw=192.0.2.1"),
        "{net0}"
    );
    assert_eq!(cfg["features"], "nesting=1");

    // A UEFI, Windows 11-ready VM, its NIC as the old server's callers write it.
    call_ok(
        &mut s,
        "proxmox_create_vm",
        json!({
            "node": "pve1", "vmid": 302, "name": "win11", "ostype": "win11", "bios": "ovmf", "machine": "q35",
            "efidisk0": "local-lvm:1,efitype=4m,pre-enrolled-keys=1", "tpmstate0": "local-lvm:1,version=v2.0",
            "net0": "virtio,bridge=vmbr0,firewall=1"
        }),
    )
    .await;
    let config = call_ok(&mut s, "proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 302 })).await;
    let cfg = &config["structuredContent"];
    assert_eq!((cfg["bios"].as_str(), cfg["machine"].as_str()), (Some("ovmf"), Some("q35")), "{cfg}");
    assert!(cfg["efidisk0"].as_str().is_some_and(|d| d.contains("efitype=4m")), "{cfg}");
    assert!(cfg["tpmstate0"].as_str().is_some_and(|d| d.contains("version=v2.0")), "{cfg}");
    assert!(cfg["net0"].as_str().is_some_and(|n| n.contains("firewall=1")), "{cfg}");

    // Creating the same id again is Proxmox's error, not ours.
    let again = s.call("proxmox_create_vm", json!({ "node": "pve1", "vmid": 300 })).await;
    assert_eq!(again["isError"], true, "{}", text(&again));
    assert!(s.close().await.success());
}
