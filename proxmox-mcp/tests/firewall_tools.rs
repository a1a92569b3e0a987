//! The Firewall tools (cluster rules, security groups, VM and container rules) against a mock
//! Proxmox, and against fakepve, which keeps firewall state.

mod common;

use common::{AUTH, Pve, api, assert_names_arg, assert_refused, invalid_args, with};
use httpmock::Method::{DELETE, GET, POST, PUT};
use proxmox_mcp::Registry;
use serde_json::{Value, json};

/// The three places rules live: tool-name infix, request path of the rule list, arguments
/// that select it, and how results name it.
fn scopes() -> [(&'static str, &'static str, Value, &'static str); 3] {
    [
        ("cluster", "/cluster/firewall/rules", json!({}), "the cluster"),
        ("vm", "/nodes/pve1/qemu/100/firewall/rules", json!({ "node": "pve1", "vmid": 100 }), "VM 100 on pve1"),
        ("lxc", "/nodes/pve1/lxc/200/firewall/rules", json!({ "node": "pve1", "vmid": 200 }), "container 200 on pve1"),
    ]
}

fn tool(verb: &str, scope: &str) -> String {
    let plural = if verb == "list" { "rules" } else { "rule" };
    format!("proxmox_{verb}_{scope}_firewall_{plural}")
}

// ------------------------------------------------------------------------------------------
// Rules, at every level

#[tokio::test]
async fn list_rules_in_order_with_their_settings() {
    for (scope, path, args, name) in scopes() {
        let pve = Pve::start().await;
        let m = pve
            .server
            .mock_async(|when, then| {
                when.method(GET).path(api(path)).header("authorization", AUTH);
                then.status(200).json_body(json!({ "data": [
                    { "pos": 0, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "22", "source": "10.0.0.0/8", "enable": 1, "comment": "ssh", "digest": "ab12" },
                    { "pos": 1, "type": "group", "action": "webservers", "enable": 0, "digest": "ab12" },
                ]}));
            })
            .await;
        let out = pve.ok(&tool("list", scope), args).await;
        m.assert_async().await;
        assert!(out.text.starts_with(&format!("🛡️ **Firewall rules of {name}** (2 rules")), "{}", out.text);
        assert!(out.text.contains("• 🟢 **#0** in ACCEPT proto=tcp src=10.0.0.0/8 dport=22 — ssh"), "{}", out.text);
        assert!(out.text.contains("• ⚪ **#1** group webservers (disabled)"), "{}", out.text);
        assert!(out.text.find("#0") < out.text.find("#1"));
        assert_eq!(out.data["total"], 2);
        assert_eq!(out.data["items"][0]["digest"], "ab12");
    }
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/cluster/firewall/rules"));
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let out = pve.ok("proxmox_list_cluster_firewall_rules", json!({})).await;
    assert_eq!(out.text, "No firewall rules in the cluster.");
}

#[tokio::test]
async fn get_rule_reads_one_position() {
    for (scope, path, args, name) in scopes() {
        let pve = Pve::start().await;
        let m = pve
            .server
            .mock_async(|when, then| {
                when.method(GET).path(api(&format!("{path}/3"))).header("authorization", AUTH);
                then.status(200).json_body(json!({ "data": {
                    "pos": 3, "type": "out", "action": "DROP", "proto": "udp", "dport": "53", "dest": "192.0.2.53",
                    "log": "info", "enable": 1, "iface": "net0", "ipversion": 4, "digest": "ab12"
                }}));
            })
            .await;
        let out = pve.ok(&tool("get", scope), with(&args, json!({ "pos": 3 }))).await;
        m.assert_async().await;
        for expected in [
            format!("🛡️ **Firewall rule #3 of {name}**"),
            "• Type: out\n• Action: DROP\n• Enabled: yes".into(),
            "• Protocol: udp".into(),
            "• Destination: 192.0.2.53".into(),
            "• Destination port: 53".into(),
            "• Interface: net0".into(),
            "• Log: info".into(),
            "• IP version: 4".into(),
        ] {
            assert!(out.text.contains(&expected), "missing {expected:?} in {}", out.text);
        }
        assert_eq!(out.data["digest"], "ab12");
    }
}

#[tokio::test]
async fn create_rule_sends_the_rule_as_a_form() {
    for (scope, path, args, name) in scopes() {
        let pve = Pve::start().await;
        let m = pve
            .server
            .mock_async(|when, then| {
                when.method(POST)
                    .path(api(path))
                    .header("authorization", AUTH)
                    .form_urlencoded_tuple("type", "in")
                    .form_urlencoded_tuple("action", "ACCEPT")
                    .form_urlencoded_tuple("proto", "tcp")
                    .form_urlencoded_tuple("dport", "22")
                    .form_urlencoded_tuple("source", "10.0.0.0/8")
                    .form_urlencoded_tuple("iface", "net0")
                    .form_urlencoded_tuple("log", "nolog")
                    .form_urlencoded_tuple("enable", "1")
                    .form_urlencoded_tuple("comment", "ssh from admins")
                    .form_urlencoded_tuple_count(".*", ".*", 9);
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        let rule = json!({
            "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": 22, "source": "10.0.0.0/8",
            "iface": "net0", "log": "nolog", "enable": true, "comment": "ssh from admins"
        });
        // The cluster firewall is on; a guest's own is off (Proxmox leaves `enable` out then).
        let cluster_on = pve.mock_get("/cluster/firewall/options", json!({ "enable": 1, "policy_in": "DROP" })).await;
        let guest_off = pve.mock_get(&path.replace("/rules", "/options"), json!({ "policy_in": "DROP" })).await;
        let out = pve.ok(&tool("create", scope), with(&args, rule)).await;
        m.assert_async().await;
        cluster_on.assert_async().await;
        let shown = format!(
            "✅ Firewall rule added to {name}\n• Position: 0\n• Rule: 🟢 **#0** in ACCEPT proto=tcp src=10.0.0.0/8 dport=22 \
             iface=net0 log=nolog — ssh from admins\n• Enabled: yes"
        );
        if scope == "cluster" {
            assert_eq!(out.text, shown);
            assert_eq!(out.data["firewall_off"], json!([]));
        } else {
            guest_off.assert_async().await;
            let vmid = args["vmid"].clone();
            let off = format!("{name} (scope {scope}, vmid {vmid})");
            assert_eq!(
                out.text,
                format!(
                    "{shown}\n\n⚠️ Not in effect yet: the firewall of {off} is off. proxmox_update_firewall_options \
                     with enable=1 turns it on."
                )
            );
            assert_eq!(out.data["firewall_off"], json!([off]));
        }
        assert_eq!((out.data["pos"].clone(), out.data["enable"].clone()), (json!(0), json!(1)));
    }
}

#[tokio::test]
async fn create_rule_at_a_position_moves_it_there() {
    // Proxmox always adds a rule first (it ignores `pos`): the tool moves it afterwards.
    for (scope, path, args, _) in scopes() {
        let pve = Pve::start().await;
        let create = pve
            .server
            .mock_async(|when, then| {
                when.method(POST)
                    .path(api(path))
                    .form_urlencoded_tuple("type", "group")
                    .form_urlencoded_tuple("action", "webservers")
                    .form_urlencoded_tuple_missing("pos")
                    .form_urlencoded_tuple_count(".*", ".*", 2);
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        let mv = pve
            .server
            .mock_async(|when, then| {
                when.method(PUT)
                    .path(api(&format!("{path}/0")))
                    .header("authorization", AUTH)
                    .form_urlencoded_tuple("moveto", "3")
                    .form_urlencoded_tuple_count(".*", ".*", 1);
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        let args = with(&args, json!({ "type": "group", "action": "webservers", "pos": 2 }));
        let out = pve.ok(&tool("create", scope), args).await;
        create.assert_async().await;
        mv.assert_async().await;
        assert!(out.text.contains("• Position: 2 (last, if there are fewer rules)"), "{}", out.text);
        assert!(out.text.contains("• Enabled: no: set enable=1 to activate it"), "{}", out.text);
        assert_eq!(out.data["pos"], 2);
    }
}

#[tokio::test]
async fn update_rule_sends_changes_and_removals() {
    for (scope, path, args, name) in scopes() {
        let pve = Pve::start().await;
        let m = pve
            .server
            .mock_async(|when, then| {
                when.method(PUT)
                    .path(api(&format!("{path}/1")))
                    .header("authorization", AUTH)
                    .form_urlencoded_tuple("action", "DROP")
                    .form_urlencoded_tuple("enable", "0")
                    .form_urlencoded_tuple("delete", "comment,icmp-type")
                    .form_urlencoded_tuple("digest", "0a1b2c")
                    .form_urlencoded_tuple_count(".*", ".*", 4);
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        let changes =
            json!({ "pos": 1, "action": "DROP", "enable": 0, "delete": ["comment", "icmp-type"], "digest": "0a1b2c" });
        let out = pve.ok(&tool("update", scope), with(&args, changes)).await;
        m.assert_async().await;
        assert_eq!(out.text, format!("✅ Firewall rule #1 of {name} updated"));
    }
    // `delete` also takes Proxmox's comma-separated form.
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(PUT).path(api("/cluster/firewall/rules/0")).form_urlencoded_tuple("delete", "log,dport");
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    pve.ok("proxmox_update_cluster_firewall_rule", json!({ "pos": 0, "delete": "log, dport" })).await;
    m.assert_async().await;
}

#[tokio::test]
async fn update_rule_moves_to_the_position_asked_for() {
    // Proxmox puts a moved rule in front of the rule at `moveto`, counted before the move: moving
    // down to 3 is moveto=4, moving up to 1 is moveto=1.
    for (from, to, sent) in [(1, 3, "4"), (4, 1, "1")] {
        let pve = Pve::start().await;
        let m = pve
            .server
            .mock_async(|when, then| {
                when.method(PUT)
                    .path(api(&format!("/nodes/pve1/qemu/100/firewall/rules/{from}")))
                    .form_urlencoded_tuple("moveto", sent)
                    .form_urlencoded_tuple_count(".*", ".*", 1);
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        let args = json!({ "node": "pve1", "vmid": 100, "pos": from, "moveto": to });
        let out = pve.ok("proxmox_update_vm_firewall_rule", args).await;
        m.assert_async().await;
        assert!(out.text.starts_with(&format!("✅ Firewall rule #{from} of VM 100 on pve1 moved to position {to}")));
        assert_eq!(out.data, json!({ "pos": from, "moveto": to }));
    }
}

#[tokio::test]
async fn update_rule_refuses_a_move_with_changes_and_an_empty_change() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!(null)).await;
    let refused =
        pve.call("proxmox_update_cluster_firewall_rule", json!({ "pos": 0, "moveto": 2, "comment": "x" })).await;
    assert_eq!(invalid_args(refused)[0].0, "moveto");
    let refused = pve.call("proxmox_update_cluster_firewall_rule", json!({ "pos": 0 })).await;
    assert_eq!(invalid_args(refused)[0].0, "changes");
    // A digest alone changes nothing either.
    let refused = pve.call("proxmox_update_cluster_firewall_rule", json!({ "pos": 0, "digest": "ab" })).await;
    assert_eq!(invalid_args(refused)[0].0, "changes");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn delete_rule_sends_the_digest_in_the_query_never_a_body() {
    for (scope, path, args, name) in scopes() {
        let pve = Pve::start().await;
        let m = pve
            .server
            .mock_async(|when, then| {
                when.method(DELETE)
                    .path(api(&format!("{path}/2")))
                    .header("authorization", AUTH)
                    .query_param("digest", "9f8e7d")
                    .body("");
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        let out = pve.ok(&tool("delete", scope), with(&args, json!({ "pos": 2, "digest": "9f8e7d" }))).await;
        m.assert_async().await;
        assert!(out.text.starts_with(&format!("✅ Firewall rule #2 deleted from {name}")), "{}", out.text);

        let pve = Pve::start().await;
        let m = pve
            .server
            .mock_async(|when, then| {
                when.method(DELETE).path(api(&format!("{path}/0"))).query_param_missing("digest").body("");
                then.status(200).json_body(json!({ "data": null }));
            })
            .await;
        pve.ok(&tool("delete", scope), with(&args, json!({ "pos": 0 }))).await;
        m.assert_async().await;
    }
}

#[tokio::test]
async fn guest_rules_refuse_forward_and_host_interfaces() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!(null)).await;
    for scope in ["vm", "lxc"] {
        let guest = json!({ "node": "pve1", "vmid": 100 });
        let refused =
            pve.call(&tool("create", scope), with(&guest, json!({ "type": "forward", "action": "ACCEPT" }))).await;
        assert_eq!(invalid_args(refused)[0].0, "type");
        let refused = pve
            .call(&tool("create", scope), with(&guest, json!({ "type": "in", "action": "ACCEPT", "iface": "vmbr0" })))
            .await;
        let list = invalid_args(refused);
        assert!(list[0].0 == "iface" && list[0].1.contains("net0"), "{list:?}");
        let refused = pve.call(&tool("update", scope), with(&guest, json!({ "pos": 0, "iface": "eth0" }))).await;
        assert_eq!(invalid_args(refused)[0].0, "iface");
    }
    assert_eq!(any.calls_async().await, 0);
}

// ------------------------------------------------------------------------------------------
// Security groups

#[tokio::test]
async fn list_groups_with_comments() {
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/cluster/firewall/groups",
            json!([
                { "group": "webservers", "comment": "HTTP(S) in", "digest": "ab" },
                { "group": "admin", "digest": "ab" },
            ]),
        )
        .await;
    let out = pve.ok("proxmox_list_cluster_firewall_groups", json!({})).await;
    m.assert_async().await;
    assert_eq!(out.text, "🛡️ **Security groups** (2)\n\n• **admin**\n• **webservers** — HTTP(S) in");
    assert_eq!(out.data["items"][1]["group"], "webservers");
}

#[tokio::test]
async fn get_group_shows_its_rules() {
    // The answer is the group's rule list (the old server read it as an object and showed nothing).
    let pve = Pve::start().await;
    let m = pve
        .mock_get(
            "/cluster/firewall/groups/webservers",
            json!([
                { "pos": 0, "type": "in", "action": "ACCEPT", "macro": "HTTPS", "enable": 1, "digest": "ab" },
                { "pos": 1, "type": "in", "action": "ACCEPT", "macro": "HTTP", "enable": 1, "digest": "ab" },
            ]),
        )
        .await;
    let out = pve.ok("proxmox_get_cluster_firewall_group", json!({ "group": "webservers" })).await;
    m.assert_async().await;
    assert!(out.text.starts_with("🛡️ **Security group webservers** (2 rules"), "{}", out.text);
    assert!(out.text.contains("• 🟢 **#0** in ACCEPT macro=HTTPS"), "{}", out.text);
    assert_eq!(out.data["total"], 2);
}

#[tokio::test]
async fn create_group_posts_name_and_comment() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/firewall/groups"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("group", "webservers")
                .form_urlencoded_tuple("comment", "HTTP(S) in")
                .form_urlencoded_tuple_count(".*", ".*", 2);
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let args = json!({ "group": "webservers", "comment": "HTTP(S) in" });
    let out = pve.ok("proxmox_create_cluster_firewall_group", args).await;
    m.assert_async().await;
    assert_eq!(out.text, "✅ Security group webservers created");
}

#[tokio::test]
async fn update_group_posts_to_the_group_list_with_rename() {
    // There is no PUT on a group: Proxmox renames and re-comments with POST /cluster/firewall/groups,
    // `group` = the resulting name, `rename` = the existing one.
    let pve = Pve::start().await;
    let renamed = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/firewall/groups"))
                .header("authorization", AUTH)
                .form_urlencoded_tuple("group", "web")
                .form_urlencoded_tuple("rename", "webservers")
                .form_urlencoded_tuple("comment", "public web")
                .form_urlencoded_tuple("digest", "00ff")
                .form_urlencoded_tuple_count(".*", ".*", 4);
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let args = json!({ "group": "webservers", "rename": "web", "comment": "public web", "digest": "00ff" });
    let out = pve.ok("proxmox_update_cluster_firewall_group", args).await;
    renamed.assert_async().await;
    assert_eq!(out.text, "✅ Security group webservers renamed to web");
    assert_eq!(out.data["group"], "web");

    let pve = Pve::start().await;
    let commented = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/cluster/firewall/groups"))
                .form_urlencoded_tuple("group", "web")
                .form_urlencoded_tuple("rename", "web")
                .form_urlencoded_tuple("comment", "")
                .form_urlencoded_tuple_count(".*", ".*", 3);
            then.status(200).json_body(json!({ "data": null }));
        })
        .await;
    let out = pve.ok("proxmox_update_cluster_firewall_group", json!({ "group": "web", "comment": "" })).await;
    commented.assert_async().await;
    assert_eq!(out.text, "✅ Security group web updated");

    let refused = pve.call("proxmox_update_cluster_firewall_group", json!({ "group": "web" })).await;
    assert_eq!(invalid_args(refused)[0].0, "comment");
}

#[tokio::test]
async fn delete_group() {
    let pve = Pve::start().await;
    let m = pve.mock_delete("/cluster/firewall/groups/web-servers_2", &[], json!(null)).await;
    let out = pve.ok("proxmox_delete_cluster_firewall_group", json!({ "group": "web-servers_2" })).await;
    m.assert_async().await;
    assert_eq!(out.text, "✅ Security group web-servers_2 deleted");
}

// ------------------------------------------------------------------------------------------
// Tiers, bad input, schemas

#[tokio::test]
async fn changes_are_refused_without_elevation() {
    let rule = json!({ "type": "in", "action": "ACCEPT" });
    let guest = json!({ "node": "pve1", "vmid": 100 });
    assert_refused("proxmox_create_cluster_firewall_rule", rule.clone()).await;
    assert_refused("proxmox_update_cluster_firewall_rule", json!({ "pos": 0, "comment": "x" })).await;
    assert_refused("proxmox_delete_cluster_firewall_rule", json!({ "pos": 0 })).await;
    assert_refused("proxmox_create_cluster_firewall_group", json!({ "group": "web" })).await;
    assert_refused("proxmox_update_cluster_firewall_group", json!({ "group": "web", "comment": "x" })).await;
    assert_refused("proxmox_delete_cluster_firewall_group", json!({ "group": "web" })).await;
    assert_refused("proxmox_update_firewall_options", json!({ "scope": "cluster", "enable": 1 })).await;
    for scope in ["vm", "lxc"] {
        assert_refused(&tool("create", scope), with(&guest, rule.clone())).await;
        assert_refused(&tool("update", scope), with(&guest, json!({ "pos": 0, "comment": "x" }))).await;
        assert_refused(&tool("delete", scope), with(&guest, json!({ "pos": 0 }))).await;
    }
    // Reads are basic.
    let pve = Pve::start().await;
    pve.server
        .mock_async(|_, then| {
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    for (name, args) in [
        ("proxmox_list_cluster_firewall_rules", json!({})),
        ("proxmox_list_cluster_firewall_groups", json!({})),
        ("proxmox_get_cluster_firewall_group", json!({ "group": "web" })),
        ("proxmox_list_vm_firewall_rules", guest.clone()),
        ("proxmox_list_lxc_firewall_rules", guest.clone()),
        ("proxmox_get_firewall_options", json!({ "scope": "cluster" })),
    ] {
        pve.call_with(name, args, false).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[tokio::test]
async fn invalid_arguments_are_refused_by_name_before_any_request() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!(null)).await;
    let lxc_rule = json!({ "node": "pve1", "vmid": 200, "type": "in", "action": "ACCEPT" });
    let cases = [
        ("proxmox_get_cluster_firewall_rule", json!({ "pos": -1 }), "pos"),
        ("proxmox_get_vm_firewall_rule", json!({ "node": "pve1", "vmid": 99, "pos": 0 }), "vmid"),
        ("proxmox_create_cluster_firewall_rule", json!({ "type": "sideways", "action": "ACCEPT" }), "type"),
        ("proxmox_create_cluster_firewall_rule", json!({ "type": "in", "action": "AC CEPT" }), "action"),
        ("proxmox_create_cluster_firewall_rule", json!({ "action": "ACCEPT" }), "type"),
        ("proxmox_create_cluster_firewall_rule", json!({ "type": "in", "action": "ACCEPT", "pos": "top" }), "pos"),
        ("proxmox_create_cluster_firewall_rule", json!({ "type": "in", "action": "ACCEPT", "enable": 2 }), "enable"),
        ("proxmox_create_cluster_firewall_rule", json!({ "type": "in", "action": "ACCEPT", "log": "loud" }), "log"),
        ("proxmox_create_cluster_firewall_rule", json!({ "type": "in", "action": "ACCEPT", "dport": -1 }), "dport"),
        (
            "proxmox_create_cluster_firewall_rule",
            json!({ "type": "in", "action": "ACCEPT", "position": 1 }),
            "position",
        ),
        ("proxmox_create_lxc_firewall_rule", with(&lxc_rule, json!({ "iface": "net0/.." })), "iface"),
        ("proxmox_update_cluster_firewall_rule", json!({ "pos": 0, "delete": "comment,type" }), "delete"),
        ("proxmox_delete_cluster_firewall_rule", json!({ "pos": 0, "digest": "../x" }), "digest"),
        ("proxmox_get_cluster_firewall_group", json!({ "group": "../web" }), "group"),
        ("proxmox_create_cluster_firewall_group", json!({ "group": "a-name-far-too-long-for-a-group" }), "group"),
        ("proxmox_update_cluster_firewall_group", json!({ "group": "web", "rename": "9web" }), "rename"),
        ("proxmox_update_cluster_firewall_group", json!({ "group": "web", "delete": "comment" }), "delete"),
    ];
    for (name, args, arg) in cases {
        assert_names_arg(pve.call(name, args.clone()).await, arg, format!("{name} {args}"));
    }
    assert_eq!(any.calls_async().await, 0);
}

#[test]
fn schemas_name_every_parameter_of_the_api() {
    let registry = Registry::builtin();
    let schema = |name: &str| -> Value {
        let t = registry.get(name).unwrap_or_else(|| panic!("no tool {name}"));
        Value::Object(t.input_schema())
    };
    let keys = |schema: &Value, field: &str| -> Vec<String> {
        let mut keys: Vec<String> = match &schema[field] {
            Value::Object(map) => map.keys().cloned().collect(),
            Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        keys.sort();
        keys
    };
    let sorted = |parts: &[&[&str]]| -> Vec<String> {
        let mut all: Vec<String> = parts.concat().into_iter().map(str::to_string).collect();
        all.sort();
        all
    };
    let rule_fields: &[&str] =
        &["macro", "proto", "source", "dest", "sport", "dport", "icmp-type", "iface", "log", "enable", "comment"];
    for scope in ["cluster", "vm", "lxc"] {
        let guest: &[&str] = if scope == "cluster" { &[] } else { &["node", "vmid"] };
        let create = schema(&tool("create", scope));
        assert_eq!(keys(&create, "properties"), sorted(&[guest, &["type", "action", "pos"], rule_fields]), "{scope}");
        // A guest's node may be left out: it is found from the vmid.
        let required: &[&str] = if scope == "cluster" { &[] } else { &["vmid"] };
        assert_eq!(keys(&create, "required"), sorted(&[required, &["type", "action"]]), "{scope}");
        assert_eq!(create["properties"]["type"]["enum"], json!(["in", "out", "forward", "group"]));
        assert_eq!(create["properties"]["log"]["enum"].as_array().unwrap().len(), 9);

        let update = schema(&tool("update", scope));
        let own: &[&str] = &["pos", "type", "action", "delete", "moveto", "digest"];
        assert_eq!(keys(&update, "properties"), sorted(&[guest, own, rule_fields]), "{scope}");
        assert_eq!(keys(&update, "required"), sorted(&[required, &["pos"]]), "{scope}");
        assert_eq!(update["properties"]["type"]["enum"], json!(["in", "out", "forward", "group"]));
        assert_eq!(update["properties"]["delete"]["type"], "array");

        for verb in ["list", "get", "create", "update", "delete"] {
            let s = schema(&tool(verb, scope));
            let text = s.to_string();
            assert!(!text.contains("$ref") && !text.contains("$defs") && !text.contains("anyOf"), "{text}");
            assert_eq!(s["additionalProperties"], false);
            for (name, prop) in s["properties"].as_object().unwrap() {
                assert!(prop.get("description").is_some(), "{verb} {scope}: {name} has no description");
            }
        }
    }
    let update_group = schema("proxmox_update_cluster_firewall_group");
    assert_eq!(keys(&update_group, "properties"), ["comment", "digest", "group", "rename"]);
    let t = registry.get("proxmox_update_cluster_firewall_group").unwrap();
    assert_eq!((t.method.as_str(), t.path), ("POST", Some("/cluster/firewall/groups")));
    for name in [
        "proxmox_delete_cluster_firewall_rule",
        "proxmox_delete_vm_firewall_rule",
        "proxmox_delete_cluster_firewall_group",
    ] {
        assert!(registry.get(name).unwrap().destructive(), "{name}");
    }
}

// ------------------------------------------------------------------------------------------
// Firewall options, of the cluster, a node, a VM and a container

/// The four firewalls with options: scope, the arguments that address it, its options path,
/// and how results name it.
fn option_scopes() -> [(&'static str, Value, &'static str, &'static str); 4] {
    [
        ("cluster", json!({ "scope": "cluster" }), "/cluster/firewall/options", "the cluster"),
        ("node", json!({ "scope": "node", "node": "pve1" }), "/nodes/pve1/firewall/options", "node pve1"),
        (
            "vm",
            json!({ "scope": "vm", "node": "pve1", "vmid": 100 }),
            "/nodes/pve1/qemu/100/firewall/options",
            "VM 100 on pve1",
        ),
        (
            "lxc",
            json!({ "scope": "lxc", "node": "pve1", "vmid": 200 }),
            "/nodes/pve1/lxc/200/firewall/options",
            "container 200 on pve1",
        ),
    ]
}

/// The options of each scope's `PUT .../firewall/options` in the PVE 9.1 API schema (besides
/// node, vmid, delete and digest).
fn api_options(scope: &str) -> &'static [&'static str] {
    match scope {
        "cluster" => &["ebtables", "enable", "log_ratelimit", "policy_forward", "policy_in", "policy_out"],
        "node" => &[
            "enable",
            "log_level_forward",
            "log_level_in",
            "log_level_out",
            "log_nf_conntrack",
            "ndp",
            "nf_conntrack_allow_invalid",
            "nf_conntrack_helpers",
            "nf_conntrack_max",
            "nf_conntrack_tcp_timeout_established",
            "nf_conntrack_tcp_timeout_syn_recv",
            "nftables",
            "nosmurfs",
            "protection_synflood",
            "protection_synflood_burst",
            "protection_synflood_rate",
            "smurf_log_level",
            "tcp_flags_log_level",
            "tcpflags",
        ],
        _ => &[
            "dhcp",
            "enable",
            "ipfilter",
            "log_level_in",
            "log_level_out",
            "macfilter",
            "ndp",
            "policy_in",
            "policy_out",
            "radv",
        ],
    }
}

/// A valid value of each firewall option, as an agent gives it and as it goes in the form.
fn option_value(name: &str) -> (Value, &'static str) {
    match name {
        "enable"
        | "dhcp"
        | "ebtables"
        | "ipfilter"
        | "macfilter"
        | "ndp"
        | "radv"
        | "nftables"
        | "nosmurfs"
        | "tcpflags"
        | "protection_synflood"
        | "log_nf_conntrack"
        | "nf_conntrack_allow_invalid" => (json!(1), "1"),
        "policy_in" => (json!("DROP"), "DROP"),
        "policy_out" | "policy_forward" => (json!("ACCEPT"), "ACCEPT"),
        "log_ratelimit" => (json!("enable=1,rate=10/minute,burst=5"), "enable=1,rate=10/minute,burst=5"),
        "nf_conntrack_helpers" => (json!(["ftp", "tftp"]), "ftp,tftp"),
        "nf_conntrack_max" => (json!(65536), "65536"),
        "nf_conntrack_tcp_timeout_established" => (json!(86400), "86400"),
        "nf_conntrack_tcp_timeout_syn_recv" => (json!(45), "45"),
        "protection_synflood_burst" => (json!(500), "500"),
        "protection_synflood_rate" => (json!(100), "100"),
        _ => (json!("info"), "info"), // the log levels
    }
}

#[tokio::test]
async fn firewall_options_are_read_from_the_scopes_own_path() {
    for (scope, args, path, name) in option_scopes() {
        let answer = json!({ "enable": 1, "policy_in": "DROP", "log_level_in": "info", "digest": "ab12" });
        let out = common::expect("proxmox_get_firewall_options", args, "GET", path, &[], answer).await;
        assert!(
            out.text.starts_with(&format!("🛡️ **Firewall options of {name}**\n• Firewall: 🟢 on\n")),
            "{}",
            out.text
        );
        assert!(out.text.contains("• policy_in: DROP") && out.text.contains("• log_level_in: info"), "{}", out.text);
        assert!(!out.text.contains("digest"), "{}", out.text);
        assert_eq!(out.data["digest"], "ab12", "{scope}");
    }
    // Unset, a node's firewall is on and the others off; off, the result says what that means.
    for (scope, args, path, _) in option_scopes() {
        let out =
            common::expect("proxmox_get_firewall_options", args, "GET", path, &[], json!({ "digest": "ab" })).await;
        let on = scope == "node";
        assert!(out.text.contains(if on {
            "• Firewall: 🟢 on (the default)"
        } else {
            "• Firewall: ⚪ off (the default)"
        }));
        assert_eq!(out.text.contains("do not apply while it is off"), !on, "{}", out.text);
    }
}

#[tokio::test]
async fn firewall_options_update_sends_every_option_of_the_scope() {
    for (scope, args, path, name) in option_scopes() {
        let options = api_options(scope);
        let mut given = args.clone();
        let mut form: Vec<(&str, &str)> = Vec::new();
        for option in options {
            let (value, sent) = option_value(option);
            given[*option] = value;
            form.push((option, sent));
        }
        let out = common::expect("proxmox_update_firewall_options", given, "PUT", path, &form, json!(null)).await;
        assert!(out.text.starts_with(&format!("✅ Firewall options of {name} updated\n• Set: ")), "{}", out.text);
        assert_eq!(out.data["scope"], scope);
        assert_eq!(out.data["set"].as_array().unwrap().len(), options.len(), "{scope}");
    }
}

#[tokio::test]
async fn firewall_options_update_resets_with_delete_and_keeps_the_digest() {
    let args = json!({ "scope": "vm", "node": "pve1", "vmid": 100, "enable": true, "delete": ["policy_in", "log_level_in"], "digest": "0a1b" });
    let form = [("enable", "1"), ("delete", "policy_in,log_level_in"), ("digest", "0a1b")];
    let path = "/nodes/pve1/qemu/100/firewall/options";
    let out = common::expect("proxmox_update_firewall_options", args, "PUT", path, &form, json!(null)).await;
    assert_eq!(
        out.text,
        "✅ Firewall options of VM 100 on pve1 updated\n• Set: enable\n• Reset to default: policy_in, log_level_in"
    );
    assert_eq!(out.data["reset"], json!(["policy_in", "log_level_in"]));
    // Proxmox's comma-separated form, alone.
    let args = json!({ "scope": "cluster", "delete": "policy_forward, ebtables" });
    let form = [("delete", "policy_forward,ebtables")];
    common::expect("proxmox_update_firewall_options", args, "PUT", "/cluster/firewall/options", &form, json!(null))
        .await;
}

#[tokio::test]
async fn firewall_options_refuse_what_the_scope_does_not_have_before_any_request() {
    let guest = |scope: &str, vmid: u32| json!({ "scope": scope, "node": "pve1", "vmid": vmid });
    let cases = [
        // An option of another scope, set or reset.
        (with(&json!({ "scope": "cluster" }), json!({ "log_level_in": "info" })), "log_level_in"),
        (with(&json!({ "scope": "node", "node": "pve1" }), json!({ "policy_in": "DROP" })), "policy_in"),
        (with(&guest("vm", 100), json!({ "policy_forward": "DROP" })), "policy_forward"),
        (with(&guest("lxc", 200), json!({ "nf_conntrack_max": 65536 })), "nf_conntrack_max"),
        (with(&guest("vm", 100), json!({ "ebtables": false })), "ebtables"),
        (with(&json!({ "scope": "cluster" }), json!({ "delete": ["macfilter"] })), "delete"),
        // The node and vmid where they belong, and only there.
        (json!({ "scope": "cluster", "node": "pve1", "enable": 1 }), "node"),
        (json!({ "scope": "cluster", "vmid": 100, "enable": 1 }), "vmid"),
        (json!({ "scope": "node", "enable": 1 }), "node"),
        (json!({ "scope": "node", "node": "pve1", "vmid": 100, "enable": 1 }), "vmid"),
        (json!({ "scope": "vm", "node": "pve1", "enable": 1 }), "vmid"),
        // (A guest's scope without `node` looks the guest up: tests/addressing.rs.)
        // Nothing to change, and values the API refuses.
        (guest("vm", 100), "enable"),
        (with(&guest("vm", 100), json!({ "digest": "ab" })), "enable"),
        (json!({ "scope": "datacenter", "enable": 1 }), "scope"),
        (json!({ "enable": 1 }), "scope"),
        (json!({ "scope": "cluster", "enable": 2 }), "enable"),
        (json!({ "scope": "cluster", "policy_in": "ALLOW" }), "policy_in"),
        (json!({ "scope": "cluster", "policy_forward": "REJECT" }), "policy_forward"),
        (json!({ "scope": "cluster", "log_ratelimit": "rate=fast" }), "log_ratelimit"),
        (json!({ "scope": "node", "node": "pve1", "nf_conntrack_helpers": "ftp,http" }), "nf_conntrack_helpers"),
        (json!({ "scope": "node", "node": "pve1", "nf_conntrack_max": 1000 }), "nf_conntrack_max"),
        (
            json!({ "scope": "node", "node": "pve1", "nf_conntrack_tcp_timeout_syn_recv": 61 }),
            "nf_conntrack_tcp_timeout_syn_recv",
        ),
        (json!({ "scope": "node", "node": "pve1", "log_level_forward": "loud" }), "log_level_forward"),
        (json!({ "scope": "node", "node": "../x", "enable": 1 }), "node"),
        (with(&guest("vm", 100), json!({ "delete": ["policy_in", "bogus"] })), "delete"),
        (with(&guest("vm", 100), json!({ "policy": "DROP" })), "policy"),
    ];
    for (args, arg) in cases {
        common::assert_refused_arg("proxmox_update_firewall_options", args, arg).await;
    }
    for (args, arg) in [
        (json!({ "scope": "cluster", "vmid": 100 }), "vmid"),
        (json!({ "scope": "lxc", "node": "pve1" }), "vmid"),
        (json!({ "scope": "node", "node": "pve1", "vmid": 99 }), "vmid"),
    ] {
        common::assert_refused_arg("proxmox_get_firewall_options", args, arg).await;
    }
    // The message names the argument, the scope asked for and the scopes that have it.
    let pve = Pve::start().await;
    let refused =
        pve.call("proxmox_update_firewall_options", with(&guest("vm", 100), json!({ "policy_forward": "DROP" }))).await;
    let list = invalid_args(refused);
    assert_eq!(list[0].0, "policy_forward");
    assert_eq!(list[0].1, "is not a firewall option of scope vm (only of scope cluster)");
    let refused = pve.call("proxmox_update_firewall_options", json!({ "scope": "cluster", "delete": "ndp" })).await;
    assert_eq!(
        invalid_args(refused),
        [(
            "delete".to_string(),
            "names `ndp`, which is not a firewall option of scope cluster (only of scope node, vm, lxc)".to_string()
        )]
    );
}

#[test]
fn firewall_options_schema_has_every_option_of_the_api() {
    let registry = Registry::builtin();
    let update = Value::Object(registry.get("proxmox_update_firewall_options").unwrap().input_schema());
    let mut expected: Vec<&str> =
        ["cluster", "node", "vm"].iter().flat_map(|s| api_options(s).iter().copied()).collect();
    expected.extend(["scope", "node", "vmid", "delete", "digest"]);
    expected.sort();
    expected.dedup();
    let mut got: Vec<&str> = update["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(update["required"], json!(["scope"]));
    // `delete` names exactly the options.
    let mut deletable: Vec<&str> =
        update["properties"]["delete"]["items"]["enum"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    deletable.sort();
    let options: Vec<&str> =
        expected.iter().copied().filter(|o| !["scope", "node", "vmid", "delete", "digest"].contains(o)).collect();
    assert_eq!(deletable, options);
    let get = Value::Object(registry.get("proxmox_get_firewall_options").unwrap().input_schema());
    assert_eq!(get["properties"]["scope"]["enum"], json!(["cluster", "node", "vm", "lxc"]));
    for name in ["proxmox_get_firewall_options", "proxmox_update_firewall_options"] {
        let t = registry.get(name).unwrap();
        assert_eq!((t.category, t.elevated), ("Cluster Management", name.contains("update")), "{name}");
    }
    // The rule tools say how to turn a firewall on.
    for name in
        ["proxmox_create_cluster_firewall_rule", "proxmox_create_vm_firewall_rule", "proxmox_create_lxc_firewall_rule"]
    {
        assert!(registry.get(name).unwrap().description.contains("proxmox_update_firewall_options"), "{name}");
    }
}
