//! The Node Management tools against a mock Proxmox (exact requests, rendered results) and
//! against fakepve (the real API schema).

mod common;

use common::{AUTH, Pve, api, assert_refused};
use httpmock::Method::{GET, POST};
use serde_json::json;

const UPID: &str = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:";

#[tokio::test]
async fn get_node_services_lists_their_state() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/nodes/pve1/services", json!([
        { "service": "pveproxy", "name": "pveproxy", "desc": "PVE API Proxy Server", "state": "running", "active-state": "active", "unit-state": "enabled" },
        { "service": "corosync", "name": "corosync", "desc": "Corosync Cluster Engine", "state": "dead", "active-state": "inactive", "unit-state": "enabled" },
    ])).await;
    let out = pve.call_with("proxmox_get_node_services", json!({ "node": "pve1" }), false).await.unwrap();
    m.assert_async().await;
    assert!(out.text.starts_with("⚙️ **Services on pve1** (2)"), "{}", out.text);
    assert!(out.text.contains("🟢 **pveproxy** — active (running), enabled: PVE API Proxy Server"), "{}", out.text);
    assert!(out.text.contains("🔴 **corosync** — inactive (dead)"), "{}", out.text);
    assert!(out.text.find("corosync") < out.text.find("pveproxy"), "sorted");
    assert_eq!(out.data["total"], 2);
}

#[tokio::test]
async fn control_node_service_posts_the_action_path() {
    let pve = Pve::start().await;
    let restart = pve.mock_form(POST, "/nodes/pve1/services/pveproxy/restart", &[], json!(UPID)).await;
    let out = pve
        .ok("proxmox_control_node_service", json!({ "node": "pve1", "service": "pveproxy", "command": "restart" }))
        .await;
    restart.assert_async().await;
    assert!(out.text.starts_with("✅ Service pveproxy: restart requested"), "{}", out.text);
    assert_eq!(out.data["upid"], UPID);
    assert_eq!(out.data["node"], "pve1");

    let reload = pve
        .server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve2/services/systemd-journald/reload"));
            then.status(200).json_body(json!({ "data": UPID }));
        })
        .await;
    pve.ok(
        "proxmox_control_node_service",
        json!({ "node": "pve2", "service": "systemd-journald", "command": "reload" }),
    )
    .await;
    reload.assert_async().await;

    // Only the services and actions Proxmox has.
    let err = pve
        .call("proxmox_control_node_service", json!({ "node": "pve1", "service": "nginx", "command": "start" }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`service`"), "{err}");
    let err = pve
        .call("proxmox_control_node_service", json!({ "node": "pve1", "service": "sshd", "command": "kill" }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`command`"), "{err}");
    let err = pve
        .call("proxmox_control_node_service", json!({ "node": "../x", "service": "sshd", "command": "stop" }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`node`"), "{err}");
}

#[tokio::test]
async fn control_node_service_is_elevated() {
    assert_refused("proxmox_control_node_service", json!({ "node": "pve1", "service": "sshd", "command": "stop" }))
        .await;
}

#[tokio::test]
async fn get_node_syslog_reads_the_tail() {
    let pve = Pve::start().await;
    let probe = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/syslog"))
                .query_param("start", "0")
                .query_param("limit", "1")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [{ "n": 1, "t": "first" }], "total": 120 }));
        })
        .await;
    let tail = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/syslog")).query_param("start", "70").query_param("limit", "50");
            then.status(200).json_body(
                json!({ "data": (71..=120).map(|n| json!({ "n": n, "t": format!("line {n}") })).collect::<Vec<_>>() }),
            );
        })
        .await;
    let out = pve.ok("proxmox_get_node_syslog", json!({ "node": "pve1" })).await;
    probe.assert_async().await;
    tail.assert_async().await;
    assert!(out.text.starts_with("📜 **Syslog of pve1** (lines 71–120 of 120)\n```\nline 71\n"), "{}", out.text);
    assert!(
        out.text.contains("line 120\n```\n▶️ Earlier lines: call again with start=20 (lines count from 0 there)"),
        "{}",
        out.text
    );
    assert_eq!(out.data["total"], 120);

    // A window and filters, as asked: one request.
    let window = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve2/syslog"))
                .query_param("start", "5")
                .query_param("limit", "2")
                .query_param("since", "2025-01-02 03:04")
                .query_param("service", "pveproxy")
                .query_param_missing("until");
            then.status(200).json_body(json!({ "data": [{ "n": 6, "t": "a" }, { "n": 7, "t": "b" }] }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_get_node_syslog",
            json!({ "node": "pve2", "start": 5, "limit": 2, "since": "2025-01-02 03:04", "service": "pveproxy" }),
        )
        .await;
    window.assert_async().await;
    assert!(out.text.contains("(lines 6–7)\n```\na\nb\n```"), "{}", out.text);

    for (args, arg) in [
        (json!({ "node": "pve1", "since": "yesterday" }), "`since`"),
        (json!({ "node": "pve1", "limit": 0 }), "`limit`"),
        (json!({ "node": "pve1", "service": "a b" }), "`service`"),
    ] {
        let err = pve.call("proxmox_get_node_syslog", args).await.unwrap_err().to_string();
        assert!(err.contains(arg), "{err}");
    }
}

