//! Guest endpoints of the demo cluster: create, clone, destroy, configure, disks, migrate,
//! templates, snapshots, backups and restores, RRD data and the guest agent.

use super::DemoError;
use super::routes::{Call, Route, guest, noun, prefix};
use super::state::{Guest, Object, State, VolumeState, now};
use crate::tool::Method::{Delete, Get, Post, Put};
use serde_json::{Value, json};
use std::time::Instant;

/// Configuration keys the demo understands for a guest kind (numbered families included).
fn config_key(kind: &str, key: &str) -> bool {
    let numbered = |prefixes: &[&str]| {
        prefixes
            .iter()
            .any(|p| key.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())))
    };
    let common =
        ["description", "onboot", "protection", "tags", "memory", "cores", "startup", "nameserver", "searchdomain"];
    if common.contains(&key) {
        return true;
    }
    match kind {
        "lxc" => {
            [
                "hostname",
                "swap",
                "cpulimit",
                "cpuunits",
                "features",
                "ostype",
                "arch",
                "rootfs",
                "unprivileged",
                "timezone",
            ]
            .contains(&key)
                || numbered(&["mp", "net", "unused", "dev"])
        }
        _ => {
            [
                "name",
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
                "cdrom",
                "efidisk0",
                "tpmstate0",
                "ciuser",
                "cipassword",
                "sshkeys",
                "kvm",
                "acpi",
                "hotplug",
                "vcpus",
                "cpulimit",
            ]
            .contains(&key)
                || numbered(&["scsi", "virtio", "sata", "ide", "net", "unused", "ipconfig", "usb", "serial", "hostpci"])
        }
    }
}

fn qemu_config_key(key: &str, _: &str) -> bool {
    config_key("qemu", key)
}
fn lxc_config_key(key: &str, _: &str) -> bool {
    config_key("lxc", key)
}

pub(super) const ROUTES: &[Route] = &[
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/snapshot",
        params: &[],
        also: None,
        handler: snapshot_list,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/{kind}/{vmid}/snapshot",
        params: &["snapname", "description", "vmstate"],
        also: None,
        handler: snapshot_create,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/{kind}/{vmid}/snapshot/{snapname}/rollback",
        params: &["start"],
        also: None,
        handler: snapshot_rollback,
    },
    Route {
        method: Delete,
        path: "/nodes/{node}/{kind}/{vmid}/snapshot/{snapname}",
        params: &["force"],
        also: None,
        handler: snapshot_delete,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/{kind}/{vmid}/clone",
        params: &[
            "newid",
            "name",
            "hostname",
            "full",
            "target",
            "storage",
            "description",
            "pool",
            "snapname",
            "format",
            "bwlimit",
        ],
        also: None,
        handler: clone,
    },
    Route {
        method: Delete,
        path: "/nodes/{node}/{kind}/{vmid}",
        params: &["purge", "destroy-unreferenced-disks", "skiplock", "force"],
        also: None,
        handler: destroy,
    },
    Route {
        method: Put,
        path: "/nodes/{node}/qemu/{vmid}/config",
        params: &["delete", "digest", "revert", "skiplock", "force"],
        also: Some(qemu_config_key),
        handler: config_put,
    },
    Route {
        method: Put,
        path: "/nodes/{node}/lxc/{vmid}/config",
        params: &["delete", "digest", "revert"],
        also: Some(lxc_config_key),
        handler: config_put,
    },
    Route {
        method: Put,
        path: "/nodes/{node}/{kind}/{vmid}/resize",
        params: &["disk", "size", "digest", "skiplock"],
        also: None,
        handler: resize,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/move_disk",
        params: &[
            "disk",
            "storage",
            "delete",
            "format",
            "digest",
            "bwlimit",
            "target-vmid",
            "target-disk",
            "target-digest",
        ],
        also: None,
        handler: move_volume,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/move_volume",
        params: &["volume", "storage", "delete", "digest", "bwlimit", "target-vmid", "target-volume", "target-digest"],
        also: None,
        handler: move_volume,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/migrate",
        params: &[
            "target",
            "online",
            "with-local-disks",
            "targetstorage",
            "bwlimit",
            "force",
            "migration_network",
            "migration_type",
            "with-conntrack-state",
        ],
        also: None,
        handler: migrate,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/migrate",
        params: &["target", "online", "restart", "timeout", "target-storage", "bwlimit"],
        also: None,
        handler: migrate,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/{kind}/{vmid}/template",
        params: &["disk"],
        also: None,
        handler: template,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/rrddata",
        params: &["timeframe", "cf"],
        also: None,
        handler: rrddata,
    },
    Route { method: Post, path: "/nodes/{node}/qemu/{vmid}/agent/ping", params: &[], also: None, handler: agent },
    Route { method: Get, path: "/nodes/{node}/qemu/{vmid}/agent/{command}", params: &[], also: None, handler: agent },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu/{vmid}/agent/exec",
        params: &["command", "input-data"],
        also: None,
        handler: agent_exec,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/qemu/{vmid}/agent/exec-status",
        params: &["pid"],
        also: None,
        handler: agent_exec_status,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/vzdump",
        params: &[
            "vmid",
            "all",
            "storage",
            "mode",
            "compress",
            "remove",
            "notes-template",
            "mailto",
            "mailnotification",
            "protected",
            "bwlimit",
            "exclude",
            "pool",
            "stdexcludes",
            "zstd",
            "job-id",
            "prune-backups",
            "notification-mode",
        ],
        also: None,
        handler: vzdump,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/qemu",
        params: &["vmid", "archive", "storage", "force", "unique", "start", "pool", "bwlimit", "live-restore"],
        also: Some(qemu_config_key),
        handler: create,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc",
        params: &[
            "vmid",
            "ostemplate",
            "restore",
            "storage",
            "force",
            "unique",
            "start",
            "pool",
            "password",
            "ssh-public-keys",
            "bwlimit",
            "ignore-unpack-errors",
        ],
        also: Some(lxc_config_key),
        handler: create,
    },
];

