//! The backup job, replication job and datacenter options tools against a mock Proxmox: exact
//! requests and rendered results; and against fakepve, which checks them with the real schema
//! (it keeps no job state).

mod common;

use common::{AUTH, Pve, api, assert_names_arg, assert_refused};
use httpmock::Method::{DELETE, GET, POST, PUT};
use serde_json::json;

#[tokio::test]
async fn list_backup_jobs_shows_the_schedule_as_proxmox_does() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/cluster/backup", json!([
        { "id": "backup-b", "type": "vzdump", "schedule": "mon..fri 21:30", "vmid": "100,101", "storage": "pbs",
          "enabled": 0, "mode": "stop" },
        { "id": "backup-a", "type": "vzdump", "schedule": "sun 01:00", "all": 1, "exclude": "200", "storage": "local",
          "enabled": 1, "mode": "snapshot", "next-run": 1_764_464_400, "comment": "weekly" },
    ])).await;
    let out = pve.call_with("proxmox_list_cluster_backup_jobs", json!({}), false).await.unwrap();
    m.assert_async().await;
    assert!(out.text.starts_with("🗓️ **Backup jobs** (2)"), "{}", out.text);
    assert!(
        out.text.contains(
            "• 🟢 **backup-a** — `sun 01:00`, all guests except 200, storage local, mode snapshot, next run 2025-11-30 01:00 UTC — weekly"
        ),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("• ⏸️ **backup-b** — `mon..fri 21:30`, guests 100,101, storage pbs, mode stop, disabled"),
        "{}",
        out.text
    );
    assert!(out.text.find("backup-a") < out.text.find("backup-b"));
    assert_eq!(out.data["total"], 2);

    let empty = Pve::start().await;
    empty
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/backup"));
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    assert_eq!(empty.ok("proxmox_list_cluster_backup_jobs", json!({})).await.text, "No backup jobs found.");
}

#[tokio::test]
async fn get_backup_job_shows_every_option() {
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/cluster/backup/backup-4f2a9c1e-77d0",
            json!({
                "id": "backup-4f2a9c1e-77d0", "type": "vzdump", "schedule": "daily", "pool": "prod", "storage": "local",
                "compress": "zstd", "mode": "snapshot", "prune-backups": { "keep-last": "3" }, "enabled": 1,
                "notes-template": "{{guestname}}", "repeat-missed": 1, "bwlimit": 1000
            }),
        )
        .await;
    let out = pve.ok("proxmox_get_cluster_backup_job", json!({ "id": "backup-4f2a9c1e-77d0" })).await;
    m.assert_async().await;
    for expected in [
        "🗓️ **Backup job backup-4f2a9c1e-77d0**",
        "• Enabled: yes",
        "• Schedule: daily",
        "• Guests: pool prod",
        "• Storage: local",
        "• Compression: zstd",
        "• Retention: keep-last=3",
        "• Notes template: {{guestname}}",
        "• repeat-missed: 1",
        "• bwlimit: 1000",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert_eq!(out.data["pool"], "prod");
}