#[tokio::test]
async fn get_node_journal_renders_plain_lines_and_cursors() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/journal"))
                .query_param("lastentries", "50")
                .query_param_missing("since")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                "s=abc;i=1;b=f00;m=1;t=5f;x=9",
                "Mar 12 10:11:12 pve1 systemd[1]: Started pveproxy.service.",
                "Mar 12 10:11:13 pve1 pvedaemon[123]: worker started",
                "s=abc;i=2;b=f00;m=2;t=60;x=8"
            ]}));
        })
        .await;
    let out = pve.ok("proxmox_get_node_journal", json!({ "node": "pve1" })).await;
    m.assert_async().await;
    assert!(
        out.text.starts_with(
            "📜 **Journal of pve1** (2 entries)\n```\nMar 12 10:11:12 pve1 systemd[1]: Started pveproxy.service.\n"
        ),
        "{}",
        out.text
    );
    assert!(out.text.contains("Older entries: endcursor=s=abc;i=1;b=f00;m=1;t=5f;x=9"), "{}", out.text);
    assert!(out.text.contains("Newer entries: startcursor=s=abc;i=2;b=f00;m=2;t=60;x=8"), "{}", out.text);
    assert_eq!(out.data["lines"].as_array().unwrap().len(), 2);

    let range = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/journal"))
                .query_param("since", "1700000000")
                .query_param("endcursor", "s=abc;i=1")
                .query_param_missing("lastentries");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve
        .ok("proxmox_get_node_journal", json!({ "node": "pve1", "since": 1_700_000_000, "endcursor": "s=abc;i=1" }))
        .await;
    range.assert_async().await;
    assert_eq!(out.text, "No journal entries found on pve1.");

    let err = pve
        .call("proxmox_get_node_journal", json!({ "node": "pve1", "lastentries": 10, "since": 1 }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`lastentries`"), "{err}");
}

#[tokio::test]
async fn get_node_tasks_filters_with_the_api_names() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/tasks"))
                .query_param("limit", "10")
                .query_param("vmid", "100")
                .query_param("errors", "1")
                .query_param("typefilter", "qmstart")
                .query_param("source", "all")
                .query_param_missing("start")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "upid": UPID, "type": "qmstart", "id": "100", "user": "root@pam!mcp", "starttime": 1_710_238_272, "endtime": 1_710_238_275, "status": "OK" },
                { "upid": "UPID:pve1:0000ABCE:00001235:65F0A1B3:vzdump::root@pam:", "type": "vzdump", "id": "", "user": "root@pam", "starttime": 1_710_238_300, "status": "job errors" },
                { "upid": "UPID:pve1:0000ABCF:00001236:65F0A1B4:qmigrate:101:root@pam:", "type": "qmigrate", "id": "101", "user": "root@pam", "starttime": 1_710_238_400 }
            ]}));
        })
        .await;
    // The count of all matches: one task asked for, with the same filters.
    let count = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/tasks"))
                .query_param("limit", "1")
                .query_param("start", "0")
                .query_param("vmid", "100")
                .query_param("typefilter", "qmstart")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [{ "upid": UPID }], "total": 23 }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_get_node_tasks",
            json!({ "node": "pve1", "limit": 10, "vmid": 100, "errors": true, "typefilter": "qmstart", "source": "all" }),
        )
        .await;
    m.assert_async().await;
    count.assert_async().await;
    assert!(out.text.starts_with("📋 **Tasks on pve1** (1 to 3 of 23)"), "{}", out.text);
    assert!(out.text.ends_with("▶️ 20 more: call again with start 3."), "{}", out.text);
    assert_eq!((out.data["total"].as_u64(), out.data["next_start"].as_u64()), (Some(23), Some(3)));
    assert!(
        out.text.contains(&format!(
            "🟢 **qmstart 100** — OK, root@pam!mcp, started 2024-03-12 10:11:12 UTC (3s)\n  {UPID}"
        )),
        "{}",
        out.text
    );
    assert!(out.text.contains("🔴 **vzdump** — job errors"), "{}", out.text);
    assert!(out.text.contains("🔄 **qmigrate 101** — running"), "{}", out.text);

    let err =
        pve.call("proxmox_get_node_tasks", json!({ "node": "pve1", "vmids": 100 })).await.unwrap_err().to_string();
    assert!(err.contains("`vmids` is not a parameter"), "{err}");
}

