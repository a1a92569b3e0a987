//! Checks against the Proxmox VE API schema (see `common::pve_api`): the request paths of our
//! tools, and the endpoints, parameters and answers of the demo cluster. Each check says how
//! much it checked, to compare schema versions (`PVE_API_SCHEMA`).

use crate::common::pve_api::{Schema, shape};
use proxmox_mcp::client::{Params, Request};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::{ApiPath, Method, Registry};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// What a check covered, and the known differences it let pass, shown with its result.
pub struct Checked(pub String, pub Vec<String>);

/// Where the schema fakepve 0.5.0 ships (pve-docs of 2026-10-19, after 9.1) differs from the
/// Proxmox VE 9.1 schema (pve-docs of 2026-04-30) that the demo follows: a problem that starts
/// with one of these is reported with the check's result, not failed. Any other problem fails.
const NEWER_THAN_9_1: &[(&str, &str)] = &[
    ("POST /nodes/{node}/vzdump: takes `maxfiles`", "dropped after 9.1, which still takes it (deprecated)"),
    ("POST /cluster/backup: takes `maxfiles`", "dropped after 9.1, which still takes it (deprecated)"),
    ("PUT /cluster/backup/{id}: takes `maxfiles`", "dropped after 9.1, which still takes it (deprecated)"),
    ("GET /cluster/options.allowed-tags: missing", "9.1 declares no properties of the cluster options"),
    (
        "GET /cluster/options.migration: string expected",
        "9.1 declares no properties of the cluster options; Proxmox answers this property string parsed",
    ),
];

/// Fail on `problems` that are not known differences of a newer schema; say how many were.
fn fail_unless_known(problems: Vec<String>, what: &str, checked: String) -> Checked {
    let (known, unknown): (Vec<String>, Vec<String>) =
        problems.into_iter().partition(|p| NEWER_THAN_9_1.iter().any(|(start, _)| p.starts_with(start)));
    assert!(unknown.is_empty(), "{} {what}:\n{}", unknown.len(), unknown.join("\n"));
    Checked(checked, known)
}

/// Every tool with a fixed request path calls an endpoint the API has, with that method
/// (parameters are checked per call by the fakepve contract tests).
pub fn fixed_paths_exist_in_the_api(schema: &Schema) -> Checked {
    let api: Vec<(&str, Vec<&str>)> =
        schema.endpoints.iter().map(|e| (e.method.as_str(), e.path.split('/').collect())).collect();
    let mut checked = 0;
    for tool in Registry::builtin().iter() {
        let Some(template) = tool.path else { continue };
        // A `{param}` of ours may stand for an API parameter or for literals chosen by an enum
        // (`{type}` = qemu|lxc, `{command}` = start|stop|…): it matches any segment.
        let ours: Vec<&str> = template.split('/').collect();
        let found = api.iter().any(|(method, theirs)| {
            *method == tool.method.as_str()
                && theirs.len() == ours.len()
                && ours.iter().zip(theirs).all(|(o, t)| o.starts_with('{') || o == t)
        });
        assert!(found, "{}: {} {template} is not in the API ({})", tool.name, tool.method, schema.source);
        checked += 1;
    }
    assert!(checked > 100, "only {checked} tools have a fixed path");
    Checked(format!("{checked} tool paths"), Vec::new())
}

