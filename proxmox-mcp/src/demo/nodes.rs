//! Node and storage endpoints of the demo: services, logs, tasks' node views, disks, and the
//! storage configuration and content.

use super::DemoError;
use super::routes::{Call, Route};
use super::state::{Object, State, StorageState, VolumeState, now};
use crate::tool::Method::{Delete, Get, Post, Put};
use serde_json::{Value, json};

pub(super) const ROUTES: &[Route] = &[
    Route { method: Get, path: "/nodes/{node}/services", params: &[], also: None, handler: services },
    Route {
        method: Post,
        path: "/nodes/{node}/services/{service}/start",
        params: &[],
        also: None,
        handler: service_action,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/services/{service}/stop",
        params: &[],
        also: None,
        handler: service_action,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/services/{service}/restart",
        params: &[],
        also: None,
        handler: service_action,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/services/{service}/reload",
        params: &[],
        also: None,
        handler: service_action,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/syslog",
        params: &["limit", "start", "since", "until", "service"],
        also: None,
        handler: syslog,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/journal",
        params: &["lastentries", "since", "until", "startcursor", "endcursor"],
        also: None,
        handler: journal,
    },
    Route { method: Get, path: "/nodes/{node}/aplinfo", params: &[], also: None, handler: aplinfo },
    Route { method: Get, path: "/nodes/{node}/netstat", params: &[], also: None, handler: netstat },
    Route {
        method: Get,
        path: "/nodes/{node}/disks/list",
        params: &["include-partitions", "skipsmart", "type"],
        also: None,
        handler: disks,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/disks/smart",
        params: &["disk", "healthonly"],
        also: None,
        handler: smart,
    },
    Route { method: Get, path: "/nodes/{node}/disks/lvm", params: &[], also: None, handler: lvm },
    Route { method: Get, path: "/nodes/{node}/disks/zfs", params: &[], also: None, handler: zfs },
    Route { method: Get, path: "/storage", params: &["type"], also: None, handler: storage_list },
    Route { method: Post, path: "/storage", params: STORAGE_OPTIONS, also: None, handler: storage_create },
    Route { method: Get, path: "/storage/{storage}", params: &[], also: None, handler: storage_get },
    Route { method: Put, path: "/storage/{storage}", params: STORAGE_OPTIONS, also: None, handler: storage_update },
    Route { method: Delete, path: "/storage/{storage}", params: &[], also: None, handler: storage_delete },
    Route {
        method: Delete,
        path: "/nodes/{node}/storage/{storage}/content/{volume}",
        params: &["delay"],
        also: None,
        handler: content_delete,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/storage/{storage}/download-url",
        params: &["url", "filename", "content", "checksum", "checksum-algorithm", "compression", "verify-certificates"],
        also: None,
        handler: download_url,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/storage/{storage}/prunebackups",
        params: &["prune-backups", "type", "vmid"],
        also: None,
        handler: prune_list,
    },
    Route {
        method: Delete,
        path: "/nodes/{node}/storage/{storage}/prunebackups",
        params: &["prune-backups", "type", "vmid"],
        also: None,
        handler: prune,
    },
    Route {
        method: Get,
        path: "/nodes/{node}/storage/{storage}/file-restore/list",
        params: &["volume", "filepath"],
        also: None,
        handler: file_restore_list,
    },
];

const STORAGE_OPTIONS: &[&str] = &[
    "storage",
    "type",
    "path",
    "content",
    "nodes",
    "disable",
    "shared",
    "server",
    "export",
    "share",
    "username",
    "password",
    "domain",
    "vgname",
    "thinpool",
    "pool",
    "monhost",
    "datastore",
    "fingerprint",
    "namespace",
    "prune-backups",
    "mkdir",
    "create-base-path",
    "create-subdirs",
    "is_mountpoint",
    "options",
    "subdir",
    "krbd",
    "sparse",
    "blocksize",
    "delete",
    "digest",
    "encryption-key",
    "max-protected-backups",
    "preallocation",
    "format",
    "port",
];

