//! The HA tools (resources, groups, status) against a mock Proxmox: exact requests and rendered
//! results; and against fakepve, which checks them with the real schema (it keeps no HA state).

mod common;

use common::{AUTH, Pve, api, assert_names_arg, assert_refused};
use httpmock::Method::{DELETE, GET, POST, PUT};
use proxmox_mcp::ToolError;
use serde_json::json;

#[tokio::test]
async fn get_ha_resources_lists_and_filters() {
    let pve = Pve::start().await;
    let vms = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/resources")).query_param("type", "vm").header("authorization", AUTH);
            then.status(200).json_body(json!({ "data": [
                { "sid": "vm:101", "type": "vm", "state": "stopped", "comment": "db" },
                { "sid": "vm:100", "type": "vm", "state": "started", "group": "prefer-pve1", "max_restart": 2 },
            ]}));
        })
        .await;
    // A read: basic tier, works without elevation.
    let out = pve.call_with("proxmox_get_ha_resources", json!({ "type": "vm" }), false).await.unwrap();
    vms.assert_async().await;
    assert!(out.text.starts_with("🛡️ **HA resources** (2)"), "{}", out.text);
    assert!(out.text.contains("• **vm:100** (vm) — requested started [group prefer-pve1]"), "{}", out.text);
    assert!(out.text.contains("• **vm:101** (vm) — requested stopped, db"), "{}", out.text);
    assert!(out.text.find("vm:100") < out.text.find("vm:101"), "sorted by sid");
    assert_eq!(out.data["total"], 2);

    let all = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/resources")).query_param_missing("type");
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.ok("proxmox_get_ha_resources", json!({})).await;
    all.assert_async().await;
    assert_eq!(out.text, "No HA resources found.");
}

#[tokio::test]
async fn get_ha_resource_reads_one() {
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/cluster/ha/resources/ct:200",
            json!({
                "sid": "ct:200", "type": "ct", "state": "started", "max_restart": 1, "max_relocate": 2,
                "failback": 1, "comment": "dns", "digest": "abc"
            }),
        )
        .await;
    let out = pve.ok("proxmox_get_ha_resource", json!({ "sid": "ct:200" })).await;
    m.assert_async().await;
    assert_eq!(
        out.text,
        "🛡️ **HA resource ct:200**\n• Type: ct\n• State: started\n• Max restart: 1\n• Max relocate: 2\n• Failback: yes\n• Comment: dns"
    );
    assert_eq!(out.data["digest"], "abc");
}

#[tokio::test]
async fn create_ha_resource_sends_only_api_parameters() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/ha/resources"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("sid", "vm:100")
                .form_urlencoded_tuple("state", "started")
                .form_urlencoded_tuple("max_restart", "3")
                .form_urlencoded_tuple("max_relocate", "0")
                .form_urlencoded_tuple("failback", "0")
                .form_urlencoded_tuple("comment", "web")
                .form_urlencoded_tuple_missing("group")
                .form_urlencoded_tuple_missing("type");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_create_ha_resource",
            json!({ "sid": "vm:100", "state": "started", "max_restart": 3, "max_relocate": 0, "failback": false, "comment": "web" }),
        )
        .await;
    m.assert_async().await;
    assert_eq!(out.text, "✅ vm:100 is now managed by HA\n• State: started");
    assert_eq!(out.data["sid"], "vm:100");

    // A plain VMID with its type and a group.
    let typed = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/ha/resources"))
                .form_urlencoded_tuple("sid", "200")
                .form_urlencoded_tuple("type", "ct")
                .form_urlencoded_tuple("group", "prefer-pve1");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve.ok("proxmox_create_ha_resource", json!({ "sid": "200", "type": "ct", "group": "prefer-pve1" })).await;
    typed.assert_async().await;
    assert!(out.text.contains("• Group: prefer-pve1"), "{}", out.text);
}

#[tokio::test]
async fn create_ha_resource_explains_groups_migrated_to_rules() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(POST).path(api("/cluster/ha/resources"));
            then.status(500).json_body(json!({ "data": null, "message": "invalid parameter 'group': ha groups have been migrated to rules\n" }));
        })
        .await;
    let err = pve.call("proxmox_create_ha_resource", json!({ "sid": "vm:100", "group": "g1" })).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("migrated to rules") && msg.contains("HA rules") && msg.contains("/cluster/ha/rules"),
        "{msg}"
    );
}

