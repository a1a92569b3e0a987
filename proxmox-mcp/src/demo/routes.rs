//! The endpoints the demo cluster simulates: our own table of method, path, the parameters each
//! takes, and a handler. A path it does not know is a 501, a parameter it does not take a 400.

use super::DemoError;
use super::state::{Guest, State};
use crate::client::{Params, Request, Upload};
use crate::tool::Method::{self, Delete, Get, Post};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(super) type Handler = fn(&mut State, &Call) -> Result<Value, DemoError>;

pub(super) struct Route {
    pub method: Method,
    /// `{name}` segments capture; `{kind}` must be `qemu` or `lxc`; a last `{name+}` captures
    /// the rest of the path, slashes included (a volume id).
    pub path: &'static str,
    pub params: &'static [&'static str],
    /// Parameters beyond `params` that the endpoint takes (config keys such as `scsi0`, `net1`).
    pub also: Option<fn(&str, &str) -> bool>,
    pub handler: Handler,
}

/// One request, matched.
pub(super) struct Call<'a> {
    vars: BTreeMap<&'static str, String>,
    params: &'a Params,
    /// The last path segment (the action of `.../status/start`).
    last: String,
    /// The file of an upload request.
    upload: Option<&'a Upload>,
}

impl Call<'_> {
    pub fn var(&self, name: &str) -> &str {
        self.vars.get(name).map_or("", String::as_str)
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }
    /// Every value of a repeated parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.params.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("1" | "true"))
    }
    pub fn node(&self) -> &str {
        self.var("node")
    }
    pub fn kind(&self) -> &str {
        self.var("kind")
    }
    pub fn vmid(&self) -> u32 {
        self.var("vmid").parse().unwrap_or(0)
    }
    pub fn last(&self) -> &str {
        &self.last
    }
    pub fn upload(&self) -> Option<&Upload> {
        self.upload
    }
    /// A required parameter, or Proxmox's 400 for it.
    pub fn required(&self, name: &str) -> Result<&str, DemoError> {
        self.param(name).ok_or_else(|| DemoError::param(name, "property is missing and it is not optional"))
    }
}