#[tokio::test]
async fn get_node_task_reads_status_and_log_tail() {
    let pve = Pve::start().await;
    let base = format!("/nodes/pve1/tasks/{UPID}");
    let status = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api(&format!("{base}/status"))).header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": {
                "upid": UPID, "node": "pve1", "type": "qmstart", "id": "100", "user": "root@pam!mcp",
                "status": "stopped", "exitstatus": "OK", "starttime": 1_710_238_272, "pid": 43981
            }}));
        })
        .await;
    let probe = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api(&format!("{base}/log"))).query_param("start", "0").query_param("limit", "1");
            then.status(200).json_body(json!({ "data": [{ "n": 1, "t": "start" }], "total": 3 }));
        })
        .await;
    let log = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api(&format!("{base}/log"))).query_param("start", "1").query_param("limit", "2");
            then.status(200).json_body(
                json!({ "data": [{ "n": 2, "t": "generating cloud-init ISO" }, { "n": 3, "t": "TASK OK" }] }),
            );
        })
        .await;
    let out = pve.ok("proxmox_get_node_task", json!({ "node": "pve1", "upid": UPID, "limit": 2 })).await;
    status.assert_async().await;
    probe.assert_async().await;
    log.assert_async().await;
    assert!(
        out.text.starts_with("📋 **Task qmstart 100** on pve1\n• Status: 🟢 OK\n• User: root@pam!mcp"),
        "{}",
        out.text
    );
    assert!(out.text.contains("• Started: 2024-03-12 10:11:12 UTC"), "{}", out.text);
    assert!(out.text.contains("Log (lines 2–3 of 3)\n```\ngenerating cloud-init ISO\nTASK OK\n```"), "{}", out.text);
    assert_eq!(out.data["status"]["exitstatus"], "OK");
    assert_eq!(out.data["log_total"], 3);
    // Without `node`: the UPID names it.
    let again = pve.ok("proxmox_get_node_task", json!({ "upid": UPID, "limit": 2 })).await;
    assert_eq!(again.text, out.text);

    let err = pve.call("proxmox_get_node_task", json!({ "node": "pve2", "upid": UPID })).await.unwrap_err().to_string();
    assert!(err.contains("`upid`") && err.contains("node pve1"), "{err}");
    let err = pve
        .call("proxmox_get_node_task", json!({ "node": "pve1", "upid": "UPID:pve1:../../x" }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`upid`"), "{err}");
}

#[tokio::test]
async fn get_node_aplinfo_lists_templates() {
    let pve = Pve::start().await;
    let m = pve.mock_get("/nodes/pve1/aplinfo", json!([
        { "template": "debian-13-standard_13.1-1_amd64.tar.zst", "section": "system", "os": "debian-13", "version": "13.1-1", "headline": "Debian 13 (standard)" },
        { "template": "turnkey-wordpress_18.0-1_amd64.tar.gz", "section": "turnkeylinux", "os": "debian-12", "version": "18.0-1", "headline": "TurnKey WordPress" }
    ])).await;
    let out = pve.ok("proxmox_get_node_aplinfo", json!({ "node": "pve1" })).await;
    m.assert_async().await;
    assert!(
        out.text.contains(
            "• **debian-13-standard_13.1-1_amd64.tar.zst** (system, debian-13) v13.1-1 — Debian 13 (standard)"
        ),
        "{}",
        out.text
    );
    assert!(out.text.find("debian-13-standard") < out.text.find("turnkey"), "by section");
}

#[tokio::test]
async fn get_node_netstat_shows_guest_counters() {
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/nodes/pve1/netstat",
            json!([
                { "dev": "net0", "vmid": "200", "in": "2048", "out": "1024" },
                { "dev": "net0", "vmid": "100", "in": 1_073_741_824u64, "out": 1_048_576 }
            ]),
        )
        .await;
    let out = pve.ok("proxmox_get_node_netstat", json!({ "node": "pve1" })).await;
    m.assert_async().await;
    assert!(
        out.text.contains("• guest 100 net0: in 1.00 GiB, out 1.00 MiB\n• guest 200 net0: in 2.00 KiB, out 1.00 KiB"),
        "{}",
        out.text
    );

    let empty = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve2/netstat"));
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.ok("proxmox_get_node_netstat", json!({ "node": "pve2" })).await;
    empty.assert_async().await;
    assert_eq!(out.text, "No guest network devices on pve2.");
}