#[tokio::test]
async fn update_ha_resource_puts_changes() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/cluster/ha/resources/vm:100"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("state", "disabled")
                .form_urlencoded_tuple("delete", "comment,group")
                .form_urlencoded_tuple("digest", "0123abcd")
                .form_urlencoded_tuple_missing("sid");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_update_ha_resource",
            json!({ "sid": "vm:100", "state": "disabled", "delete": "comment,group", "digest": "0123abcd" }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ HA resource vm:100 updated ("), "{}", out.text);
    assert!(out.text.contains("state") && out.text.contains("delete"), "{}", out.text);

    // Nothing to change is refused before sending.
    let err = pve.call("proxmox_update_ha_resource", json!({ "sid": "vm:100" })).await.unwrap_err();
    assert!(err.to_string().contains("nothing to change"), "{err}");
}

#[tokio::test]
async fn delete_ha_resource_sends_purge_in_the_query() {
    let pve = Pve::start().await;
    let m = pve.mock_delete("/cluster/ha/resources/vm:100", &[("purge", "0")], json!(null)).await;
    let out = pve.ok("proxmox_delete_ha_resource", json!({ "sid": "vm:100", "purge": false })).await;
    m.assert_async().await;
    assert_eq!(out.text, "✅ vm:100 is no longer managed by HA");

    let plain = pve
        .server
        .mock_async(|when, then| {
            when.method(DELETE).path(api("/cluster/ha/resources/ct:200")).query_param_missing("purge");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    pve.ok("proxmox_delete_ha_resource", json!({ "sid": "ct:200" })).await;
    plain.assert_async().await;
}

#[tokio::test]
async fn ha_groups_list_read_create_update_delete() {
    let pve = Pve::start().await;
    let list = pve.mock_get("/cluster/ha/groups", json!([
        { "group": "prefer-pve1", "nodes": "pve1:2,pve2:1", "restricted": 1, "nofailback": 0, "comment": "web tier", "type": "group" },
    ])).await;
    let out = pve.ok("proxmox_get_ha_groups", json!({})).await;
    list.assert_async().await;
    assert_eq!(out.text, "🛡️ **HA groups** (1)\n\n• **prefer-pve1** — nodes pve1:2,pve2:1, restricted, web tier");

    let read = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/groups/prefer-pve1"));
            then.status(200)
                .json_body(json!({ "data": { "group": "prefer-pve1", "nodes": "pve1:2,pve2:1", "nofailback": 1 } }));
        })
        .await;
    let out = pve.ok("proxmox_get_ha_group", json!({ "group": "prefer-pve1" })).await;
    read.assert_async().await;
    assert_eq!(out.text, "🛡️ **HA group prefer-pve1**\n• Nodes: pve1:2,pve2:1\n• Restricted: no\n• No failback: yes");

    let create = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/ha/groups"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("group", "db")
                .form_urlencoded_tuple("nodes", "pve1,pve2:5")
                .form_urlencoded_tuple("restricted", "1")
                .form_urlencoded_tuple_missing("nofailback")
                .form_urlencoded_tuple_missing("type");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out =
        pve.ok("proxmox_create_ha_group", json!({ "group": "db", "nodes": "pve1,pve2:5", "restricted": true })).await;
    create.assert_async().await;
    assert_eq!(out.text, "✅ HA group db created\n\n• Nodes: pve1,pve2:5");

    let update = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(api("/cluster/ha/groups/db"))
                .form_urlencoded_tuple("nofailback", "1")
                .form_urlencoded_tuple("comment", "databases")
                .form_urlencoded_tuple_missing("group");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out =
        pve.ok("proxmox_update_ha_group", json!({ "group": "db", "nofailback": true, "comment": "databases" })).await;
    update.assert_async().await;
    assert_eq!(out.text, "✅ HA group db updated");

    let delete = pve.mock_delete("/cluster/ha/groups/db", &[], json!(null)).await;
    let out = pve.ok("proxmox_delete_ha_group", json!({ "group": "db" })).await;
    delete.assert_async().await;
    assert_eq!(out.text, "✅ HA group db deleted");
}

#[tokio::test]
async fn ha_groups_explain_the_pve9_rules_change() {
    let pve = Pve::start().await;
    // PVE 9 after the migration: the groups API dies with this message (HTTP 500).
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/groups"));
            then.status(500).json_body(
                json!({ "data": null, "message": "cannot index groups: ha groups have been migrated to rules\n" }),
            );
        })
        .await;
    // A Proxmox without the groups API at all answers 501.
    pve.server
        .mock_async(|when, then| {
            when.method(POST).path(api("/cluster/ha/groups"));
            then.status(501)
                .json_body(json!({ "data": null, "message": "Method 'POST /cluster/ha/groups' not implemented" }));
        })
        .await;
    // A group that does not exist stays a plain not-found.
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/groups/nope"));
            then.status(500).json_body(json!({ "data": null, "message": "no such ha group 'nope'\n" }));
        })
        .await;
    for (tool, args) in
        [("proxmox_get_ha_groups", json!({})), ("proxmox_create_ha_group", json!({ "group": "g1", "nodes": "pve1" }))]
    {
        let err = pve.call(tool, args).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ToolError::Other(_)), "{tool}: {err:?}");
        assert!(msg.contains("Proxmox VE 9 replaced HA groups with HA rules"), "{tool}: {msg}");
        assert!(msg.contains("/cluster/ha/rules"), "{tool}: {msg}");
    }
    let err = pve.call("proxmox_get_ha_group", json!({ "group": "nope" })).await.unwrap_err();
    assert!(matches!(err, ToolError::Api(proxmox_mcp::ApiError::NotFound(_))), "{err:?}");
    assert!(!err.to_string().contains("HA rules"), "{err}");
}

