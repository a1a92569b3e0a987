//! The Storage Management tools against a mock Proxmox (exact requests, rendered results; the
//! multipart upload and raw file download through the client) and against fakepve.

mod common;

use common::{AUTH, Pve, api, assert_refused, with};
use httpmock::Method::{DELETE, GET, POST, PUT};
use proxmox_mcp::client::{Params, Upload};
use proxmox_mcp::{ApiError, ApiPath, Registry, ToolError, ToolResult};
use serde_json::{Value, json};
use std::path::PathBuf;

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:imgcopy::root@pam!mcp:";

/// A fresh directory for this test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("proxmox-mcp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Call a tool with elevation on and this upload directory.
async fn call_with_upload_dir(pve: &Pve, dir: Option<PathBuf>, tool: &str, args: Value) -> ToolResult {
    let registry = Registry::builtin();
    let Value::Object(args) = args else { panic!("object") };
    registry.get(tool).unwrap().call(pve.context(true).with_upload_dir(dir), args).await
}

#[tokio::test]
async fn list_storage_config_filters_by_type() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/storage")).query_param("type", "dir").header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "storage": "local", "type": "dir", "content": "iso,vztmpl,backup", "path": "/var/lib/vz", "digest": "abc" },
                { "storage": "archive", "type": "dir", "content": "backup", "nodes": "pve2", "disable": 1 }
            ]}));
        })
        .await;
    let out = pve.call_with("proxmox_list_storage_config", json!({ "type": "dir" }), false).await.unwrap();
    m.assert_async().await;
    assert!(
        out.text.starts_with(
            "💾 **Storage definitions** (2)\n\n• 🔴 **archive** (dir) — content: backup; nodes: pve2, disabled"
        ),
        "{}",
        out.text
    );
    assert!(out.text.contains("• 🟢 **local** (dir) — content: iso,vztmpl,backup; nodes: all"), "{}", out.text);

    let all = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/storage")).query_param_missing("type");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    assert_eq!(pve.ok("proxmox_list_storage_config", json!({})).await.text, "No storage definitions found.");
    all.assert_async().await;
}

#[tokio::test]
async fn get_storage_config_shows_every_option() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/storage/local-lvm", json!({
        "storage": "local-lvm", "type": "lvmthin", "vgname": "pve", "thinpool": "data", "content": "images,rootdir", "digest": "0123abcd"
    })).await;
    let out = pve.ok("proxmox_get_storage_config", json!({ "storage": "local-lvm" })).await;
    m.assert_async().await;
    assert_eq!(
        out.text,
        "💾 **Storage local-lvm**\n• type: lvmthin\n• content: images,rootdir\n• thinpool: data\n• vgname: pve\n• digest: 0123abcd"
    );
    let err = pve.call("proxmox_get_storage_config", json!({ "storage": "../nodes" })).await.unwrap_err().to_string();
    assert!(err.contains("`storage`"), "{err}");
}