fn digest(config: &Object) -> String {
    let text = serde_json::to_string(config).unwrap_or_default();
    let sum = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{sum:016x}")
}

fn refresh_digest(g: &mut Guest) {
    g.config.remove("digest");
    let d = digest(&g.config);
    g.config.insert("digest".into(), json!(d));
}

fn snapshot_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?;
    let mut out: Vec<Value> = Vec::new();
    let mut parent: Option<&str> = None;
    for (name, description, snaptime, _) in &g.snapshots {
        let mut s = json!({ "name": name, "description": description, "snaptime": snaptime });
        if let Some(p) = parent {
            s["parent"] = json!(p);
        }
        out.push(s);
        parent = Some(name);
    }
    let mut current =
        json!({ "name": "current", "description": "You are here!", "running": u8::from(g.status == "running") });
    if let Some(p) = parent {
        current["parent"] = json!(p);
    }
    out.push(current);
    Ok(Value::Array(out))
}

fn snapshot_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let name = call.required("snapname")?.to_string();
    let description = call.param("description").unwrap_or("").to_string();
    let g = guest(state, call)?;
    if g.snapshots.iter().any(|s| s.0 == name) || name == "current" {
        return Err(DemoError::new(500, format!("snapshot name '{name}' already used")));
    }
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let upid = state.start_task(&node, &format!("{}snapshot", prefix(kind)), &vmid.to_string(), Ok(()), move |s| {
        if let Some(g) = s.guest_mut(vmid) {
            let config = g.config.clone();
            g.snapshots.push((name, description, now(), config));
        }
    });
    Ok(json!(upid))
}

fn snapshot_rollback(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let name = call.var("snapname").to_string();
    let start = call.flag("start");
    let g = guest(state, call)?;
    let Some(snapshot) = g.snapshots.iter().find(|s| s.0 == name).cloned() else {
        return Err(DemoError::new(500, format!("snapshot '{name}' does not exist")));
    };
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let upid = state.start_task(&node, &format!("{}rollback", prefix(kind)), &vmid.to_string(), Ok(()), move |s| {
        if let Some(g) = s.guest_mut(vmid) {
            g.config = snapshot.3;
            g.status = if start { "running" } else { "stopped" }.into();
            g.started = start.then(Instant::now);
            refresh_digest(g);
        }
    });
    Ok(json!(upid))
}