#[tokio::test]
async fn get_ha_status_reads_current_and_manager_status() {
    let pve = Pve::start().await;
    let current = pve.mock_get("/cluster/ha/status/current", json!([
        { "id": "quorum", "type": "quorum", "node": "pve1", "status": "OK", "quorate": 1 },
        { "id": "master", "type": "master", "node": "pve1", "status": "pve1 (active, Wed Nov 25 08:00:00 2026)", "armed-state": "armed" },
        { "id": "lrm:pve1", "type": "lrm", "node": "pve1", "status": "pve1 (active, Wed Nov 25 08:00:01 2026)" },
        { "id": "service:vm:100", "type": "service", "sid": "vm:100", "node": "pve1", "state": "started", "request_state": "started", "status": "started" },
        { "id": "service:vm:101", "type": "service", "sid": "vm:101", "node": "pve1", "state": "stopped", "request_state": "started", "status": "stopped" },
    ])).await;
    let manager = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/status/manager_status")).header("authorization", AUTH);
            then.status(200).json_body(
                json!({ "data": { "manager_status": { "master_node": "pve1" }, "quorum": { "quorate": "1" } } }),
            );
        })
        .await;
    let index = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/status"));
            then.status(200).json_body(json!({ "data": [{ "name": "current" }, { "name": "manager_status" }] }));
        })
        .await;
    let out = pve.call_with("proxmox_get_ha_status", json!({}), false).await.unwrap();
    current.assert_async().await;
    manager.assert_async().await;
    assert_eq!(index.calls_async().await, 0, "the directory index is not the status");
    for expected in [
        "🛡️ **HA status**",
        "• Quorum: 🟢 OK",
        "• Master: pve1 (active, Wed Nov 25 08:00:00 2026), HA armed",
        "• LRM pve1: pve1 (active, Wed Nov 25 08:00:01 2026)",
        "Resources (2):",
        "• 🟢 **vm:100** on pve1 — started",
        "• ⚪ **vm:101** on pve1 — stopped (requested started)",
    ] {
        assert!(out.text.contains(expected), "missing {expected:?} in {}", out.text);
    }
    assert_eq!(out.data["manager_status"]["manager_status"]["master_node"], "pve1");
    assert_eq!(out.data["current"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn get_ha_status_survives_a_failing_manager_status() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/status/current"));
            then.status(200)
                .json_body(json!({ "data": [{ "id": "quorum", "type": "quorum", "node": "pve1", "status": "OK" }] }));
        })
        .await;
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/status/manager_status"));
            then.status(500).json_body(json!({ "data": null, "message": "boom" }));
        })
        .await;
    let out = pve.ok("proxmox_get_ha_status", json!({})).await;
    assert!(out.text.contains("No HA-managed resources."), "{}", out.text);
    assert!(out.text.contains("⚠️ Full manager status unavailable"), "{}", out.text);
}