#[tokio::test]
async fn create_storage_sends_the_type_options() {
    let pve = Pve::start().await;
    let nfs = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/storage"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("storage", "backup-nfs")
                .form_urlencoded_tuple("type", "nfs")
                .form_urlencoded_tuple("server", "192.0.2.20")
                .form_urlencoded_tuple("export", "/srv/backup")
                .form_urlencoded_tuple("content", "backup,iso")
                .form_urlencoded_tuple("prune-backups", "keep-last=3,keep-daily=7")
                .form_urlencoded_tuple("nodes", "pve1,pve2")
                .form_urlencoded_tuple_missing("maxfiles");
            then.status(200).json_body(json!({ "data": { "storage": "backup-nfs", "type": "nfs" } }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_storage",
            json!({
                "storage": "backup-nfs", "type": "nfs", "server": "192.0.2.20", "export": "/srv/backup",
                "content": "backup,iso", "prune-backups": "keep-last=3,keep-daily=7", "nodes": "pve1,pve2"
            }),
        )
        .await;
    nfs.assert_async().await;
    assert_eq!(out.text, "✅ Storage **backup-nfs** (nfs) created\n• Content: backup,iso\n• Nodes: pve1,pve2");

    // CephFS's name is `fs-name` (the old `fsname` is accepted); secrets are sent, never shown.
    let ceph = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/storage"))
                .form_urlencoded_tuple("type", "cephfs")
                .form_urlencoded_tuple("fs-name", "cephfs2")
                .form_urlencoded_tuple("keyring", "AQBsecretkey==")
                .form_urlencoded_tuple_missing("fsname");
            then.status(200).json_body(json!({ "data": { "storage": "cfs", "type": "cephfs" } }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_storage",
            json!({ "storage": "cfs", "type": "cephfs", "fsname": "cephfs2", "keyring": "AQBsecretkey==" }),
        )
        .await;
    ceph.assert_async().await;
    assert!(!out.text.contains("AQBsecret") && !out.data.to_string().contains("AQBsecret"), "{}", out.text);

    for (args, arg, rule) in [
        (json!({ "storage": "n", "type": "nfs", "server": "x" }), "`storage`", ""),
        (json!({ "storage": "nfs1", "type": "nfs", "server": "x" }), "`export`", "is required for nfs storage"),
        (
            json!({ "storage": "d1", "type": "dir", "path": "/srv", "vgname": "pve" }),
            "`vgname`",
            "does not apply to dir storage",
        ),
        (json!({ "storage": "d1", "type": "dir", "path": "/srv", "maxfiles": 3 }), "`maxfiles`", "is not a parameter"),
        (json!({ "storage": "d1", "type": "dir", "path": "/srv", "content": "iso,movies" }), "`content`", ""),
        (
            json!({ "storage": "d1", "type": "dir", "path": "/srv", "prune-backups": "keep-forever=1" }),
            "`prune-backups`",
            "",
        ),
        (json!({ "storage": "d1", "type": "dir", "path": "/srv", "nodes": "pve1,../x" }), "`nodes`", ""),
        (json!({ "storage": "d1", "type": "dir", "path": "relative/dir" }), "`path`", ""),
        (json!({ "storage": "g1", "type": "glusterfs" }), "`type`", ""),
    ] {
        let err = pve.call("proxmox_create_storage", args.clone()).await.unwrap_err().to_string();
        assert!(err.contains(arg) && err.contains(rule), "{args}: {err}");
    }
    assert_eq!(nfs.calls_async().await, 1, "refused calls send nothing");
    assert_refused("proxmox_create_storage", json!({ "storage": "d1", "type": "dir", "path": "/srv" })).await;
}

#[tokio::test]
async fn update_storage_checks_the_type_then_puts() {
    let pve = Pve::start().await;
    let read = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/storage/backup-nfs")).header("authorization", AUTH);
            then.status(200).json_body(
                json!({ "data": { "storage": "backup-nfs", "type": "nfs", "server": "192.0.2.20", "export": "/srv" } }),
            );
        })
        .await;
    let put = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/storage/backup-nfs"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("content", "backup")
                .form_urlencoded_tuple("disable", "1")
                .form_urlencoded_tuple("delete", "nodes,prune-backups")
                .form_urlencoded_tuple("digest", "0123abcd")
                .form_urlencoded_tuple_missing("storage");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_update_storage",
            json!({ "storage": "backup-nfs", "content": "backup", "disable": true, "delete": "nodes,prune-backups", "digest": "0123abcd" }),
        )
        .await;
    read.assert_async().await;
    put.assert_async().await;
    assert_eq!(
        out.text,
        "✅ Storage **backup-nfs** updated\n• Changed: content, disable\n• Unset: nodes,prune-backups"
    );

    for (args, arg, rule) in [
        (json!({ "storage": "backup-nfs", "server": "192.0.2.21" }), "`server`", "is fixed"),
        (json!({ "storage": "backup-nfs", "pool": "rbd" }), "`pool`", "does not apply to nfs storage"),
        (json!({ "storage": "backup-nfs", "export": "/other" }), "`export`", "is not a parameter"),
        (json!({ "storage": "backup-nfs" }), "Nothing to change", ""),
        (json!({ "storage": "backup-nfs", "nodes": "pve1", "delete": "nodes" }), "`delete`", ""),
    ] {
        let err = pve.call("proxmox_update_storage", args.clone()).await.unwrap_err().to_string();
        assert!(err.contains(arg) && err.contains(rule), "{args}: {err}");
    }
    assert_eq!(put.calls_async().await, 1);
    assert_refused("proxmox_update_storage", json!({ "storage": "local", "content": "iso" })).await;
}