const SERVICES: &[(&str, &str)] = &[
    ("chrony", "Chrony time synchronisation"),
    ("corosync", "Corosync cluster engine"),
    ("cron", "Regular background program processing daemon"),
    ("pve-cluster", "The Proxmox VE cluster filesystem"),
    ("pve-firewall", "Proxmox VE firewall"),
    ("pve-ha-crm", "PVE Cluster HA Resource Manager Daemon"),
    ("pve-ha-lrm", "PVE Local HA Resource Manager Daemon"),
    ("pvedaemon", "PVE API Daemon"),
    ("pveproxy", "PVE API Proxy Server"),
    ("pvescheduler", "Proxmox VE scheduler"),
    ("pvestatd", "PVE Status Daemon"),
    ("spiceproxy", "PVE SPICE Proxy Server"),
    ("sshd", "OpenBSD Secure Shell server"),
    ("postfix", "Postfix Mail Transport Agent"),
];

fn services(_: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        SERVICES
            .iter()
            .map(|(name, desc)| json!({ "service": name, "name": name, "desc": desc, "state": "running", "active-state": "active", "unit-state": "enabled" }))
            .collect(),
    ))
}

fn service_action(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let service = call.var("service").to_string();
    if !SERVICES.iter().any(|(n, _)| *n == service) {
        return Err(DemoError::param("service", format!("value '{service}' does not have a value in the enumeration")));
    }
    let action = call.last().to_string();
    Ok(json!(state.start_task(call.node(), &format!("srv{action}"), &service, Ok(()), |_| {})))
}

fn log_lines(node: &str) -> Vec<String> {
    [
        "pvedaemon[2101]: <root@pam> successful auth for user 'root@pam'",
        "pveproxy[2410]: worker 2411 started",
        "pvestatd[1980]: status update time (0.412 seconds)",
        "corosync[1502]: [TOTEM ] A new membership (1.2f) was formed. Members joined: 2",
        "pve-ha-lrm[2020]: successfully acquired lock 'ha_agent_pve1_lock'",
        "kernel: vmbr0: port 2(tap100i0) entered forwarding state",
        "systemd[1]: Started pve-guests.service - PVE guests.",
        "pvescheduler[3100]: starting task vzdump",
    ]
    .iter()
    .enumerate()
    .map(|(i, l)| format!("Nov 25 0{}:1{i}:0{i} {node} {l}", i % 10))
    .collect()
}

fn syslog(_: &mut State, call: &Call) -> Result<Value, DemoError> {
    let start = call.param("start").and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
    let limit = call.param("limit").and_then(|s| s.parse::<usize>().ok()).unwrap_or(50);
    Ok(Value::Array(
        log_lines(call.node())
            .into_iter()
            .enumerate()
            .skip(start)
            .take(limit)
            .map(|(n, t)| json!({ "n": n + 1, "t": t }))
            .collect(),
    ))
}

fn journal(_: &mut State, call: &Call) -> Result<Value, DemoError> {
    let last = call.param("lastentries").and_then(|s| s.parse::<usize>().ok()).unwrap_or(usize::MAX);
    let mut lines: Vec<Value> = log_lines(call.node()).into_iter().map(Value::String).collect();
    let skip = lines.len().saturating_sub(last);
    lines.drain(..skip);
    lines.insert(0, json!("s=demo-cursor-start"));
    lines.push(json!("s=demo-cursor-end"));
    Ok(Value::Array(lines))
}

fn aplinfo(_: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(json!([
        { "template": "debian-13-standard_13.1-1_amd64.tar.zst", "package": "debian-13-standard", "os": "debian-13", "version": "13.1-1",
          "type": "lxc", "section": "system", "headline": "Debian 13 (standard)", "description": "A small Debian Trixie system.", "source": "http://download.proxmox.com/images/system/debian-13-standard_13.1-1_amd64.tar.zst" },
        { "template": "ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "package": "ubuntu-24.04-standard", "os": "ubuntu-24.04", "version": "24.04-2",
          "type": "lxc", "section": "system", "headline": "Ubuntu 24.04 (standard)", "description": "A small Ubuntu 24.04 system.", "source": "http://download.proxmox.com/images/system/ubuntu-24.04-standard_24.04-2_amd64.tar.zst" },
        { "template": "alpine-3.22-default_20250617_amd64.tar.xz", "package": "alpine-3.22-default", "os": "alpine-3.22", "version": "20250617",
          "type": "lxc", "section": "system", "headline": "Alpine Linux 3.22", "description": "Alpine Linux default image.", "source": "http://download.proxmox.com/images/system/alpine-3.22-default_20250617_amd64.tar.xz" }
    ]))
}

