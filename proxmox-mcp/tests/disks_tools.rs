//! The Disks tools against a mock Proxmox (exact requests, rendered results) and against fakepve
//! (disks and mount points added, grown, moved and removed, and read back through our tools).

mod common;

use common::{AUTH, Pve, api, assert_refused, with};
use httpmock::Method::{POST, PUT};
use serde_json::{Value, json};

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:resize:101:root@pam!mcp:";

#[tokio::test]
async fn add_disk_vm_writes_a_typed_drive_to_a_free_slot() {
    let pve = Pve::start().await;
    let (get, put) = pve
        .mock_config_change(
            "/nodes/pve1/qemu/101/config",
            json!({ "scsi0": "local-lvm:vm-101-disk-0,size=8G", "digest": "d1" }),
            &[("scsi1", "local-lvm:10,cache=writeback,discard=on,ssd=1"), ("digest", "d1")],
        )
        .await;
    let out = pve
        .ok(
            "proxmox_add_disk_vm",
            json!({ "node": "pve1", "vmid": 101, "disk": "scsi1", "storage": "local-lvm", "size": "10",
                    "cache": "writeback", "discard": true, "ssd": true }),
        )
        .await;
    get.assert_async().await;
    put.assert_async().await;
    assert!(out.text.starts_with("✅ Added scsi1 to VM 101: a new 10 GiB disk on local-lvm"), "{}", out.text);
    assert!(out.text.contains("• scsi1: local-lvm:10,cache=writeback,discard=on,ssd=1"), "{}", out.text);
    assert_eq!(out.data["disk"], "scsi1");
}

#[tokio::test]
async fn add_disk_vm_refuses_a_slot_in_use() {
    let pve = Pve::start().await;
    let get = pve
        .mock_get(
            "/nodes/pve1/qemu/101/config",
            json!({ "virtio0": "local-lvm:vm-101-disk-0,size=8G", "virtio1": "local-lvm:vm-101-disk-1,size=8G" }),
        )
        .await;
    let put = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT);
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let err = pve
        .call(
            "proxmox_add_disk_vm",
            json!({ "node": "pve1", "vmid": 101, "disk": "virtio1", "storage": "local-lvm", "size": 4 }),
        )
        .await
        .unwrap_err()
        .to_string();
    get.assert_async().await;
    assert_eq!(put.calls_async().await, 0, "nothing written");
    assert!(err.contains("`disk` virtio1 is already in use on VM 101") && err.contains("e.g. virtio2"), "{err}");
}