#[tokio::test]
async fn elevated_ha_tools_are_refused_without_elevation() {
    assert_refused("proxmox_create_ha_resource", json!({ "sid": "vm:100" })).await;
    assert_refused("proxmox_update_ha_resource", json!({ "sid": "vm:100", "state": "stopped" })).await;
    assert_refused("proxmox_delete_ha_resource", json!({ "sid": "vm:100" })).await;
    assert_refused("proxmox_create_ha_group", json!({ "group": "g1", "nodes": "pve1" })).await;
    assert_refused("proxmox_update_ha_group", json!({ "group": "g1", "nodes": "pve1" })).await;
    assert_refused("proxmox_delete_ha_group", json!({ "group": "g1" })).await;
}

#[tokio::test]
async fn invalid_ha_arguments_are_refused_before_sending() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!(null)).await;
    for (tool, args, arg) in [
        ("proxmox_get_ha_resource", json!({ "sid": "vm:100/../x" }), "sid"),
        ("proxmox_get_ha_resource", json!({ "sid": "qemu:100" }), "sid"),
        ("proxmox_get_ha_resources", json!({ "type": "lxc" }), "type"),
        ("proxmox_create_ha_resource", json!({ "sid": "vm:100", "state": "running" }), "state"),
        ("proxmox_create_ha_resource", json!({ "sid": "vm:100", "max_restart": -1 }), "max_restart"),
        ("proxmox_create_ha_resource", json!({ "sid": "vm:100", "group": "a/b" }), "group"),
        ("proxmox_create_ha_resource", json!({ "sid": "vm:100", "nofailback": true }), "nofailback"),
        ("proxmox_create_ha_resource", json!({ "sid": "vm:100", "comment": "x".repeat(4097) }), "comment"),
        ("proxmox_update_ha_resource", json!({ "sid": "vm:100", "digest": "zz" }), "digest"),
        ("proxmox_create_ha_group", json!({ "group": "g1", "nodes": "pve1:high" }), "nodes"),
        ("proxmox_create_ha_group", json!({ "group": "g1", "nodes": "pve1, pve2" }), "nodes"),
        ("proxmox_get_ha_group", json!({ "group": ".." }), "group"),
    ] {
        assert_names_arg(pve.call(tool, args.clone()).await, arg, format!("{tool} {args}"));
    }
    assert_eq!(any.calls_async().await, 0);
}

// ------------------------------------------------------------------------------------------
// HA rules (Proxmox VE 9)

#[tokio::test]
async fn list_ha_rules_filters_by_type_and_resource() {
    let answer = json!([
        { "rule": "web-on-pve1", "type": "node-affinity", "resources": "vm:100", "nodes": "pve1:2,pve2:1", "strict": 1, "digest": "ab" },
        { "rule": "db-apart", "type": "resource-affinity", "resources": "vm:101,vm:102", "affinity": "negative", "disable": 1, "comment": "spread" },
    ]);
    let params = [("type", "node-affinity"), ("resource", "vm:100")];
    let args = json!({ "type": "node-affinity", "resource": "vm:100" });
    let out = common::expect("proxmox_list_ha_rules", args, "GET", "/cluster/ha/rules", &params, answer).await;
    assert!(out.text.starts_with("🛡️ **HA rules** (2)\n"), "{}", out.text);
    assert!(out.text.find("db-apart") < out.text.find("web-on-pve1"), "sorted by id: {}", out.text);
    assert!(out.text.contains("• **web-on-pve1** (node-affinity, strict) — vm:100 → pve1:2,pve2:1"), "{}", out.text);
    assert!(
        out.text.contains("• **db-apart** (resource-affinity, negative) — vm:101,vm:102 [disabled], spread"),
        "{}",
        out.text
    );
    assert_eq!(out.data["total"], 2);
    let out = common::expect("proxmox_list_ha_rules", json!({}), "GET", "/cluster/ha/rules", &[], json!([])).await;
    assert_eq!(out.text, "No HA rules found.");
}

