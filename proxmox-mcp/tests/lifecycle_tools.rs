//! The VM Lifecycle and VM Modify tools: exact requests against a mock Proxmox, refusal without
//! elevation, bad input, and a power/clone/resize/destroy scenario against fakepve.

mod common;

use common::{assert_refused, assert_refused_arg, assert_task, expect};
use serde_json::{Value, json};

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:";

/// (tool, arguments, path, form parameters sent, what the result says)
type PowerCase = (&'static str, Value, &'static str, &'static [(&'static str, &'static str)], &'static str);

#[tokio::test]
async fn power_actions_post_to_their_status_endpoint_with_their_options() {
    let cases: &[PowerCase] = &[
        (
            "proxmox_start_lxc",
            json!({ "node": "pve1", "vmid": 200 }),
            "/nodes/pve1/lxc/200/status/start",
            &[],
            "Container 200 is starting",
        ),
        (
            "proxmox_start_vm",
            json!({ "node": "pve1", "vmid": "100", "timeout": 60, "skiplock": true }),
            "/nodes/pve1/qemu/100/status/start",
            &[("timeout", "60"), ("skiplock", "1")],
            "VM 100 is starting",
        ),
        (
            "proxmox_stop_lxc",
            json!({ "node": "pve1", "vmid": 200, "overrule-shutdown": true }),
            "/nodes/pve1/lxc/200/status/stop",
            &[("overrule-shutdown", "1")],
            "Container 200 is being stopped (hard stop",
        ),
        (
            "proxmox_stop_vm",
            json!({ "node": "pve1", "vmid": 100, "timeout": 30, "overrule-shutdown": true, "keepActive": false, "skiplock": true }),
            "/nodes/pve1/qemu/100/status/stop",
            &[("timeout", "30"), ("overrule-shutdown", "1"), ("keepActive", "0"), ("skiplock", "1")],
            "VM 100 is being stopped",
        ),
        (
            "proxmox_reboot_lxc",
            json!({ "node": "pve1", "vmid": 200 }),
            "/nodes/pve1/lxc/200/status/reboot",
            &[],
            "Container 200 is rebooting",
        ),
        (
            "proxmox_reboot_vm",
            json!({ "node": "pve1", "vmid": 100, "timeout": 120 }),
            "/nodes/pve1/qemu/100/status/reboot",
            &[("timeout", "120")],
            "VM 100 is rebooting",
        ),
        (
            "proxmox_shutdown_lxc",
            json!({ "node": "pve1", "vmid": 200, "forceStop": true, "timeout": 30 }),
            "/nodes/pve1/lxc/200/status/shutdown",
            &[("forceStop", "1"), ("timeout", "30")],
            "Container 200 is shutting down",
        ),
        (
            "proxmox_shutdown_vm",
            json!({ "node": "pve1", "vmid": 100, "forceStop": true, "timeout": 60, "keepActive": true, "skiplock": false }),
            "/nodes/pve1/qemu/100/status/shutdown",
            &[("forceStop", "1"), ("timeout", "60"), ("keepActive", "1"), ("skiplock", "0")],
            "VM 100 is shutting down",
        ),
        (
            "proxmox_pause_vm",
            json!({ "node": "pve1", "vmid": 100 }),
            "/nodes/pve1/qemu/100/status/suspend",
            &[],
            "VM 100 is being paused",
        ),
        (
            "proxmox_pause_vm",
            json!({ "node": "pve1", "vmid": 100, "todisk": true, "statestorage": "local-lvm" }),
            "/nodes/pve1/qemu/100/status/suspend",
            &[("todisk", "1"), ("statestorage", "local-lvm")],
            "VM 100 is being paused",
        ),
        (
            "proxmox_resume_vm",
            json!({ "node": "pve1", "vmid": 100, "skiplock": true }),
            "/nodes/pve1/qemu/100/status/resume",
            &[("skiplock", "1")],
            "VM 100 is resuming",
        ),
    ];
    for (tool, args, path, params, what) in cases {
        let out = expect(tool, args.clone(), "POST", path, params, json!(UPID)).await;
        assert_task(&out, UPID, what);
        assert!(out.text.contains("proxmox_get_vm_status"), "{tool}: a follow-up hint: {}", out.text);
        assert_eq!(out.data["vmid"], args["vmid"].as_u64().unwrap_or(100), "{tool}");
    }
    // The container hint names the type the status tool needs.
    let out = expect(
        "proxmox_start_lxc",
        json!({ "node": "pve1", "vmid": 200 }),
        "POST",
        "/nodes/pve1/lxc/200/status/start",
        &[],
        json!(UPID),
    )
    .await;
    assert!(out.text.contains("(node pve1, vmid 200, type lxc)"), "{}", out.text);
}