#[tokio::test]
async fn delete_storage_removes_the_definition() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(DELETE).path(api("/storage/old-nfs")).header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve.ok("proxmox_delete_storage", json!({ "storage": "old-nfs" })).await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Storage **old-nfs** removed"), "{}", out.text);
    assert_refused("proxmox_delete_storage", json!({ "storage": "old-nfs" })).await;
}

#[tokio::test]
async fn upload_to_storage_streams_a_multipart_file() {
    let pve = Pve::start().await;
    let dir = scratch_dir("upload");
    std::fs::write(dir.join("debian-13.iso"), b"ISO DATA\x00\x01").unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("templates/alpine.tar.xz"), b"TEMPLATE").unwrap();
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/storage/local/upload"))
                .header("authorization", AUTH)
                .header_prefix("content-type", "multipart/form-data; boundary=")
                .header_exists("content-length")
                .header_missing("transfer-encoding")
                .body_includes("Content-Disposition: form-data; name=\"content\"\r\n\r\niso\r\n")
                .body_includes("Content-Disposition: form-data; name=\"checksum-algorithm\"\r\n\r\nsha256\r\n")
                .body_includes("Content-Disposition: form-data; name=\"filename\"; filename=\"debian-13.iso\"")
                .body_includes("ISO DATA");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let sum = "a".repeat(64);
    let out = call_with_upload_dir(
        &pve,
        Some(dir.clone()),
        "proxmox_upload_to_storage",
        json!({ "node": "pve1", "storage": "local", "content": "iso", "file": "debian-13.iso", "checksum": sum, "checksum-algorithm": "sha256" }),
    )
    .await
    .unwrap();
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Uploaded debian-13.iso (10 B) to local; Proxmox is importing it"), "{}", out.text);
    assert_eq!(out.data["upid"], UPID);
    assert_eq!(out.data["volume"], "local:iso/debian-13.iso");

    // A path inside the directory, stored under another name.
    let tmpl = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve2/storage/local/upload"))
                .body_includes("name=\"content\"\r\n\r\nvztmpl\r\n")
                .body_includes("filename=\"alpine-3.20.tar.xz\"")
                .body_includes("TEMPLATE");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    call_with_upload_dir(
        &pve,
        Some(dir.clone()),
        "proxmox_upload_to_storage",
        json!({ "node": "pve2", "storage": "local", "content": "vztmpl", "file": "templates/alpine.tar.xz", "filename": "alpine-3.20.tar.xz" }),
    )
    .await
    .unwrap();
    tmpl.assert_async().await;

    // Only files under PROXMOX_UPLOAD_DIR, and only what Proxmox takes.
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", dir.join("escape.iso")).unwrap();
    let outside = std::env::temp_dir().join(format!("proxmox-mcp-{}-outside.iso", std::process::id()));
    std::fs::write(&outside, b"secret").unwrap();
    for (args, arg) in [
        (json!({ "file": "../outside.iso" }), "`file`"),
        (json!({ "file": outside.to_str().unwrap() }), "`file`"),
        (json!({ "file": "/etc/hostname", "filename": "x.iso" }), "`file`"),
        (json!({ "file": "escape.iso" }), "`file`"),
        (json!({ "file": "missing.iso" }), "`file`"),
        (json!({ "file": "templates" }), "`file`"),
        (json!({ "file": "debian-13.iso", "content": "backup" }), "`content`"),
        (json!({ "file": "debian-13.iso", "content": "vztmpl" }), "`filename`"),
        (json!({ "file": "debian-13.iso", "filename": "../x.iso" }), "`filename`"),
        (json!({ "file": "debian-13.iso", "checksum": "abc", "checksum-algorithm": "md5" }), "`checksum`"),
        (json!({ "file": "debian-13.iso", "checksum": "a".repeat(32) }), "`checksum-algorithm`"),
    ] {
        let full = with(&json!({ "node": "pve1", "storage": "local", "content": "iso" }), args.clone());
        let err = call_with_upload_dir(&pve, Some(dir.clone()), "proxmox_upload_to_storage", full).await.unwrap_err();
        assert!(err.to_string().contains(arg), "{args}: {err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }
    // Without PROXMOX_UPLOAD_DIR, no uploads at all.
    let err = call_with_upload_dir(
        &pve,
        None,
        "proxmox_upload_to_storage",
        json!({ "node": "pve1", "storage": "local", "content": "iso", "file": "debian-13.iso" }),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ToolError::Other(_)) && err.to_string().contains("PROXMOX_UPLOAD_DIR"), "{err}");
    assert_eq!(m.calls_async().await, 1, "refused uploads send nothing");
    assert_refused(
        "proxmox_upload_to_storage",
        json!({ "node": "pve1", "storage": "local", "content": "iso", "file": "a.iso" }),
    )
    .await;
    let _ = std::fs::remove_file(outside);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn client_upload_reports_an_unreadable_file() {
    // An upload is a file opened before any request: one that cannot be opened is a local error.
    let err = Upload::open("filename", "x.iso", "/nonexistent/x.iso").unwrap_err();
    assert!(matches!(&err, ApiError::LocalFile(m) if m.contains("/nonexistent/x.iso")), "{err:?}");
    // An opened one is streamed as it is.
    let pve = Pve::start().await;
    let any = pve.answer_any(json!("UPID:pve1:0000:0000:00000000:imgcopy::root@pam:")).await;
    let dir = scratch_dir("client-upload");
    std::fs::write(dir.join("x.iso"), b"0123456789").unwrap();
    let upload = Upload::open("filename", "x.iso", dir.join("x.iso")).unwrap();
    assert_eq!(upload.len(), 10);
    pve.context(true)
        .client
        .upload(&ApiPath::lit("/nodes/pve1/storage/local/upload"), Params::default(), upload)
        .await
        .unwrap();
    assert_eq!(any.calls_async().await, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn download_url_to_storage_sends_the_api_parameters() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/storage/local/download-url"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("url", "https://example.com/images/debian-13.iso.zst?x=1")
                .form_urlencoded_tuple("content", "iso")
                .form_urlencoded_tuple("filename", "debian-13.iso")
                .form_urlencoded_tuple("checksum", "b".repeat(128))
                .form_urlencoded_tuple("checksum-algorithm", "sha512")
                .form_urlencoded_tuple("verify-certificates", "0")
                .form_urlencoded_tuple("compression", "zst");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_download_url_to_storage",
            json!({
                "node": "pve1", "storage": "local", "url": "https://example.com/images/debian-13.iso.zst?x=1",
                "content": "iso", "filename": "debian-13.iso", "checksum": "b".repeat(128), "checksum-algorithm": "sha512",
                "verify-certificates": false, "compression": "zst"
            }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Download of debian-13.iso into local started"), "{}", out.text);
    assert_eq!(out.data["upid"], UPID);

    // The file name defaults to the URL's last segment.
    let derived = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/storage/local/download-url"))
                .form_urlencoded_tuple("filename", "noble-server-cloudimg-amd64.qcow2")
                .form_urlencoded_tuple("content", "import")
                .form_urlencoded_tuple_missing("verify-certificates");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    pve.ok(
        "proxmox_download_url_to_storage",
        json!({ "node": "pve1", "storage": "local", "url": "https://cloud-images.example/noble-server-cloudimg-amd64.qcow2", "content": "import" }),
    )
    .await;
    derived.assert_async().await;

    for (args, arg) in [
        (json!({ "url": "ftp://example.com/a.iso", "content": "iso" }), "`url`"),
        (json!({ "url": "https://example.com/", "content": "iso" }), "`filename`"),
        (json!({ "url": "https://example.com/a.img", "content": "backup" }), "`content`"),
        (json!({ "url": "https://example.com/t.tar.gz", "content": "vztmpl", "compression": "gz" }), "`compression`"),
        (json!({ "url": "https://example.com/a.iso", "content": "vztmpl" }), "`filename`"),
    ] {
        let full = with(&json!({ "node": "pve1", "storage": "local" }), args.clone());
        let err = pve.call("proxmox_download_url_to_storage", full).await.unwrap_err().to_string();
        assert!(err.contains(arg), "{args}: {err}");
    }
    assert_refused(
        "proxmox_download_url_to_storage",
        json!({ "node": "pve1", "storage": "local", "url": "https://example.com/a.iso", "content": "iso" }),
    )
    .await;
}

#[tokio::test]
async fn list_storage_content_filters_by_content_and_guest() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/local/content"))
                .query_param("content", "backup")
                .query_param("vmid", "100")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "volid": "local:backup/vzdump-qemu-100-2024_03_12-10_11_12.vma.zst", "content": "backup", "format": "vma.zst",
                  "size": 1_073_741_824u64, "vmid": 100, "ctime": 1_710_238_272, "protected": 1, "notes": "before upgrade\nsecond line" }
            ]}));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_list_storage_content",
            json!({ "node": "pve1", "storage": "local", "content": "backup", "vmid": 100 }),
        )
        .await;
    m.assert_async().await;
    assert!(
        out.text.contains("• **local:backup/vzdump-qemu-100-2024_03_12-10_11_12.vma.zst** (backup, vma.zst) — 1.00 GiB, guest 100, created 2024-03-12 10:11:12 UTC, 🔒 protected — before upgrade"),
        "{}",
        out.text
    );
    let err = pve
        .call("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local", "content": "movies" }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`content`"), "{err}");
}

