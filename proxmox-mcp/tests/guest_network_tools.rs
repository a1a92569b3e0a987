//! The VM/LXC Network tools against a mock Proxmox (exact requests, rendered results) and against
//! fakepve (NICs added, changed and removed, and read back through our own tools).

mod common;

use common::{AUTH, Pve, api, assert_refused, with};
use httpmock::Method::PUT;
use serde_json::json;

#[tokio::test]
async fn add_network_vm_builds_the_nic_from_typed_fields() {
    let pve = Pve::start().await;
    let (get, put) = pve
        .mock_config_change(
            "/nodes/pve1/qemu/101/config",
            json!({ "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0", "digest": "n1" }),
            &[("net1", "e1000=BC:24:11:AA:BB:CC,bridge=vmbr1,tag=20,firewall=1"), ("digest", "n1")],
        )
        .await;
    let out = pve
        .ok(
            "proxmox_add_network_vm",
            json!({ "node": "pve1", "vmid": 101, "net": "net1", "bridge": "vmbr1", "model": "e1000",
                    "macaddr": "BC:24:11:AA:BB:CC", "vlan": 20, "firewall": true }),
        )
        .await;
    get.assert_async().await;
    put.assert_async().await;
    assert_eq!(
        out.text,
        "✅ Added net1 to VM 101\n\n• Node: pve1\n• net1: e1000=BC:24:11:AA:BB:CC,bridge=vmbr1,tag=20,firewall=1"
    );
    assert_eq!(out.data["net"], "net1");

    // The slot in use: refused, nothing written.
    let err = pve
        .call("proxmox_add_network_vm", json!({ "node": "pve1", "vmid": 101, "net": "net0", "bridge": "vmbr0" }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`net` net0 is already in use on VM 101") && err.contains("e.g. net1"), "{err}");
    assert_eq!(put.calls_async().await, 1);
}

#[tokio::test]
async fn add_network_lxc_names_the_interface_after_the_slot() {
    let pve = Pve::start().await;
    pve.mock_get("/nodes/pve1/lxc/200/config", json!({ "net0": "name=eth0,bridge=vmbr0,ip=dhcp", "digest": "n2" }))
        .await;
    let put = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/nodes/pve1/lxc/200/config"))
                .form_urlencoded_tuple("net2", "name=eth2,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1,ip6=auto,tag=7")
                .form_urlencoded_tuple("digest", "n2");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_add_network_lxc",
            json!({ "node": "pve1", "vmid": 200, "net": "net2", "bridge": "vmbr0", "ip": "192.0.2.10/24",
                    "gw": "192.0.2.1", "ip6": "auto", "vlan": 7 }),
        )
        .await;
    put.assert_async().await;
    assert!(out.text.starts_with("✅ Added net2 to container 200"), "{}", out.text);
}

#[tokio::test]
async fn update_network_vm_merges_into_the_current_nic() {
    let pve = Pve::start().await;
    let (get, put) = pve
        .mock_config_change(
            "/nodes/pve1/qemu/101/config",
            json!({ "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=5,queues=4", "digest": "n3" }),
            &[("net0", "vmxnet3=BC:24:11:00:00:01,bridge=vmbr2,firewall=0,queues=4"), ("digest", "n3")],
        )
        .await;
    let out = pve
        .ok(
            "proxmox_update_network_vm",
            json!({ "node": "pve1", "vmid": 101, "net": "net0", "bridge": "vmbr2", "model": "vmxnet3", "vlan": 0, "firewall": false }),
        )
        .await;
    get.assert_async().await;
    put.assert_async().await;
    assert!(
        out.text.contains("• Before: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=5,queues=4"),
        "{}",
        out.text
    );
    assert!(out.text.contains("• After: vmxnet3=BC:24:11:00:00:01,bridge=vmbr2,firewall=0,queues=4"), "{}", out.text);

    // The same settings again: nothing to write.
    let out = pve
        .ok("proxmox_update_network_vm", json!({ "node": "pve1", "vmid": 101, "net": "net0", "bridge": "vmbr0" }))
        .await;
    assert!(out.text.starts_with("ℹ️ net0 of VM 101 already has these settings"), "{}", out.text);
    // A NIC that does not exist, and no setting at all.
    let err = pve
        .call("proxmox_update_network_vm", json!({ "node": "pve1", "vmid": 101, "net": "net3", "vlan": 3 }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`net` VM 101 has no net3 (it has: net0)"), "{err}");
    let err =
        pve.call("proxmox_update_network_vm", json!({ "node": "pve1", "vmid": 101, "net": "net0" })).await.unwrap_err();
    assert!(err.to_string().contains("nothing to change"), "{err}");
    assert_eq!(put.calls_async().await, 1);
}

#[tokio::test]
async fn update_network_lxc_changes_addresses_and_keeps_the_rest() {
    let pve = Pve::start().await;
    pve.mock_get(
        "/nodes/pve1/lxc/200/config",
        json!({ "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:09,ip=dhcp,type=veth", "digest": "n4" }),
    )
    .await;
    let put = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/nodes/pve1/lxc/200/config"))
                .form_urlencoded_tuple(
                    "net0",
                    "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:09,ip=198.51.100.5/24,type=veth,gw=198.51.100.1",
                )
                .form_urlencoded_tuple("digest", "n4");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_update_network_lxc",
            json!({ "node": "pve1", "vmid": 200, "net": "net0", "ip": "198.51.100.5/24", "gw": "198.51.100.1" }),
        )
        .await;
    put.assert_async().await;
    assert!(out.text.starts_with("✅ Updated net0 of container 200"), "{}", out.text);
    assert_eq!(out.data["before"], "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:09,ip=dhcp,type=veth");
}

#[tokio::test]
async fn remove_network_tools_delete_an_existing_nic() {
    let pve = Pve::start().await;
    for (kind, vmid, noun) in [("qemu", 101, "VM"), ("lxc", 200, "container")] {
        pve.mock_get(
            &format!("/nodes/pve1/{kind}/{vmid}/config"),
            json!({ "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0", "net1": "e1000,bridge=vmbr1", "digest": "n5" }),
        )
        .await;
        let path = api(&format!("/nodes/pve1/{kind}/{vmid}/config"));
        let put = pve
            .server
            .mock_async(|when, then| {
                when.method(PUT)
                    .path(path)
                    .header("authorization", AUTH)
                    .form_urlencoded_tuple("delete", "net1")
                    .form_urlencoded_tuple("digest", "n5");
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        let tool = if kind == "qemu" { "proxmox_remove_network_vm" } else { "proxmox_remove_network_lxc" };
        let out = pve.ok(tool, json!({ "node": "pve1", "vmid": vmid, "net": "net1" })).await;
        put.assert_async().await;
        assert_eq!(out.text, format!("✅ Removed net1 from {noun} {vmid}\n\n• Node: pve1\n• Was: e1000,bridge=vmbr1"));
        let err = pve.call(tool, json!({ "node": "pve1", "vmid": vmid, "net": "net5" })).await.unwrap_err();
        assert!(err.to_string().contains(&format!("{noun} {vmid} has no net5 (it has: net0, net1)")), "{err}");
        assert_eq!(put.calls_async().await, 1);
    }
}

#[tokio::test]
async fn bad_network_arguments_are_refused_before_any_request() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!({})).await;
    for (tool, args, arg) in [
        ("proxmox_add_network_vm", json!({ "net": "net32" }), "net"),
        ("proxmox_add_network_vm", json!({ "net": "scsi0" }), "net"),
        ("proxmox_add_network_vm", json!({ "net": "net1", "bridge": "vmbr0,tag=1" }), "bridge"),
        ("proxmox_add_network_vm", json!({ "net": "net1", "model": "virtio,link_down=1" }), "model"),
        ("proxmox_add_network_vm", json!({ "net": "net1", "vlan": 4095 }), "vlan"),
        ("proxmox_add_network_vm", json!({ "net": "net1", "macaddr": "01:00:5E:00:00:01" }), "macaddr"),
        ("proxmox_add_network_vm", json!({ "net": "net1", "trunks": "1;2" }), "trunks"),
        ("proxmox_add_network_lxc", json!({ "net": "net1", "ip": "dhcp,gw=192.0.2.1" }), "ip"),
        ("proxmox_add_network_lxc", json!({ "net": "net1", "ip": "192.0.2.300/24" }), "ip"),
        ("proxmox_add_network_lxc", json!({ "net": "net1", "gw": "gateway" }), "gw"),
        ("proxmox_add_network_lxc", json!({ "net": "net1", "name": "eth1,ip=dhcp" }), "name"),
        ("proxmox_update_network_lxc", json!({ "net": "net0", "mtu": 9999999 }), "mtu"),
        ("proxmox_update_network_vm", json!({ "net": "net0", "rate": "fast" }), "rate"),
        ("proxmox_remove_network_vm", json!({ "net": "net0,net1" }), "net"),
        ("proxmox_remove_network_lxc", json!({ "net": "" }), "net"),
    ] {
        let full = with(&json!({ "node": "pve1", "vmid": 101 }), args.clone());
        let err = pve.call(tool, full).await.unwrap_err();
        assert!(err.to_string().contains(&format!("`{arg}`")), "{tool} {args}: {err}");
    }
    assert_eq!(any.calls_async().await, 0, "nothing sent");
}

#[tokio::test]
async fn network_tools_are_elevated() {
    let args = json!({ "node": "pve1", "vmid": 101, "net": "net1", "bridge": "vmbr0" });
    for tool in
        ["proxmox_add_network_vm", "proxmox_add_network_lxc", "proxmox_update_network_vm", "proxmox_update_network_lxc"]
    {
        assert_refused(tool, args.clone()).await;
    }
    for tool in ["proxmox_remove_network_vm", "proxmox_remove_network_lxc"] {
        assert_refused(tool, json!({ "node": "pve1", "vmid": 101, "net": "net1" })).await;
    }
}
