//! The VM Creation tools against a mock Proxmox (exact requests, rendered results) and against
//! fakepve (a VM and a container created, then read back through our own tools).

mod common;

use common::{AUTH, Pve, api, assert_refused, with};
use httpmock::Method::{GET, POST};
use serde_json::json;

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmcreate:105:root@pam!mcp:";
const UPID_CT: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:vzcreate:106:root@pam!mcp:";

#[tokio::test]
async fn list_templates_reads_vztmpl_content() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/local/content"))
                .query_param("content", "vztmpl")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "volid": "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "size": 141557760u64, "format": "tzst", "content": "vztmpl" },
                { "volid": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst", "size": 125829120u64, "format": "tzst", "content": "vztmpl" }
            ]}));
        })
        .await;
    // Basic tier: works without PROXMOX_ALLOW_ELEVATED; storage defaults to local.
    let out = pve.call_with("proxmox_list_templates", json!({ "node": "pve1" }), false).await.unwrap();
    m.assert_async().await;
    assert!(out.text.starts_with("📦 **Container templates on local** (pve1, 2)"), "{}", out.text);
    assert!(
        out.text
            .contains("\n• local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst (120.00 MiB)\n• local:vztmpl/ubuntu"),
        "sorted by volid: {}",
        out.text
    );
    assert_eq!(out.data["total"], 2);

    let empty = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/storage/nas/content")).query_param("content", "vztmpl");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.ok("proxmox_list_templates", json!({ "node": "pve2", "storage": "nas" })).await;
    empty.assert_async().await;
    assert!(out.text.starts_with("No container templates on nas (pve2)."), "{}", out.text);
    assert!(out.text.contains("pveam download nas"), "{}", out.text);

    let err = pve.call("proxmox_list_templates", json!({ "node": "pve1", "storage": "../etc" })).await.unwrap_err();
    assert!(err.to_string().contains("`storage`"), "{err}");
}

#[tokio::test]
async fn create_vm_sends_typed_values_and_defaults() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/qemu"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("vmid", "105")
                .form_urlencoded_tuple("name", "web2")
                .form_urlencoded_tuple("memory", "2048")
                .form_urlencoded_tuple("cores", "2")
                .form_urlencoded_tuple("sockets", "1")
                .form_urlencoded_tuple("cpu", "host")
                .form_urlencoded_tuple("ostype", "l26")
                .form_urlencoded_tuple("scsihw", "virtio-scsi-single")
                .form_urlencoded_tuple("scsi0", "local-lvm:32,iothread=1")
                .form_urlencoded_tuple("ide2", "local:iso/debian-13.iso,media=cdrom")
                .form_urlencoded_tuple("boot", "order=scsi0;ide2;net0")
                .form_urlencoded_tuple("net0", "virtio,bridge=vmbr1,tag=20,firewall=1")
                .form_urlencoded_tuple("agent", "1")
                .form_urlencoded_tuple("start", "1")
                .form_urlencoded_tuple("pool", "prod")
                .form_urlencoded_tuple_missing("storage")
                .form_urlencoded_tuple_missing("disk_size");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_vm",
            json!({
                "node": "pve1", "vmid": 105, "name": "web2", "memory": 2048, "cores": 2, "cpu": "host",
                "disk_size": "32G", "iso": "local:iso/debian-13.iso", "agent": true, "start": true, "pool": "prod",
                "net0": { "bridge": "vmbr1", "vlan": 20, "firewall": true }
            }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Creating VM 105 (web2) on pve1"), "{}", out.text);
    for expected in [
        "• Task: UPID:pve1:",
        "• Memory: 2048 MiB",
        "• CPU: 1 socket(s) × 2 core(s), host",
        "• scsi0: 32 GiB on local-lvm (virtio-scsi-single)",
        "• net0: virtio,bridge=vmbr1,tag=20,firewall=1",
        "• CD-ROM: local:iso/debian-13.iso",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert_eq!(out.data["upid"], UPID);
    assert_eq!(out.data["vmid"], 105);

    // Only the vmid given: the old server's defaults, a default NIC, no CD-ROM.
    let minimal = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve2/qemu"))
                .form_urlencoded_tuple("vmid", "106")
                .form_urlencoded_tuple("name", "vm-106")
                .form_urlencoded_tuple("memory", "512")
                .form_urlencoded_tuple("cores", "1")
                .form_urlencoded_tuple("sockets", "1")
                .form_urlencoded_tuple("scsi0", "local-lvm:8,iothread=1")
                .form_urlencoded_tuple("net0", "virtio,bridge=vmbr0")
                .form_urlencoded_tuple("boot", "order=scsi0;net0")
                .form_urlencoded_tuple_missing("ide2")
                .form_urlencoded_tuple_missing("cpu")
                .form_urlencoded_tuple_missing("start")
                .form_urlencoded_tuple_missing("agent");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    pve.ok("proxmox_create_vm", json!({ "node": "pve2", "vmid": 106 })).await;
    minimal.assert_async().await;

    // The LSI controller gets no iothread flag.
    let lsi = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve3/qemu"))
                .form_urlencoded_tuple("scsihw", "lsi")
                .form_urlencoded_tuple("scsi0", "ceph:100")
                .form_urlencoded_tuple("ostype", "win11");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    pve.ok(
        "proxmox_create_vm",
        json!({ "node": "pve3", "vmid": 107, "scsihw": "lsi", "storage": "ceph", "disk_size": 100, "ostype": "win11" }),
    )
    .await;
    lsi.assert_async().await;
}

#[tokio::test]
async fn create_vm_refuses_injection_and_bad_values() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!(UPID)).await;
    for (args, arg) in [
        (json!({ "disk_size": "1.5T" }), "disk_size"),
        (json!({ "disk_size": 0 }), "disk_size"),
        (json!({ "storage": "local-lvm:8,format=qcow2" }), "storage"),
        (json!({ "iso": "local:iso/x.iso,media=disk" }), "iso"),
        (json!({ "net0": { "bridge": "vmbr0,tag=5" } }), "net0"),
        (json!({ "net0": { "queues": 4 } }), "net0"),
        (json!({ "ostype": "linux" }), "ostype"),
        (json!({ "cpu": "host,flags=+aes" }), "cpu"),
        (json!({ "memory": 8 }), "memory"),
        (json!({ "name": "web_01" }), "name"),
        (json!({ "description": "x".repeat(8193) }), "description"),
        (json!({ "args": "-cpu host" }), "args"),
    ] {
        let full = with(&json!({ "node": "pve1", "vmid": 105 }), args.clone());
        let err = pve.call("proxmox_create_vm", full).await.unwrap_err();
        assert!(err.to_string().contains(&format!("`{arg}")), "{args}: {err}");
    }
    assert_eq!(any.calls_async().await, 0, "nothing sent");
}