fn snapshot_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let name = call.var("snapname").to_string();
    let g = guest(state, call)?;
    if !g.snapshots.iter().any(|s| s.0 == name) {
        return Err(DemoError::new(500, format!("snapshot '{name}' does not exist")));
    }
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let upid = state.start_task(&node, &format!("{}delsnapshot", prefix(kind)), &vmid.to_string(), Ok(()), move |s| {
        if let Some(g) = s.guest_mut(vmid) {
            g.snapshots.retain(|snap| snap.0 != name);
        }
    });
    Ok(json!(upid))
}

fn parse_vmid(call: &Call, name: &str) -> Result<u32, DemoError> {
    call.required(name)?
        .parse::<u32>()
        .ok()
        .filter(|id| (100..=999_999_999).contains(id))
        .ok_or_else(|| DemoError::param(name, "invalid format - value must be a VMID from 100 to 999999999"))
}

fn ensure_free(state: &State, vmid: u32) -> Result<(), DemoError> {
    match state.guest(vmid) {
        Some(g) => Err(DemoError::new(500, format!("{} {vmid} already exists on node '{}'", noun(g.kind), g.node))),
        None => Ok(()),
    }
}

/// The guest's disks, renamed for a new id.
fn copy_volumes(state: &mut State, from: u32, to: u32) {
    let mut copies = Vec::new();
    for storage in &state.storages {
        for v in storage.volumes.iter().filter(|v| v.vmid == Some(from) && v.content != "backup") {
            let volid = v.volid.replace(&format!("-{from}-"), &format!("-{to}-"));
            copies.push((storage.id().to_string(), VolumeState { volid, vmid: Some(to), ctime: now(), ..v.clone() }));
        }
    }
    for (id, v) in copies {
        if let Some(s) = state.storage_mut(&id) {
            s.volumes.push(v);
        }
    }
}

fn rename_disks(config: &mut Object, from: u32, to: u32) {
    for value in config.values_mut() {
        if let Value::String(s) = value
            && s.contains(&format!("-{from}-disk-"))
        {
            *s = s.replace(&format!("-{from}-"), &format!("-{to}-"));
        }
    }
}

fn clone(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let newid = parse_vmid(call, "newid")?;
    ensure_free(state, newid)?;
    let target = call.param("target").map(str::to_string);
    if let Some(t) = &target
        && state.node(t).is_none_or(|n| !n.online)
    {
        return Err(DemoError::new(500, format!("target node '{t}' is not online")));
    }
    let name = call.param("name").or(call.param("hostname")).map(str::to_string);
    let g = guest(state, call)?.clone();
    let (node, task) = (g.node.clone(), format!("{}clone", prefix(g.kind)));
    let upid = state.start_task(&node, &task, &g.vmid.to_string(), Ok(()), move |s| {
        let mut copy =
            Guest { vmid: newid, status: "stopped".into(), started: None, snapshots: Vec::new(), ..g.clone() };
        copy.node = target.unwrap_or(g.node.clone());
        let key = if g.kind == "lxc" { "hostname" } else { "name" };
        copy.config.insert(key.into(), json!(name.unwrap_or_else(|| format!("Copy-of-{}", g.name()))));
        copy.config.remove("template");
        rename_disks(&mut copy.config, g.vmid, newid);
        refresh_digest(&mut copy);
        s.guests.push(copy);
        copy_volumes(s, g.vmid, newid);
    });
    Ok(json!(upid))
}

fn destroy(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?;
    if g.status == "running" {
        return Err(DemoError::new(500, format!("{} {} is running - destroy failed", noun(g.kind), g.vmid)));
    }
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let purge = call.flag("purge");
    let upid = state.start_task(&node, &format!("{}destroy", prefix(kind)), &vmid.to_string(), Ok(()), move |s| {
        s.guests.retain(|g| g.vmid != vmid);
        for storage in &mut s.storages {
            storage.volumes.retain(|v| v.vmid != Some(vmid) || v.content == "backup");
        }
        if purge {
            s.ha_resources.retain(|sid, _| !sid.ends_with(&format!(":{vmid}")));
            s.replication_jobs.retain(|id, _| !id.starts_with(&format!("{vmid}-")));
        }
    });
    Ok(json!(upid))
}