#[tokio::test]
async fn list_cluster_tasks_filters_the_cluster_index_itself_and_bounds_it() {
    let index = json!([
        { "upid": "UPID:pve1:0000A001:00000001:65F0A1B0:vzdump:100:root@pam:", "node": "pve1", "type": "vzdump", "id": "100", "user": "root@pam", "starttime": 1_710_238_000, "endtime": 1_710_238_060, "status": "OK" },
        { "upid": "UPID:pve2:0000A002:00000002:65F0A1C0:vzdump:101:root@pam:", "node": "pve2", "type": "vzdump", "id": "101", "user": "root@pam", "starttime": 1_710_238_100, "endtime": 1_710_238_130, "status": "job errors" },
        { "upid": "UPID:pve1:0000A003:00000003:65F0A1D0:vzdump:102:root@pam:", "node": "pve1", "type": "vzdump", "id": "102", "user": "root@pam", "starttime": 1_710_238_200, "endtime": 1_710_238_210, "status": "unable to find VM 102" },
        { "upid": "UPID:pve1:0000A004:00000004:65F0A1E0:qmstart:100:root@pam:", "node": "pve1", "type": "qmstart", "id": "100", "user": "root@pam", "starttime": 1_710_238_300, "status": "WARNINGS: 1" },
        { "upid": "UPID:pve1:0000A005:00000005:65F0A1F0:vzdump:100:root@pam:", "node": "pve1", "type": "vzdump", "id": "100", "user": "root@pam", "starttime": 1_710_238_400 }
    ]);
    // /cluster/tasks takes no filter parameters: exactly a bare GET, filtered here.
    let out = common::expect(
        "proxmox_list_cluster_tasks",
        json!({ "type": "vzdump", "errors": true, "since": 1_710_238_050 }),
        "GET",
        "/cluster/tasks",
        &[],
        index.clone(),
    )
    .await;
    assert_eq!(out.data["total"], 5);
    assert_eq!(out.data["matched"], 2);
    let upids: Vec<&str> = out.data["tasks"].as_array().unwrap().iter().map(|t| t["upid"].as_str().unwrap()).collect();
    // Newest first; the OK, the warnings-only and the running vzdump are not failures.
    assert_eq!(
        upids,
        [
            "UPID:pve1:0000A003:00000003:65F0A1D0:vzdump:102:root@pam:",
            "UPID:pve2:0000A002:00000002:65F0A1C0:vzdump:101:root@pam:"
        ]
    );
    assert!(out.text.contains("(2 matching, 5 in all)"), "{}", out.text);
    assert!(out.text.contains("🔴 **vzdump 101** on pve2 — job errors, root@pam"), "{}", out.text);

    // By guest and node, bounded by `limit`: the rest is counted, not shown.
    let out = common::expect(
        "proxmox_list_cluster_tasks",
        json!({ "vmid": 100, "node": "pve1", "limit": 2 }),
        "GET",
        "/cluster/tasks",
        &[],
        index.clone(),
    )
    .await;
    assert_eq!((out.data["matched"].as_u64(), out.data["tasks"].as_array().unwrap().len()), (Some(3), 2));
    assert_eq!(out.data["tasks"][0]["type"], "vzdump");
    assert_eq!(out.data["tasks"][1]["type"], "qmstart");
    assert!(out.text.contains("🔄 **vzdump 100** on pve1 — running"), "{}", out.text);
    assert!(out.text.contains("Showing 1 to 2 of 3."), "{}", out.text);
    assert!(out.text.contains("1 more: call again with offset 2."), "{}", out.text);
    assert_eq!(out.data["next_offset"], 2);

    // The next page is the rest.
    let out = common::expect(
        "proxmox_list_cluster_tasks",
        json!({ "vmid": 100, "node": "pve1", "limit": 2, "offset": 2 }),
        "GET",
        "/cluster/tasks",
        &[],
        index,
    )
    .await;
    assert_eq!((out.data["tasks"].as_array().unwrap().len(), out.data["offset"].as_u64()), (1, Some(2)));
    assert!(out.data["next_offset"].is_null() && !out.text.contains("more:"), "{}", out.text);

    // The bound is in the schema: refused before anything is sent.
    common::assert_refused_arg("proxmox_list_cluster_tasks", json!({ "limit": 1001 }), "limit").await;
    common::assert_refused_arg("proxmox_list_cluster_tasks", json!({ "type": "vz dump" }), "type").await;
}
