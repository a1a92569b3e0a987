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
