//! Cluster endpoints of the demo: HA (resources, groups, rules), the cluster firewall, backup and
//! replication jobs, datacenter options, firewall options (of the cluster, nodes and guests), and
//! guest firewall rules (kept per guest).

use super::DemoError;
use super::routes::{Call, Route, guest};
use super::state::{Object, State};
use crate::tool::Method::{Delete, Get, Post, Put};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A firewall rule's fields followed by `extra` parameters: the one list behind the rule
/// constants below.
macro_rules! rule_fields {
    ($($extra:literal),*) => {
        &[
            "type",
            "action",
            "source",
            "dest",
            "proto",
            "dport",
            "sport",
            "iface",
            "macro",
            "log",
            "comment",
            "enable",
            "icmp-type",
            $($extra),*
        ]
    };
}

const RULE_FIELDS: &[&str] = rule_fields!();

pub(super) const ROUTES: &[Route] = &[
    Route { method: Get, path: "/cluster/ha/resources", params: &["type"], also: None, handler: ha_list },
    Route {
        method: Post,
        path: "/cluster/ha/resources",
        params: &["sid", "state", "group", "max_restart", "max_relocate", "comment", "failback", "type"],
        also: None,
        handler: ha_create,
    },
    Route { method: Get, path: "/cluster/ha/resources/{sid}", params: &[], also: None, handler: ha_get },
    Route {
        method: Put,
        path: "/cluster/ha/resources/{sid}",
        params: &["state", "group", "max_restart", "max_relocate", "comment", "failback", "delete", "digest"],
        also: None,
        handler: ha_update,
    },
    Route { method: Delete, path: "/cluster/ha/resources/{sid}", params: &["purge"], also: None, handler: ha_delete },
    Route { method: Get, path: "/cluster/ha/groups", params: &[], also: None, handler: group_list },
    Route {
        method: Post,
        path: "/cluster/ha/groups",
        params: &["group", "nodes", "restricted", "nofailback", "comment", "type"],
        also: None,
        handler: group_create,
    },
    Route { method: Get, path: "/cluster/ha/groups/{group}", params: &[], also: None, handler: group_get },
    Route {
        method: Put,
        path: "/cluster/ha/groups/{group}",
        params: &["nodes", "restricted", "nofailback", "comment", "delete", "digest"],
        also: None,
        handler: group_update,
    },
    Route { method: Delete, path: "/cluster/ha/groups/{group}", params: &[], also: None, handler: group_delete },
    Route { method: Get, path: "/cluster/ha/rules", params: &["type", "resource"], also: None, handler: rule_list },
    Route { method: Post, path: "/cluster/ha/rules", params: HA_RULE_CREATE, also: None, handler: rule_create },
    Route { method: Get, path: "/cluster/ha/rules/{rule}", params: &[], also: None, handler: rule_get },
    Route { method: Put, path: "/cluster/ha/rules/{rule}", params: HA_RULE_UPDATE, also: None, handler: rule_update },
    Route { method: Delete, path: "/cluster/ha/rules/{rule}", params: &[], also: None, handler: rule_delete },
    Route { method: Get, path: "/cluster/firewall/options", params: &[], also: None, handler: fw_options_get },
    Route { method: Put, path: "/cluster/firewall/options", params: FW_CLUSTER, also: None, handler: fw_options_put },
    Route { method: Get, path: "/nodes/{node}/firewall/options", params: &[], also: None, handler: fw_options_get },
    Route { method: Put, path: "/nodes/{node}/firewall/options", params: FW_NODE, also: None, handler: fw_options_put },
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/firewall/options",
        params: &[],
        also: None,
        handler: fw_options_get,
    },
    Route {
        method: Put,
        path: "/nodes/{node}/{kind}/{vmid}/firewall/options",
        params: FW_GUEST,
        also: None,
        handler: fw_options_put,
    },
    Route { method: Get, path: "/cluster/ha/status/current", params: &[], also: None, handler: ha_status },
    Route { method: Get, path: "/cluster/ha/status/manager_status", params: &[], also: None, handler: ha_manager },
    Route { method: Get, path: "/cluster/firewall/rules", params: &[], also: None, handler: rules_list },
    Route { method: Post, path: "/cluster/firewall/rules", params: RULE_CREATE, also: None, handler: rules_create },
    Route { method: Get, path: "/cluster/firewall/rules/{pos}", params: &[], also: None, handler: rules_get },
    Route {
        method: Put,
        path: "/cluster/firewall/rules/{pos}",
        params: RULE_UPDATE,
        also: None,
        handler: rules_update,
    },
    Route {
        method: Delete,
        path: "/cluster/firewall/rules/{pos}",
        params: &["digest"],
        also: None,
        handler: rules_delete,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/firewall/rules",
        params: &[],
        also: None,
        handler: rules_list,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/{kind}/{vmid}/firewall/rules",
        params: RULE_CREATE,
        also: None,
        handler: rules_create,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/firewall/rules/{pos}",
        params: &[],
        also: None,
        handler: rules_get,
    },
    Route {
        method: Put,
        path: "/nodes/{node}/{kind}/{vmid}/firewall/rules/{pos}",
        params: RULE_UPDATE,
        also: None,
        handler: rules_update,
    },
    Route {
        method: Delete,
        path: "/nodes/{node}/{kind}/{vmid}/firewall/rules/{pos}",
        params: &["digest"],
        also: None,
        handler: rules_delete,
    },
    Route { method: Get, path: "/cluster/firewall/groups", params: &[], also: None, handler: fw_groups },
    Route {
        method: Post,
        path: "/cluster/firewall/groups",
        params: &["group", "comment", "rename", "digest"],
        also: None,
        handler: fw_group_create,
    },
    Route { method: Get, path: "/cluster/firewall/groups/{group}", params: &[], also: None, handler: rules_list },
    Route {
        method: Post,
        path: "/cluster/firewall/groups/{group}",
        params: RULE_CREATE,
        also: None,
        handler: rules_create,
    },
    Route {
        method: Delete,
        path: "/cluster/firewall/groups/{group}",
        params: &[],
        also: None,
        handler: fw_group_delete,
    },
    Route { method: Get, path: "/cluster/backup", params: &[], also: None, handler: backup_list },
    Route { method: Post, path: "/cluster/backup", params: BACKUP_JOB_CREATE, also: None, handler: backup_create },
    Route { method: Get, path: "/cluster/backup/{id}", params: &[], also: None, handler: backup_get },
    Route { method: Put, path: "/cluster/backup/{id}", params: BACKUP_JOB_UPDATE, also: None, handler: backup_update },
    Route { method: Delete, path: "/cluster/backup/{id}", params: &[], also: None, handler: backup_delete },
    Route { method: Get, path: "/cluster/replication", params: &[], also: None, handler: repl_list },
    Route {
        method: Post,
        path: "/cluster/replication",
        params: &["id", "target", "type", "schedule", "rate", "comment", "disable", "remove_job", "source"],
        also: None,
        handler: repl_create,
    },
    Route { method: Get, path: "/cluster/replication/{id}", params: &[], also: None, handler: repl_get },
    Route {
        method: Put,
        path: "/cluster/replication/{id}",
        params: &["schedule", "rate", "comment", "disable", "remove_job", "source", "delete", "digest"],
        also: None,
        handler: repl_update,
    },
    Route {
        method: Delete,
        path: "/cluster/replication/{id}",
        params: &["keep", "force"],
        also: None,
        handler: repl_delete,
    },
    Route { method: Get, path: "/cluster/options", params: &[], also: None, handler: options_get },
    Route {
        method: Put,
        path: "/cluster/options",
        params: &[
            "bwlimit",
            "consent-text",
            "console",
            "crs",
            "delete",
            "description",
            "email_from",
            "fencing",
            "ha",
            "http_proxy",
            "keyboard",
            "language",
            "mac_prefix",
            "max_workers",
            "migration",
            "migration_unsecure",
            "next-id",
            "notify",
            "registered-tags",
            "replication",
            "tag-style",
            "u2f",
            "user-tag-access",
            "webauthn",
        ],
        also: None,
        handler: options_put,
    },
];