const CORE: &[Route] = &[
    Route { method: Get, path: "/version", params: &[], also: None, handler: version },
    Route { method: Get, path: "/nodes", params: &[], also: None, handler: nodes },
    Route { method: Get, path: "/nodes/{node}/status", params: &[], also: None, handler: node_status },
    Route { method: Get, path: "/nodes/{node}/network", params: &["type"], also: None, handler: network },
    Route { method: Get, path: "/nodes/{node}/network/{iface}", params: &[], also: None, handler: network_iface },
    Route { method: Get, path: "/nodes/{node}/dns", params: &[], also: None, handler: dns },
    Route { method: Get, path: "/cluster/status", params: &[], also: None, handler: cluster_status },
    Route { method: Get, path: "/cluster/nextid", params: &["vmid"], also: None, handler: nextid },
    Route { method: Get, path: "/cluster/resources", params: &["type"], also: None, handler: resources },
    Route { method: Get, path: "/nodes/{node}/qemu", params: &["full"], also: None, handler: guest_list },
    Route { method: Get, path: "/nodes/{node}/lxc", params: &[], also: None, handler: guest_list },
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/status/current",
        params: &[],
        also: None,
        handler: guest_status,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/config",
        params: &["current", "snapshot"],
        also: None,
        handler: guest_config,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/status/start",
        params: &[
            "force-cpu",
            "machine",
            "migratedfrom",
            "migration_network",
            "migration_type",
            "nets-host-mtu",
            "skiplock",
            "stateuri",
            "targetstorage",
            "timeout",
            "with-conntrack-state",
        ],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/status/stop",
        params: &["keepActive", "migratedfrom", "overrule-shutdown", "skiplock", "timeout"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/status/shutdown",
        params: &["forceStop", "keepActive", "skiplock", "timeout"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/status/reboot",
        params: &["timeout"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/status/suspend",
        params: &["skiplock", "statestorage", "todisk"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/status/resume",
        params: &["nocheck", "skiplock"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/status/start",
        params: &["debug", "skiplock"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/status/stop",
        params: &["overrule-shutdown", "skiplock"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/status/shutdown",
        params: &["forceStop", "timeout"],
        also: None,
        handler: power,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/status/reboot",
        params: &["timeout"],
        also: None,
        handler: power,
    },
    Route { method: Post, path: "/nodes/{node}/lxc/{vmid}/status/suspend", params: &[], also: None, handler: power },
    Route { method: Post, path: "/nodes/{node}/lxc/{vmid}/status/resume", params: &[], also: None, handler: power },
    Route {
        method: Get,
        path: "/nodes/{node}/storage",
        params: &["content", "enabled", "format", "storage", "target"],
        also: None,
        handler: node_storage,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/storage/{storage}/content",
        params: &["content", "vmid"],
        also: None,
        handler: storage_content,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/tasks",
        params: &[
            "errors",
            "limit",
            "since",
            "source",
            "start",
            "statusfilter",
            "typefilter",
            "until",
            "userfilter",
            "vmid",
        ],
        also: None,
        handler: task_list,
    },
    Route { method: Get, path: "/nodes/{node}/tasks/{upid}/status", params: &[], also: None, handler: task_status },
    Route {
        method: Get,
        path: "/nodes/{node}/tasks/{upid}/log",
        params: &["download", "limit", "start"],
        also: None,
        handler: task_log,
    },
    Route { method: Delete, path: "/nodes/{node}/tasks/{upid}", params: &[], also: None, handler: task_stop },
    Route { method: Get, path: "/cluster/tasks", params: &[], also: None, handler: cluster_tasks },
];

/// The routes of every area.
fn tables() -> [&'static [Route]; 4] {
    [CORE, super::guests::ROUTES, super::cluster::ROUTES, super::nodes::ROUTES]
}

/// Every (method, path pattern, parameters, extra-parameter predicate) the demo simulates.
pub(super) fn table() -> impl Iterator<Item = &'static Route> {
    tables().into_iter().flatten()
}

/// Answer a request from the table.
pub fn dispatch(state: &mut State, request: &Request) -> Result<Value, DemoError> {
    // Proxmox decodes the whole path before it routes it.
    let path = percent_decode(request.path.as_str());
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut path_known = false;
    for route in table() {
        let Some(mut vars) = matches(route.path, &segments) else { continue };
        path_known = true;
        if route.method != request.method {
            continue;
        }
        for (name, value) in &request.params.0 {
            if !route.params.contains(&name.as_str()) && !route.also.is_some_and(|also| also(name, value)) {
                return Err(DemoError::param(
                    name,
                    "property is not defined in schema and the schema does not allow additional properties",
                ));
            }
        }
        // `/nodes/{node}/qemu/...` and `/nodes/{node}/lxc/...`: the guest kind of the path.
        if let ["nodes", _, kind @ ("qemu" | "lxc"), ..] = segments.as_slice() {
            vars.entry("kind").or_insert_with(|| kind.to_string());
        }
        let call = Call {
            vars,
            params: &request.params,
            last: segments.last().map_or_else(String::new, |s| s.to_string()),
            upload: request.upload.as_ref(),
        };
        if !call.node().is_empty() {
            match state.node(call.node()) {
                None => {
                    return Err(DemoError::new(
                        500,
                        format!("hostname lookup '{}' failed - Name or service not known", call.node()),
                    ));
                }
                Some(n) if !n.online => {
                    return Err(DemoError::new(
                        595,
                        "Errors during connection establishment, proxy handshake: No route to host",
                    ));
                }
                Some(_) => {}
            }
        }
        return (route.handler)(state, &call);
    }
    let what = if path_known { "method" } else { "path" };
    Err(DemoError::new(
        501,
        format!(
            "Method '{} /api2/json{}' not implemented ({what} unknown to the demo cluster)",
            request.method, request.path
        ),
    ))
}

/// `%XX` escapes decoded (invalid ones kept as they are).
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn matches(pattern: &'static str, segments: &[&str]) -> Option<BTreeMap<&'static str, String>> {
    let parts: Vec<&'static str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let tail = parts.last().and_then(|p| p.strip_prefix('{')).and_then(|p| p.strip_suffix("+}"));
    match tail {
        Some(_) if segments.len() < parts.len() => return None,
        None if segments.len() != parts.len() => return None,
        _ => {}
    }
    let mut vars = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        let seg = segments[i];
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some("kind") if seg != "qemu" && seg != "lxc" => return None,
            Some(name) if name.ends_with('+') => {
                vars.insert(name.trim_end_matches('+'), segments[i..].join("/"));
            }
            Some(name) => {
                vars.insert(name, seg.to_string());
            }
            None if *part == seg => {}
            None => return None,
        }
    }
    Some(vars)
}

pub(super) fn not_found(call: &Call) -> DemoError {
    let dir = if call.kind() == "lxc" { "lxc" } else { "qemu-server" };
    DemoError::new(
        500,
        format!("Configuration file 'nodes/{}/{dir}/{}.conf' does not exist", call.node(), call.var("vmid")),
    )
}

/// The guest of the path, on the node of the path, of the kind of the path.
pub(super) fn guest<'s>(state: &'s mut State, call: &Call) -> Result<&'s mut Guest, DemoError> {
    let (vmid, node, kind) = (call.vmid(), call.node().to_string(), call.kind().to_string());
    match state.guest_mut(vmid) {
        Some(g) if g.node == node && g.kind == kind => Ok(g),
        _ => Err(not_found(call)),
    }
}

fn version(_: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(json!({ "version": "9.1.2", "release": "9.1", "repoid": "demo0001" }))
}

fn node_load(state: &State, node: &str) -> (f64, u64) {
    let running = state.guests.iter().filter(|g| g.node == node && g.status == "running");
    let mem: u64 = running.clone().map(Guest::memory_bytes).sum::<u64>() + 3 * 1024 * 1024 * 1024;
    let cpu = 0.02 + 0.04 * running.count() as f64;
    (cpu, mem)
}

fn nodes(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        state
            .nodes
            .iter()
            .map(|n| {
                if !n.online {
                    return json!({ "node": n.name, "status": "offline", "type": "node", "id": format!("node/{}", n.name) });
                }
                let (cpu, mem) = node_load(state, &n.name);
                json!({ "node": n.name, "status": "online", "type": "node", "id": format!("node/{}", n.name), "cpu": cpu,
                    "maxcpu": n.cores, "mem": mem, "maxmem": n.mem_total, "uptime": 1_296_000, "level": "",
                    "disk": 12_884_901_888u64, "maxdisk": 100 * 1_073_741_824u64 })
            })
            .collect(),
    ))
}

fn node_status(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let n = state.node(call.node()).cloned().ok_or_else(|| DemoError::new(500, "no such node"))?;
    let (cpu, mem) = node_load(state, &n.name);
    Ok(json!({
        "uptime": 1_296_000, "cpu": cpu, "loadavg": ["0.42", "0.37", "0.30"], "wait": 0.001,
        "memory": { "total": n.mem_total, "used": mem, "free": n.mem_total - mem.min(n.mem_total) },
        "swap": { "total": 8_589_934_592u64, "used": 0, "free": 8_589_934_592u64 },
        "rootfs": { "total": 107_374_182_400u64, "used": 12_884_901_888u64, "free": 94_489_280_512u64, "avail": 89_120_571_392u64 },
        "cpuinfo": { "model": "AMD EPYC 7313P 16-Core Processor", "cpus": n.cores, "sockets": 1, "cores": n.cores, "mhz": "3000.000" },
        "pveversion": "pve-manager/9.1.2/demo0001", "kversion": "Linux 6.17.2-1-pve",
        "current-kernel": { "sysname": "Linux", "release": "6.17.2-1-pve", "machine": "x86_64" },
        "boot-info": { "mode": "efi", "secureboot": 0 }
    }))
}

fn ifaces(state: &State, node: &str) -> Vec<Value> {
    let ip = state.node(node).map_or("192.0.2.10", |n| n.ip.as_str());
    vec![
        json!({ "iface": "eno1", "type": "eth", "active": 1, "autostart": 1, "method": "manual", "families": ["inet"], "exists": 1 }),
        json!({ "iface": "eno2", "type": "eth", "active": 0, "autostart": 0, "method": "manual", "families": ["inet"], "exists": 1 }),
        json!({ "iface": "vmbr0", "type": "bridge", "active": 1, "autostart": 1, "method": "static", "families": ["inet"],
            "address": ip, "netmask": "24", "cidr": format!("{ip}/24"), "gateway": "192.0.2.1", "bridge_ports": "eno1",
            "bridge_stp": "off", "bridge_fd": "0", "bridge_vlan_aware": 1, "comments": "LAN" }),
        json!({ "iface": "vmbr0.20", "type": "vlan", "active": 1, "autostart": 1, "method": "static", "families": ["inet"],
            "address": "198.51.100.11", "netmask": "24", "cidr": "198.51.100.11/24", "vlan-raw-device": "vmbr0", "vlan-id": 20,
            "comments": "storage VLAN" }),
    ]
}

fn network(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let filter = call.param("type");
    Ok(Value::Array(
        ifaces(state, call.node())
            .into_iter()
            .filter(|i| match filter {
                None | Some("include_sdn") => true,
                Some("any_bridge" | "any_local_bridge") => i["type"] == "bridge",
                Some(t) => i["type"] == t,
            })
            .collect(),
    ))
}

fn network_iface(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let name = call.var("iface");
    ifaces(state, call.node())
        .into_iter()
        .find(|i| i["iface"] == name)
        .ok_or_else(|| DemoError::new(500, format!("interface '{name}' does not exist")))
}

fn dns(_: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(json!({ "search": "lab.example.com", "dns1": "192.0.2.53", "dns2": "192.0.2.54" }))
}

fn cluster_status(state: &mut State, _: &Call) -> Result<Value, DemoError> {
    let online = state.nodes.iter().filter(|n| n.online).count();
    let mut out = vec![json!({ "type": "cluster", "id": "cluster", "name": "demo-cluster", "nodes": state.nodes.len(),
        "quorate": u8::from(online * 2 > state.nodes.len()), "version": 7 })];
    for (i, n) in state.nodes.iter().enumerate() {
        out.push(json!({ "type": "node", "id": format!("node/{}", n.name), "name": n.name, "nodeid": i + 1,
            "ip": n.ip, "online": u8::from(n.online), "local": u8::from(i == 0), "level": "" }));
    }
    Ok(Value::Array(out))
}

fn nextid(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    match call.param("vmid") {
        Some(v) => {
            let id: u32 = v.parse().map_err(|_| DemoError::param("vmid", "type check ('integer') failed"))?;
            if state.guest(id).is_some() {
                Err(DemoError::param("vmid", format!("VM {id} already exists")))
            } else {
                Ok(json!(id.to_string()))
            }
        }
        None => Ok(json!(state.next_vmid().to_string())),
    }
}

pub(super) fn guest_summary(state: &State, g: &Guest) -> Value {
    let running = g.status == "running";
    let disk = state
        .storages
        .iter()
        .flat_map(|s| &s.volumes)
        .filter(|v| v.vmid == Some(g.vmid) && v.content != "backup")
        .map(|v| v.size)
        .sum::<u64>();
    let mut v = json!({
        "vmid": g.vmid, "name": g.name(), "status": g.status, "cpus": g.cores(), "maxmem": g.memory_bytes(),
        "maxdisk": disk, "uptime": g.uptime(), "type": g.kind,
        "cpu": if running { 0.031 * g.cores() as f64 } else { 0.0 },
        "mem": if running { g.memory_bytes() / 3 } else { 0 },
        "netin": if running { 734_003_200u64 } else { 0 }, "netout": if running { 215_416_832u64 } else { 0 },
        "diskread": if running { 1_073_741_824u64 } else { 0 }, "diskwrite": if running { 536_870_912u64 } else { 0 },
    });
    if g.is_template() {
        v["template"] = json!(1);
    }
    if g.kind == "qemu" {
        v["qmpstatus"] = json!(if g.status == "paused" { "paused" } else { g.status.as_str() });
    }
    v
}

fn resources(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let want = call.param("type");
    let mut out = Vec::new();
    if want.is_none() || want == Some("vm") {
        for g in &state.guests {
            let mut v = guest_summary(state, g);
            v["id"] = json!(format!("{}/{}", g.kind, g.vmid));
            v["node"] = json!(g.node);
            out.push(v);
        }
    }
    if (want.is_none() || want == Some("node"))
        && let Value::Array(list) = nodes(state, call)?
    {
        out.extend(list);
    }
    if want.is_none() || want == Some("storage") {
        for s in &state.storages {
            out.push(json!({ "id": format!("storage/{}", s.id()), "type": "storage", "storage": s.id(), "status": "available",
                "disk": s.used(), "maxdisk": s.total, "content": s.config["content"], "shared": u8::from(s.shared()) }));
        }
    }
    Ok(Value::Array(out))
}

fn guest_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        state
            .guests
            .iter()
            .filter(|g| g.node == call.node() && g.kind == call.kind())
            .map(|g| guest_summary(state, g))
            .collect(),
    ))
}