#[tokio::test]
async fn delete_storage_content_deletes_one_volume() {
    let pve = Pve::start().await;
    let waited = pve
        .server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(api("/nodes/pve1/storage/local/content/local:iso/old.iso"))
                .query_param("delay", "5")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_delete_storage_content",
            json!({ "node": "pve1", "storage": "local", "volume": "local:iso/old.iso", "delay": 5 }),
        )
        .await;
    waited.assert_async().await;
    assert_eq!(out.text, "✅ Volume local:iso/old.iso deleted");

    let task = pve
        .server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(api("/nodes/pve1/storage/local-lvm/content/local-lvm:vm-100-disk-1"))
                .query_param_missing("delay");
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_delete_storage_content",
            json!({ "node": "pve1", "storage": "local-lvm", "volume": "local-lvm:vm-100-disk-1" }),
        )
        .await;
    task.assert_async().await;
    assert_eq!(out.data["upid"], UPID);

    for (volume, arg) in
        [("local-lvm:vm-100-disk-1", "is on storage local-lvm"), ("local:../../etc/passwd", "`volume`")]
    {
        let err = pve
            .call("proxmox_delete_storage_content", json!({ "node": "pve1", "storage": "local", "volume": volume }))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(arg), "{volume}: {err}");
    }
    assert_refused(
        "proxmox_delete_storage_content",
        json!({ "node": "pve1", "storage": "local", "volume": "local:iso/old.iso" }),
    )
    .await;
}

