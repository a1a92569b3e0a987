//! The node management tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, accepted, call_ok, entry};
use crate::common::mcp::text;
use serde_json::json;

pub async fn node_management_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    let calls = [
        ("proxmox_get_node_services", json!({ "node": "pve1" })),
        ("proxmox_control_node_service", json!({ "node": "pve1", "service": "pveproxy", "command": "restart" })),
        ("proxmox_control_node_service", json!({ "node": "pve1", "service": "chrony", "command": "reload" })),
        ("proxmox_get_node_syslog", json!({ "node": "pve1" })),
        (
            "proxmox_get_node_syslog",
            json!({ "node": "pve1", "start": 0, "limit": 10, "since": "2025-01-01", "service": "pveproxy" }),
        ),
        ("proxmox_get_node_journal", json!({ "node": "pve1" })),
        ("proxmox_get_node_journal", json!({ "node": "pve1", "since": 1_700_000_000, "until": 1_800_000_000 })),
        ("proxmox_get_node_tasks", json!({ "node": "pve1" })),
        (
            "proxmox_get_node_tasks",
            json!({ "node": "pve1", "limit": 5, "vmid": 100, "errors": false, "source": "all" }),
        ),
        ("proxmox_list_cluster_tasks", json!({})),
        (
            "proxmox_list_cluster_tasks",
            json!({ "type": "vzdump", "errors": true, "vmid": 100, "node": "pve1", "since": 0, "limit": 5 }),
        ),
        ("proxmox_get_node_aplinfo", json!({ "node": "pve1" })),
        ("proxmox_get_node_netstat", json!({ "node": "pve1" })),
    ];
    for (tool, args) in calls {
        call_ok(&mut s, tool, args).await;
    }
    // The restart above is a task: it shows in the task list and reads back by its UPID.
    let started = call_ok(
        &mut s,
        "proxmox_control_node_service",
        json!({ "node": "pve1", "service": "sshd", "command": "restart" }),
    )
    .await;
    let upid = started["structuredContent"]["upid"].as_str().unwrap().to_string();
    assert!(upid.contains("root@pam!mcp"), "a token's task: {upid}");
    let tasks = s.call("proxmox_get_node_tasks", json!({ "node": "pve1", "source": "all" })).await;
    entry(&tasks, "items", "upid", &upid);
    let task = call_ok(&mut s, "proxmox_get_node_task", json!({ "node": "pve1", "upid": upid })).await;
    assert_eq!(task["structuredContent"]["status"]["upid"], upid.as_str(), "{}", text(&task));
    // Waiting for it reports how it ended; stopping an ended task is Proxmox's to answer.
    let waited = call_ok(&mut s, "proxmox_wait_task", json!({ "upid": upid, "timeout": 10 })).await;
    assert_eq!(waited["structuredContent"]["task"]["status"], "stopped", "{waited}");
    let stopped = s.call("proxmox_stop_task", json!({ "upid": upid })).await;
    assert!(accepted(&stopped), "{stopped}");
    assert!(s.close().await.success());
}