fn config_put(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?;
    if let Some(d) = call.param("digest")
        && g.config.get("digest").and_then(Value::as_str) != Some(d)
    {
        return Err(DemoError::new(500, "detected modified configuration - file changed by other user? Try again."));
    }
    for (key, value) in call.params() {
        if matches!(key, "delete" | "digest" | "revert" | "skiplock" | "force") {
            continue;
        }
        g.config.insert(key.into(), json!(value));
    }
    if let Some(list) = call.param("delete") {
        for key in list.split([',', ';', ' ']).filter(|k| !k.is_empty()) {
            if g.config.remove(key).is_none() {
                return Err(DemoError::param("delete", format!("unable to delete '{key}' - no such option")));
            }
        }
    }
    refresh_digest(g);
    Ok(Value::Null)
}

fn resize(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let disk = call.required("disk")?.to_string();
    let size = call.required("size")?.to_string();
    let g = guest(state, call)?;
    let Some(Value::String(spec)) = g.config.get(&disk).cloned() else {
        return Err(DemoError::param("disk", format!("no such disk '{disk}'")));
    };
    let current = spec
        .split(',')
        .find_map(|p| p.strip_prefix("size="))
        .and_then(|s| s.trim_end_matches('G').parse::<u64>().ok())
        .unwrap_or(0);
    let number: u64 = size
        .trim_start_matches('+')
        .trim_end_matches(['G', 'g'])
        .parse()
        .map_err(|_| DemoError::param("size", "unable to parse size"))?;
    let new = if size.starts_with('+') { current + number } else { number };
    if new < current {
        return Err(DemoError::new(500, "shrinking disks is not supported"));
    }
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let spec = spec
        .split(',')
        .map(|p| if p.starts_with("size=") { format!("size={new}G") } else { p.to_string() })
        .collect::<Vec<_>>()
        .join(",");
    let upid = state.start_task(&node, &format!("{}resize", prefix(kind)), &vmid.to_string(), Ok(()), move |s| {
        if let Some(g) = s.guest_mut(vmid) {
            g.config.insert(disk, json!(spec));
            refresh_digest(g);
        }
    });
    Ok(json!(upid))
}

fn move_volume(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let key = call
        .param("disk")
        .or(call.param("volume"))
        .ok_or_else(|| DemoError::param("disk", "property is missing and it is not optional"))?
        .to_string();
    let target = call.required("storage")?.to_string();
    if state.storage(&target).is_none() {
        return Err(DemoError::param("storage", format!("storage '{target}' does not exist")));
    }
    let g = guest(state, call)?;
    let Some(Value::String(spec)) = g.config.get(&key).cloned() else {
        return Err(DemoError::new(500, format!("disk '{key}' does not exist")));
    };
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let new_spec = match spec.split_once(':') {
        Some((_, rest)) => format!("{target}:{rest}"),
        None => spec,
    };
    let task = if kind == "lxc" { "move_volume" } else { "qmmove" };
    let upid = state.start_task(&node, task, &vmid.to_string(), Ok(()), move |s| {
        if let Some(g) = s.guest_mut(vmid) {
            g.config.insert(key, json!(new_spec));
            refresh_digest(g);
        }
    });
    Ok(json!(upid))
}

fn migrate(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let target = call.required("target")?.to_string();
    if state.node(&target).is_none_or(|n| !n.online) {
        return Err(DemoError::new(500, format!("target node '{target}' is not online")));
    }
    let online = call.flag("online") || call.flag("restart");
    let g = guest(state, call)?;
    if g.node == target {
        return Err(DemoError::param("target", "target is local node."));
    }
    if g.status == "running" && !online {
        return Err(DemoError::new(500, format!("can't migrate running {} without --online", noun(g.kind))));
    }
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let task = if kind == "lxc" { "vzmigrate" } else { "qmigrate" };
    let upid = state.start_task(&node, task, &vmid.to_string(), Ok(()), move |s| {
        if let Some(g) = s.guest_mut(vmid) {
            g.node = target;
        }
    });
    Ok(json!(upid))
}

fn template(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?;
    if g.status == "running" {
        return Err(DemoError::new(500, format!("you can't convert a running {} to a template", noun(g.kind))));
    }
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let make = move |s: &mut State| {
        if let Some(g) = s.guest_mut(vmid) {
            g.config.insert("template".into(), json!(1));
            refresh_digest(g);
        }
        for storage in &mut s.storages {
            for v in storage.volumes.iter_mut().filter(|v| v.vmid == Some(vmid)) {
                v.volid = v.volid.replace(&format!("vm-{vmid}-"), &format!("base-{vmid}-"));
            }
        }
    };
    if kind == "lxc" {
        make(state);
        return Ok(Value::Null);
    }
    Ok(json!(state.start_task(&node, "qmtemplate", &vmid.to_string(), Ok(()), make)))
}

