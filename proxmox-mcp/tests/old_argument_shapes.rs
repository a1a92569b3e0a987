//! The TypeScript server's argument shapes, which its callers still send, keep working where
//! they had a meaning (`../shared/spec/tools.json` lists its parameters): each is read as the
//! current argument and makes the request the current shape makes.

mod common;

use common::{expect, invalid_args};
use serde_json::json;

const UPID: &str = "UPID:pve1:00001234:00005678:65F0A1B2:qmcreate:105:root@pam!mcp:";

#[tokio::test]
async fn net0_as_a_property_string_on_create_vm() {
    // The old default, as a string: the same NIC as the object form's default.
    let base = [
        ("vmid", "105"),
        ("name", "vm-105"),
        ("memory", "512"),
        ("cores", "1"),
        ("sockets", "1"),
        ("ostype", "l26"),
        ("scsihw", "virtio-scsi-single"),
        ("scsi0", "local-lvm:8,iothread=1"),
        ("boot", "order=scsi0;net0"),
    ];
    let with_net = |net0: &'static str| {
        let mut p = base.to_vec();
        p.push(("net0", net0));
        p
    };
    expect(
        "proxmox_create_vm",
        json!({ "node": "pve1", "vmid": 105, "net0": "virtio,bridge=vmbr0" }),
        "POST",
        "/nodes/pve1/qemu",
        &with_net("virtio,bridge=vmbr0"),
        json!(UPID),
    )
    .await;
    // Proxmox's own spelling: model=MAC, tag, 0/1 flags.
    expect(
        "proxmox_create_vm",
        json!({ "node": "pve1", "vmid": 105, "net0": "e1000=BC:24:11:00:00:01,bridge=vmbr1,tag=20,firewall=1" }),
        "POST",
        "/nodes/pve1/qemu",
        &with_net("e1000=BC:24:11:00:00:01,bridge=vmbr1,tag=20,firewall=1"),
        json!(UPID),
    )
    .await;
    // What the object form refuses, the string form refuses too, naming the part.
    let pve = common::Pve::start().await;
    for (net0, arg) in [("virtio,bridge=vmbr0,tag=5000", "net0.vlan"), ("virtio,queues=4", "net0"), ("bogus", "net0")] {
        let args = json!({ "node": "pve1", "vmid": 105, "net0": net0 });
        let list = invalid_args(pve.call("proxmox_create_vm", args).await);
        assert!(list.iter().any(|(a, _)| a.starts_with(arg)), "{net0}: {list:?}");
    }
}

#[tokio::test]
async fn net0_as_a_property_string_on_create_lxc() {
    let out = expect(
        "proxmox_create_lxc",
        json!({
            "node": "pve1", "vmid": 106, "hostname": "dns2", "ostemplate": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
            "net0": "name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1,tag=30"
        }),
        "POST",
        "/nodes/pve1/lxc",
        &[
            ("vmid", "106"),
            ("ostemplate", "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst"),
            ("hostname", "dns2"),
            ("memory", "512"),
            ("swap", "512"),
            ("rootfs", "local-lvm:8"),
            ("net0", "name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1,tag=30"),
            ("unprivileged", "1"),
        ],
        json!(UPID),
    )
    .await;
    assert!(out.text.contains("• net0: name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1,tag=30"), "{}", out.text);
}

#[tokio::test]
async fn capture_output_on_agent_exec_is_taken_and_changes_nothing() {
    // The guest agent always captures output; the request is the one without it.
    let out = expect(
        "proxmox_agent_exec",
        json!({ "node": "pve1", "vmid": 100, "command": "uname", "capture-output": true }),
        "POST",
        "/nodes/pve1/qemu/100/agent/exec",
        &[("command", "uname")],
        json!({ "pid": 7 }),
    )
    .await;
    assert!(out.text.contains("proxmox_agent_exec_status"), "{}", out.text);
}

#[tokio::test]
async fn with_local_storage_on_migrate_vm_is_with_local_disks() {
    expect(
        "proxmox_migrate_vm",
        json!({ "node": "pve1", "vmid": 100, "target": "pve2", "online": true, "with-local-storage": true }),
        "POST",
        "/nodes/pve1/qemu/100/migrate",
        &[("target", "pve2"), ("online", "1"), ("with-local-disks", "1")],
        json!("UPID:pve1:00001234:00005678:65F0A1B2:qmigrate:100:root@pam!mcp:"),
    )
    .await;
}

#[tokio::test]
async fn rrddata_timeframe_defaults_to_the_last_hour() {
    for (tool, path) in [
        ("proxmox_get_vm_rrddata", "/nodes/pve1/qemu/100/rrddata"),
        ("proxmox_get_lxc_rrddata", "/nodes/pve1/lxc/100/rrddata"),
    ] {
        let out =
            expect(tool, json!({ "node": "pve1", "vmid": 100 }), "GET", path, &[("timeframe", "hour")], json!([]))
                .await;
        assert_eq!(out.data["timeframe"], "hour", "{tool}");
    }
}

#[tokio::test]
async fn exclude_path_as_one_string_on_backup_jobs() {
    expect(
        "proxmox_create_cluster_backup_job",
        json!({ "schedule": "21:30", "all": true, "storage": "local", "exclude-path": "/tmp/?*" }),
        "POST",
        "/cluster/backup",
        &[("schedule", "21:30"), ("all", "1"), ("storage", "local"), ("exclude-path", "/tmp/?*")],
        json!(null),
    )
    .await;
}

#[tokio::test]
async fn filename_alone_on_upload_names_the_local_file() {
    use common::mcp::Session;
    let dir = std::env::temp_dir().join(format!("pmcp-old-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tiny.iso"), b"iso").unwrap();
    let mut s = Session::spawn_with_args(
        &["--demo"],
        &[
            ("PROXMOX_ALLOW_ELEVATED", "true".into()),
            ("PROXMOX_UPLOAD_DIR", dir.display().to_string()),
            ("PROXMOX_DEMO_TASK_SECONDS", "0.2".into()),
            ("PROXMOX_LOG_LEVEL", "warn".into()),
        ],
    );
    s.initialize().await;
    let result = s
        .call(
            "proxmox_upload_to_storage",
            json!({ "node": "pve1", "storage": "local", "content": "iso", "filename": "tiny.iso" }),
        )
        .await;
    assert_ne!(result["isError"], true, "{result}");
    let content = s.call("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local" })).await;
    assert!(content.to_string().contains("local:iso/tiny.iso"), "{content}");
    assert!(s.close().await.success());
    std::fs::remove_dir_all(&dir).ok();
}