#[tokio::test]
async fn delete_sends_its_options_as_query_parameters() {
    let out = expect(
        "proxmox_delete_vm",
        json!({ "node": "pve1", "vmid": 101, "purge": true, "destroy-unreferenced-disks": true, "skiplock": false }),
        "DELETE",
        "/nodes/pve1/qemu/101",
        &[("purge", "1"), ("destroy-unreferenced-disks", "1"), ("skiplock", "0")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "VM 101 is being destroyed with its disks");
    let out = expect(
        "proxmox_delete_lxc",
        json!({ "node": "pve1", "vmid": 200, "purge": true, "force": true }),
        "DELETE",
        "/nodes/pve1/lxc/200",
        &[("purge", "1"), ("force", "1")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Container 200 is being destroyed");
    // Without options: no query string at all.
    let out = expect(
        "proxmox_delete_lxc",
        json!({ "node": "pve1", "vmid": 200 }),
        "DELETE",
        "/nodes/pve1/lxc/200",
        &[],
        json!(UPID),
    )
    .await;
    assert_eq!(out.data["vmid"], 200);
}

#[tokio::test]
async fn a_task_without_upid_is_reported_as_done() {
    let out = expect(
        "proxmox_resume_vm",
        json!({ "node": "pve1", "vmid": 100 }),
        "POST",
        "/nodes/pve1/qemu/100/status/resume",
        &[],
        Value::Null,
    )
    .await;
    assert!(out.text.starts_with("✅ VM 100 is resuming\n\n• Node: pve1"), "{}", out.text);
    assert!(!out.text.contains("Task:"), "{}", out.text);
    assert_eq!(out.data["upid"], Value::Null);
}

#[tokio::test]
async fn clone_sends_newid_name_and_options() {
    let out = expect(
        "proxmox_clone_vm",
        json!({
            "node": "pve1", "vmid": 101, "newid": 102, "name": "db-copy", "description": "a copy", "full": true,
            "target": "pve2", "storage": "local-lvm", "format": "qcow2", "pool": "prod/db", "snapname": "before", "bwlimit": 1000
        }),
        "POST",
        "/nodes/pve1/qemu/101/clone",
        &[
            ("newid", "102"),
            ("name", "db-copy"),
            ("description", "a copy"),
            ("full", "1"),
            ("target", "pve2"),
            ("storage", "local-lvm"),
            ("format", "qcow2"),
            ("pool", "prod/db"),
            ("snapname", "before"),
            ("bwlimit", "1000"),
        ],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "VM 101 is being cloned to 102 named db-copy");
    assert_eq!(out.data["newid"], 102);
    let out = expect(
        "proxmox_clone_lxc",
        json!({ "node": "pve1", "vmid": 200, "newid": "201", "hostname": "dns2.example.com" }),
        "POST",
        "/nodes/pve1/lxc/200/clone",
        &[("newid", "201"), ("hostname", "dns2.example.com")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Container 200 is being cloned to 201 named dns2.example.com");
    let out = expect(
        "proxmox_clone_lxc",
        json!({ "node": "pve1", "vmid": 200, "newid": 201 }),
        "POST",
        "/nodes/pve1/lxc/200/clone",
        &[("newid", "201")],
        json!(UPID),
    )
    .await;
    assert_task(&out, UPID, "Container 200 is being cloned to 201\n");
}

#[tokio::test]
async fn resize_puts_the_config() {
    let out = expect(
        "proxmox_resize_vm",
        json!({ "node": "pve1", "vmid": 100, "memory": 4096, "cores": 4 }),
        "PUT",
        "/nodes/pve1/qemu/100/config",
        &[("memory", "4096"), ("cores", "4")],
        Value::Null,
    )
    .await;
    assert!(out.text.starts_with("✅ VM 100 on pve1 updated\n\n• Memory: 4096 MiB\n• Cores: 4\n"), "{}", out.text);
    assert!(out.text.contains("next restart"), "{}", out.text);
    assert_eq!(out.data["memory"], 4096);
    assert_eq!(out.data["sockets"], Value::Null);
    let out = expect(
        "proxmox_resize_vm",
        json!({ "node": "pve1", "vmid": 100, "sockets": 2 }),
        "PUT",
        "/nodes/pve1/qemu/100/config",
        &[("sockets", "2")],
        Value::Null,
    )
    .await;
    assert!(out.text.contains("• Sockets: 2"), "{}", out.text);
    let out = expect(
        "proxmox_resize_lxc",
        json!({ "node": "pve1", "vmid": 200, "memory": 1024, "cores": 2, "swap": 256 }),
        "PUT",
        "/nodes/pve1/lxc/200/config",
        &[("memory", "1024"), ("cores", "2"), ("swap", "256")],
        Value::Null,
    )
    .await;
    assert!(out.text.contains("Container 200 on pve1 updated"), "{}", out.text);
    assert!(out.text.contains("• Memory: 1024 MiB\n• Swap: 256 MiB\n• Cores: 2"), "{}", out.text);
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_argument() {
    for (tool, args, named) in [
        ("proxmox_start_vm", json!({ "node": "pve1/..", "vmid": 100 }), "node"),
        ("proxmox_start_vm", json!({ "node": "pve1", "vmid": 99 }), "vmid"),
        ("proxmox_stop_vm", json!({ "node": "pve1", "vmid": 100, "timeout": -1 }), "timeout"),
        ("proxmox_stop_lxc", json!({ "node": "pve1", "vmid": 200, "keepActive": true }), "keepActive"),
        ("proxmox_shutdown_lxc", json!({ "node": "pve1", "vmid": 200, "skiplock": true }), "skiplock"),
        ("proxmox_delete_vm", json!({ "node": "pve1", "vmid": 100, "force": true }), "force"),
        ("proxmox_pause_vm", json!({ "node": "pve1", "vmid": 100, "statestorage": "local" }), "statestorage"),
        (
            "proxmox_pause_vm",
            json!({ "node": "pve1", "vmid": 100, "todisk": true, "statestorage": "../x" }),
            "statestorage",
        ),
        ("proxmox_clone_vm", json!({ "node": "pve1", "vmid": 100, "newid": 100 }), "newid"),
        ("proxmox_clone_vm", json!({ "node": "pve1", "vmid": 100 }), "newid"),
        ("proxmox_clone_vm", json!({ "node": "pve1", "vmid": 100, "newid": 102, "name": "db_copy" }), "name"),
        ("proxmox_clone_vm", json!({ "node": "pve1", "vmid": 100, "newid": 102, "format": "vdi" }), "format"),
        ("proxmox_clone_lxc", json!({ "node": "pve1", "vmid": 200, "newid": 201, "name": "x" }), "name"),
        ("proxmox_clone_lxc", json!({ "node": "pve1", "vmid": 200, "newid": 201, "hostname": "-x" }), "hostname"),
        ("proxmox_clone_lxc", json!({ "node": "pve1", "vmid": 200, "newid": 201, "pool": "a/b/c/d" }), "pool"),
        ("proxmox_resize_vm", json!({ "node": "pve1", "vmid": 100 }), "memory"),
        ("proxmox_resize_vm", json!({ "node": "pve1", "vmid": 100, "memory": 8 }), "memory"),
        ("proxmox_resize_vm", json!({ "node": "pve1", "vmid": 100, "cores": 0 }), "cores"),
        ("proxmox_resize_vm", json!({ "node": "pve1", "vmid": 100, "sockets": 0 }), "sockets"),
        ("proxmox_resize_vm", json!({ "node": "pve1", "vmid": 100, "swap": 512 }), "swap"),
        ("proxmox_resize_lxc", json!({ "node": "pve1", "vmid": 200, "cores": 9000 }), "cores"),
        ("proxmox_resize_lxc", json!({ "node": "pve1", "vmid": 200, "memory": "lots" }), "memory"),
    ] {
        assert_refused_arg(tool, args, named).await;
    }
}

#[tokio::test]
async fn every_tool_is_elevated_and_refused_without_elevation() {
    for (tool, args) in [
        ("proxmox_start_lxc", json!({ "node": "pve1", "vmid": 200 })),
        ("proxmox_start_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_stop_lxc", json!({ "node": "pve1", "vmid": 200 })),
        ("proxmox_stop_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_delete_lxc", json!({ "node": "pve1", "vmid": 200 })),
        ("proxmox_delete_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_reboot_lxc", json!({ "node": "pve1", "vmid": 200 })),
        ("proxmox_reboot_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_shutdown_lxc", json!({ "node": "pve1", "vmid": 200 })),
        ("proxmox_shutdown_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_pause_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_resume_vm", json!({ "node": "pve1", "vmid": 100 })),
        ("proxmox_clone_lxc", json!({ "node": "pve1", "vmid": 200, "newid": 201 })),
        ("proxmox_clone_vm", json!({ "node": "pve1", "vmid": 100, "newid": 102 })),
        ("proxmox_resize_lxc", json!({ "node": "pve1", "vmid": 200, "memory": 1024 })),
        ("proxmox_resize_vm", json!({ "node": "pve1", "vmid": 100, "memory": 1024 })),
    ] {
        assert_refused(tool, args).await;
    }
}

#[tokio::test]
async fn hints_follow_what_the_tools_do() {
    let registry = proxmox_mcp::Registry::builtin();
    for name in [
        "proxmox_stop_vm",
        "proxmox_stop_lxc",
        "proxmox_shutdown_vm",
        "proxmox_shutdown_lxc",
        "proxmox_reboot_vm",
        "proxmox_reboot_lxc",
        "proxmox_delete_vm",
        "proxmox_delete_lxc",
    ] {
        assert!(registry.get(name).unwrap().destructive(), "{name} is destructive");
    }
    for name in ["proxmox_start_vm", "proxmox_resume_vm", "proxmox_pause_vm", "proxmox_clone_vm", "proxmox_resize_vm"] {
        assert!(!registry.get(name).unwrap().destructive(), "{name} is not destructive");
    }
    assert!(registry.get("proxmox_resize_lxc").unwrap().idempotent());
}

#[tokio::test]
async fn clone_with_start_says_when_the_clone_is_not_finished_yet() {
    // Mock tests do not wait for tasks: the clone is still running when the call answers, so the
    // copy is not started, and the result says how to start it once the clone is done.
    let out = expect(
        "proxmox_clone_lxc",
        json!({ "node": "pve1", "vmid": 200, "newid": 201, "start": true }),
        "POST",
        "/nodes/pve1/lxc/200/clone",
        &[("newid", "201")],
        json!(UPID),
    )
    .await;
    assert_eq!(out.data["started"], false);
    assert!(out.text.contains("start it with proxmox_start_lxc (vmid 201)"), "{}", out.text);
}