#[tokio::test]
async fn get_ha_rule_reads_one() {
    let answer = json!({ "rule": "web-on-pve1", "type": "node-affinity", "resources": "vm:100", "nodes": "pve1", "strict": 0, "comment": "web" });
    let path = "/cluster/ha/rules/web-on-pve1";
    let out = common::expect("proxmox_get_ha_rule", json!({ "rule": "web-on-pve1" }), "GET", path, &[], answer).await;
    assert_eq!(
        out.text,
        "🛡️ **HA rule web-on-pve1**\n• Type: node-affinity\n• Resources: vm:100\n• Nodes: pve1\n• Strict: no\n\
         • Disabled: no\n• Comment: web"
    );
    assert_eq!(out.data["resources"], "vm:100");
}

#[tokio::test]
async fn create_ha_rule_posts_each_type_with_its_settings() {
    let args = json!({ "rule": "web-on-pve1", "type": "node-affinity", "resources": ["vm:100", "ct:200"],
        "nodes": "pve1:2,pve2:1", "strict": true, "disable": false, "comment": "prefer pve1" });
    let form = [
        ("rule", "web-on-pve1"),
        ("type", "node-affinity"),
        ("resources", "vm:100,ct:200"),
        ("nodes", "pve1:2,pve2:1"),
        ("strict", "1"),
        ("disable", "0"),
        ("comment", "prefer pve1"),
    ];
    let out = common::expect("proxmox_create_ha_rule", args, "POST", "/cluster/ha/rules", &form, json!(null)).await;
    assert_eq!(
        out.text,
        "✅ HA rule web-on-pve1 created\n• Type: node-affinity\n• Resources: vm:100,ct:200\n• Nodes: pve1:2,pve2:1"
    );
    assert_eq!(out.data["rule"], "web-on-pve1");
    let args = json!({ "rule": "db-apart", "type": "resource-affinity", "resources": "vm:101,vm:102", "affinity": "negative" });
    let form =
        [("rule", "db-apart"), ("type", "resource-affinity"), ("resources", "vm:101,vm:102"), ("affinity", "negative")];
    let out = common::expect("proxmox_create_ha_rule", args, "POST", "/cluster/ha/rules", &form, json!(null)).await;
    assert!(out.text.ends_with("• Affinity: negative"), "{}", out.text);
}

#[tokio::test]
async fn update_ha_rule_puts_changes_with_its_type() {
    let args = json!({ "rule": "web-on-pve1", "type": "node-affinity", "nodes": "pve2", "delete": "comment,strict", "digest": "0a1b" });
    let form = [("type", "node-affinity"), ("nodes", "pve2"), ("delete", "comment,strict"), ("digest", "0a1b")];
    let path = "/cluster/ha/rules/web-on-pve1";
    let out = common::expect("proxmox_update_ha_rule", args, "PUT", path, &form, json!(null)).await;
    assert!(out.text.starts_with("✅ HA rule web-on-pve1 updated ("), "{}", out.text);
    assert!(out.text.contains("nodes") && out.text.contains("delete") && !out.text.contains("digest"), "{}", out.text);
    let args =
        json!({ "rule": "db-apart", "type": "resource-affinity", "resources": "vm:101,vm:103", "disable": true });
    let form = [("type", "resource-affinity"), ("resources", "vm:101,vm:103"), ("disable", "1")];
    common::expect("proxmox_update_ha_rule", args, "PUT", "/cluster/ha/rules/db-apart", &form, json!(null)).await;
}

#[tokio::test]
async fn delete_ha_rule() {
    let path = "/cluster/ha/rules/web-on-pve1";
    let out =
        common::expect("proxmox_delete_ha_rule", json!({ "rule": "web-on-pve1" }), "DELETE", path, &[], json!(null))
            .await;
    assert_eq!(out.text, "✅ HA rule web-on-pve1 deleted");
}