fn rrddata(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let step = match call.required("timeframe")? {
        "hour" => 60,
        "day" => 1_800,
        "week" => 10_800,
        "month" => 43_200,
        "year" => 604_800,
        "decade" => 6_048_000,
        _ => return Err(DemoError::param("timeframe", "value is not a valid timeframe")),
    };
    let g = guest(state, call)?;
    let running = g.status == "running";
    let (maxmem, cores) = (g.memory_bytes(), g.cores());
    let end = now() / step * step;
    Ok(Value::Array(
        (0..70u64)
            .map(|i| {
                let wave = ((i as f64) / 7.0).sin().abs();
                let mut p = json!({ "time": end - (69 - i) * step, "maxmem": maxmem, "maxcpu": cores });
                if running {
                    p["cpu"] = json!(0.05 + 0.2 * wave);
                    p["mem"] = json!((maxmem as f64 * (0.3 + 0.2 * wave)) as u64);
                    p["netin"] = json!(20_000.0 + 50_000.0 * wave);
                    p["netout"] = json!(8_000.0 + 20_000.0 * wave);
                    p["diskread"] = json!(100_000.0 * wave);
                    p["diskwrite"] = json!(250_000.0 * wave);
                }
                p
            })
            .collect(),
    ))
}

fn running_agent<'s>(state: &'s mut State, call: &Call) -> Result<&'s mut Guest, DemoError> {
    let g = guest(state, call)?;
    if g.status != "running" {
        return Err(DemoError::new(500, format!("VM {} is not running", g.vmid)));
    }
    if !g.agent_running {
        return Err(DemoError::new(500, "QEMU guest agent is not running"));
    }
    Ok(g)
}