const PBS_VOLUME: &str = "pbs:backup/vm/100/2025-01-01T00:00:00Z";

#[tokio::test]
async fn list_file_restore_sends_filepath() {
    let pve = Pve::start().await;
    let root = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/pbs/file-restore/list"))
                .query_param("volume", PBS_VOLUME)
                .query_param("filepath", "/")
                .query_param_missing("path")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "filepath": "L2RyaXZlLXNjc2kwLmltZy5maWR4", "text": "drive-scsi0.img.fidx", "type": "v", "leaf": false, "size": 34_359_738_368u64 }
            ]}));
        })
        .await;
    let out =
        pve.ok("proxmox_list_file_restore", json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME })).await;
    root.assert_async().await;
    assert!(
        out.text.contains("• 📁 drive-scsi0.img.fidx (v) — 32.00 GiB\n  filepath: L2RyaXZlLXNjc2kwLmltZy5maWR4"),
        "{}",
        out.text
    );

    // A plain path is encoded as Proxmox wants it (base64).
    let etc = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/storage/pbs/file-restore/list")).query_param("filepath", "L2V0Yw==");
            then.status(200).json_body(json!({ "data": [
                { "filepath": "L2V0Yy9ob3N0bmFtZQ==", "text": "hostname", "type": "f", "leaf": true, "size": 4, "mtime": 1_710_238_272 }
            ]}));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_list_file_restore",
            json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME, "path": "/etc" }),
        )
        .await;
    etc.assert_async().await;
    assert!(out.text.contains("📄 hostname (f) — 4 B, modified 2024-03-12 10:11:12 UTC"), "{}", out.text);

    let err = pve
        .call(
            "proxmox_list_file_restore",
            json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME, "filepath": "a b" }),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`filepath`"), "{err}");
}

