//! The demo cluster answers like Proxmox: state that follows tasks, Proxmox's error shapes for
//! what it does not know, and fault injection for tests of your own tools.

use proxmox_mcp::client::{Params, Request};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::{ApiError, ApiPath, Client, Context, Method, Registry, ToolError};
use serde_json::{Value, json};
use std::time::Duration;

async fn call(
    cluster: &DemoCluster,
    tool: &str,
    args: Value,
    allow_elevated: bool,
) -> Result<proxmox_mcp::ToolOutput, ToolError> {
    let ctx = Context::new(Client::with_transport(cluster.clone()), allow_elevated);
    let registry = Registry::builtin();
    let Value::Object(args) = args else { panic!("object") };
    registry.get(tool).unwrap_or_else(|| panic!("{tool}")).call(ctx, args).await
}

#[tokio::test]
async fn reads_show_a_believable_cluster() {
    let cluster = DemoCluster::new();
    let nodes = call(&cluster, "proxmox_get_nodes", json!({}), false).await.unwrap();
    assert_eq!(nodes.data["total"], 3);
    assert!(nodes.text.contains("🔴 **pve3** (offline)"));
    let vms = call(&cluster, "proxmox_get_vms", json!({}), false).await.unwrap();
    assert!(vms.text.contains("**web** (100) on pve1 — running"), "{}", vms.text);
    assert!(vms.text.contains("template"), "{}", vms.text);
    assert_eq!(vms.data["unreachable_nodes"][0], "pve3");
    let status = call(&cluster, "proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 200, "type": "lxc" }), false)
        .await
        .unwrap();
    assert_eq!(status.data["status"], "running");
}

#[tokio::test]
async fn unknown_paths_methods_and_parameters_get_proxmox_errors() {
    let cluster = DemoCluster::new();
    let client = Client::with_transport(cluster.clone());
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve1/nonsense"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(501), "{err}");
    let err = client.request(Method::Delete, &ApiPath::lit("/version"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(501), "{err}");
    let params = Params(vec![("bogus".into(), "1".into())]);
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve1/dns"), params).await.unwrap_err();
    let ApiError::BadRequest { errors, .. } = &err else { panic!("{err:?}") };
    assert!(errors.contains_key("bogus"), "{errors:?}");
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve3/dns"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(595));
}

#[tokio::test]
async fn tasks_take_their_time_and_the_status_follows() {
    let cluster = DemoCluster::with_task_duration(Duration::from_millis(300));
    let request = |action: &'static str| {
        Request::new(Method::Post, ApiPath::lit("/nodes/pve1/qemu/101/status").join_lit(action), Params::default())
    };
    let upid = cluster.handle(&request("start")).unwrap();
    let upid = upid.as_str().unwrap().to_string();
    assert!(upid.starts_with("UPID:pve1:") && upid.contains(":qmstart:101:"), "{upid}");
    let status = || cluster.with_state(|s| s.guest(101).map(|g| g.status.clone()).unwrap_or_default());
    assert_eq!(status(), "stopped", "not before the task ends");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status(), "running");
    // Starting a running VM: the task ends with Proxmox's error.
    let again = cluster.handle(&request("start")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let task = cluster
        .handle(&Request::new(
            Method::Get,
            ApiPath::lit("/nodes/pve1/tasks")
                .join(&again.as_str().unwrap().parse::<proxmox_mcp::types::Upid>().unwrap())
                .join_lit("status"),
            Params::default(),
        ))
        .unwrap();
    assert_eq!(task["status"], "stopped");
    assert_eq!(task["exitstatus"], "VM 101 already running");
}

#[tokio::test]
async fn faults_can_be_injected() {
    let cluster = DemoCluster::new();
    cluster.fail_next(2, 500, "simulated outage");
    for _ in 0..2 {
        let err = call(&cluster, "proxmox_get_nodes", json!({}), false).await.unwrap_err();
        assert!(err.to_string().contains("simulated outage"), "{err}");
    }
    assert!(call(&cluster, "proxmox_get_nodes", json!({}), false).await.is_ok());

    cluster.set_node_online("pve2", false);
    let err = call(&cluster, "proxmox_get_vms", json!({ "node": "pve2" }), false).await.unwrap_err();
    assert!(err.to_string().contains("595"), "{err}");

    cluster.set_latency(Duration::from_millis(200));
    let started = std::time::Instant::now();
    call(&cluster, "proxmox_get_next_vmid", json!({}), false).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn uploads_and_single_file_restore() {
    let cluster = DemoCluster::with_task_duration(Duration::ZERO);
    let dir = std::env::temp_dir().join(format!("proxmox-mcp-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("alpine.iso"), vec![7u8; 4096]).unwrap();
    let ctx = Context::new(Client::with_transport(cluster.clone()), true).with_upload_dir(Some(dir.clone()));
    let registry = Registry::builtin();
    let run = |tool: &str, args: Value| {
        let Value::Object(args) = args else { panic!("object") };
        registry.get(tool).unwrap().call(ctx.clone(), args)
    };
    run(
        "proxmox_upload_to_storage",
        json!({ "node": "pve1", "storage": "local", "content": "iso", "file": "alpine.iso" }),
    )
    .await
    .unwrap();
    let content = run("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local", "content": "iso" }))
        .await
        .unwrap();
    let iso = content.data["items"].as_array().unwrap().iter().find(|v| v["volid"] == "local:iso/alpine.iso").cloned();
    assert_eq!(iso.expect("uploaded")["size"], 4096);
    std::fs::remove_dir_all(&dir).ok();

    // Browse a PBS backup down to /etc and read a file from it.
    let volume = "pbs:backup/vm/100/2026-11-24T01:00:00Z";
    let root =
        run("proxmox_list_file_restore", json!({ "node": "pve1", "storage": "pbs", "volume": volume })).await.unwrap();
    assert_eq!(root.data["items"][0]["text"], "drive-scsi0.img.fidx");
    let etc = run(
        "proxmox_list_file_restore",
        json!({ "node": "pve1", "storage": "pbs", "volume": volume, "path": "/drive-scsi0.img.fidx/part/1/etc" }),
    )
    .await
    .unwrap();
    let hostname = etc.data["items"].as_array().unwrap().iter().find(|e| e["text"] == "hostname").unwrap().clone();
    assert_eq!(hostname["leaf"], true);
    let file = run(
        "proxmox_download_file_restore",
        json!({ "node": "pve1", "storage": "pbs", "volume": volume, "filepath": hostname["filepath"] }),
    )
    .await
    .unwrap();
    assert_eq!(file.data["content"], "web\n");
    // A directory comes as a zip archive.
    let zip = run(
        "proxmox_download_file_restore",
        json!({ "node": "pve1", "storage": "pbs", "volume": volume, "path": "/drive-scsi0.img.fidx/part/1/etc" }),
    )
    .await
    .unwrap();
    assert_eq!(zip.data["encoding"], "base64");
    assert!(zip.data["content_prefix"].as_str().unwrap().starts_with("UEsDB"), "PK\\x03\\x04: {}", zip.data);
    // Only PBS storages have single-file restore.
    let err =
        run("proxmox_list_file_restore", json!({ "node": "pve1", "storage": "local", "volume": "local:backup/x" }))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("Proxmox Backup Server"), "{err}");
}