#[tokio::test]
async fn create_backup_job_sends_schedule_and_vzdump_options() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/backup"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("id", "nightly")
                .form_urlencoded_tuple("schedule", "mon..fri 21:30")
                .form_urlencoded_tuple("vmid", "100,101")
                .form_urlencoded_tuple("storage", "local")
                .form_urlencoded_tuple("mode", "snapshot")
                .form_urlencoded_tuple("compress", "zstd")
                .form_urlencoded_tuple("enabled", "1")
                .form_urlencoded_tuple("prune-backups", "keep-last=3,keep-weekly=2")
                .form_urlencoded_tuple("notes-template", "{{guestname}}")
                .form_urlencoded_tuple("exclude-path", "/tmp/?*")
                .form_urlencoded_tuple("exclude-path", "/var/cache/?*")
                .form_urlencoded_tuple("mailto", "ops@example.com")
                .form_urlencoded_tuple_missing("starttime")
                .form_urlencoded_tuple_missing("dow")
                .form_urlencoded_tuple_missing("all");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_cluster_backup_job",
            json!({
                "id": "nightly", "schedule": "mon..fri 21:30", "vmid": [100, 101], "storage": "local", "mode": "snapshot",
                "compress": "zstd", "enabled": true, "prune-backups": "keep-last=3,keep-weekly=2",
                "notes-template": "{{guestname}}", "exclude-path": ["/tmp/?*", "/var/cache/?*"], "mailto": "ops@example.com"
            }),
        )
        .await;
    m.assert_async().await;
    assert_eq!(
        out.text,
        "✅ Backup job nightly created\n• Schedule: mon..fri 21:30\n• Guests: guests 100,101\n• Storage: local"
    );
    assert_eq!(out.data["id"], "nightly");

    // The legacy starttime/dow still work (Proxmox converts them), and `compress` 0 is a string.
    let legacy = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/backup"))
                .form_urlencoded_tuple("starttime", "02:30")
                .form_urlencoded_tuple("dow", "sat,sun")
                .form_urlencoded_tuple("all", "1")
                .form_urlencoded_tuple("exclude", "200")
                .form_urlencoded_tuple("compress", "0")
                .form_urlencoded_tuple_missing("id")
                .form_urlencoded_tuple_missing("schedule");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_cluster_backup_job",
            json!({ "starttime": "02:30", "dow": "sat,sun", "all": true, "exclude": "200", "compress": "0" }),
        )
        .await;
    legacy.assert_async().await;
    assert!(out.text.contains("Proxmox chose its id"), "{}", out.text);
    assert!(
        out.text.contains("• Schedule: sat,sun 02:30") && out.text.contains("all guests except 200"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn create_backup_job_checks_rules_spanning_arguments() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!(null)).await;
    for (args, arg) in [
        (json!({ "vmid": "100" }), "schedule"),
        (json!({ "schedule": "daily" }), "vmid"),
        (json!({ "schedule": "daily", "starttime": "01:00", "all": true }), "starttime"),
        (json!({ "dow": "mon", "schedule": "daily", "all": true }), "dow"),
        (json!({ "schedule": "daily", "vmid": "100", "all": true }), "all"),
        (json!({ "schedule": "daily", "vmid": "100", "pool": "prod" }), "pool"),
        (json!({ "schedule": "daily", "all": true, "protected": true }), "protected"),
        (json!({ "schedule": "daily", "all": true, "ionice": 9 }), "ionice"),
        (json!({ "schedule": "daily", "all": true, "compress": "xz" }), "compress"),
        (json!({ "schedule": "daily", "vmid": "100,99" }), "vmid"),
        (json!({ "schedule": "daily", "all": true, "dow": "monday", "starttime": "1:00" }), "dow"),
        (json!({ "schedule": "daily", "all": true, "digest": "abc" }), "digest"),
        (json!({ "schedule": "daily", "all": true, "comment": "x".repeat(513) }), "comment"),
    ] {
        assert_names_arg(pve.call("proxmox_create_cluster_backup_job", args.clone()).await, arg, &args);
    }
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn update_backup_job_never_sends_digest() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/cluster/backup/backup-4f2a9c1e-77d0"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("schedule", "sat 03:00")
                .form_urlencoded_tuple("enabled", "0")
                .form_urlencoded_tuple("maxfiles", "2")
                .form_urlencoded_tuple("delete", "comment,node")
                .form_urlencoded_tuple_missing("digest")
                .form_urlencoded_tuple_missing("id");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_update_cluster_backup_job",
            json!({ "id": "backup-4f2a9c1e-77d0", "schedule": "sat 03:00", "enabled": false, "maxfiles": 2, "delete": "comment,node" }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Backup job backup-4f2a9c1e-77d0 updated ("), "{}", out.text);
    // PUT /cluster/backup/{id} has no digest parameter (the old server sent one): refused here.
    let err = pve
        .call(
            "proxmox_update_cluster_backup_job",
            json!({ "id": "backup-4f2a9c1e-77d0", "digest": "abc", "enabled": true }),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`digest`"), "{err}");
    let err = pve.call("proxmox_update_cluster_backup_job", json!({ "id": "backup-4f2a9c1e-77d0" })).await.unwrap_err();
    assert!(err.to_string().contains("nothing to change"), "{err}");
}

#[tokio::test]
async fn delete_backup_job_sends_nothing_but_the_path() {
    let pve = Pve::start().await;
    let m = pve.mock_delete("/cluster/backup/nightly", &[], json!(null)).await;
    let out = pve.ok("proxmox_delete_cluster_backup_job", json!({ "id": "nightly" })).await;
    m.assert_async().await;
    assert_eq!(out.text, "✅ Backup job nightly deleted");
}

#[tokio::test]
async fn replication_jobs_list_and_read() {
    let pve = Pve::start().await;
    let list = pve.mock_get("/cluster/replication", json!([
        { "id": "101-0", "guest": 101, "jobnum": 0, "target": "pve2", "type": "local", "disable": 1 },
        { "id": "100-0", "guest": 100, "jobnum": 0, "target": "pve2", "type": "local", "schedule": "*/5", "rate": 12.5, "comment": "web" },
    ])).await;
    let out = pve.ok("proxmox_list_cluster_replication_jobs", json!({})).await;
    list.assert_async().await;
    assert_eq!(
        out.text,
        "🔁 **Replication jobs** (2)\n• 🟢 **100-0** — guest 100 → pve2, schedule `*/5`, 12.5 MB/s — web\n• ⏸️ **101-0** — guest 101 → pve2, schedule `*/15`, disabled"
    );

    let read = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/replication/100-0"));
            then.status(200).json_body(json!({ "data": { "id": "100-0", "guest": 100, "jobnum": 0, "target": "pve2", "type": "local", "digest": "d1" } }));
        })
        .await;
    let out = pve.ok("proxmox_get_cluster_replication_job", json!({ "id": "100-0" })).await;
    read.assert_async().await;
    assert_eq!(
        out.text,
        "🔁 **Replication job 100-0**\n• Guest: 100\n• Target: pve2\n• Type: local\n• Schedule: */15\n• Enabled: yes"
    );
    assert_eq!(out.data["digest"], "d1");
}

#[tokio::test]
async fn create_and_update_replication_jobs() {
    let pve = Pve::start().await;
    let create = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/replication"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("id", "100-0")
                .form_urlencoded_tuple("target", "pve2")
                .form_urlencoded_tuple("type", "local")
                .form_urlencoded_tuple("schedule", "*/30")
                .form_urlencoded_tuple("rate", "10.5")
                .form_urlencoded_tuple("comment", "web")
                .form_urlencoded_tuple_missing("disable");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_cluster_replication_job",
            json!({ "id": "100-0", "target": "pve2", "schedule": "*/30", "rate": 10.5, "comment": "web" }),
        )
        .await;
    create.assert_async().await;
    assert_eq!(out.text, "✅ Replication job 100-0 created\n• Target: pve2\n• Schedule: */30");

    let update = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/cluster/replication/100-0"))
                .form_urlencoded_tuple("disable", "1")
                .form_urlencoded_tuple("delete", "rate")
                .form_urlencoded_tuple("digest", "abc123")
                .form_urlencoded_tuple_missing("type")
                .form_urlencoded_tuple_missing("id");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_update_cluster_replication_job",
            json!({ "id": "100-0", "disable": true, "delete": "rate", "digest": "abc123" }),
        )
        .await;
    update.assert_async().await;
    assert!(out.text.starts_with("✅ Replication job 100-0 updated ("), "{}", out.text);
    let err = pve
        .call("proxmox_update_cluster_replication_job", json!({ "id": "100-0", "digest": "abc" }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nothing to change"), "{err}");
}

#[tokio::test]
async fn delete_replication_job_sends_force_and_keep_as_query() {
    let pve = Pve::start().await;
    let m = pve.mock_delete("/cluster/replication/100-0", &[("keep", "1"), ("force", "0")], json!(null)).await;
    let out =
        pve.ok("proxmox_delete_cluster_replication_job", json!({ "id": "100-0", "keep": true, "force": false })).await;
    m.assert_async().await;
    assert_eq!(out.text, "✅ Replication job 100-0 marked for removal; the replicated data stays on the target");

    let plain = pve
        .server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(api("/cluster/replication/101-1"))
                .query_param_missing("keep")
                .query_param_missing("force");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    pve.ok("proxmox_delete_cluster_replication_job", json!({ "id": "101-1" })).await;
    plain.assert_async().await;
}

#[tokio::test]
async fn cluster_options_read_and_update() {
    let pve = Pve::start().await;
    let read = pve.mock_get("/cluster/options", json!({
        "keyboard": "en-us", "console": "html5", "migration": { "type": "secure", "network": "10.0.0.0/24" }, "max_workers": 4
    })).await;
    let out = pve.ok("proxmox_get_cluster_options", json!({})).await;
    read.assert_async().await;
    assert_eq!(
        out.text,
        "⚙️ **Datacenter options**\n• console: html5\n• keyboard: en-us\n• max_workers: 4\n• migration: {\"network\":\"10.0.0.0/24\",\"type\":\"secure\"}"
    );

    let update = pve
        .mock_form(
            PUT,
            "/cluster/options",
            &[
                ("keyboard", "de-ch"),
                ("language", "pt_BR"),
                ("max_workers", "8"),
                ("next-id", "lower=1000,upper=2000"),
                ("delete", "http_proxy"),
            ],
            json!(null),
        )
        .await;
    let out = pve
        .ok(
            "proxmox_update_cluster_options",
            json!({ "keyboard": "de-ch", "language": "pt_BR", "max_workers": 8, "next-id": "lower=1000,upper=2000", "delete": "http_proxy" }),
        )
        .await;
    update.assert_async().await;
    assert!(out.text.starts_with("✅ Datacenter options updated ("), "{}", out.text);
    for key in ["keyboard", "language", "max_workers", "next-id", "delete"] {
        assert!(out.text.contains(key), "{key} in {}", out.text);
    }
    // Options Proxmox does not have are refused, not forwarded.
    let err = pve.call("proxmox_update_cluster_options", json!({ "colour": "blue" })).await.unwrap_err();
    assert!(err.to_string().contains("`colour`"), "{err}");
    let err = pve.call("proxmox_update_cluster_options", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("nothing to change"), "{err}");
    let err = pve.call("proxmox_update_cluster_options", json!({ "http_proxy": "ftp://x" })).await.unwrap_err();
    assert!(err.to_string().contains("`http_proxy`"), "{err}");
}

#[tokio::test]
async fn elevated_job_tools_are_refused_without_elevation() {
    assert_refused("proxmox_create_cluster_backup_job", json!({ "schedule": "daily", "all": true })).await;
    assert_refused("proxmox_update_cluster_backup_job", json!({ "id": "nightly", "enabled": false })).await;
    assert_refused("proxmox_delete_cluster_backup_job", json!({ "id": "nightly" })).await;
    assert_refused("proxmox_create_cluster_replication_job", json!({ "id": "100-0", "target": "pve2" })).await;
    assert_refused("proxmox_update_cluster_replication_job", json!({ "id": "100-0", "rate": 5 })).await;
    assert_refused("proxmox_delete_cluster_replication_job", json!({ "id": "100-0" })).await;
    assert_refused("proxmox_update_cluster_options", json!({ "console": "html5" })).await;
}

#[tokio::test]
async fn invalid_job_arguments_are_refused_before_sending() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!(null)).await;
    for (tool, args, arg) in [
        ("proxmox_get_cluster_backup_job", json!({ "id": "../nodes" }), "id"),
        ("proxmox_get_cluster_backup_job", json!({ "id": "a b" }), "id"),
        ("proxmox_get_cluster_replication_job", json!({ "id": "100" }), "id"),
        ("proxmox_get_cluster_replication_job", json!({ "id": "99-0" }), "id"),
        (
            "proxmox_create_cluster_replication_job",
            json!({ "id": "100-0", "target": "pve2", "type": "remote" }),
            "type",
        ),
        ("proxmox_create_cluster_replication_job", json!({ "id": "100-0", "target": "pve 2" }), "target"),
        ("proxmox_create_cluster_replication_job", json!({ "id": "100-0", "target": "pve2", "rate": 0.5 }), "rate"),
        (
            "proxmox_create_cluster_replication_job",
            // ("" would be "not given": a schedule cannot be empty.)
            json!({ "id": "100-0", "target": "pve2", "schedule": "\u{7}" }),
            "schedule",
        ),
        ("proxmox_update_cluster_replication_job", json!({ "id": "100-0", "remove_job": "all" }), "remove_job"),
        ("proxmox_delete_cluster_replication_job", json!({ "id": "100-0", "keep": "maybe" }), "keep"),
        ("proxmox_update_cluster_options", json!({ "console": "vnc" }), "console"),
        ("proxmox_update_cluster_options", json!({ "max_workers": 0 }), "max_workers"),
    ] {
        assert_names_arg(pve.call(tool, args.clone()).await, arg, format!("{tool} {args}"));
    }
    assert_eq!(any.calls_async().await, 0);
}