#[tokio::test]
async fn download_file_restore_returns_the_file_bounded() {
    let pve = Pve::start().await;
    let text_file = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/pbs/file-restore/download"))
                .query_param("volume", PBS_VOLUME)
                .query_param("filepath", "L2V0Yy9ob3N0bmFtZQ==")
                .query_param_missing("tar")
                .header("authorization", AUTH);
            then.status(200).header("content-type", "application/octet-stream").body("web01\n");
        })
        .await;
    let out = pve
        .ok(
            "proxmox_download_file_restore",
            json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME, "path": "/etc/hostname" }),
        )
        .await;
    text_file.assert_async().await;
    assert_eq!(out.text, format!("📄 **File from {PBS_VOLUME}**, 6 B\n```\nweb01\n\n```"));
    assert_eq!(out.data["content"], "web01\n");

    let binary = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/pbs/file-restore/download"))
                .query_param("filepath", "L2Jpbg==")
                .query_param("tar", "1");
            then.status(200).body(vec![0u8, 159, 146, 150, 1, 2]);
        })
        .await;
    let out = pve
        .ok(
            "proxmox_download_file_restore",
            json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME, "filepath": "L2Jpbg==", "tar": true }),
        )
        .await;
    binary.assert_async().await;
    assert!(out.text.contains("**Binary file from") && out.text.ends_with("AJ+SlgEC"), "{}", out.text);
    assert_eq!(out.data["encoding"], "base64");

    // More than 1 MiB: only the start is read, and the result says so.
    let big = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/pbs/file-restore/download"))
                .query_param("filepath", "L2xvZw==");
            then.status(200).body("x".repeat(3 * 1024 * 1024));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_download_file_restore",
            json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME, "path": "/log" }),
        )
        .await;
    big.assert_async().await;
    assert_eq!(out.data["bytes"], 1024 * 1024);
    assert_eq!(out.data["truncated"], true);
    assert!(out.text.contains("(only the first 1.00 MiB read)"), "{}", &out.text[..200]);

    // Errors are Proxmox's, as for JSON calls.
    let missing = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/pbs/file-restore/download"))
                .query_param("filepath", "L25vbmU=");
            then.status(500)
                .header("content-type", "application/json")
                .body("{\"data\":null,\"message\":\"file does not exist\"}");
        })
        .await;
    let err = pve
        .call(
            "proxmox_download_file_restore",
            json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME, "path": "/none" }),
        )
        .await
        .unwrap_err();
    missing.assert_async().await;
    assert!(matches!(err, ToolError::Api(ApiError::NotFound(_))), "{err}");

    let err = pve
        .call("proxmox_download_file_restore", json!({ "node": "pve1", "storage": "pbs", "volume": PBS_VOLUME }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`filepath`"), "{err}");
}

#[tokio::test]
async fn prune_backups_is_a_dry_run_unless_told() {
    let pve = Pve::start().await;
    let marks = json!({ "data": [
        { "volid": "local:backup/vzdump-qemu-100-2024_03_10-00_00_00.vma.zst", "mark": "remove", "ctime": 1_710_028_800, "type": "qemu", "vmid": 100 },
        { "volid": "local:backup/vzdump-qemu-100-2024_03_11-00_00_00.vma.zst", "mark": "keep", "ctime": 1_710_115_200, "type": "qemu", "vmid": 100 },
        { "volid": "local:backup/vzdump-qemu-100-2024_03_09-00_00_00.vma.zst", "mark": "protected", "ctime": 1_709_942_400, "type": "qemu", "vmid": 100 }
    ]});
    let list = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/storage/local/prunebackups"))
                .query_param("prune-backups", "keep-last=1,keep-daily=7")
                .query_param("vmid", "100")
                .query_param("type", "qemu")
                .header("authorization", AUTH);
            then.status(200).json_body(marks.clone());
        })
        .await;
    let delete = pve
        .mock_delete(
            "/nodes/pve1/storage/local/prunebackups",
            &[("prune-backups", "keep-last=1,keep-daily=7"), ("vmid", "100"), ("type", "qemu")],
            json!(UPID),
        )
        .await;
    let args =
        json!({ "node": "pve1", "storage": "local", "keep-last": 1, "keep-daily": 7, "vmid": 100, "type": "qemu" });
    let out = pve.ok("proxmox_prune_backups", args.clone()).await;
    assert_eq!(list.calls_async().await, 1);
    assert_eq!(delete.calls_async().await, 0, "a dry run deletes nothing");
    assert!(
        out.text.starts_with("🧹 **Prune dry run on local (pve1)** by keep-last=1,keep-daily=7: 1 to remove, 2 kept\n\nWould remove:\n• local:backup/vzdump-qemu-100-2024_03_10-00_00_00.vma.zst (2024-03-10 00:00:00 UTC)"),
        "{}",
        out.text
    );
    assert!(out.text.ends_with("dry_run: false to delete them."), "{}", out.text);
    assert_eq!(out.data["dry_run"], true);

    let mut real = args.clone();
    real["dry_run"] = json!(false);
    let out = pve.ok("proxmox_prune_backups", real).await;
    delete.assert_async().await;
    assert!(
        out.text.starts_with("✅ Pruning local by keep-last=1,keep-daily=7: 1 backups to remove, 2 kept"),
        "{}",
        out.text
    );
    assert_eq!(out.data["upid"], UPID);

    // No retention given: the storage's own; `dry-run` is accepted too.
    let own = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/storage/local/prunebackups")).query_param_missing("prune-backups");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.ok("proxmox_prune_backups", json!({ "node": "pve2", "storage": "local", "dry-run": true })).await;
    own.assert_async().await;
    assert!(out.text.contains("by the storage's retention settings: 0 to remove"), "{}", out.text);

    let err = pve
        .call(
            "proxmox_prune_backups",
            json!({ "node": "pve1", "storage": "local", "keep-last": 1, "prune-backups": "keep-all=1" }),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`prune-backups`"), "{err}");
    assert_refused("proxmox_prune_backups", json!({ "node": "pve1", "storage": "local" })).await;
}