#[tokio::test]
async fn create_lxc_sends_the_password_but_never_shows_it() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/lxc"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("vmid", "106")
                .form_urlencoded_tuple("ostemplate", "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst")
                .form_urlencoded_tuple("hostname", "dns2")
                .form_urlencoded_tuple("password", "Tr0ub4dor&3")
                .form_urlencoded_tuple("ssh-public-keys", "ssh-ed25519 AAAAC3Nza root@x")
                .form_urlencoded_tuple("memory", "1024")
                .form_urlencoded_tuple("swap", "0")
                .form_urlencoded_tuple("cores", "2")
                .form_urlencoded_tuple("rootfs", "local-zfs:16")
                .form_urlencoded_tuple("net0", "name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1")
                .form_urlencoded_tuple("unprivileged", "1")
                .form_urlencoded_tuple("features", "nesting=1,keyctl=1")
                .form_urlencoded_tuple("start", "1")
                .form_urlencoded_tuple_missing("storage");
            then.status(200).json_body(json!({ "data": UPID_CT }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_lxc",
            json!({
                "node": "pve1", "vmid": 106, "ostemplate": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
                "hostname": "dns2", "password": "Tr0ub4dor&3", "ssh_public_keys": "ssh-ed25519 AAAAC3Nza root@x",
                "memory": 1024, "swap": 0, "cores": 2, "storage": "local-zfs", "rootfs": "16",
                "net0": { "ip": "192.0.2.10/24", "gw": "192.0.2.1" },
                "features": { "nesting": true, "keyctl": true }, "start": true
            }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Creating container 106 (dns2) on pve1"), "{}", out.text);
    for expected in [
        "• Root disk: 16 GiB on local-zfs",
        "• net0: name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1",
        "• Login: root password set (not shown)",
        "• Features: nesting=1,keyctl=1",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert!(!out.text.contains("Tr0ub4dor") && !out.data.to_string().contains("Tr0ub4dor"), "{out:?}");

    // Defaults: lxc-<vmid>, 512/512 MiB, 8 GiB on local-lvm, eth0 on vmbr0 with DHCP, unprivileged.
    let minimal = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve2/lxc"))
                .form_urlencoded_tuple("hostname", "lxc-107")
                .form_urlencoded_tuple("memory", "512")
                .form_urlencoded_tuple("swap", "512")
                .form_urlencoded_tuple("rootfs", "local-lvm:8")
                .form_urlencoded_tuple("net0", "name=eth0,bridge=vmbr0,ip=dhcp")
                .form_urlencoded_tuple("unprivileged", "1")
                .form_urlencoded_tuple_missing("password")
                .form_urlencoded_tuple_missing("cores")
                .form_urlencoded_tuple_missing("features");
            then.status(200).json_body(json!({ "data": UPID_CT }));
        })
        .await;
    let out = pve
        .ok("proxmox_create_lxc", json!({ "node": "pve2", "vmid": 107, "ostemplate": "local:vztmpl/alpine.tar.xz" }))
        .await;
    minimal.assert_async().await;
    assert!(out.text.contains("• Login: no password: use `pct enter 107` on pve2"), "{}", out.text);

    // A password that is too short is refused without being echoed.
    let err = pve
        .call(
            "proxmox_create_lxc",
            json!({ "node": "pve1", "vmid": 108, "ostemplate": "local:vztmpl/a.tar.gz", "password": "abc" }),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`password`") && !err.contains("abc"), "{err}");
    for (args, arg) in [
        (json!({ "ostemplate": "local:../etc/passwd" }), "ostemplate"),
        (json!({ "rootfs": "8,mp=/x" }), "rootfs"),
        (json!({ "net0": { "ip": "10.0.0.5" } }), "net0"),
        (json!({ "features": { "mount": "nfs" } }), "features"),
        (json!({ "hostname": "a b" }), "hostname"),
    ] {
        let full = with(&json!({ "node": "pve1", "vmid": 108, "ostemplate": "local:vztmpl/a.tar.gz" }), args.clone());
        let err = pve.call("proxmox_create_lxc", full).await.unwrap_err();
        assert!(err.to_string().contains(&format!("`{arg}")), "{args}: {err}");
    }
}

#[tokio::test]
async fn create_tools_are_elevated() {
    assert_refused("proxmox_create_vm", json!({ "node": "pve1", "vmid": 105 })).await;
    assert_refused("proxmox_create_lxc", json!({ "node": "pve1", "vmid": 106, "ostemplate": "local:vztmpl/a.tar.gz" }))
        .await;
}

#[tokio::test]
async fn create_vm_builds_a_uefi_windows_11_vm() {
    let out = common::expect(
        "proxmox_create_vm",
        json!({
            "node": "pve1", "vmid": 110, "name": "win11", "ostype": "win11", "bios": "ovmf", "machine": "q35",
            "efidisk0": "local-lvm:1,efitype=4m,pre-enrolled-keys=1", "tpmstate0": "local-lvm:1,version=v2.0"
        }),
        "POST",
        "/nodes/pve1/qemu",
        &[
            ("vmid", "110"),
            ("name", "win11"),
            ("memory", "512"),
            ("cores", "1"),
            ("sockets", "1"),
            ("ostype", "win11"),
            ("scsihw", "virtio-scsi-single"),
            ("scsi0", "local-lvm:8,iothread=1"),
            ("bios", "ovmf"),
            ("machine", "q35"),
            ("efidisk0", "local-lvm:1,efitype=4m,pre-enrolled-keys=1"),
            ("tpmstate0", "local-lvm:1,version=v2.0"),
            ("boot", "order=scsi0;net0"),
            ("net0", "virtio,bridge=vmbr0"),
        ],
        json!(UPID),
    )
    .await;
    for expected in [
        "• Firmware: ovmf",
        "• Machine: q35",
        "• efidisk0: local-lvm:1,efitype=4m",
        "• tpmstate0: local-lvm:1,version=v2.0",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    // Options outside what Proxmox takes are refused before anything is sent.
    for (args, arg) in [
        (json!({ "bios": "uefi" }), "bios"),
        (json!({ "machine": "q35,args=-foo" }), "machine"),
        (json!({ "efidisk0": "local-lvm:1,efitype=8m" }), "efidisk0"),
        (json!({ "efidisk0": "local-lvm:1,size=4M,format=raw,import-from=x;rm" }), "efidisk0"),
        (json!({ "tpmstate0": "local-lvm:1,version=v3" }), "tpmstate0"),
    ] {
        common::assert_refused_arg("proxmox_create_vm", with(&json!({ "node": "pve1", "vmid": 110 }), args), arg).await;
    }
}