/// Every endpoint the demo simulates is in the API, with that method, and takes only parameters
/// (and, where it takes configuration keys beyond a list, keys) that the API has.
pub fn the_demo_simulates_only_what_the_proxmox_api_has(schema: &Schema) -> Checked {
    // (method, path shape) → the parameter names of that endpoint
    let api: HashMap<(String, String), &[String]> =
        schema.endpoints.iter().map(|e| ((e.method.clone(), shape(&e.path)), e.params.as_slice())).collect();
    // A numbered key (scsi1, mp0) is listed as its family (scsi[n], mp[n]).
    let has = |params: &[String], name: &str| {
        let family = format!("{}[n]", name.trim_end_matches(|c: char| c.is_ascii_digit()));
        params.iter().any(|p| p == name || *p == family)
    };
    // Configuration keys to try on the endpoints that take keys beyond their list.
    let keys = [
        "scsi0",
        "scsi30",
        "virtio1",
        "sata2",
        "ide2",
        "efidisk0",
        "tpmstate0",
        "net0",
        "net31",
        "ipconfig0",
        "unused0",
        "usb1",
        "serial0",
        "hostpci0",
        "name",
        "memory",
        "cores",
        "sockets",
        "cpu",
        "ostype",
        "boot",
        "agent",
        "scsihw",
        "balloon",
        "numa",
        "bios",
        "machine",
        "vga",
        "ciuser",
        "sshkeys",
        "onboot",
        "tags",
        "description",
        "hostname",
        "rootfs",
        "mp0",
        "mp255",
        "dev0",
        "swap",
        "unprivileged",
        "features",
        "arch",
        "timezone",
        "nameserver",
        "searchdomain",
        "startup",
        "protection",
        "cpulimit",
        "cpuunits",
        "bogus",
        "scsi",
        "net",
    ];
    let endpoints = proxmox_mcp::demo::simulated_endpoints();
    assert!(endpoints.len() > 100, "{}", endpoints.len());
    let mut problems = Vec::new();
    for e in &endpoints {
        let kinds: &[&str] = if e.path.contains("{kind}") { &["qemu", "lxc"] } else { &[""] };
        for kind in kinds {
            let path = e.path.replace("{kind}", kind).replace("+}", "}");
            let Some(params) = api.get(&(e.method.to_string(), shape(&path))) else {
                problems.push(format!("{} {path}: not in the API", e.method));
                continue;
            };
            for p in e.params {
                if !has(params, p) {
                    problems.push(format!("{} {path}: takes `{p}`, which the API does not", e.method));
                }
            }
            if let Some(takes) = e.takes_also {
                let accepted: Vec<&str> = keys.iter().copied().filter(|k| takes(k, "1")).collect();
                assert!(accepted.len() > 5, "{} {path} takes almost no configuration keys: {accepted:?}", e.method);
                for k in accepted {
                    if !has(params, k) {
                        problems.push(format!("{} {path}: takes the key `{k}`, which the API does not", e.method));
                    }
                }
            }
        }
    }
    fail_unless_known(problems, "mismatches with the API schema", format!("{} demo endpoints", endpoints.len()))
}