const RULE_CREATE: &[&str] = rule_fields!("pos", "digest");
const HA_RULE_CREATE: &[&str] = &["rule", "type", "resources", "nodes", "affinity", "strict", "disable", "comment"];
const HA_RULE_UPDATE: &[&str] =
    &["type", "resources", "nodes", "affinity", "strict", "disable", "comment", "delete", "digest"];
/// The options of each firewall's `/firewall/options`, then `delete` and `digest`.
const FW_CLUSTER: &[&str] =
    &["enable", "policy_in", "policy_out", "policy_forward", "ebtables", "log_ratelimit", "delete", "digest"];
const FW_NODE: &[&str] = &[
    "enable",
    "log_level_in",
    "log_level_out",
    "log_level_forward",
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
    "delete",
    "digest",
];
const FW_GUEST: &[&str] = &[
    "enable",
    "policy_in",
    "policy_out",
    "log_level_in",
    "log_level_out",
    "dhcp",
    "ipfilter",
    "macfilter",
    "ndp",
    "radv",
    "delete",
    "digest",
];
const RULE_UPDATE: &[&str] = rule_fields!("moveto", "delete", "digest");
/// The options of a backup job (vzdump's, with the schedule) followed by `extra` parameters.
macro_rules! backup_job_params {
    ($($extra:literal),*) => {
        &[
            "all",
            "bwlimit",
            "comment",
            "compress",
            "dow",
            "dumpdir",
            "enabled",
            "exclude",
            "exclude-path",
            "fleecing",
            "ionice",
            "lockwait",
            "mailnotification",
            "mailto",
            "maxfiles",
            "mode",
            "node",
            "notes-template",
            "notification-mode",
            "pbs-change-detection-mode",
            "performance",
            "pigz",
            "pool",
            "protected",
            "prune-backups",
            "quiet",
            "remove",
            "repeat-missed",
            "schedule",
            "script",
            "starttime",
            "stdexcludes",
            "stop",
            "stopwait",
            "storage",
            "tmpdir",
            "vmid",
            "zstd",
            $($extra),*
        ]
    };
}

