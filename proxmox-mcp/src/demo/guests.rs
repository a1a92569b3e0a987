//! Guest endpoints of the demo cluster: create, clone, destroy, configure, disks, migrate,
//! templates, snapshots, backups and restores, RRD data and the guest agent.

use super::DemoError;
use super::routes::{Call, Route, guest, noun, prefix};
use super::state::{Guest, Object, State, VolumeState, now};
use super::volumes;
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
        path: "/nodes/{node}/qemu/{vmid}/snapshot",
        params: &["snapname", "description", "vmstate"],
        also: None,
        handler: snapshot_create,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/snapshot",
        params: &["snapname", "description"],
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
        path: "/nodes/{node}/qemu/{vmid}/clone",
        params: &["newid", "name", "full", "target", "storage", "description", "pool", "snapname", "format", "bwlimit"],
        also: None,
        handler: clone,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/lxc/{vmid}/clone",
        params: &["newid", "hostname", "full", "target", "storage", "description", "pool", "snapname", "bwlimit"],
        also: None,
        handler: clone,
    },
    Route {
        method: Delete,
        path: "/nodes/{node}/qemu/{vmid}",
        params: &["purge", "destroy-unreferenced-disks", "skiplock"],
        also: None,
        handler: destroy,
    },
    Route {
        method: Delete,
        path: "/nodes/{node}/lxc/{vmid}",
        params: &["purge", "destroy-unreferenced-disks", "force"],
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
        path: "/nodes/{node}/qemu/{vmid}/resize",
        params: &["disk", "size", "digest", "skiplock"],
        also: None,
        handler: resize,
    },
    Route {
        method: Put,
        path: "/nodes/{node}/lxc/{vmid}/resize",
        params: &["disk", "size", "digest"],
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
        path: "/nodes/{node}/qemu/{vmid}/template",
        params: &["disk"],
        also: None,
        handler: template,
    },
    Route { method: Post, path: "/nodes/{node}/lxc/{vmid}/template", params: &[], also: None, handler: template },
    Route {
        method: Get,
        path: "/nodes/{node}/{kind}/{vmid}/rrddata",
        params: &["timeframe", "cf"],
        also: None,
        handler: rrddata,
    },
    Route { method: Post, path: "/nodes/{node}/qemu/{vmid}/agent/ping", params: &[], also: None, handler: agent },
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
    // The agent's read commands, one endpoint each as in Proxmox.
    Route { method: Get, path: "/nodes/{node}/qemu/{vmid}/agent/get-osinfo", params: &[], also: None, handler: agent },
    Route { method: Get, path: "/nodes/{node}/qemu/{vmid}/agent/get-fsinfo", params: &[], also: None, handler: agent },
    Route {
        method: Get,
        path: "/nodes/{node}/qemu/{vmid}/agent/get-memory-blocks",
        params: &[],
        also: None,
        handler: agent,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
        params: &[],
        also: None,
        handler: agent,
    },
    Route { method: Get, path: "/nodes/{node}/qemu/{vmid}/agent/get-time", params: &[], also: None, handler: agent },
    Route {
        method: Get,
        path: "/nodes/{node}/qemu/{vmid}/agent/get-timezone",
        params: &[],
        also: None,
        handler: agent,
    },
    Route { method: Get, path: "/nodes/{node}/qemu/{vmid}/agent/get-vcpus", params: &[], also: None, handler: agent },
    Route {
        method: Get,
        path: "/nodes/{node}/qemu/{vmid}/agent/get-host-name",
        params: &[],
        also: None,
        handler: agent,
    },
    Route { method: Get, path: "/nodes/{node}/qemu/{vmid}/agent/info", params: &[], also: None, handler: agent },
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
            "exclude-path",
            "pool",
            "stdexcludes",
            "zstd",
            "job-id",
            "prune-backups",
            "notification-mode",
            "dumpdir",
            "fleecing",
            "ionice",
            "lockwait",
            "maxfiles",
            "pbs-change-detection-mode",
            "performance",
            "pigz",
            "quiet",
            "script",
            "stdout",
            "stop",
            "stopwait",
            "tmpdir",
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