#[cfg(unix)]
#[tokio::test]
async fn uploads_follow_no_link_at_any_component() {
    let pve = Pve::start().await;
    let dir = scratch_dir("sealed");
    std::fs::create_dir_all(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/ok.iso"), b"0123456789").unwrap();
    let outside = std::env::temp_dir().join(format!("proxmox-mcp-{}-sealed-outside.iso", std::process::id()));
    std::fs::write(&outside, b"secret").unwrap();
    // Links that stay inside the directory are refused too: no link is followed.
    std::os::unix::fs::symlink(dir.join("real"), dir.join("linkdir")).unwrap();
    std::os::unix::fs::symlink(dir.join("real/ok.iso"), dir.join("final.iso")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("real/out.iso")).unwrap();
    std::fs::hard_link(&outside, dir.join("hard.iso")).unwrap();
    let nothing = pve.fail_any().await;
    for (file, expected) in [
        ("final.iso", "\"final.iso\" is a symbolic link"),
        ("linkdir/ok.iso", "\"linkdir\" is a symbolic link"),
        ("real/out.iso", "\"out.iso\" is a symbolic link"),
        ("hard.iso", "has 2 hard links"),
        ("real/../real/ok.iso", "without `..`"),
        ("../sealed/real/ok.iso", "without `..`"),
        ("real/ok.iso/x", "\"ok.iso\" is not a directory"),
        ("real", "is not a regular file"),
        (".", "not the directory"),
    ] {
        let args = json!({ "node": "pve1", "storage": "local", "content": "iso", "file": file, "filename": "x.iso" });
        let err = call_with_upload_dir(&pve, Some(dir.clone()), "proxmox_upload_to_storage", args).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`file`") && text.contains(expected), "{file}: {text}");
        assert!(!text.contains("secret"), "{text}");
    }
    // An absolute path through a link is refused the same way.
    let args = json!({ "node": "pve1", "storage": "local", "content": "iso",
        "file": dir.join("linkdir/ok.iso").to_str().unwrap() });
    let err = call_with_upload_dir(&pve, Some(dir.clone()), "proxmox_upload_to_storage", args).await.unwrap_err();
    assert!(err.to_string().contains("is a symbolic link"), "{err}");
    assert_eq!(nothing.calls_async().await, 0, "nothing was sent");
    nothing.delete_async().await;

    // The real file, by its real path, goes.
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST)
                .path("/api2/json/nodes/pve1/storage/local/upload")
                .body_includes("0123456789");
            then.status(200).json_body(json!({ "data": "UPID:pve1:0000:0000:00000000:imgcopy::root@pam:" }));
        })
        .await;
    let args = json!({ "node": "pve1", "storage": "local", "content": "iso", "file": "./real/ok.iso" });
    let out = call_with_upload_dir(&pve, Some(dir.clone()), "proxmox_upload_to_storage", args).await.unwrap();
    assert_eq!(out.data["size"], 10);
    m.assert_async().await;
    let _ = std::fs::remove_file(outside);
    let _ = std::fs::remove_dir_all(dir);
}