/// Creating a job also takes its `id`; changing one, `delete`.
const BACKUP_JOB_CREATE: &[&str] = backup_job_params!("id");
const BACKUP_JOB_UPDATE: &[&str] = backup_job_params!("delete");

fn missing(what: &str, id: &str) -> DemoError {
    DemoError::new(500, format!("{what} '{id}' does not exist"))
}

/// A keyed collection of config objects (HA resources, HA groups, jobs).
fn collection<'s>(state: &'s mut State, which: &str) -> &'s mut BTreeMap<String, Object> {
    match which {
        "ha" => &mut state.ha_resources,
        "group" => &mut state.ha_groups,
        "rule" => &mut state.ha_rules,
        "backup" => &mut state.backup_jobs,
        _ => &mut state.replication_jobs,
    }
}

fn list(state: &mut State, which: &str) -> Value {
    Value::Array(collection(state, which).values().cloned().map(Value::Object).collect())
}

fn get(state: &mut State, which: &str, id: &str, what: &str) -> Result<Value, DemoError> {
    collection(state, which).get(id).cloned().map(Value::Object).ok_or_else(|| missing(what, id))
}

fn create(
    state: &mut State,
    call: &Call,
    which: &str,
    key: &str,
    id: String,
    what: &str,
    base: Value,
) -> Result<Value, DemoError> {
    let items = collection(state, which);
    if items.contains_key(&id) {
        return Err(DemoError::new(500, format!("{what} '{id}' already defined")));
    }
    let mut item = match base {
        Value::Object(m) => m,
        _ => Object::new(),
    };
    item.insert(key.into(), json!(id));
    for (k, v) in call.params() {
        item.entry(k.to_string()).or_insert(json!(v));
    }
    items.insert(id, item);
    Ok(Value::Null)
}