fn guest_status(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?.clone();
    let mut v = guest_summary(state, &g);
    v["ha"] = match state.ha_resources.get(&format!("vm:{}", g.vmid)) {
        Some(r) => json!({ "managed": 1, "state": r["state"] }),
        None => json!({ "managed": 0 }),
    };
    if g.kind == "qemu" {
        v["agent"] = json!(u8::from(g.agent_running));
    }
    Ok(v)
}

fn guest_config(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?;
    match call.param("snapshot") {
        Some(name) => g
            .snapshots
            .iter()
            .find(|s| s.0 == name)
            .map(|s| Value::Object(s.3.clone()))
            .ok_or_else(|| DemoError::new(500, format!("snapshot '{name}' does not exist"))),
        None => Ok(Value::Object(g.config.clone())),
    }
}

/// start/stop/shutdown/reboot/suspend/resume: a task; the status follows when it ends.
fn power(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?;
    let (vmid, kind, node, status) = (g.vmid, g.kind, g.node.clone(), g.status.clone());
    let verb = call.last();
    if g.is_template() && verb == "start" {
        return Err(DemoError::new(500, "you can't start a VM if it's a template"));
    }
    let (task_kind, outcome, next): (String, Result<(), String>, Option<&'static str>) = match (verb, status.as_str()) {
        ("start", "running") => (format!("{}start", prefix(kind)), Err(format!("VM {vmid} already running")), None),
        ("start", _) => (format!("{}start", prefix(kind)), Ok(()), Some("running")),
        ("stop", _) => (format!("{}stop", prefix(kind)), Ok(()), Some("stopped")),
        ("shutdown", "running") => (format!("{}shutdown", prefix(kind)), Ok(()), Some("stopped")),
        ("reboot", "running") => (format!("{}reboot", prefix(kind)), Ok(()), Some("running")),
        ("suspend", "running") => (format!("{}suspend", prefix(kind)), Ok(()), Some("paused")),
        ("resume", "paused") => (format!("{}resume", prefix(kind)), Ok(()), Some("running")),
        (v, s) => {
            (format!("{}{v}", prefix(kind)), Err(format!("{} {vmid} not running (status {s})", noun(kind))), None)
        }
    };
    let reboot = verb == "reboot";
    let upid = state.start_task(&node, &task_kind, &vmid.to_string(), outcome, move |s| {
        if let (Some(g), Some(next)) = (s.guest_mut(vmid), next) {
            if g.status != "running" || next != "running" || reboot {
                g.started = (next == "running").then(std::time::Instant::now);
            }
            g.status = next.to_string();
            g.agent_running = next == "running" && g.agent_enabled();
        }
    });
    Ok(json!(upid))
}