#[tokio::test]
async fn add_mountpoint_lxc_sends_the_mount_path() {
    let pve = Pve::start().await;
    let (get, put) = pve
        .mock_config_change(
            "/nodes/pve1/lxc/200/config",
            json!({ "rootfs": "local-lvm:subvol-200-disk-0,size=8G", "digest": "c1" }),
            &[("mp0", "local-lvm:16,mp=/srv/data,backup=1"), ("digest", "c1")],
        )
        .await;
    let out = pve
        .ok(
            "proxmox_add_mountpoint_lxc",
            json!({ "node": "pve1", "vmid": 200, "mp": "mp0", "storage": "local-lvm", "size": 16, "path": "/srv/data", "backup": true }),
        )
        .await;
    get.assert_async().await;
    put.assert_async().await;
    assert!(
        out.text.starts_with("✅ Added mp0 to container 200: a new 16 GiB volume on local-lvm at /srv/data"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn resize_tools_send_disk_and_size() {
    let pve = Pve::start().await;
    let vm =
        pve.mock_form(PUT, "/nodes/pve1/qemu/101/resize", &[("disk", "scsi0"), ("size", "+10G")], json!(UPID)).await;
    let out =
        pve.ok("proxmox_resize_disk_vm", json!({ "node": "pve1", "vmid": 101, "disk": "scsi0", "size": "+10G" })).await;
    vm.assert_async().await;
    assert!(out.text.starts_with("✅ scsi0 of VM 101 is being grown by 10G"), "{}", out.text);
    assert_eq!(out.data["upid"], UPID);
    assert_eq!(out.data["disk"], "scsi0");

    let ct = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/nodes/pve1/lxc/200/resize"))
                .form_urlencoded_tuple("disk", "rootfs")
                .form_urlencoded_tuple("size", "20G");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve
        .ok("proxmox_resize_disk_lxc", json!({ "node": "pve1", "vmid": 200, "disk": "rootfs", "size": "20G" }))
        .await;
    ct.assert_async().await;
    assert!(out.text.starts_with("✅ rootfs of container 200 is being resized to 20G"), "{}", out.text);

    for (tool, args, arg) in [
        ("proxmox_resize_disk_vm", json!({ "disk": "scsi0", "size": "10 GB" }), "size"),
        ("proxmox_resize_disk_vm", json!({ "disk": "scsi0", "size": "-1G" }), "size"),
        ("proxmox_resize_disk_vm", json!({ "disk": "unused0", "size": "+1G" }), "disk"),
        ("proxmox_resize_disk_vm", json!({ "disk": "net0", "size": "+1G" }), "disk"),
        ("proxmox_resize_disk_lxc", json!({ "disk": "mp256", "size": "+1G" }), "disk"),
        ("proxmox_resize_disk_lxc", json!({ "disk": "rootfs", "size": "+1G,x" }), "size"),
    ] {
        let full = with(&json!({ "node": "pve1", "vmid": 101 }), args.clone());
        let err = pve.call(tool, full).await.unwrap_err();
        assert!(err.to_string().contains(&format!("`{arg}`")), "{tool} {args}: {err}");
    }
}

#[tokio::test]
async fn remove_disk_vm_deletes_a_disk_the_vm_has() {
    let pve = Pve::start().await;
    let get = pve.mock_get("/nodes/pve1/qemu/101/config",
        json!({ "scsi0": "local-lvm:vm-101-disk-0,size=8G", "scsi1": "local-lvm:vm-101-disk-1,size=4G", "digest": "d2" }),
    )
    .await;
    let put =
        pve.mock_form(PUT, "/nodes/pve1/qemu/101/config", &[("delete", "scsi1"), ("digest", "d2")], json!(null)).await;
    let out = pve.ok("proxmox_remove_disk_vm", json!({ "node": "pve1", "vmid": 101, "disk": "scsi1" })).await;
    put.assert_async().await;
    assert!(out.text.starts_with("✅ Removed scsi1 from VM 101: a volume it held stays"), "{}", out.text);
    assert!(out.text.contains("• Was: local-lvm:vm-101-disk-1,size=4G"), "{}", out.text);

    // A disk the VM does not have: named, with the ones it has, and nothing written.
    let err = pve
        .call("proxmox_remove_disk_vm", json!({ "node": "pve1", "vmid": 101, "disk": "virtio3" }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`disk` VM 101 has no virtio3 (it has: scsi0, scsi1)"), "{err}");
    assert_eq!(put.calls_async().await, 1);
    assert_eq!(get.calls_async().await, 2);
}

#[tokio::test]
async fn remove_mountpoint_lxc_deletes_the_mount_point() {
    let pve = Pve::start().await;
    pve.mock_get("/nodes/pve1/lxc/200/config",
        json!({ "rootfs": "local-lvm:vm-200-disk-0,size=8G", "mp0": "local-lvm:vm-200-disk-1,mp=/srv,size=4G", "digest": "c2" }),
    )
    .await;
    let put = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/nodes/pve1/lxc/200/config"))
                .form_urlencoded_tuple("delete", "mp0")
                .form_urlencoded_tuple("digest", "c2");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve.ok("proxmox_remove_mountpoint_lxc", json!({ "node": "pve1", "vmid": 200, "mp": "mp0" })).await;
    put.assert_async().await;
    assert!(out.text.starts_with("✅ Removed mp0 from container 200"), "{}", out.text);

    let err = pve
        .call("proxmox_remove_mountpoint_lxc", json!({ "node": "pve1", "vmid": 200, "mp": "rootfs" }))
        .await
        .unwrap_err();
    // The schema's pattern for `mp` leaves rootfs out.
    assert!(err.to_string().contains("`mp` must match the pattern ^(mp|unused)"), "{err}");
    let err = pve
        .call("proxmox_remove_mountpoint_lxc", json!({ "node": "pve1", "vmid": 200, "mp": "mp1" }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("container 200 has no mp1 (it has: mp0)"), "{err}");
    assert_eq!(put.calls_async().await, 1);
}

#[tokio::test]
async fn move_tools_post_to_their_endpoints() {
    let pve = Pve::start().await;
    let vm = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/qemu/101/move_disk"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("disk", "scsi0")
                .form_urlencoded_tuple("storage", "ceph")
                .form_urlencoded_tuple("delete", "1")
                .form_urlencoded_tuple("format", "raw")
                .form_urlencoded_tuple_missing("volume")
                .form_urlencoded_tuple_missing("bwlimit");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_move_disk_vm",
            json!({ "node": "pve1", "vmid": 101, "disk": "scsi0", "storage": "ceph", "format": "raw" }),
        )
        .await;
    vm.assert_async().await;
    assert!(out.text.starts_with("✅ Moving scsi0 of VM 101 to ceph"), "{}", out.text);
    assert!(out.text.contains("• Source volume: deleted after the copy"), "{}", out.text);
    assert_eq!(out.data["upid"], UPID);

    let ct = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/lxc/200/move_volume"))
                .form_urlencoded_tuple("volume", "mp0")
                .form_urlencoded_tuple("storage", "local-lvm")
                .form_urlencoded_tuple("delete", "0")
                .form_urlencoded_tuple("bwlimit", "10240")
                .form_urlencoded_tuple_missing("disk");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_move_disk_lxc",
            json!({ "node": "pve1", "vmid": 200, "disk": "mp0", "storage": "local-lvm", "delete": false, "bwlimit": 10240 }),
        )
        .await;
    ct.assert_async().await;
    assert!(out.text.contains("• Source volume: kept as an unused volume"), "{}", out.text);
}

#[tokio::test]
async fn bad_disk_arguments_are_refused_before_any_request() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!({})).await;
    let vm = json!({ "node": "pve1", "vmid": 101 });
    for (tool, args, arg) in [
        ("proxmox_add_disk_vm", json!({ "disk": "hookscript", "storage": "local", "size": 1 }), "disk"),
        ("proxmox_add_disk_vm", json!({ "disk": "scsi31", "storage": "local", "size": 1 }), "disk"),
        ("proxmox_add_disk_vm", json!({ "disk": "efidisk0", "storage": "local", "size": 1 }), "disk"),
        (
            "proxmox_add_disk_vm",
            json!({ "disk": "scsi1", "storage": "local:1,import-from=/etc", "size": 1 }),
            "storage",
        ),
        ("proxmox_add_disk_vm", json!({ "disk": "scsi1", "storage": "local", "size": "10,ssd=1" }), "size"),
        ("proxmox_add_disk_vm", json!({ "disk": "scsi1", "storage": "local", "size": 1, "media": "cdrom" }), "media"),
        (
            "proxmox_add_mountpoint_lxc",
            json!({ "mp": "mp0", "storage": "local", "size": 1, "path": "/srv,ro=1" }),
            "path",
        ),
        (
            "proxmox_add_mountpoint_lxc",
            json!({ "mp": "mp0", "storage": "local", "size": 1, "path": "/srv/../etc" }),
            "path",
        ),
        ("proxmox_add_mountpoint_lxc", json!({ "mp": "mp0", "storage": "local", "size": 1, "path": "srv" }), "path"),
        ("proxmox_add_mountpoint_lxc", json!({ "mp": "rootfs", "storage": "local", "size": 1, "path": "/srv" }), "mp"),
        ("proxmox_add_mountpoint_lxc", json!({ "mp": "mp0", "storage": "local", "size": 1 }), "path"),
        ("proxmox_remove_disk_vm", json!({ "disk": "scsi1,net0" }), "disk"),
        ("proxmox_remove_mountpoint_lxc", json!({ "mp": "memory" }), "mp"),
        ("proxmox_move_disk_vm", json!({ "disk": "scsi0", "storage": "../x" }), "storage"),
        ("proxmox_move_disk_vm", json!({ "disk": "scsi0", "storage": "ceph", "format": "qcow" }), "format"),
        ("proxmox_move_disk_lxc", json!({ "disk": "scsi0", "storage": "ceph" }), "disk"),
    ] {
        let full = with(&vm, args.clone());
        let err = pve.call(tool, full).await.unwrap_err();
        assert!(err.to_string().contains(&format!("`{arg}`")), "{tool} {args}: {err}");
    }
    assert_eq!(any.calls_async().await, 0, "nothing sent");
}

#[tokio::test]
async fn disk_tools_are_elevated() {
    let vm = |extra: Value| with(&json!({ "node": "pve1", "vmid": 101 }), extra);
    assert_refused("proxmox_add_disk_vm", vm(json!({ "disk": "scsi1", "storage": "local-lvm", "size": 1 }))).await;
    assert_refused(
        "proxmox_add_mountpoint_lxc",
        vm(json!({ "mp": "mp0", "storage": "local-lvm", "size": 1, "path": "/srv" })),
    )
    .await;
    assert_refused("proxmox_resize_disk_vm", vm(json!({ "disk": "scsi0", "size": "+1G" }))).await;
    assert_refused("proxmox_resize_disk_lxc", vm(json!({ "disk": "rootfs", "size": "+1G" }))).await;
    assert_refused("proxmox_remove_disk_vm", vm(json!({ "disk": "scsi1" }))).await;
    assert_refused("proxmox_remove_mountpoint_lxc", vm(json!({ "mp": "mp0" }))).await;
    assert_refused("proxmox_move_disk_vm", vm(json!({ "disk": "scsi0", "storage": "local-lvm" }))).await;
    assert_refused("proxmox_move_disk_lxc", vm(json!({ "disk": "rootfs", "storage": "local-lvm" }))).await;
}