fn update(state: &mut State, call: &Call, which: &str, id: &str, what: &str) -> Result<Value, DemoError> {
    let item = collection(state, which).get_mut(id).ok_or_else(|| missing(what, id))?;
    for (k, v) in call.params() {
        if k != "delete" && k != "digest" {
            item.insert(k.into(), json!(v));
        }
    }
    for k in call.param("delete").unwrap_or("").split(',').filter(|k| !k.is_empty()) {
        item.remove(k);
    }
    Ok(Value::Null)
}

fn remove(state: &mut State, which: &str, id: &str, what: &str) -> Result<Value, DemoError> {
    collection(state, which).remove(id).map(|_| Value::Null).ok_or_else(|| missing(what, id))
}

fn normal_sid(sid: &str) -> String {
    if sid.contains(':') { sid.to_string() } else { format!("vm:{sid}") }
}

fn ha_list(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(list(state, "ha"))
}
fn ha_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    get(state, "ha", &normal_sid(call.var("sid")), "HA resource")
}
fn ha_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let sid = normal_sid(call.required("sid")?);
    let vmid: u32 = sid.split(':').nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
    if state.guest(vmid).is_none() {
        return Err(DemoError::new(500, format!("no such VM/CT with ID {vmid}")));
    }
    let kind = sid.split(':').next().unwrap_or("vm").to_string();
    create(state, call, "ha", "sid", sid, "HA resource", json!({ "type": kind, "state": "started" }))
}
fn ha_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    update(state, call, "ha", &normal_sid(call.var("sid")), "HA resource")
}
fn ha_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    remove(state, "ha", &normal_sid(call.var("sid")), "HA resource")
}
fn group_list(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(list(state, "group"))
}
fn group_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    get(state, "group", call.var("group"), "HA group")
}
fn group_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.required("group")?.to_string();
    call.required("nodes")?;
    create(state, call, "group", "group", id, "HA group", json!({ "type": "group" }))
}
fn group_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    update(state, call, "group", call.var("group"), "HA group")
}
fn group_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    remove(state, "group", call.var("group"), "HA group")
}

/// A digest of a configuration object, as Proxmox sends with it (changes when it changes).
fn digest_of(config: &Object) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    Value::Object(config.clone()).to_string().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Refuse a change made against an older `digest`, as Proxmox does.
fn check_digest(call: &Call, config: &Object) -> Result<(), DemoError> {
    match call.param("digest") {
        Some(d) if d != digest_of(config) => {
            Err(DemoError::new(500, "detected modified configuration - file changed by other user? Try again."))
        }
        _ => Ok(()),
    }
}

/// A form value as Proxmox keeps it: a number if it is one, else the text.
fn config_value(v: &str) -> Value {
    v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n))
}