/// A NIC as Proxmox stores it: a new one gets a MAC address (Proxmox's BC:24:11 prefix).
fn complete_nic(kind: &str, vmid: u32, key: &str, value: &str) -> String {
    let Some(n) = key.strip_prefix("net").and_then(|n| n.parse::<u32>().ok()) else { return value.to_string() };
    let mac = format!("BC:24:11:{:02X}:{:02X}:{:02X}", (vmid >> 8) & 0xff, vmid & 0xff, 0x10 + n);
    let mut parts: Vec<String> = value.split(',').map(str::to_string).collect();
    if kind == "lxc" {
        if !parts.iter().any(|p| p.starts_with("hwaddr=")) {
            parts.push(format!("hwaddr={mac}"));
        }
    } else if let Some(model) = parts.first_mut()
        && !model.contains('=')
        && !model.is_empty()
    {
        *model = format!("{model}={mac}");
    }
    parts.join(",")
}

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
    let storage = call.param("storage").map(str::to_string);
    let g = guest(state, call)?.clone();
    if let Some(s) = &storage {
        let on = target.as_deref().unwrap_or(&g.node);
        volumes::check_storage(state, s, g.kind, on).map_err(|e| DemoError::param("storage", e.message))?;
    }
    if let Some(snap) = call.param("snapname")
        && !g.snapshots.iter().any(|s| s.0 == snap)
    {
        return Err(DemoError::new(500, format!("snapshot '{snap}' does not exist")));
    }
    let (node, task) = (g.node.clone(), format!("{}clone", prefix(g.kind)));
    let upid = state.start_task(&node, &task, &g.vmid.to_string(), Ok(()), move |s| {
        let mut config = g.config.clone();
        config.remove("template");
        volumes::copy_disks(s, &mut config, g.kind, newid, storage.as_deref());
        let key = if g.kind == "lxc" { "hostname" } else { "name" };
        config.insert(key.into(), json!(name.unwrap_or_else(|| format!("Copy-of-{}", g.name()))));
        // A clone's NICs get MAC addresses of their own.
        for (key, value) in config.iter_mut().filter(|(k, _)| k.starts_with("net")) {
            if let Value::String(nic) = value {
                let without: Vec<&str> = nic
                    .split(',')
                    .filter(|p| !p.starts_with("hwaddr="))
                    .enumerate()
                    .map(|(i, p)| if i == 0 && g.kind == "qemu" { p.split('=').next().unwrap_or(p) } else { p })
                    .collect();
                *nic = complete_nic(g.kind, newid, key, &without.join(","));
            }
        }
        let mut copy = Guest {
            vmid: newid,
            status: "stopped".into(),
            started: None,
            snapshots: Vec::new(),
            agent_running: false,
            firewall_rules: Vec::new(),
            firewall_options: Object::new(),
            config,
            node: target.unwrap_or(g.node.clone()),
            ..g
        };
        refresh_digest(&mut copy);
        s.guests.push(copy);
    });
    Ok(json!(upid))
}

fn destroy(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let g = guest(state, call)?;
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    // Destroying a running guest fails in its task, as in Proxmox (a container's `force` stops it first).
    if g.status == "running" && !(kind == "lxc" && call.flag("force")) {
        let error = format!("{} {vmid} is running - destroy failed", noun(kind));
        return Ok(json!(state.start_task(
            &node,
            &format!("{}destroy", prefix(kind)),
            &vmid.to_string(),
            Err(error),
            |_| {}
        )));
    }
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
    let (vmid, kind, node, mut config) = (g.vmid, g.kind, g.node.clone(), g.config.clone());
    let changes: Vec<(&str, &str)> =
        call.params().filter(|(k, _)| !matches!(*k, "delete" | "digest" | "revert" | "skiplock" | "force")).collect();
    let deletes: Vec<&str> =
        call.param("delete").unwrap_or("").split([',', ';', ' ']).filter(|k| !k.is_empty()).collect();
    for key in &deletes {
        if !config.contains_key(*key) {
            return Err(DemoError::param("delete", format!("unable to delete '{key}' - no such option")));
        }
    }
    volumes::check_new_disks(state, kind, &node, changes.iter().copied())?;
    for (key, value) in changes {
        let value = complete_nic(kind, vmid, key, value);
        let value = volumes::allocate_value(state, kind, vmid, key, &value);
        // A disk replaced by another volume: the old one stays as an unused disk.
        let old = config.get(key).and_then(Value::as_str).and_then(volumes::volume_of).map(str::to_string);
        if let Some(old) = old
            && volumes::volume_of(&value) != Some(old.as_str())
            && volumes::is_disk_key(kind, key)
        {
            volumes::delete_disk(state, &mut config, kind, key);
        }
        config.insert(key.into(), json!(value));
    }
    for key in deletes {
        volumes::delete_disk(state, &mut config, kind, key);
    }
    if let Some(g) = state.guest_mut(vmid) {
        g.config = config;
        refresh_digest(g);
    }
    Ok(Value::Null)
}

