//! The firewall tools against fakepve: every request is checked against the real API schema.

use crate::common::fakepve::{FakePve, call_ok, entry};
use crate::common::mcp::text;
use crate::common::with;
use serde_json::{Value, json};

fn tool(verb: &str, scope: &str) -> String {
    let plural = if verb == "list" { "rules" } else { "rule" };
    format!("proxmox_{verb}_{scope}_firewall_{plural}")
}

/// The rules of a list result, as (type, action) pairs.
fn listed(result: &Value) -> Vec<(String, String)> {
    result["structuredContent"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {result}"))
        .iter()
        .map(|r| (r["type"].as_str().unwrap_or("").to_string(), r["action"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn pair(t: &str, a: &str) -> (String, String) {
    (t.to_string(), a.to_string())
}

/// A valid value of every firewall option of `scope` (as the PVE API schema has them).
fn every_option(scope: &str) -> Value {
    match scope {
        "cluster" => json!({ "enable": 1, "policy_in": "DROP", "policy_out": "ACCEPT", "policy_forward": "ACCEPT",
            "ebtables": true, "log_ratelimit": "enable=1,rate=10/minute,burst=5" }),
        "node" => {
            json!({ "enable": 1, "log_level_in": "info", "log_level_out": "nolog", "log_level_forward": "warning",
            "log_nf_conntrack": false, "ndp": true, "nf_conntrack_allow_invalid": false, "nf_conntrack_helpers": "ftp,tftp",
            "nf_conntrack_max": 65536, "nf_conntrack_tcp_timeout_established": 86400,
            "nf_conntrack_tcp_timeout_syn_recv": 45, "nftables": false, "nosmurfs": true, "protection_synflood": true,
            "protection_synflood_burst": 500, "protection_synflood_rate": 100, "smurf_log_level": "info",
            "tcp_flags_log_level": "info", "tcpflags": true })
        }
        _ => json!({ "enable": 1, "policy_in": "DROP", "policy_out": "ACCEPT", "log_level_in": "info",
            "log_level_out": "nolog", "dhcp": true, "ipfilter": true, "macfilter": true, "ndp": true, "radv": false }),
    }
}

pub async fn firewall_tools_are_accepted_and_keep_state_in_fakepve() {
    let pve = FakePve::start().await;
    let mut s = pve.session().await;
    let mut call = async |tool: &str, args: Value| call_ok(&mut s, tool, args).await;

    // Security groups: create, rename by create, list, read, re-comment.
    call("proxmox_create_cluster_firewall_group", json!({ "group": "webservers", "comment": "web" })).await;
    call("proxmox_create_cluster_firewall_group", json!({ "group": "tmp1" })).await;
    call("proxmox_create_cluster_firewall_group", json!({ "group": "tmp2", "rename": "tmp1" })).await;
    let groups = call("proxmox_list_cluster_firewall_groups", json!({})).await;
    assert_eq!(groups["structuredContent"]["items"][0]["group"], "tmp2", "{}", text(&groups));
    assert_eq!(groups["structuredContent"]["items"][1]["comment"], "web", "{}", text(&groups));
    let group = call("proxmox_get_cluster_firewall_group", json!({ "group": "webservers" })).await;
    assert_eq!(group["structuredContent"]["total"], 0, "{group}");
    call("proxmox_update_cluster_firewall_group", json!({ "group": "webservers", "comment": "public web" })).await;
    let groups = call("proxmox_list_cluster_firewall_groups", json!({})).await;
    assert_eq!(entry(&groups, "items", "group", "webservers")["comment"], "public web");

    // Cluster rules: create (one at a position), read back, change, remove a setting, move.
    let rules = call("proxmox_list_cluster_firewall_rules", json!({})).await;
    assert_eq!(rules["structuredContent"]["total"], 0, "{rules}");
    let ssh = json!({ "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": 22, "log": "info", "enable": 1, "comment": "ssh" });
    call("proxmox_create_cluster_firewall_rule", ssh).await;
    call("proxmox_create_cluster_firewall_rule", json!({ "type": "in", "action": "DROP", "macro": "Ping" })).await;
    let group_rule = json!({ "type": "group", "action": "webservers", "pos": 2, "enable": 1 });
    call("proxmox_create_cluster_firewall_rule", group_rule).await;
    let rules = call("proxmox_list_cluster_firewall_rules", json!({})).await;
    let order = [pair("in", "DROP"), pair("in", "ACCEPT"), pair("group", "webservers")];
    assert_eq!(listed(&rules), order, "{}", text(&rules));
    let rule = call("proxmox_get_cluster_firewall_rule", json!({ "pos": 1 })).await;
    assert_eq!(rule["structuredContent"]["dport"], "22", "{}", text(&rule));
    assert_eq!(rule["structuredContent"]["enable"], 1);
    assert_eq!(rule["structuredContent"]["log"], "info", "{rule}");
    let rule = call("proxmox_get_cluster_firewall_rule", json!({ "pos": 0 })).await;
    assert_eq!(rule["structuredContent"]["enable"], 0, "{rule}");
    call("proxmox_update_cluster_firewall_rule", json!({ "pos": 1, "source": "10.0.0.0/8", "delete": ["log"] })).await;
    let rule = call("proxmox_get_cluster_firewall_rule", json!({ "pos": 1 })).await;
    assert_eq!(rule["structuredContent"]["source"], "10.0.0.0/8", "{}", text(&rule));
    assert!(rule["structuredContent"].get("log").is_none(), "{}", text(&rule));
    call("proxmox_update_cluster_firewall_rule", json!({ "pos": 0, "moveto": 2 })).await;
    let rules = call("proxmox_list_cluster_firewall_rules", json!({})).await;
    let moved = [pair("in", "ACCEPT"), pair("group", "webservers"), pair("in", "DROP")];
    assert_eq!(listed(&rules), moved, "{}", text(&rules));
    call("proxmox_update_cluster_firewall_rule", json!({ "pos": 2, "moveto": 0 })).await;
    let rules = call("proxmox_list_cluster_firewall_rules", json!({})).await;
    assert_eq!(listed(&rules), order, "{}", text(&rules));

    // Renaming a group carries the rules that use it.
    let rename = json!({ "group": "webservers", "rename": "web", "comment": "renamed" });
    call("proxmox_update_cluster_firewall_group", rename).await;
    let groups = call("proxmox_list_cluster_firewall_groups", json!({})).await;
    assert_eq!(entry(&groups, "items", "group", "web")["comment"], "renamed");
    let rule = call("proxmox_get_cluster_firewall_rule", json!({ "pos": 2 })).await;
    assert_eq!(rule["structuredContent"]["action"], "web", "{}", text(&rule));

    // Deletes, with a current digest (in the query) and with a stale one.
    let rules = call("proxmox_list_cluster_firewall_rules", json!({})).await;
    let digest = rules["structuredContent"]["items"][0]["digest"].as_str().unwrap().to_string();
    call("proxmox_delete_cluster_firewall_rule", json!({ "pos": 0, "digest": digest })).await;
    let stale = s.call("proxmox_delete_cluster_firewall_rule", json!({ "pos": 0, "digest": digest })).await;
    assert_eq!(stale["isError"], true, "{}", text(&stale));
    let mut call = async |tool: &str, args: Value| call_ok(&mut s, tool, args).await;
    call("proxmox_delete_cluster_firewall_rule", json!({ "pos": 0 })).await;
    call("proxmox_delete_cluster_firewall_rule", json!({ "pos": 0 })).await;
    let rules = call("proxmox_list_cluster_firewall_rules", json!({})).await;
    assert_eq!(rules["structuredContent"]["total"], 0, "{}", text(&rules));
    call("proxmox_delete_cluster_firewall_group", json!({ "group": "web" })).await;
    call("proxmox_delete_cluster_firewall_group", json!({ "group": "tmp2" })).await;
    let groups = call("proxmox_list_cluster_firewall_groups", json!({})).await;
    assert_eq!(groups["structuredContent"]["total"], 0, "{groups}");

    // VM 100 and container 200: the same cycle on the guest's own rules.
    for (scope, vmid) in [("vm", 100), ("lxc", 200)] {
        let guest = json!({ "node": "pve1", "vmid": vmid });
        let ssh = json!({ "type": "in", "action": "ACCEPT", "macro": "SSH", "iface": "net0", "enable": 1 });
        call(&tool("create", scope), with(&guest, ssh)).await;
        call(&tool("create", scope), with(&guest, json!({ "type": "out", "action": "REJECT", "pos": 5 }))).await;
        let rules = call(&tool("list", scope), guest.clone()).await;
        assert_eq!(listed(&rules), [pair("in", "ACCEPT"), pair("out", "REJECT")], "{}", text(&rules));
        call(&tool("update", scope), with(&guest, json!({ "pos": 0, "enable": 0, "comment": "off for now" }))).await;
        let rule = call(&tool("get", scope), with(&guest, json!({ "pos": 0 }))).await;
        assert_eq!(rule["structuredContent"]["macro"], "SSH", "{}", text(&rule));
        assert_eq!(rule["structuredContent"]["iface"], "net0");
        assert_eq!(rule["structuredContent"]["enable"], 0);
        assert_eq!(rule["structuredContent"]["comment"], "off for now");
        call(&tool("delete", scope), with(&guest, json!({ "pos": 1 }))).await;
        call(&tool("delete", scope), with(&guest, json!({ "pos": 0 }))).await;
        let rules = call(&tool("list", scope), guest.clone()).await;
        assert_eq!(rules["structuredContent"]["total"], 0, "{}", text(&rules));
    }
    // The VM's and the container's rules are their own: the cluster list stayed empty.
    let rules = call("proxmox_list_cluster_firewall_rules", json!({})).await;
    assert_eq!(rules["structuredContent"]["total"], 0);

    // Firewall options: every option of each scope is accepted, kept and read back; `delete`
    // resets one, with the digest read; a stale digest is refused.
    for (scope, args) in [
        ("cluster", json!({ "scope": "cluster" })),
        ("node", json!({ "scope": "node", "node": "pve1" })),
        ("vm", json!({ "scope": "vm", "node": "pve1", "vmid": 100 })),
        ("lxc", json!({ "scope": "lxc", "node": "pve1", "vmid": 200 })),
    ] {
        let before = call_ok(&mut s, "proxmox_get_firewall_options", args.clone()).await;
        let off = if scope == "node" { "🟢 on (the default)" } else { "⚪ off (the default)" };
        assert!(text(&before).contains(&format!("• Firewall: {off}")), "{scope}: {}", text(&before));
        call_ok(&mut s, "proxmox_update_firewall_options", with(&args, every_option(scope))).await;
        let after = call_ok(&mut s, "proxmox_get_firewall_options", args.clone()).await;
        assert!(text(&after).contains("• Firewall: 🟢 on\n"), "{scope}: {}", text(&after));
        let options = &after["structuredContent"];
        for (name, _) in every_option(scope).as_object().unwrap() {
            assert!(options.get(name).is_some(), "{scope}: {name} not kept: {options}");
        }
        let digest = options["digest"].as_str().unwrap_or_else(|| panic!("{scope}: no digest: {options}")).to_string();
        let reset = json!({ "delete": ["log_level_in"], "digest": digest });
        let reset = if scope == "cluster" { json!({ "delete": ["policy_in"], "digest": digest }) } else { reset };
        call_ok(&mut s, "proxmox_update_firewall_options", with(&args, reset.clone())).await;
        let after = call_ok(&mut s, "proxmox_get_firewall_options", args.clone()).await;
        let gone = if scope == "cluster" { "policy_in" } else { "log_level_in" };
        assert!(after["structuredContent"].get(gone).is_none(), "{scope}: {gone} kept: {after}");
        let stale = s.call("proxmox_update_firewall_options", with(&args, reset)).await;
        assert_eq!(stale["isError"], true, "{scope}: {}", text(&stale));
    }
    assert!(s.close().await.success());
}
