//! The lifecycle tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, as_text, assert_ok, call_ok, entry};
use crate::common::mcp::{Session, text};
use serde_json::json;

/// The status fakepve reports for a guest, through our own proxmox_get_vm_status.
async fn status(s: &mut Session, vmid: u32, kind: &str) -> String {
    let result = s.call("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": vmid, "type": kind })).await;
    assert_ok("proxmox_get_vm_status", &result);
    result["structuredContent"]["status"].as_str().unwrap_or("?").to_string()
}

pub async fn lifecycle_scenario_against_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    // VM 101 (stopped): start, pause, resume, reboot, shut down; read the state back each time.
    let started = call_ok(&mut s, "proxmox_start_vm", json!({ "node": "pve1", "vmid": 101, "timeout": 30 })).await;
    assert!(started["structuredContent"]["upid"].as_str().unwrap().starts_with("UPID:pve1:"), "{started}");
    assert_eq!(started["structuredContent"]["node"], "pve1");
    assert_eq!(status(&mut s, 101, "qemu").await, "running");
    call_ok(&mut s, "proxmox_pause_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    let paused = s.call("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(paused["structuredContent"]["qmpstatus"], "paused", "{}", text(&paused));
    call_ok(&mut s, "proxmox_resume_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    let resumed = s.call("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(resumed["structuredContent"]["qmpstatus"], "running", "{}", text(&resumed));
    call_ok(&mut s, "proxmox_reboot_vm", json!({ "node": "pve1", "vmid": 101, "timeout": 30 })).await;
    assert_eq!(status(&mut s, 101, "qemu").await, "running");
    call_ok(&mut s, "proxmox_shutdown_vm", json!({ "node": "pve1", "vmid": 101, "forceStop": true, "timeout": 30 }))
        .await;
    assert_eq!(status(&mut s, 101, "qemu").await, "stopped");
    call_ok(&mut s, "proxmox_start_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(status(&mut s, 101, "qemu").await, "running");
    call_ok(&mut s, "proxmox_stop_vm", json!({ "node": "pve1", "vmid": 101, "overrule-shutdown": true })).await;
    assert_eq!(status(&mut s, 101, "qemu").await, "stopped");
    // VM 100 (running): a hard stop.
    call_ok(&mut s, "proxmox_stop_vm", json!({ "node": "pve1", "vmid": 100 })).await;
    assert_eq!(status(&mut s, 100, "qemu").await, "stopped");

    // CT 200 (running): reboot, shut down, start, stop.
    call_ok(&mut s, "proxmox_reboot_lxc", json!({ "node": "pve1", "vmid": 200 })).await;
    assert_eq!(status(&mut s, 200, "lxc").await, "running");
    call_ok(&mut s, "proxmox_shutdown_lxc", json!({ "node": "pve1", "vmid": 200, "timeout": 10, "forceStop": true }))
        .await;
    assert_eq!(status(&mut s, 200, "lxc").await, "stopped");
    call_ok(&mut s, "proxmox_start_lxc", json!({ "node": "pve1", "vmid": 200 })).await;
    assert_eq!(status(&mut s, 200, "lxc").await, "running");
    call_ok(&mut s, "proxmox_stop_lxc", json!({ "node": "pve1", "vmid": 200, "overrule-shutdown": true })).await;
    assert_eq!(status(&mut s, 200, "lxc").await, "stopped");

    // Clone VM 101 and CT 200: the copies appear.
    let cloned = call_ok(
        &mut s,
        "proxmox_clone_vm",
        json!({ "node": "pve1", "vmid": 101, "newid": 102, "name": "db-copy", "full": true }),
    )
    .await;
    assert_eq!(cloned["structuredContent"]["newid"], 102);
    call_ok(&mut s, "proxmox_clone_lxc", json!({ "node": "pve1", "vmid": 200, "newid": 201, "hostname": "dns-copy" }))
        .await;
    let vms = call_ok(&mut s, "proxmox_get_vms", json!({ "node": "pve1" })).await;
    let guests = vms["structuredContent"]["guests"].as_array().unwrap();
    let listed: Vec<u64> = guests.iter().filter_map(|g| g["vmid"].as_u64()).collect();
    assert_eq!(listed, [100, 101, 102, 200, 201], "{}", text(&vms));
    assert_eq!(entry(&vms, "guests", "vmid", "102")["name"], "db-copy", "{vms}");

    // Resize the copies; the configuration shows it.
    call_ok(
        &mut s,
        "proxmox_resize_vm",
        json!({ "node": "pve1", "vmid": 102, "memory": 2048, "cores": 2, "sockets": 1 }),
    )
    .await;
    let config = call_ok(&mut s, "proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 102 })).await;
    let cfg = &config["structuredContent"];
    assert_eq!((as_text(&cfg["memory"]), as_text(&cfg["cores"])), ("2048".into(), "2".into()), "{cfg}");
    call_ok(
        &mut s,
        "proxmox_resize_lxc",
        json!({ "node": "pve1", "vmid": 201, "memory": 1024, "cores": 2, "swap": 256 }),
    )
    .await;
    let config = call_ok(&mut s, "proxmox_get_lxc_config", json!({ "node": "pve1", "vmid": 201 })).await;
    let cfg = &config["structuredContent"];
    let (memory, swap, cores) = (as_text(&cfg["memory"]), as_text(&cfg["swap"]), as_text(&cfg["cores"]));
    assert_eq!((memory.as_str(), swap.as_str(), cores.as_str()), ("1024", "256", "2"), "{cfg}");

    // Destroy them; they are gone.
    call_ok(
        &mut s,
        "proxmox_delete_vm",
        json!({ "node": "pve1", "vmid": 102, "purge": true, "destroy-unreferenced-disks": true }),
    )
    .await;
    call_ok(&mut s, "proxmox_delete_lxc", json!({ "node": "pve1", "vmid": 201, "purge": true, "force": true })).await;
    let vms = call_ok(&mut s, "proxmox_get_vms", json!({ "node": "pve1" })).await;
    let listed: Vec<u64> =
        vms["structuredContent"]["guests"].as_array().unwrap().iter().filter_map(|g| g["vmid"].as_u64()).collect();
    assert_eq!(listed, [100, 101, 200], "{}", text(&vms));
    assert!(s.close().await.success());
}