fn resize(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let disk = call.required("disk")?.to_string();
    let size = call.required("size")?.to_string();
    let g = guest(state, call)?;
    let spec = match g.config.get(&disk) {
        Some(Value::String(spec)) if volumes::volume_of(spec).is_some() => spec.clone(),
        _ => return Err(DemoError::param("disk", format!("no such disk '{disk}'"))),
    };
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    let volid = volumes::volume_of(&spec).unwrap_or_default().to_string();
    let current = volumes::size_of(&spec).or_else(|| volumes::volume_size(state, &volid)).unwrap_or(0);
    let number = volumes::size_bytes(size.trim_start_matches('+'))
        .ok_or_else(|| DemoError::param("size", "unable to parse size"))?;
    let new = if size.starts_with('+') { current + number } else { number };
    if new < current {
        return Err(DemoError::new(500, "shrinking disks is not supported"));
    }
    let upid = state.start_task(&node, &format!("{}resize", prefix(kind)), &vmid.to_string(), Ok(()), move |s| {
        volumes::set_volume_size(s, &volid, new);
        if let Some(g) = s.guest_mut(vmid) {
            g.config.insert(disk, json!(volumes::with_volume(&spec, &volid, new)));
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
    let delete = call.flag("delete");
    let g = guest(state, call)?;
    let (vmid, node, kind, running) = (g.vmid, g.node.clone(), g.kind, g.status == "running");
    let Some(spec) = g.config.get(&key).and_then(Value::as_str).map(str::to_string) else {
        return Err(DemoError::new(500, format!("disk '{key}' does not exist")));
    };
    let Some(volid) = volumes::volume_of(&spec).map(str::to_string) else {
        return Err(DemoError::new(500, format!("you can't move a cdrom or a disk without a volume ({key})")));
    };
    if kind == "lxc" && running {
        return Err(DemoError::new(500, "cannot move volumes of a running container"));
    }
    volumes::check_storage(state, &target, kind, &node).map_err(|e| DemoError::param("storage", e.message))?;
    if volid.split(':').next() == Some(target.as_str()) {
        return Err(DemoError::new(500, "you can't move to the same storage with same format"));
    }
    let task = if kind == "lxc" { "move_volume" } else { "qmmove" };
    let upid = state.start_task(&node, task, &vmid.to_string(), Ok(()), move |s| {
        let bytes = volumes::size_of(&spec).or_else(|| volumes::volume_size(s, &volid)).unwrap_or(0);
        let new = volumes::allocate(s, &target, kind, vmid, bytes);
        if delete {
            volumes::free(s, &volid);
        }
        if let Some(g) = s.guest_mut(vmid) {
            g.config.insert(key, json!(volumes::with_volume(&spec, &new, bytes)));
            if !delete {
                let slot = volumes::next_unused(&g.config);
                g.config.insert(slot, json!(volid));
            }
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
    if g.is_template() {
        return Err(DemoError::new(500, format!("{} {} is already a template", noun(g.kind), g.vmid)));
    }
    let (vmid, node, kind) = (g.vmid, g.node.clone(), g.kind);
    // Its disks become base images: vm-100-disk-0 → base-100-disk-0.
    let make = move |s: &mut State| {
        let (from, to) = (format!("vm-{vmid}-disk-"), format!("base-{vmid}-disk-"));
        if let Some(g) = s.guest_mut(vmid) {
            for value in g.config.values_mut() {
                if let Value::String(v) = value {
                    *v = v.replace(&from, &to);
                }
            }
            g.config.insert("template".into(), json!(1));
            refresh_digest(g);
        }
        for storage in &mut s.storages {
            for v in storage.volumes.iter_mut().filter(|v| v.vmid == Some(vmid) && v.content != "backup") {
                v.volid = v.volid.replace(&from, &to);
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
    let command = call.last().to_string();
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
    let g = running_agent(state, call)?;
    let (vmid, output) = (g.vmid, simulated_run(g, &argv));
    let pid = 4100 + state.agent_processes.len() as u64;
    state.agent_processes.insert(pid, (vmid, output.0, output.1, output.2));
    Ok(json!({ "pid": pid }))
}

fn agent_exec_status(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let pid: u64 =
        call.required("pid")?.parse().map_err(|_| DemoError::param("pid", "type check ('integer') failed"))?;
    let vmid = running_agent(state, call)?.vmid;
    match state.agent_processes.get(&pid) {
        Some((owner, code, out, err)) if *owner == vmid => {
            let mut status = json!({ "exited": 1, "exitcode": code });
            if !out.is_empty() {
                status["out-data"] = json!(out);
            }
            if !err.is_empty() {
                status["err-data"] = json!(err);
            }
            Ok(status)
        }
        _ => Err(DemoError::new(500, "Agent error: Invalid parameter 'pid'")),
    }
}

/// What a command run through the guest agent prints: a few common commands answer as on a
/// Debian guest; anything else runs silently. (exit code, stdout, stderr)
fn simulated_run(g: &Guest, argv: &[String]) -> (i64, String, String) {
    // `sh -c "..."`: the command line's first word decides.
    let words: Vec<String> = match argv {
        [sh, c, line, ..] if (sh.ends_with("sh")) && c == "-c" => line.split_whitespace().map(str::to_string).collect(),
        _ => argv.to_vec(),
    };
    let program = words.first().map_or("", |p| p.rsplit('/').next().unwrap_or(p));
    let host = g.name();
    let mem_mib = g.memory_bytes() / (1024 * 1024);
    let ok = |out: String| (0, out, String::new());
    match program {
        "hostname" => ok(format!("{host}\n")),
        "whoami" => ok("root\n".into()),
        "id" => ok("uid=0(root) gid=0(root) groups=0(root)\n".into()),
        "uname" => ok(if words.iter().any(|w| w == "-a") {
            format!("Linux {host} 6.12.48+deb13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20) x86_64 GNU/Linux\n")
        } else {
            "Linux\n".into()
        }),
        "uptime" => ok(" 12:00:00 up 3 days,  2:14,  0 users,  load average: 0.08, 0.05, 0.01\n".into()),
        "echo" => ok(format!("{}\n", words[1..].join(" "))),
        "true" => ok(String::new()),
        "false" => (1, String::new(), String::new()),
        "df" => ok("Filesystem      Size  Used Avail Use% Mounted on\n\
                    /dev/sda1        32G  8.5G   22G  29% /\n\
                    tmpfs           2.0G     0  2.0G   0% /dev/shm\n"
            .into()),
        "free" => ok(format!(
            "               total        used        free      shared  buff/cache   available\n\
             Mem:          {mem_mib:>6}        {:>4}        {:>4}           4         512        {:>4}\n\
             Swap:              0           0           0\n",
            mem_mib / 4,
            mem_mib / 2,
            mem_mib * 3 / 4
        )),
        "cat" if words.get(1).is_some_and(|f| f == "/etc/os-release") => ok("PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n\
             NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"13\"\nVERSION=\"13 (trixie)\"\nVERSION_CODENAME=trixie\nID=debian\n"
            .into()),
        "cat" if words.get(1).is_some_and(|f| f == "/etc/hostname") => ok(format!("{host}\n")),
        "systemctl" if words.get(1).is_some_and(|w| w == "is-active") => ok("active\n".into()),
        "ls" => ok("bin\nboot\ndev\netc\nhome\nlib\nlib64\nmedia\nmnt\nopt\nproc\nroot\nrun\nsbin\nsrv\nsys\ntmp\nusr\nvar\n".into()),
        _ => ok(String::new()),
    }
}

fn vzdump(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let storage = call.param("storage").unwrap_or("local").to_string();
    match state.storage(&storage) {
        None => return Err(DemoError::param("storage", format!("storage '{storage}' does not exist"))),
        Some(s) if !s.config["content"].as_str().unwrap_or("").split(',').any(|c| c == "backup") => {
            return Err(DemoError::param("storage", format!("storage '{storage}' does not support backups")));
        }
        Some(_) => {}
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
    // The task names the guest when there is one, as Proxmox does.
    let id = if guests.len() == 1 { guests[0].0.to_string() } else { String::new() };
    // Volumes left out of the backup are warned about: a container's mount points without
    // backup=1, a VM's disks with backup=0.
    let mut warnings = Vec::new();
    for (vmid, kind, _) in &guests {
        let Some(g) = state.guest(*vmid) else { continue };
        for (key, value) in &g.config {
            let value = value.as_str().unwrap_or_default();
            let left_out = if *kind == "lxc" {
                key.starts_with("mp") && !value.contains("backup=1")
            } else {
                value.contains("backup=0")
            };
            if left_out {
                warnings.push(format!(
                    "{key} of {vmid} ({}) is not in the backup: set backup=1 on it to include it",
                    value.split(',').next().unwrap_or_default()
                ));
            }
        }
    }
    let upid = state.start_task_warning(call.node(), "vzdump", &id, Ok(()), warnings, move |s| {
        let secs = now();
        let (days, rest) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = super::state::civil(days as i64);
        let stamp = format!("{y:04}_{m:02}_{d:02}-{:02}_{:02}_{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
        let ext = match compress.as_str() {
            "0" => "",
            "gzip" | "1" => ".gz",
            "lzo" => ".lzo",
            _ => ".zst",
        };
        let configs: Vec<Option<Object>> =
            guests.iter().map(|(vmid, ..)| s.guest(*vmid).map(|g| g.config.clone())).collect();
        if let Some(store) = s.storage_mut(&storage) {
            for ((vmid, kind, size), config) in guests.into_iter().zip(configs) {
                let (kind_name, format) = if kind == "lxc" { ("lxc", "tar") } else { ("qemu", "vma") };
                store.volumes.push(VolumeState {
                    volid: format!("{storage}:backup/vzdump-{kind_name}-{vmid}-{stamp}.{format}{ext}"),
                    content: "backup".into(),
                    format: format!("{format}{ext}"),
                    size: size / 4,
                    vmid: Some(vmid),
                    ctime: secs,
                    config,
                });
            }
        }
    });
    Ok(json!(upid))
}

fn create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let vmid = parse_vmid(call, "vmid")?;
    let kind: &'static str = if call.last() == "lxc" { "lxc" } else { "qemu" };
    let node = call.node().to_string();
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
    // The template or archive must be there; a backup brings its configuration back.
    let source = call.param("ostemplate").or(restore_from);
    let mut config = match source {
        Some(volid) => {
            let found = state
                .storage(volid.split(':').next().unwrap_or(""))
                .and_then(|s| s.volumes.iter().find(|v| v.volid == volid));
            match found {
                None => return Err(DemoError::new(500, format!("volume '{volid}' does not exist"))),
                Some(v) if restore_from.is_some() && v.content != "backup" => {
                    return Err(DemoError::new(500, format!("volume '{volid}' is not a backup")));
                }
                Some(v) if restore_from.is_some() => v.config.clone().unwrap_or_default(),
                Some(_) => Object::new(),
            }
        }
        None => Object::new(),
    };
    config.remove("digest");
    let target = call.param("storage").map(str::to_string);
    if let Some(s) = &target {
        volumes::check_storage(state, s, kind, &node).map_err(|e| DemoError::param("storage", e.message))?;
    }
    volumes::check_new_disks(state, kind, &node, call.params())?;
    let changes: Vec<(String, String)> =
        call.params().filter(|(k, _)| config_key(kind, k)).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    if restore_from.is_some() {
        let name_key = if kind == "lxc" { "hostname" } else { "name" };
        config.entry(name_key).or_insert(json!(format!("restored-{vmid}")));
    }
    let start = call.flag("start");
    let task = match (kind, restore_from.is_some()) {
        ("lxc", true) => "vzrestore",
        ("lxc", false) => "vzcreate",
        (_, true) => "qmrestore",
        _ => "qmcreate",
    };
    let restoring = restore_from.is_some();
    let on = node.clone();
    let upid = state.start_task(&on, task, &vmid.to_string(), Ok(()), move |s| {
        // Restoring over a guest replaces it and its disks.
        s.guests.retain(|g| g.vmid != vmid);
        for storage in &mut s.storages {
            storage.volumes.retain(|v| v.vmid != Some(vmid) || v.content == "backup");
        }
        if restoring {
            volumes::copy_disks(s, &mut config, kind, vmid, target.as_deref());
        }
        for (key, value) in changes {
            let value = complete_nic(kind, vmid, &key, &value);
            let value = volumes::allocate_value(s, kind, vmid, &key, &value);
            config.insert(key, json!(value));
        }
        let mut g = Guest {
            vmid,
            kind,
            node,
            status: "stopped".into(),
            config,
            snapshots: Vec::new(),
            started: None,
            agent_running: false,
            firewall_rules: Vec::new(),
            firewall_options: Object::new(),
        };
        if start {
            g.status = "running".into();
            g.started = Some(Instant::now());
            g.agent_running = g.agent_enabled();
        }
        refresh_digest(&mut g);
        s.guests.push(g);
    });
    Ok(json!(upid))
}