fn rule_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let resource = call.param("resource").map(normal_sid);
    let rules = state.ha_rules.values().filter(|r| {
        call.param("type").is_none_or(|t| r.get("type").and_then(Value::as_str) == Some(t))
            && resource.as_ref().is_none_or(|sid| {
                r.get("resources")
                    .and_then(Value::as_str)
                    .is_some_and(|list| list.split(',').any(|s| normal_sid(s) == *sid))
            })
    });
    Ok(Value::Array(
        rules
            .cloned()
            .map(|mut r| {
                let digest = digest_of(&r);
                r.insert("digest".into(), json!(digest));
                Value::Object(r)
            })
            .collect(),
    ))
}
fn rule_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    get(state, "rule", call.var("rule"), "HA rule")
}
fn rule_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.required("rule")?.to_string();
    let kind = call.required("type")?;
    call.required("resources")?;
    if kind == "node-affinity" {
        call.required("nodes")?;
    } else if call.param("nodes").is_some() || call.param("strict").is_some() {
        return Err(DemoError::param("nodes", "property is not defined in schema for rule type 'resource-affinity'"));
    } else {
        call.required("affinity")?;
    }
    if state.ha_rules.contains_key(&id) {
        return Err(DemoError::new(500, format!("HA rule '{id}' already defined")));
    }
    let rule: Object = call.params().map(|(k, v)| (k.to_string(), config_value(v))).collect();
    state.ha_rules.insert(id, rule);
    Ok(Value::Null)
}
fn rule_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("rule");
    let rule = state.ha_rules.get_mut(id).ok_or_else(|| missing("HA rule", id))?;
    if rule.get("type").and_then(Value::as_str) != Some(call.required("type")?) {
        return Err(DemoError::param("type", "cannot change the type of an HA rule"));
    }
    check_digest(call, rule)?;
    for (k, v) in call.params().filter(|(k, _)| *k != "delete" && *k != "digest") {
        rule.insert(k.into(), config_value(v));
    }
    for k in call.param("delete").unwrap_or("").split(',').filter(|k| !k.is_empty()) {
        rule.remove(k);
    }
    Ok(Value::Null)
}
fn rule_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    remove(state, "rule", call.var("rule"), "HA rule")
}

/// The options of the firewall a request addresses: the cluster's, a node's or a guest's.
fn fw_options<'s>(state: &'s mut State, call: &Call) -> Result<&'s mut Object, DemoError> {
    if !call.var("vmid").is_empty() {
        return Ok(&mut guest(state, call)?.firewall_options);
    }
    let node = call.node();
    if node.is_empty() {
        return Ok(&mut state.firewall_options);
    }
    if !state.nodes.iter().any(|n| n.name == node) {
        return Err(DemoError::new(500, format!("no such cluster node '{node}'")));
    }
    Ok(state.node_firewall_options.entry(node.to_string()).or_default())
}

fn fw_options_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let mut options = fw_options(state, call)?.clone();
    let digest = digest_of(&options);
    options.insert("digest".into(), json!(digest));
    Ok(Value::Object(options))
}

fn fw_options_put(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let options = fw_options(state, call)?;
    check_digest(call, options)?;
    for (k, v) in call.params().filter(|(k, _)| *k != "delete" && *k != "digest") {
        options.insert(k.into(), config_value(v));
    }
    for k in call.param("delete").unwrap_or("").split(',').filter(|k| !k.is_empty()) {
        options.remove(k);
    }
    Ok(Value::Null)
}

fn ha_status(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    let mut out = vec![
        json!({ "id": "quorum", "type": "quorum", "node": "pve1", "status": "OK", "quorate": 1 }),
        json!({ "id": "master", "type": "master", "node": "pve1", "status": "pve1 (active, Mon Nov 24 08:00:00 2026)" }),
    ];
    for n in state.nodes.iter() {
        out.push(json!({ "id": format!("lrm:{}", n.name), "type": "lrm", "node": n.name,
            "status": if n.online { format!("{} (active)", n.name) } else { format!("{} (old timestamp - dead?)", n.name) } }));
    }
    for (sid, r) in &state.ha_resources {
        let vmid: u32 = sid.split(':').nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
        let node = state.guest(vmid).map_or("pve1".to_string(), |g| g.node.clone());
        out.push(json!({ "id": format!("service:{sid}"), "sid": sid, "type": "service", "node": node,
            "state": r.get("state").cloned().unwrap_or(json!("started")), "status": format!("{sid} ({node}, started)") }));
    }
    Ok(Value::Array(out))
}