fn agent(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let command = if call.last() == "ping" { "ping".to_string() } else { call.var("command").to_string() };
    let g = running_agent(state, call)?;
    let cores = g.cores();
    let result = match command.as_str() {
        "ping" => json!({}),
        "get-osinfo" => {
            json!({ "id": "debian", "name": "Debian GNU/Linux", "pretty-name": "Debian GNU/Linux 13 (trixie)",
            "version": "13 (trixie)", "version-id": "13", "kernel-release": "6.12.48+deb13-amd64", "machine": "x86_64" })
        }
        "get-fsinfo" => json!([{ "name": "sda1", "mountpoint": "/", "type": "ext4", "used-bytes": 9_126_805_504u64,
            "total-bytes": 33_501_757_440u64, "disk": [{ "bus-type": "scsi", "bus": 0, "target": 0, "unit": 0, "serial": "drive-scsi0" }] }]),
        "get-memory-blocks" => {
            Value::Array((0..32).map(|i| json!({ "phys-index": i, "online": true, "can-offline": i > 0 })).collect())
        }
        "network-get-interfaces" => json!([
            { "name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8 }] },
            { "name": "ens18", "hardware-address": "bc:24:11:2a:00:64", "ip-addresses": [
                { "ip-address": "192.0.2.100", "ip-address-type": "ipv4", "prefix": 24 },
                { "ip-address": "2001:db8::100", "ip-address-type": "ipv6", "prefix": 64 }] }
        ]),
        "get-time" => json!(u128::from(now()) * 1_000_000_000),
        "get-timezone" => json!({ "zone": "UTC", "offset": 0 }),
        "get-vcpus" => {
            Value::Array((0..cores).map(|i| json!({ "logical-id": i, "online": true, "can-offline": i > 0 })).collect())
        }
        "get-host-name" => json!({ "host-name": g.name() }),
        "info" => json!({ "version": "9.2.0", "supported_commands": [] }),
        other => {
            return Err(DemoError::new(
                501,
                format!(
                    "Method 'GET /api2/json/nodes/{}/qemu/{}/agent/{other}' not implemented",
                    call.node(),
                    call.vmid()
                ),
            ));
        }
    };
    Ok(json!({ "result": result }))
}

fn agent_exec(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let argv: Vec<String> = call.all("command").into_iter().map(str::to_string).collect();
    if argv.is_empty() {
        return Err(DemoError::param("command", "property is missing and it is not optional"));
    }
    running_agent(state, call)?;
    Ok(json!({ "pid": 4000 + argv.len() as u64 + argv[0].len() as u64 }))
}

fn agent_exec_status(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let pid = call.required("pid")?.to_string();
    running_agent(state, call)?;
    Ok(json!({ "exited": 1, "exitcode": 0, "out-data": format!("demo: simulated output of process {pid}\n") }))
}

fn vzdump(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let storage = call.param("storage").unwrap_or("local").to_string();
    if state.storage(&storage).is_none() {
        return Err(DemoError::param("storage", format!("storage '{storage}' does not exist")));
    }
    let ids: Vec<u32> = call.param("vmid").unwrap_or("").split(',').filter_map(|v| v.trim().parse().ok()).collect();
    let guests: Vec<(u32, &'static str, u64)> = state
        .guests
        .iter()
        .filter(|g| g.node == call.node() && (call.flag("all") || ids.contains(&g.vmid)))
        .map(|g| (g.vmid, g.kind, g.memory_bytes()))
        .collect();
    if guests.is_empty() {
        return Err(DemoError::new(500, "No guests to back up on this node (check vmid)"));
    }
    let compress = call.param("compress").unwrap_or("zstd").to_string();
    let upid =
        state.start_task(call.node(), "vzdump", &ids.first().map_or(String::new(), u32::to_string), Ok(()), move |s| {
            let stamp = "2026_11_25-12_00_00";
            let ext = match compress.as_str() {
                "0" => "",
                "gzip" | "1" => ".gz",
                "lzo" => ".lzo",
                _ => ".zst",
            };
            if let Some(store) = s.storage_mut(&storage) {
                for (vmid, kind, size) in guests {
                    let (kind_name, format) = if kind == "lxc" { ("lxc", "tar") } else { ("qemu", "vma") };
                    store.volumes.push(VolumeState {
                        volid: format!("{storage}:backup/vzdump-{kind_name}-{vmid}-{stamp}.{format}{ext}"),
                        content: "backup".into(),
                        format: format!("{format}{ext}"),
                        size: size / 4,
                        vmid: Some(vmid),
                        ctime: now(),
                    });
                }
            }
        });
    Ok(json!(upid))
}

fn create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let vmid = parse_vmid(call, "vmid")?;
    let kind: &'static str = if call.last() == "lxc" { "lxc" } else { "qemu" };
    let restore_from = if kind == "lxc" {
        if call.flag("restore") { call.param("ostemplate") } else { None }
    } else {
        call.param("archive")
    };
    if kind == "lxc" && call.param("ostemplate").is_none() {
        return Err(DemoError::param("ostemplate", "property is missing and it is not optional"));
    }
    if let Some(existing) = state.guest(vmid) {
        if restore_from.is_none() || !call.flag("force") {
            return Err(DemoError::new(
                500,
                format!("{} {vmid} already exists on node '{}'", noun(existing.kind), existing.node),
            ));
        }
        if existing.status == "running" {
            return Err(DemoError::new(500, format!("unable to restore {} {vmid} - it is running", noun(kind))));
        }
    }
    let mut config = Object::new();
    for (key, value) in call.params() {
        if config_key(kind, key) {
            config.insert(key.into(), json!(value));
        }
    }
    if restore_from.is_some() {
        let name_key = if kind == "lxc" { "hostname" } else { "name" };
        config.entry(name_key).or_insert(json!(format!("restored-{vmid}")));
    }
    let node = call.node().to_string();
    let start = call.flag("start");
    let task = match (kind, restore_from.is_some()) {
        ("lxc", true) => "vzrestore",
        ("lxc", false) => "vzcreate",
        (_, true) => "qmrestore",
        _ => "qmcreate",
    };
    let on = node.clone();
    let upid = state.start_task(&on, task, &vmid.to_string(), Ok(()), move |s| {
        s.guests.retain(|g| g.vmid != vmid);
        let mut g = Guest {
            vmid,
            kind,
            node,
            status: if start { "running" } else { "stopped" }.into(),
            config,
            snapshots: Vec::new(),
            started: start.then(Instant::now),
            agent_running: false,
            firewall_rules: Vec::new(),
        };
        refresh_digest(&mut g);
        s.guests.push(g);
    });
    Ok(json!(upid))
}