/// A value checked against a schema `returns`: types (Proxmox's booleans are 0/1, its numbers
/// may come as numeric strings) and properties that are not optional. Problems go to `out`.
fn check_shape(value: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    let ty = schema["type"].as_str().unwrap_or("any");
    let ok = match (ty, value) {
        ("any" | "null", _) => true,
        ("object", Value::Object(_)) | ("array", Value::Array(_)) | ("string", Value::String(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        ("boolean", Value::Number(n)) => n.as_u64().is_some_and(|n| n <= 1),
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_)) => true,
        ("integer" | "number", Value::String(s)) => s.parse::<f64>().is_ok(),
        // Proxmox's string properties often carry numbers (e.g. a loadavg).
        ("string", Value::Number(_)) => true,
        _ => false,
    };
    if !ok {
        out.push(format!("{at}: {ty} expected, got {value}"));
        return;
    }
    match value {
        Value::Object(map) => {
            for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
                match map.get(name) {
                    Some(v) => check_shape(v, prop, &format!("{at}.{name}"), out),
                    None if prop["optional"] == true || prop["optional"] == 1 => {}
                    None => out.push(format!("{at}.{name}: missing")),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().take(5) {
                check_shape(item, &schema["items"], &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The demo's answers to every GET it simulates have the types and the required properties of
/// the API's `returns`.
pub fn the_demo_answers_in_the_shapes_the_api_returns(schema: &Schema) -> Checked {
    let returns: HashMap<(String, String), &Value> =
        schema.endpoints.iter().map(|e| ((e.method.clone(), shape(&e.path)), &e.returns)).collect();
    let cluster = DemoCluster::with_task_duration(Duration::ZERO);
    let post = |path: &str, params: &[(&str, &str)]| {
        let params = Params(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let request = Request::new(Method::Post, raw_path(path), params);
        cluster.handle(&request).unwrap_or_else(|e| panic!("POST {path}: {e:?}"))
    };
    // Something for each kind of answer: a task, an agent process.
    let upid = post("/nodes/pve1/qemu/101/status/start", &[]);
    let pid = post("/nodes/pve1/qemu/100/agent/exec", &[("command", "uptime")])["pid"].to_string();
    let mut problems = Vec::new();
    let mut checked = 0;
    for e in proxmox_mcp::demo::simulated_endpoints().into_iter().filter(|e| e.method == Method::Get) {
        for kind in if e.path.contains("{kind}") { vec!["qemu", "lxc"] } else { vec![""] } {
            let vmid = if kind == "lxc" || e.path.starts_with("/nodes/{node}/lxc") { "200" } else { "100" };
            let path = e
                .path
                .replace("{kind}", kind)
                .replace("{node}", "pve1")
                .replace("{vmid}", vmid)
                .replace("{iface}", "vmbr0")
                .replace("{upid}", upid.as_str().unwrap())
                .replace("{sid}", "vm:100")
                .replace("{pos}", "0")
                .replace("{service}", "pveproxy");
            let path = match path.as_str() {
                p if p.contains("/file-restore/") => p.replace("{storage}", "pbs"),
                p => p.replace("{storage}", "local"),
            };
            let path = path
                .replace("/cluster/ha/groups/{group}", "/cluster/ha/groups/prefer-pve1")
                .replace("/cluster/ha/rules/{rule}", "/cluster/ha/rules/web-on-pve1")
                .replace("/cluster/firewall/groups/{group}", "/cluster/firewall/groups/webservers")
                .replace("/cluster/backup/{id}", "/cluster/backup/backup-5f3a2c1e-7d10")
                .replace("/cluster/replication/{id}", "/cluster/replication/100-0");
            let params: Vec<(&str, &str)> = match path.rsplit('/').next().unwrap() {
                "rrddata" => vec![("timeframe", "hour")],
                "smart" => vec![("disk", "/dev/sda")],
                "exec-status" => vec![("pid", pid.as_str())],
                "list" if path.contains("file-restore") => {
                    vec![("volume", "pbs:backup/vm/100/2026-11-24T01:00:00Z"), ("filepath", "/")]
                }
                "download" => continue, // a file, not JSON
                _ => vec![],
            };
            assert!(!path.contains('{'), "no sample value for {path}");
            let params = Params(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            let answer = cluster
                .handle(&Request::new(Method::Get, raw_path(&path), params))
                .unwrap_or_else(|err| panic!("GET {path}: {err:?}"));
            let schema = returns[&("GET".to_string(), shape(&e.path.replace("{kind}", kind).replace("+}", "}")))];
            check_shape(&answer, schema, &format!("GET {path}"), &mut problems);
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
    fail_unless_known(problems, "answers unlike the API's", format!("{checked} demo answers"))
}

/// A test path of plain segments (the values here are known to be valid).
fn raw_path(path: &str) -> ApiPath {
    struct Seg<'a>(&'a str);
    impl proxmox_mcp::path::PathSegment for Seg<'_> {
        fn segment(&self) -> std::borrow::Cow<'_, str> {
            self.0.into()
        }
    }
    path.split('/').filter(|s| !s.is_empty()).fold(ApiPath::root(), |p, seg| p.join(&Seg(seg)))
}
