//! The cluster job and option tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, call_ok};
use crate::common::mcp::text;
use serde_json::json;

pub async fn job_tools_are_accepted_by_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    // fakepve checks each request against the real schema and answers with data of the right
    // shape, but stores no backup or replication jobs: these check acceptance only.
    for (tool, args) in [
        ("proxmox_list_cluster_backup_jobs", json!({})),
        ("proxmox_get_cluster_backup_job", json!({ "id": "backup-4f2a9c1e-77d0" })),
        (
            "proxmox_create_cluster_backup_job",
            json!({
                "id": "nightly", "schedule": "mon..fri 21:30", "vmid": "100,101", "storage": "local", "mode": "snapshot",
                "compress": "zstd", "enabled": true, "prune-backups": "keep-last=3,keep-weekly=2", "comment": "nightly",
                "notes-template": "{{guestname}}", "protected": false, "repeat-missed": true, "bwlimit": 0, "ionice": 7,
                "lockwait": 180, "stopwait": 10, "zstd": 1, "pigz": 0, "remove": true, "mailnotification": "failure",
                "mailto": "ops@example.com", "notification-mode": "auto", "node": "pve1", "exclude-path": ["/tmp/?*", "/var/cache/?*"],
                "stdexcludes": true, "performance": "max-workers=2", "fleecing": "enabled=1,storage=local-lvm",
                "pbs-change-detection-mode": "metadata"
            }),
        ),
        (
            "proxmox_create_cluster_backup_job",
            json!({ "starttime": "02:30", "dow": "sat,sun", "all": true, "exclude": "200", "compress": "0" }),
        ),
        // Not `maxfiles`: PVE 8.4 and 9.1 still take it (deprecated), but fakepve's newer schema
        // (PVE 9.2) dropped it and answers 400. The mock test above checks it is sent.
        ("proxmox_create_cluster_backup_job", json!({ "schedule": "daily", "pool": "prod" })),
        (
            "proxmox_update_cluster_backup_job",
            json!({ "id": "nightly", "schedule": "sat 03:00", "enabled": false, "delete": "comment,node" }),
        ),
        (
            "proxmox_update_cluster_backup_job",
            json!({ "id": "nightly", "vmid": [100], "storage": "local", "protected": true }),
        ),
        ("proxmox_delete_cluster_backup_job", json!({ "id": "nightly" })),
        ("proxmox_list_cluster_replication_jobs", json!({})),
        ("proxmox_get_cluster_replication_job", json!({ "id": "100-0" })),
        (
            "proxmox_create_cluster_replication_job",
            json!({ "id": "100-0", "target": "pve2", "type": "local", "schedule": "*/30", "rate": 10.5, "comment": "web", "disable": false }),
        ),
        (
            "proxmox_create_cluster_replication_job",
            json!({ "id": "101-1", "target": "pve2", "remove_job": "local", "source": "pve1" }),
        ),
        (
            "proxmox_update_cluster_replication_job",
            json!({ "id": "100-0", "disable": true, "delete": "rate", "digest": "0123abcd" }),
        ),
        (
            "proxmox_update_cluster_replication_job",
            json!({ "id": "100-0", "schedule": "mon..fri 22:00", "rate": 1, "source": "pve1" }),
        ),
        ("proxmox_delete_cluster_replication_job", json!({ "id": "100-0" })),
        ("proxmox_delete_cluster_replication_job", json!({ "id": "100-0", "keep": true, "force": true })),
        ("proxmox_get_cluster_options", json!({})),
        (
            "proxmox_update_cluster_options",
            json!({
                "keyboard": "de-ch", "language": "pt_BR", "console": "xtermjs", "max_workers": 4, "fencing": "watchdog",
                "migration": "type=secure,network=10.0.0.0/24", "next-id": "lower=1000,upper=2000",
                "http_proxy": "http://proxy.example.com:3128", "email_from": "pve@example.com", "mac_prefix": "BC:24:11",
                "ha": "shutdown_policy=migrate", "crs": "ha=static", "bwlimit": "default=102400", "description": "lab",
                "tag-style": "shape=dense", "registered-tags": "prod;test", "user-tag-access": "user-allow=free",
                "notify": "package-updates=always", "migration_unsecure": false, "replication": "type=secure",
                "consent-text": "hello", "webauthn": "rp=pve.example.com", "u2f": "appid=https://pve.example.com"
            }),
        ),
        ("proxmox_update_cluster_options", json!({ "delete": "http_proxy,console" })),
    ] {
        call_ok(&mut s, tool, args.clone()).await;
    }
    let jobs = s.call("proxmox_list_cluster_backup_jobs", json!({})).await;
    assert!(jobs["structuredContent"]["items"].is_array(), "{}", text(&jobs));
    assert!(s.close().await.success());
}