#[tokio::test]
async fn ha_rule_tools_are_elevated_for_changes_and_check_their_arguments() {
    assert_refused(
        "proxmox_create_ha_rule",
        json!({ "rule": "r1", "type": "node-affinity", "resources": "vm:100", "nodes": "pve1" }),
    )
    .await;
    assert_refused("proxmox_update_ha_rule", json!({ "rule": "r1", "type": "node-affinity", "nodes": "pve1" })).await;
    assert_refused("proxmox_delete_ha_rule", json!({ "rule": "r1" })).await;
    let node_rule = json!({ "rule": "r1", "type": "node-affinity", "resources": "vm:100", "nodes": "pve1" });
    let resource_rule =
        json!({ "rule": "r1", "type": "resource-affinity", "resources": "vm:100,vm:101", "affinity": "positive" });
    for (tool, args, arg) in [
        ("proxmox_get_ha_rule", json!({ "rule": "../x" }), "rule"),
        ("proxmox_list_ha_rules", json!({ "type": "group" }), "type"),
        ("proxmox_list_ha_rules", json!({ "resource": "qemu:100" }), "resource"),
        ("proxmox_list_ha_rules", json!({ "resource": "100" }), "resource"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "resources": "vm:100,101" })), "resources"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "rule": "9lives" })), "rule"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "resources": "vm:100;ct:200" })), "resources"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "resources": "vm:99" })), "resources"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "nodes": "pve1:high" })), "nodes"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "affinity": "together" })), "affinity"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "comment": "x".repeat(4097) })), "comment"),
        ("proxmox_create_ha_rule", common::with(&node_rule, json!({ "group": "g1" })), "group"),
        // What each type needs, and what only node-affinity rules take.
        ("proxmox_create_ha_rule", json!({ "rule": "r1", "type": "node-affinity", "resources": "vm:100" }), "nodes"),
        (
            "proxmox_create_ha_rule",
            json!({ "rule": "r1", "type": "resource-affinity", "resources": "vm:100" }),
            "affinity",
        ),
        ("proxmox_create_ha_rule", common::with(&resource_rule, json!({ "nodes": "pve1" })), "nodes"),
        ("proxmox_create_ha_rule", common::with(&resource_rule, json!({ "strict": true })), "strict"),
        ("proxmox_update_ha_rule", json!({ "rule": "r1", "type": "resource-affinity", "strict": false }), "strict"),
        ("proxmox_update_ha_rule", json!({ "rule": "r1", "nodes": "pve1" }), "type"),
        ("proxmox_update_ha_rule", json!({ "rule": "r1", "type": "node-affinity" }), "resources"),
        ("proxmox_update_ha_rule", json!({ "rule": "r1", "type": "node-affinity", "digest": "ab" }), "resources"),
        ("proxmox_update_ha_rule", json!({ "rule": "r1", "type": "node-affinity", "delete": "a b" }), "delete"),
        ("proxmox_delete_ha_rule", json!({ "rule": "" }), "rule"),
    ] {
        common::assert_refused_arg(tool, args, arg).await;
    }
}

#[tokio::test]
async fn ha_group_errors_on_pve9_name_the_rule_tools() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/ha/groups"));
            then.status(500).json_body(
                json!({ "data": null, "message": "cannot index groups: ha groups have been migrated to rules\n" }),
            );
        })
        .await;
    let msg = pve.call("proxmox_get_ha_groups", json!({})).await.unwrap_err().to_string();
    for tool in ["proxmox_list_ha_rules", "proxmox_create_ha_rule", "proxmox_update_ha_rule", "proxmox_delete_ha_rule"]
    {
        assert!(msg.contains(tool), "{tool} not named: {msg}");
    }
}

#[tokio::test]
async fn ha_rules_on_pve8_point_to_the_group_tools() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.path_includes("/cluster/ha/rules");
            then.status(501)
                .json_body(json!({ "data": null, "message": "Method 'GET /cluster/ha/rules' not implemented" }));
        })
        .await;
    let node_rule = json!({ "rule": "r1", "type": "node-affinity", "resources": "vm:100", "nodes": "pve1" });
    for (tool, args) in [
        ("proxmox_list_ha_rules", json!({})),
        ("proxmox_get_ha_rule", json!({ "rule": "r1" })),
        ("proxmox_create_ha_rule", node_rule),
        ("proxmox_update_ha_rule", json!({ "rule": "r1", "type": "node-affinity", "nodes": "pve2" })),
        ("proxmox_delete_ha_rule", json!({ "rule": "r1" })),
    ] {
        match pve.call(tool, args).await {
            Err(ToolError::Hinted(e, hint)) => {
                assert!(matches!(*e, ToolError::Api(proxmox_mcp::ApiError::NotImplemented(_))), "{tool}: {e:?}");
                assert!(hint.contains("Proxmox VE 9") && hint.contains("proxmox_create_ha_group"), "{tool}: {hint}");
            }
            other => panic!("{tool}: {other:?}"),
        }
    }
}
