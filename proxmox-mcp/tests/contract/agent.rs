//! The guest-agent tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, assert_accepted, call_ok, entry, error_text};
use crate::common::mcp::text;
use serde_json::json;

pub async fn agent_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    let vm = json!({ "node": "pve1", "vmid": 100 });
    for tool in [
        "proxmox_agent_ping",
        "proxmox_agent_get_osinfo",
        "proxmox_agent_get_fsinfo",
        "proxmox_agent_get_memory_blocks",
        "proxmox_agent_get_network_interfaces",
        "proxmox_agent_get_time",
        "proxmox_agent_get_timezone",
        "proxmox_agent_get_vcpus",
    ] {
        call_ok(&mut s, tool, vm.clone()).await;
    }
    let os = s.call("proxmox_agent_get_osinfo", vm.clone()).await;
    assert_eq!(os["structuredContent"]["pretty-name"], "Debian GNU/Linux 13 (trixie)", "{os}");
    let net = s.call("proxmox_agent_get_network_interfaces", vm.clone()).await;
    let eth0 = &entry(&net, "items", "name", "eth0")["ip-addresses"][0];
    assert_eq!((&eth0["ip-address"], &eth0["prefix"]), (&json!("192.0.2.10"), &json!(24)), "{net}");
    let cpus = s.call("proxmox_agent_get_vcpus", vm.clone()).await;
    assert_eq!(cpus["structuredContent"]["total"], 2, "{cpus}");

    // Start, then read the status by pid.
    let started = call_ok(
        &mut s,
        "proxmox_agent_exec",
        json!({ "node": "pve1", "vmid": 100, "command": ["cat"], "args": ["-n"], "input-data": "hello\n" }),
    )
    .await;
    let pid = started["structuredContent"]["pid"].as_u64().unwrap();
    let status = call_ok(&mut s, "proxmox_agent_exec_status", json!({ "node": "pve1", "vmid": 100, "pid": pid })).await;
    assert_eq!(status["structuredContent"]["exited"], true, "{}", text(&status));

    // Run and wait, end to end: exec, then exec-status polled until it has exited.
    let ran = call_ok(
        &mut s,
        "proxmox_execute_vm_command",
        json!({ "node": "pve1", "vmid": 100, "command": ["uname", "-a"], "timeout": 10 }),
    )
    .await;
    assert_eq!(ran["structuredContent"]["exitcode"], 0, "{}", text(&ran));
    assert!(ran["structuredContent"]["pid"].as_u64().unwrap() > pid);
    assert_eq!(ran["structuredContent"]["exited"], true, "{ran}");
    call_ok(&mut s, "proxmox_execute_vm_command", json!({ "node": "pve1", "vmid": 100, "command": "uptime -p" })).await;

    // VM 101 is stopped: no agent answers (Proxmox's error, not a rejected request).
    let stopped =
        s.call("proxmox_execute_vm_command", json!({ "node": "pve1", "vmid": 101, "command": ["true"] })).await;
    assert_accepted("proxmox_execute_vm_command", &stopped);
    assert_eq!(stopped["isError"], true);
    assert_eq!(stopped["structuredContent"]["error"]["status"], 500, "{stopped}");
    assert!(error_text(&stopped).contains("guest agent is not running"), "{stopped}");
    // A container: refused before any request.
    let ct = s
        .call(
            "proxmox_execute_vm_command",
            json!({ "node": "pve1", "vmid": 200, "type": "lxc", "command": ["hostname"] }),
        )
        .await;
    assert_eq!(ct["isError"], true);
    assert_eq!(ct["structuredContent"]["error"]["kind"], "invalid_arguments");
    assert!(s.close().await.success());
}