fn ha_manager(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    let services: Object =
        state.ha_resources.keys().map(|sid| (sid.clone(), json!({ "state": "started", "node": "pve1" }))).collect();
    Ok(
        json!({ "manager_status": { "master_node": "pve1", "node_status": { "pve1": "online", "pve2": "online", "pve3": "unknown" },
        "service_status": services }, "quorum": { "node": "pve1", "quorate": "1" } }),
    )
}

/// The rule list a request addresses: cluster, a security group, or a guest.
fn rules<'s>(state: &'s mut State, call: &Call) -> Result<&'s mut Vec<Object>, DemoError> {
    if !call.var("vmid").is_empty() {
        return Ok(&mut guest(state, call)?.firewall_rules);
    }
    let group = call.var("group");
    if !group.is_empty() {
        return state.firewall_groups.get_mut(group).map(|g| &mut g.1).ok_or_else(|| missing("security group", group));
    }
    Ok(&mut state.firewall_rules)
}

fn renumber(rules: &mut [Object]) {
    for (i, r) in rules.iter_mut().enumerate() {
        r.insert("pos".into(), json!(i));
    }
}

fn rules_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(rules(state, call)?.iter().cloned().map(Value::Object).collect()))
}

fn position(call: &Call, len: usize) -> Result<usize, DemoError> {
    call.var("pos")
        .parse::<usize>()
        .ok()
        .filter(|p| *p < len)
        .ok_or_else(|| DemoError::new(500, "no rule at this position"))
}

fn rules_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let list = rules(state, call)?;
    let pos = position(call, list.len())?;
    Ok(Value::Object(list[pos].clone()))
}

fn rules_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    call.required("type")?;
    call.required("action")?;
    let list = rules(state, call)?;
    let mut rule = Object::new();
    for field in RULE_FIELDS {
        if let Some(v) = call.param(field) {
            rule.insert((*field).into(), json!(v));
        }
    }
    let at = call.param("pos").and_then(|p| p.parse::<usize>().ok()).unwrap_or(0).min(list.len());
    list.insert(at, rule);
    renumber(list);
    Ok(Value::Null)
}

fn rules_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let list = rules(state, call)?;
    let pos = position(call, list.len())?;
    for field in RULE_FIELDS {
        if let Some(v) = call.param(field) {
            list[pos].insert((*field).into(), json!(v));
        }
    }
    for k in call.param("delete").unwrap_or("").split(',').filter(|k| !k.is_empty()) {
        list[pos].remove(k);
    }
    // As Proxmox moves a rule: in front of the rule at `moveto` counted before the move, or last.
    if let Some(to) = call.param("moveto").and_then(|m| m.parse::<usize>().ok()) {
        let rule = list[pos].clone();
        let mut moved = Vec::with_capacity(list.len());
        for (i, r) in list.iter().enumerate() {
            if i == to {
                moved.push(rule.clone());
            }
            if i != pos {
                moved.push(r.clone());
            }
        }
        if to >= list.len() {
            moved.push(rule);
        }
        *list = moved;
    }
    renumber(list);
    Ok(Value::Null)
}

fn rules_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let list = rules(state, call)?;
    let pos = position(call, list.len())?;
    list.remove(pos);
    renumber(list);
    Ok(Value::Null)
}

fn fw_groups(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        state
            .firewall_groups
            .iter()
            .map(|(name, (comment, _))| json!({ "group": name, "comment": comment, "digest": "0a1b2c3d" }))
            .collect(),
    ))
}

