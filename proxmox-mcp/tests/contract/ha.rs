//! The HA tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, assert_accepted, call_ok};
use serde_json::{Value, json};

pub async fn ha_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    // fakepve checks each request against the real schema and answers with data of the right
    // shape, but keeps no HA state: these check acceptance only.
    for (tool, args) in [
        ("proxmox_get_ha_resources", json!({})),
        ("proxmox_get_ha_resources", json!({ "type": "ct" })),
        ("proxmox_get_ha_resource", json!({ "sid": "vm:100" })),
        (
            "proxmox_create_ha_resource",
            json!({ "sid": "vm:100", "state": "started", "max_restart": 2, "max_relocate": 1, "failback": true, "comment": "web" }),
        ),
        ("proxmox_create_ha_resource", json!({ "sid": "200", "type": "ct", "group": "prefer-pve1" })),
        ("proxmox_update_ha_resource", json!({ "sid": "vm:100", "state": "stopped", "delete": "comment" })),
        ("proxmox_update_ha_resource", json!({ "sid": "vm:100", "failback": false, "digest": "0123456789abcdef" })),
        ("proxmox_delete_ha_resource", json!({ "sid": "vm:100" })),
        ("proxmox_delete_ha_resource", json!({ "sid": "ct:200", "purge": false })),
        ("proxmox_get_ha_groups", json!({})),
        ("proxmox_get_ha_group", json!({ "group": "prefer-pve1" })),
        (
            "proxmox_create_ha_group",
            json!({ "group": "prefer-pve1", "nodes": "pve1:2,pve2:1", "restricted": true, "nofailback": false, "comment": "x" }),
        ),
        ("proxmox_create_ha_group", json!({ "group": "any", "nodes": "pve1", "type": "group" })),
        ("proxmox_update_ha_group", json!({ "group": "prefer-pve1", "nodes": "pve2", "delete": "comment" })),
        ("proxmox_delete_ha_group", json!({ "group": "prefer-pve1" })),
        ("proxmox_get_ha_status", json!({})),
    ] {
        let result = call_ok(&mut s, tool, args.clone()).await;
        assert_accepted(tool, &result);
    }
    // HA rules (Proxmox VE 9). fakepve 0.5.0 routes /cluster/ha/rules but keeps no HA state, and
    // its schema gives these endpoints' parameters per rule type (`allOf`/`oneOf`), which its
    // validator does not read: these check path and method only; the per-type rules (nodes for
    // node-affinity, affinity for resource-affinity) are checked by our tools and in
    // tests/ha_tools.rs.
    for (tool, args) in [
        ("proxmox_list_ha_rules", json!({})),
        ("proxmox_list_ha_rules", json!({ "type": "node-affinity", "resource": "vm:100" })),
        ("proxmox_get_ha_rule", json!({ "rule": "web-on-pve1" })),
        (
            "proxmox_create_ha_rule",
            json!({ "rule": "web-on-pve1", "type": "node-affinity", "resources": "vm:100,ct:200", "nodes": "pve1:2,pve2:1", "strict": true }),
        ),
        (
            "proxmox_create_ha_rule",
            json!({ "rule": "db-apart", "type": "resource-affinity", "resources": "vm:101,vm:102", "affinity": "negative", "comment": "x" }),
        ),
        (
            "proxmox_update_ha_rule",
            json!({ "rule": "web-on-pve1", "type": "node-affinity", "nodes": "pve2", "delete": "comment", "digest": "0123abcd" }),
        ),
        ("proxmox_update_ha_rule", json!({ "rule": "db-apart", "type": "resource-affinity", "disable": true })),
        ("proxmox_delete_ha_rule", json!({ "rule": "db-apart" })),
    ] {
        let result = call_ok(&mut s, tool, args.clone()).await;
        assert_accepted(tool, &result);
    }
    let status = s.call("proxmox_get_ha_status", json!({})).await;
    assert!(status["structuredContent"]["current"].is_array(), "{status}");
    assert!(status["structuredContent"]["manager_status"].is_object(), "{status}");
    assert_eq!(status["structuredContent"]["manager_status_error"], Value::Null, "{status}");
    assert!(s.close().await.success());
}