pub(super) fn prefix(kind: &str) -> &'static str {
    if kind == "lxc" { "vz" } else { "qm" }
}

pub(super) fn noun(kind: &str) -> &'static str {
    if kind == "lxc" { "CT" } else { "VM" }
}

fn node_storage(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let content = call.param("content");
    let only = call.param("storage");
    Ok(Value::Array(
        state
            .storages
            .iter()
            .filter(|s| s.on_node(call.node()))
            .filter(|s| only.is_none_or(|o| o == s.id()))
            .filter(|s| content.is_none_or(|c| s.config["content"].as_str().unwrap_or("").split(',').any(|x| x == c)))
            .map(|s| {
                json!({ "storage": s.id(), "type": s.config["type"], "content": s.config["content"], "active": 1, "enabled": 1,
                    "shared": u8::from(s.shared()), "total": s.total, "used": s.used(), "avail": s.total - s.used().min(s.total),
                    "used_fraction": s.used() as f64 / s.total as f64 })
            })
            .collect(),
    ))
}

fn storage_content(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("storage");
    let s = state.storage(id).ok_or_else(|| DemoError::new(500, format!("storage '{id}' does not exist")))?;
    let content = call.param("content");
    let vmid = call.param("vmid").and_then(|v| v.parse::<u32>().ok());
    Ok(Value::Array(
        s.volumes
            .iter()
            .filter(|v| content.is_none_or(|c| c == v.content))
            .filter(|v| vmid.is_none_or(|id| v.vmid == Some(id)))
            .map(|v| {
                let mut out = json!({ "volid": v.volid, "content": v.content, "format": v.format, "size": v.size, "ctime": v.ctime });
                if let Some(id) = v.vmid {
                    out["vmid"] = json!(id);
                }
                out
            })
            .collect(),
    ))
}