fn fw_group_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let name = call.required("group")?.to_string();
    let comment = call.param("comment").map(str::to_string);
    match call.param("rename") {
        // A rename (or, to the same name, a new comment): the comment stays unless one is given.
        Some(old) => {
            if old != name && state.firewall_groups.contains_key(&name) {
                return Err(DemoError::param("group", format!("Security group '{name}' does already exist")));
            }
            let (was, rules) = state
                .firewall_groups
                .remove(old)
                .ok_or_else(|| DemoError::param("group", format!("Security group '{old}' does not exist")))?;
            state.firewall_groups.insert(name, (comment.unwrap_or(was), rules));
        }
        None if state.firewall_groups.contains_key(&name) => {
            return Err(DemoError::new(500, format!("security group '{name}' already exists")));
        }
        None => {
            state.firewall_groups.insert(name, (comment.unwrap_or_default(), Vec::new()));
        }
    }
    Ok(Value::Null)
}

fn fw_group_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let name = call.var("group");
    match state.firewall_groups.get(name) {
        None => Err(missing("security group", name)),
        Some((_, rules)) if !rules.is_empty() => Err(DemoError::new(500, "security group is not empty")),
        Some(_) => {
            state.firewall_groups.remove(name);
            Ok(Value::Null)
        }
    }
}

fn backup_list(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(list(state, "backup"))
}
fn backup_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    get(state, "backup", call.var("id"), "job")
}
fn backup_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id =
        call.param("id").map_or_else(|| format!("backup-{:08x}-demo", state.backup_jobs.len() + 1), str::to_string);
    if call.param("vmid").is_none() && !call.flag("all") && call.param("pool").is_none() {
        return Err(DemoError::param("vmid", "you need to specify 'vmid', 'pool' or 'all'"));
    }
    create(state, call, "backup", "id", id, "job", json!({ "type": "vzdump", "enabled": 1 }))
}
fn backup_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    update(state, call, "backup", call.var("id"), "job")
}
fn backup_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    remove(state, "backup", call.var("id"), "job")
}
fn repl_list(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(list(state, "repl"))
}
fn repl_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    get(state, "repl", call.var("id"), "replication job")
}
fn repl_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.required("id")?.to_string();
    let target = call.required("target")?.to_string();
    let guest: u32 = id.split('-').next().and_then(|g| g.parse().ok()).unwrap_or(0);
    let Some(g) = state.guest(guest) else {
        return Err(DemoError::new(500, format!("guest {guest} does not exist")));
    };
    if g.node == target {
        return Err(DemoError::new(500, "the target node is the guest's own node"));
    }
    let source = g.node.clone();
    create(state, call, "repl", "id", id, "replication job", json!({ "guest": guest, "source": source, "jobnum": 0 }))
}
fn repl_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    update(state, call, "repl", call.var("id"), "replication job")
}
fn repl_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    remove(state, "repl", call.var("id"), "replication job")
}
fn options_get(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(Value::Object(state.options.clone()))
}
/// datacenter.cfg options that are property strings (`type=secure,network=…`): Proxmox shows
/// them as objects. (option, the key of a value given without one)
const PROPERTY_STRINGS: &[(&str, &str)] = &[
    ("migration", "type"),
    ("ha", "shutdown_policy"),
    ("crs", "ha"),
    ("bwlimit", "default"),
    ("next-id", "lower"),
    ("tag-style", "shape"),
    ("notify", "package-updates"),
    ("replication", "email-from"),
    ("u2f", "appid"),
    ("webauthn", "rp"),
    ("user-tag-access", "user-allow"),
];

fn options_put(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    for (k, v) in call.params() {
        if k == "delete" {
            continue;
        }
        let value = match PROPERTY_STRINGS.iter().find(|(name, _)| *name == k) {
            Some((_, default_key)) => Value::Object(
                v.split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| match p.split_once('=') {
                        Some((key, val)) => (key.to_string(), json!(val)),
                        None => (default_key.to_string(), json!(p)),
                    })
                    .collect(),
            ),
            None => json!(v),
        };
        state.options.insert(k.into(), value);
    }
    for k in call.param("delete").unwrap_or("").split(',').filter(|k| !k.is_empty()) {
        state.options.remove(k);
    }
    Ok(Value::Null)
}
