//! A session an agent could have with `proxmox-mcp --demo`, through the tools over MCP stdio:
//! create a VM, start it, snapshot it, change it, stop it, roll it back, clone it and delete it,
//! following each task with proxmox_get_node_task and reading every effect back.

mod common;

use common::mcp::{Session, text};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Call a tool that must succeed; its structured content.
async fn ok(s: &mut Session, tool: &str, args: Value) -> Value {
    let result = s.call(tool, args.clone()).await;
    assert_ne!(result["isError"], true, "{tool} {args}: {}", text(&result));
    result["structuredContent"].clone()
}

/// Wait for the task an answer started to end (polling proxmox_get_node_task) and check it
/// ended well. While it runs, `still` must hold: the effect is not there yet.
async fn finish(s: &mut Session, started: &Value, still: Option<(&str, Value, &str, &str)>) {
    let (upid, node) = (started["upid"].as_str().expect("a task"), started["node"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Read the effect first, then the task: a task still running then means the effect
        // was read before the task ended.
        let before = match &still {
            Some((tool, args, pointer, _)) => Some(ok(s, tool, args.clone()).await.pointer(pointer).cloned()),
            None => None,
        };
        let task = ok(s, "proxmox_get_node_task", json!({ "node": node, "upid": upid })).await;
        if task["status"]["status"] == "stopped" {
            assert_eq!(task["status"]["exitstatus"], "OK", "{upid}: {task}");
            assert!(task["log"].to_string().contains("TASK OK"), "{task}");
            return;
        }
        if let (Some((tool, _, pointer, old)), Some(value)) = (&still, before) {
            assert_eq!(value, Some(json!(old)), "{tool} {pointer} changed before the task {upid} ended");
        }
        assert!(Instant::now() < deadline, "task {upid} still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The VMs of the cluster by id, as proxmox_get_vms lists them.
async fn vm_ids(s: &mut Session) -> Vec<u64> {
    let vms = ok(s, "proxmox_get_vms", json!({ "type": "qemu" })).await;
    let list = vms["guests"].as_array().cloned().unwrap_or_default();
    list.iter().filter_map(|v| v["vmid"].as_u64()).collect()
}

#[tokio::test]
async fn create_start_snapshot_stop_rollback_clone_delete() {
    let mut s = Session::spawn_with_args(
        &["--demo"],
        &[
            ("PROXMOX_ALLOW_ELEVATED", "true".into()),
            ("PROXMOX_DEMO_TASK_SECONDS", "0.5".into()),
            ("PROXMOX_LOG_LEVEL", "warn".into()),
        ],
    );
    s.initialize().await;
    let vm = json!({ "node": "pve1", "vmid": 500 });
    let status = |vmid: u64| json!({ "node": "pve1", "vmid": vmid });

    // Create: a new VM with a 4 GiB disk, stopped.
    assert!(!vm_ids(&mut s).await.contains(&500));
    let created = ok(
        &mut s,
        "proxmox_create_vm",
        json!({ "node": "pve1", "vmid": 500, "name": "scenario", "memory": 1024, "disk_size": 4 }),
    )
    .await;
    finish(&mut s, &created, None).await;
    assert!(vm_ids(&mut s).await.contains(&500));
    let config = ok(&mut s, "proxmox_get_vm_config", vm.clone()).await;
    assert_eq!(config["name"], "scenario", "{config}");
    assert_eq!(config["memory"], "1024", "{config}");
    let disk = config["scsi0"].as_str().unwrap();
    assert!(disk.starts_with("local-lvm:vm-500-disk-0,") && disk.ends_with("size=4G"), "{disk}");
    assert!(config["net0"].as_str().unwrap().starts_with("virtio=BC:24:11:"), "{config}");
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", status(500)).await["status"], "stopped");

    // Start: running once the task has ended, not before.
    let started = ok(&mut s, "proxmox_start_vm", vm.clone()).await;
    finish(&mut s, &started, Some(("proxmox_get_vm_status", status(500), "/status", "stopped"))).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", status(500)).await["status"], "running");

    // Snapshot, then a change made after it.
    let snap = ok(
        &mut s,
        "proxmox_create_snapshot_vm",
        json!({ "node": "pve1", "vmid": 500, "snapname": "before_change", "description": "1 GiB of memory" }),
    )
    .await;
    finish(&mut s, &snap, None).await;
    let snapshots = ok(&mut s, "proxmox_list_snapshots_vm", vm.clone()).await;
    assert!(snapshots.to_string().contains("before_change"), "{snapshots}");
    ok(&mut s, "proxmox_resize_vm", json!({ "node": "pve1", "vmid": 500, "memory": 2048 })).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_config", vm.clone()).await["memory"], "2048");

    // Stop.
    let stopped = ok(&mut s, "proxmox_stop_vm", vm.clone()).await;
    finish(&mut s, &stopped, Some(("proxmox_get_vm_status", status(500), "/status", "running"))).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", status(500)).await["status"], "stopped");

    // Roll back: the configuration of the snapshot is back.
    let rollback =
        ok(&mut s, "proxmox_rollback_snapshot_vm", json!({ "node": "pve1", "vmid": 500, "snapname": "before_change" }))
            .await;
    finish(&mut s, &rollback, Some(("proxmox_get_vm_config", vm.clone(), "/memory", "2048"))).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_config", vm.clone()).await["memory"], "1024");
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", status(500)).await["status"], "stopped");

    // Clone: a new VM with a disk of its own.
    let cloned =
        ok(&mut s, "proxmox_clone_vm", json!({ "node": "pve1", "vmid": 500, "newid": 501, "name": "scenario-copy" }))
            .await;
    finish(&mut s, &cloned, None).await;
    assert!(vm_ids(&mut s).await.contains(&501));
    let copy = ok(&mut s, "proxmox_get_vm_config", status(501)).await;
    assert_eq!(copy["name"], "scenario-copy", "{copy}");
    assert!(copy["scsi0"].as_str().unwrap().starts_with("local-lvm:vm-501-disk-0,"), "{copy}");
    assert_ne!(copy["net0"], config["net0"], "a clone gets its own MAC address");

    // Delete the original: gone from the list, its configuration no longer found.
    let deleted = ok(&mut s, "proxmox_delete_vm", vm.clone()).await;
    finish(&mut s, &deleted, None).await;
    let ids = vm_ids(&mut s).await;
    assert!(!ids.contains(&500) && ids.contains(&501), "{ids:?}");
    let gone = s.call("proxmox_get_vm_config", vm.clone()).await;
    assert_eq!(gone["isError"], true, "{gone}");
    assert!(text(&gone).contains("does not exist"), "{}", text(&gone));
    let volumes = ok(&mut s, "proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local-lvm" })).await;
    assert!(!volumes.to_string().contains("vm-500-disk"), "the deleted VM's disk is gone: {volumes}");
    assert!(volumes.to_string().contains("vm-501-disk-0"), "{volumes}");

    assert!(s.close().await.success());
}

/// The tools wait for their tasks: create → start → snapshot → clone and start the clone → migrate
/// → stop → delete, one call per step and no polling call, every effect read back.
#[tokio::test]
async fn each_step_is_one_call_that_waits_for_its_task() {
    let mut s = Session::spawn_with_args(
        &["--demo"],
        &[
            ("PROXMOX_ALLOW_ELEVATED", "true".into()),
            ("PROXMOX_DEMO_TASK_SECONDS", "0.5".into()),
            ("PROXMOX_LOG_LEVEL", "warn".into()),
        ],
    );
    s.initialize().await;
    let mut calls = 0;
    // One step: one call, whose task has ended OK when it answers.
    let mut step = async |s: &mut Session, tool: &str, args: Value| {
        calls += 1;
        let data = ok(s, tool, args).await;
        assert_eq!(data["task"]["status"], "stopped", "{tool}: {data}");
        assert_eq!(data["task"]["exitstatus"], "OK", "{tool}: {data}");
        data
    };
    let at = |node: &str, vmid: u64| json!({ "node": node, "vmid": vmid });

    step(&mut s, "proxmox_create_vm", json!({ "node": "pve1", "vmid": 600, "name": "app", "disk_size": 4 })).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_config", at("pve1", 600)).await["name"], "app");
    step(&mut s, "proxmox_start_vm", at("pve1", 600)).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", at("pve1", 600)).await["status"], "running");
    step(&mut s, "proxmox_create_snapshot_vm", json!({ "node": "pve1", "vmid": 600, "snapname": "first" })).await;
    assert!(ok(&mut s, "proxmox_list_snapshots_vm", at("pve1", 600)).await.to_string().contains("first"));
    // Clone and start the copy in one call: the start waits for the clone's task to end OK.
    let cloned = step(
        &mut s,
        "proxmox_clone_vm",
        json!({ "node": "pve1", "vmid": 600, "newid": 601, "name": "app-copy", "start": true }),
    )
    .await;
    assert_eq!(cloned["started"], true, "{cloned}");
    assert_eq!(cloned["start"]["task"]["exitstatus"], "OK", "{cloned}");
    assert_eq!(ok(&mut s, "proxmox_get_vm_config", at("pve1", 601)).await["name"], "app-copy");
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", at("pve1", 601)).await["status"], "running");
    step(&mut s, "proxmox_migrate_vm", json!({ "node": "pve1", "vmid": 601, "target": "pve2", "online": true })).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", at("pve2", 601)).await["status"], "running");
    step(&mut s, "proxmox_stop_vm", at("pve1", 600)).await;
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", at("pve1", 600)).await["status"], "stopped");
    step(&mut s, "proxmox_delete_vm", at("pve1", 600)).await;
    let ids = vm_ids(&mut s).await;
    assert!(!ids.contains(&600) && ids.contains(&601), "{ids:?}");

    assert_eq!(calls, 7);
    // No call polled a task.
    assert!(!s.seen.iter().any(|l| l.contains("proxmox_get_node_task")));
    assert!(s.close().await.success());
}

/// A failing task is an error with its exit status; deleting a running guest is one.
#[tokio::test]
async fn a_failing_task_is_an_error_and_a_backup_may_warn() {
    let mut s = Session::spawn_with_args(
        &["--demo"],
        &[
            ("PROXMOX_ALLOW_ELEVATED", "true".into()),
            ("PROXMOX_DEMO_TASK_SECONDS", "0".into()),
            ("PROXMOX_LOG_LEVEL", "warn".into()),
        ],
    );
    s.initialize().await;
    let started = s.call("proxmox_start_vm", json!({ "node": "pve1", "vmid": 100 })).await;
    assert_eq!(started["isError"], true);
    assert_eq!(started["structuredContent"]["error"]["kind"], "task_failed");
    assert_eq!(started["structuredContent"]["task"]["exitstatus"], "VM 100 already running");
    let destroyed = s.call("proxmox_delete_lxc", json!({ "node": "pve1", "vmid": 200 })).await;
    assert_eq!(destroyed["isError"], true, "{}", text(&destroyed));
    assert!(destroyed["structuredContent"]["task"]["exitstatus"].as_str().unwrap().contains("is running"));
    // Container 201's mount point is left out of its backup: a success with one warning.
    let backup =
        ok(&mut s, "proxmox_create_backup_lxc", json!({ "node": "pve2", "vmid": 201, "storage": "local" })).await;
    assert_eq!(backup["task"]["exitstatus"], "WARNINGS: 1", "{backup}");
    assert!(backup["task"]["warnings"][0].as_str().unwrap().contains("mp0"), "{backup}");
    assert!(s.close().await.success());
}

/// With a progress token, waiting sends `notifications/progress` (seconds of the deadline, the
/// newest log line); without one, none. A cancelled call ends its wait at once.
#[tokio::test]
async fn progress_while_waiting_and_cancellation() {
    let mut s = Session::spawn_with_args(
        &["--demo"],
        &[
            ("PROXMOX_ALLOW_ELEVATED", "true".into()),
            ("PROXMOX_DEMO_TASK_SECONDS", "3".into()),
            ("PROXMOX_LOG_LEVEL", "warn".into()),
        ],
    );
    s.initialize().await;
    let call = |id: u64, tool: &str, token: Option<&str>| {
        let mut params = json!({ "name": tool, "arguments": { "node": "pve1", "vmid": 101, "wait": 20 } });
        if let Some(t) = token {
            params["_meta"] = json!({ "progressToken": t });
        }
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params })
    };
    s.send(call(21, "proxmox_start_vm", Some("tok-1"))).await;
    let mut progress = Vec::new();
    let answer = loop {
        let msg = s.recv().await;
        if msg["method"] == "notifications/progress" {
            progress.push(msg["params"].clone());
        } else {
            break msg;
        }
    };
    assert_eq!(answer["id"], 21);
    assert_eq!(answer["result"]["structuredContent"]["task"]["exitstatus"], "OK", "{answer}");
    assert!(progress.len() >= 2, "{progress:?}");
    for p in &progress {
        assert_eq!(p["progressToken"], "tok-1");
        assert_eq!(p["total"], 20.0);
        assert!(p["progress"].as_f64().unwrap() <= 20.0);
    }
    assert!(progress.iter().any(|p| p["message"].as_str().is_some_and(|m| m.contains("qmstart 101"))), "{progress:?}");

    // No token, no notifications.
    let before = s.seen.len();
    s.send(call(22, "proxmox_start_vm", None)).await; // already running: fails at once
    let answer = s.recv().await;
    assert_eq!(answer["id"], 22);
    assert!(s.seen[before..].iter().all(|l| !l.contains("notifications/progress")));

    // Cancel a wait: the answer comes at once, the task goes on.
    let started = Instant::now();
    s.send(call(23, "proxmox_stop_vm", None)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.send(json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 23 } })).await;
    let ping = s.request(24, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));
    assert!(started.elapsed() < Duration::from_secs(2), "the cancelled wait ended at once");
    // The stop task went on in the cluster: VM 101 is stopped once it has run.
    let waited =
        ok(&mut s, "proxmox_get_node_tasks", json!({ "node": "pve1", "vmid": 101, "source": "all", "limit": 1 })).await;
    let upid = waited["items"][0]["upid"].as_str().unwrap().to_string();
    assert!(upid.contains(":qmstop:101:"), "{waited}");
    let after = ok(&mut s, "proxmox_wait_task", json!({ "upid": upid })).await;
    assert_eq!(after["task"]["exitstatus"], "OK");
    assert_eq!(ok(&mut s, "proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 101 })).await["status"], "stopped");
    assert!(s.close().await.success());
}