fn netstat(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        state
            .guests
            .iter()
            .filter(|g| g.node == call.node() && g.status == "running")
            .map(|g| {
                let dev = if g.kind == "lxc" { format!("veth{}i0", g.vmid) } else { format!("tap{}i0", g.vmid) };
                json!({ "vmid": g.vmid.to_string(), "dev": dev, "in": "734003200", "out": "215416832" })
            })
            .collect(),
    ))
}

fn disks(_: &mut State, call: &Call) -> Result<Value, DemoError> {
    let all = vec![
        json!({ "devpath": "/dev/nvme0n1", "type": "nvme", "model": "Samsung SSD 990 PRO 2TB", "serial": "S7DNNJ0W123456", "size": 2_000_398_934_016u64,
            "health": "PASSED", "wearout": 98, "used": "LVM", "gpt": 1, "rpm": 0, "vendor": "unknown" }),
        json!({ "devpath": "/dev/sda", "type": "ssd", "model": "INTEL SSDSC2KB960G8", "serial": "PHYF912345AB960CGN", "size": 960_197_124_096u64,
            "health": "PASSED", "wearout": 95, "used": "ZFS", "gpt": 1, "rpm": 0, "vendor": "ATA" }),
        json!({ "devpath": "/dev/sdb", "type": "hdd", "model": "WDC WD40EFRX-68N32N0", "serial": "WD-WCC7K1234567", "size": 4_000_787_030_016u64,
            "health": "PASSED", "wearout": "N/A", "used": "ZFS", "gpt": 1, "rpm": 5400, "vendor": "ATA" }),
    ];
    let want = call.param("type");
    Ok(Value::Array(
        all.into_iter()
            .filter(|d| match want {
                Some("unused") => false,
                Some("journal_disks") => d["type"] != "hdd",
                _ => true,
            })
            .collect(),
    ))
}

fn smart(_: &mut State, call: &Call) -> Result<Value, DemoError> {
    let disk = call.required("disk")?;
    if !["/dev/nvme0n1", "/dev/sda", "/dev/sdb"].contains(&disk) {
        return Err(DemoError::param("disk", format!("disk '{disk}' not found")));
    }
    if call.flag("healthonly") {
        return Ok(json!({ "health": "PASSED" }));
    }
    Ok(json!({ "health": "PASSED", "type": "ata", "attributes": [
        { "id": "  5", "name": "Reallocated_Sector_Ct", "value": 100, "worst": 100, "threshold": 10, "raw": "0", "fail": "-", "flags": "PO--CK" },
        { "id": "  9", "name": "Power_On_Hours", "value": 97, "worst": 97, "threshold": 0, "raw": "12873", "fail": "-", "flags": "-O--CK" },
        { "id": "194", "name": "Temperature_Celsius", "value": 66, "worst": 52, "threshold": 0, "raw": "34", "fail": "-", "flags": "-O---K" }
    ] }))
}

fn lvm(_: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(
        json!({ "leaf": 0, "children": [ { "name": "pve", "size": 1_998_251_364_352u64, "free": 16_903_045_120u64, "leaf": 0,
        "children": [ { "name": "/dev/nvme0n1p3", "size": 1_998_251_364_352u64, "free": 16_903_045_120u64, "leaf": 1 } ] } ] }),
    )
}

fn zfs(_: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(
        json!([{ "name": "tank", "size": 3_985_729_650_688u64, "alloc": 1_288_490_188_800u64, "free": 2_697_239_461_888u64,
        "frag": 4, "dedup": 1.0, "health": "ONLINE" }]),
    )
}

fn storage_json(s: &StorageState) -> Value {
    let mut v = Value::Object(s.config.clone());
    v["digest"] = json!("d1e2f3a4b5c6");
    v
}

fn storage_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let want = call.param("type");
    Ok(Value::Array(
        state.storages.iter().filter(|s| want.is_none_or(|t| s.config["type"] == t)).map(storage_json).collect(),
    ))
}

fn find<'s>(state: &'s mut State, id: &str) -> Result<&'s mut StorageState, DemoError> {
    state.storage_mut(id).ok_or_else(|| DemoError::new(500, format!("storage '{id}' does not exist")))
}

fn storage_get(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(storage_json(find(state, call.var("storage"))?))
}