pub(super) fn task_json(t: &super::state::Task) -> Value {
    let mut v = json!({ "upid": t.upid, "node": t.node, "type": t.kind, "id": t.id, "user": "root@pam!mcp",
        "starttime": t.starttime, "pid": 4096, "pstart": 7_000_000,
        "status": if t.done { "stopped" } else { "running" } });
    if t.done {
        v["exitstatus"] = json!(match &t.outcome {
            Ok(()) if t.warnings.is_empty() => "OK".to_string(),
            Ok(()) => format!("WARNINGS: {}", t.warnings.len()),
            Err(e) => e.clone(),
        });
        v["endtime"] = json!(t.starttime + t.ends.saturating_duration_since(t.began).as_secs().max(1));
    }
    v
}

fn task_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let number = |name: &str| call.param(name).and_then(|l| l.parse::<u64>().ok());
    let (start, limit) = (number("start").unwrap_or(0) as usize, number("limit").unwrap_or(50) as usize);
    let errors_only = call.flag("errors");
    let vmid = call.param("vmid");
    let typefilter = call.param("typefilter");
    let userfilter = call.param("userfilter");
    let source = call.param("source").unwrap_or("archive");
    let statuses: Option<Vec<&str>> = call.param("statusfilter").map(|f| f.split(',').map(str::trim).collect());
    let matching: Vec<Value> = state
        .tasks
        .iter()
        .rev()
        .filter(|t| t.node == call.node())
        .filter(|t| !errors_only || (t.done && t.outcome.is_err()))
        .filter(|t| vmid.is_none_or(|v| t.id == v))
        .filter(|t| typefilter.is_none_or(|f| t.kind == f))
        // Every demo task runs as the token root@pam!mcp.
        .filter(|_| userfilter.is_none_or(|u| "root@pam!mcp".contains(u)))
        .filter(|t| match source {
            "active" => !t.done,
            "all" => true,
            _ => t.done,
        })
        .filter(|t| {
            statuses.as_ref().is_none_or(|s| {
                let status = match (&t.done, &t.outcome) {
                    (false, _) => "running",
                    (true, Ok(())) => "ok",
                    (true, Err(_)) => "error",
                };
                s.contains(&status)
            })
        })
        .filter(|t| number("since").is_none_or(|s| t.starttime >= s))
        .filter(|t| number("until").is_none_or(|u| t.starttime <= u))
        .map(task_json)
        .collect();
    // Proxmox counts the matches beside the page.
    state.total = Some(matching.len() as u64);
    Ok(Value::Array(matching.into_iter().skip(start).take(limit).collect()))
}

