//! Migration, templates and RRD data against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, assert_accepted, call_ok, error_text};
use crate::common::mcp::text;
use serde_json::json;

pub async fn guest_advanced_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    for (tool, args) in [
        ("proxmox_get_vm_rrddata", json!({ "node": "pve1", "vmid": 100, "timeframe": "hour" })),
        ("proxmox_get_vm_rrddata", json!({ "node": "pve1", "vmid": 100, "timeframe": "year", "cf": "MAX" })),
        ("proxmox_get_lxc_rrddata", json!({ "node": "pve1", "vmid": 200, "timeframe": "day", "cf": "AVERAGE" })),
        (
            "proxmox_migrate_vm",
            json!({ "node": "pve1", "vmid": 100, "target": "pve2", "online": true, "with-local-disks": true,
                    "targetstorage": "local-lvm", "bwlimit": 1024, "force": false, "migration_type": "secure",
                    "migration_network": "10.10.0.0/24", "with-conntrack-state": true }),
        ),
        // VM 101 is stopped: it can become a template.
        ("proxmox_create_template_vm", json!({ "node": "pve1", "vmid": 101 })),
    ] {
        call_ok(&mut s, tool, args).await;
    }
    let config = s.call("proxmox_get_vm_config", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(config["structuredContent"]["template"], 1, "{}", text(&config));

    // CT 200 runs: it is refused as a template (by Proxmox's rule, not the schema), and migrates
    // in restart mode; then it lives on pve2.
    let refused = s.call("proxmox_create_template_lxc", json!({ "node": "pve1", "vmid": 200 })).await;
    assert_accepted("proxmox_create_template_lxc", &refused);
    assert_eq!(refused["structuredContent"]["error"]["status"], 500, "{refused}");
    assert!(error_text(&refused).contains("running"), "{refused}");
    let moved = call_ok(
        &mut s,
        "proxmox_migrate_lxc",
        json!({ "node": "pve1", "vmid": 200, "target": "pve2", "restart": true, "timeout": 30, "bwlimit": 2048,
                    "target-storage": "local-lvm" }),
    )
    .await;
    let upid = moved["structuredContent"]["upid"].as_str().unwrap().to_string();
    assert!(upid.contains("vzmigrate"), "{upid}");
    let vms = s.call("proxmox_get_vms", json!({ "type": "lxc" })).await;
    let ct = &vms["structuredContent"]["guests"][0];
    assert_eq!((ct["vmid"].as_u64(), ct["node"].as_str()), (Some(200), Some("pve2")), "{}", text(&vms));
    assert!(s.close().await.success());
}