fn storage_create(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.required("storage")?.to_string();
    let kind = call.required("type")?.to_string();
    if state.storage(&id).is_some() {
        return Err(DemoError::new(500, format!("storage ID '{id}' already defined")));
    }
    let mut config = Object::new();
    for (k, v) in call.params() {
        if k != "password" {
            config.insert(k.into(), json!(v));
        }
    }
    state.storages.push(StorageState { config, total: 500 * 1024 * 1024 * 1024, volumes: Vec::new() });
    Ok(json!({ "storage": id, "type": kind }))
}

fn storage_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let s = find(state, call.var("storage"))?;
    for (k, v) in call.params() {
        if !matches!(k, "delete" | "digest" | "password" | "storage" | "type") {
            s.config.insert(k.into(), json!(v));
        }
    }
    for k in call.param("delete").unwrap_or("").split(',').filter(|k| !k.is_empty()) {
        s.config.remove(k);
    }
    Ok(json!({ "storage": call.var("storage"), "type": s.config["type"] }))
}

fn storage_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("storage").to_string();
    find(state, &id)?;
    state.storages.retain(|s| s.id() != id);
    Ok(Value::Null)
}

fn content_delete(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("storage").to_string();
    let volume = call.var("volume");
    let volid = if volume.contains(':') { volume.to_string() } else { format!("{id}:{volume}") };
    let s = find(state, &id)?;
    if !s.volumes.iter().any(|v| v.volid == volid) {
        return Err(DemoError::new(500, format!("volume '{volid}' does not exist")));
    }
    let upid = state.start_task(call.node(), "imgdel", &volid.clone(), Ok(()), move |s| {
        if let Some(store) = s.storage_mut(&id) {
            store.volumes.retain(|v| v.volid != volid);
        }
    });
    Ok(json!(upid))
}

fn download_url(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("storage").to_string();
    let url = call.required("url")?.to_string();
    let filename = call.required("filename")?.to_string();
    let content = call.required("content")?.to_string();
    find(state, &id)?;
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(DemoError::param("url", "invalid URL"));
    }
    let upid = state.start_task(call.node(), "download", &id.clone(), Ok(()), move |s| {
        if let Some(store) = s.storage_mut(&id) {
            let format = if content == "iso" {
                "iso".to_string()
            } else {
                filename.rsplit('.').next().unwrap_or("raw").to_string()
            };
            store.volumes.push(VolumeState {
                volid: format!("{id}:{content}/{filename}"),
                content,
                format,
                size: 650 * 1024 * 1024,
                vmid: None,
                ctime: now(),
            });
        }
    });
    Ok(json!(upid))
}

/// The backups of a storage with what a prune does to each: the newest of every guest is kept.
fn prunable(state: &mut State, call: &Call) -> Result<Vec<(String, u32, bool)>, DemoError> {
    let only: Option<u32> = call.param("vmid").and_then(|v| v.parse().ok());
    let s = find(state, call.var("storage"))?;
    let mut backups: Vec<&VolumeState> =
        s.volumes.iter().filter(|v| v.content == "backup" && only.is_none_or(|id| v.vmid == Some(id))).collect();
    backups.sort_by_key(|v| std::cmp::Reverse(v.ctime));
    let mut seen = Vec::new();
    Ok(backups
        .into_iter()
        .map(|v| {
            let vmid = v.vmid.unwrap_or(0);
            let keep = !seen.contains(&vmid);
            seen.push(vmid);
            (v.volid.clone(), vmid, keep)
        })
        .collect())
}

fn prune_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        prunable(state, call)?
            .into_iter()
            .map(|(volid, vmid, keep)| {
                json!({ "volid": volid, "vmid": vmid, "type": "qemu", "ctime": now(), "mark": if keep { "keep" } else { "remove" } })
            })
            .collect(),
    ))
}

fn prune(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("storage").to_string();
    let remove: Vec<String> = prunable(state, call)?.into_iter().filter(|p| !p.2).map(|p| p.0).collect();
    Ok(json!(state.start_task(call.node(), "prunebackups", &id.clone(), Ok(()), move |s| {
        if let Some(store) = s.storage_mut(&id) {
            store.volumes.retain(|v| !remove.contains(&v.volid));
        }
    })))
}

fn file_restore_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let s = find(state, call.var("storage"))?;
    if s.config["type"] != "pbs" {
        return Err(DemoError::new(500, "file restore is only possible from Proxmox Backup Server storages"));
    }
    Ok(json!([]))
}