/// The cluster's task index, as Proxmox answers it: every node's tasks, newest first, with the
/// outcome in `status` (none while running) and no filters.
fn cluster_tasks(state: &mut State, _call: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        state
            .tasks
            .iter()
            .rev()
            .map(|t| {
                let mut v = task_json(t);
                if let Some(obj) = v.as_object_mut() {
                    obj.remove("status");
                    if let Some(exit) = obj.remove("exitstatus") {
                        obj.insert("status".into(), exit);
                    }
                }
                v
            })
            .collect(),
    ))
}

fn find_task<'s>(state: &'s State, call: &Call) -> Result<&'s super::state::Task, DemoError> {
    let upid = call.var("upid");
    state.tasks.iter().find(|t| t.upid == upid).ok_or_else(|| DemoError::new(500, format!("no such task: {upid}")))
}

fn task_status(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(task_json(find_task(state, call)?))
}

/// Stop a running task: it ends as Proxmox's interrupted tasks do, without its effect.
fn task_stop(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let upid = call.var("upid").to_string();
    find_task(state, call)?;
    if let Some(t) = state.tasks.iter_mut().find(|t| t.upid == upid && !t.done) {
        t.done = true;
        t.effect = None;
        t.outcome = Err("interrupted by signal".into());
        t.ends = std::time::Instant::now();
        t.log.push("received interrupt".into());
        t.log.push("TASK ERROR: interrupted by signal".into());
    }
    Ok(Value::Null)
}

fn task_log(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let t = find_task(state, call)?;
    let start = call.param("start").and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
    let limit = call.param("limit").and_then(|s| s.parse::<usize>().ok()).unwrap_or(50);
    let lines = Value::Array(
        t.log.iter().enumerate().skip(start).take(limit).map(|(n, line)| json!({ "n": n + 1, "t": line })).collect(),
    );
    state.total = Some(t.log.len() as u64);
    Ok(lines)
}
