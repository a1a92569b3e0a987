//! Node and storage endpoints of the demo: services, logs, tasks' node views, disks, and the
//! storage configuration and content.

use super::DemoError;
use super::routes::{Call, Route};
use super::state::{Object, State, StorageState, VolumeState, now};
use crate::tool::Method::{Delete, Get, Post, Put};
use serde_json::{Value, json};

pub(super) const ROUTES: &[Route] = &[
    Route { method: Get, path: "/nodes/{node}/version", params: &[], also: None, handler: version },
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
    Route { method: Post, path: "/storage", params: STORAGE_CREATE, also: None, handler: storage_create },
    Route { method: Get, path: "/storage/{storage}", params: &[], also: None, handler: storage_get },
    Route { method: Put, path: "/storage/{storage}", params: STORAGE_UPDATE, also: None, handler: storage_update },
    Route { method: Delete, path: "/storage/{storage}", params: &[], also: None, handler: storage_delete },
    Route {
        method: Delete,
        path: "/nodes/{node}/storage/{storage}/content/{volume+}",
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
    Route {
        method: Get,
        path: "/nodes/{node}/storage/{storage}/file-restore/download",
        params: &["volume", "filepath", "tar"],
        also: None,
        handler: file_restore_download,
    },
    Route {
        method: Post,
        path: "/nodes/{node}/storage/{storage}/upload",
        params: &["content", "filename", "checksum", "checksum-algorithm", "tmpfilename"],
        also: None,
        handler: upload,
    },
];

/// What a storage definition can set: the options of every storage type.
const STORAGE_CREATE: &[&str] = &[
    "authsupported",
    "base",
    "blocksize",
    "bwlimit",
    "comstar_hg",
    "comstar_tg",
    "content",
    "content-dirs",
    "create-base-path",
    "create-subdirs",
    "data-pool",
    "datastore",
    "disable",
    "domain",
    "encryption-key",
    "export",
    "fingerprint",
    "format",
    "fs-name",
    "fuse",
    "is_mountpoint",
    "iscsiprovider",
    "keyring",
    "krbd",
    "lio_tpg",
    "master-pubkey",
    "max-protected-backups",
    "mkdir",
    "monhost",
    "mountpoint",
    "namespace",
    "nocow",
    "nodes",
    "nowritecache",
    "options",
    "password",
    "path",
    "pool",
    "port",
    "portal",
    "preallocation",
    "prune-backups",
    "saferemove",
    "saferemove-stepsize",
    "saferemove_throughput",
    "server",
    "share",
    "shared",
    "skip-cert-verification",
    "smbversion",
    "snapshot-as-volume-chain",
    "sparse",
    "storage",
    "subdir",
    "tagged_only",
    "target",
    "thinpool",
    "type",
    "username",
    "vgname",
    "zfs-base-path",
];
/// What a change can set: the same but the fixed ones (id, type, path, server export…), and `delete`.
const STORAGE_UPDATE: &[&str] = &[
    "blocksize",
    "bwlimit",
    "comstar_hg",
    "comstar_tg",
    "content",
    "content-dirs",
    "create-base-path",
    "create-subdirs",
    "data-pool",
    "delete",
    "digest",
    "disable",
    "domain",
    "encryption-key",
    "fingerprint",
    "format",
    "fs-name",
    "fuse",
    "is_mountpoint",
    "keyring",
    "krbd",
    "lio_tpg",
    "master-pubkey",
    "max-protected-backups",
    "mkdir",
    "monhost",
    "mountpoint",
    "namespace",
    "nocow",
    "nodes",
    "nowritecache",
    "options",
    "password",
    "pool",
    "port",
    "preallocation",
    "prune-backups",
    "saferemove",
    "saferemove-stepsize",
    "saferemove_throughput",
    "server",
    "shared",
    "skip-cert-verification",
    "smbversion",
    "snapshot-as-volume-chain",
    "sparse",
    "subdir",
    "tagged_only",
    "username",
    "zfs-base-path",
];

/// A node's services: (name, description, enabled unit). Disabled or missing units start stopped.
const SERVICES: &[(&str, &str, &str)] = &[
    ("chrony", "Chrony time synchronisation", "enabled"),
    ("corosync", "Corosync Cluster Engine", "enabled"),
    ("cron", "Regular background program processing daemon", "enabled"),
    ("ksmtuned", "Kernel Samepage Merging (KSM) Tuning Daemon", "enabled"),
    ("lxcfs", "FUSE filesystem for LXC", "enabled"),
    ("postfix", "Postfix Mail Transport Agent", "enabled"),
    ("proxmox-firewall", "Proxmox nftables firewall", "disabled"),
    ("pve-cluster", "The Proxmox VE cluster filesystem", "enabled"),
    ("pve-firewall", "Proxmox VE firewall", "enabled"),
    ("pve-ha-crm", "PVE Cluster HA Resource Manager Daemon", "enabled"),
    ("pve-ha-lrm", "PVE Local HA Resource Manager Daemon", "enabled"),
    ("pve-lxc-syscalld", "Proxmox VE LXC Syscall Daemon", "enabled"),
    ("pvedaemon", "PVE API Daemon", "enabled"),
    ("pvefw-logger", "Proxmox VE firewall logger", "enabled"),
    ("pveproxy", "PVE API Proxy Server", "enabled"),
    ("pvescheduler", "Proxmox VE scheduler", "enabled"),
    ("pvestatd", "PVE Status Daemon", "enabled"),
    ("qmeventd", "PVE Qemu Event Daemon", "enabled"),
    ("spiceproxy", "PVE SPICE Proxy Server", "enabled"),
    ("sshd", "OpenBSD Secure Shell server", "enabled"),
    ("syslog", "System Logging Service", "not-found"),
    ("systemd-journald", "Journal Service", "static"),
    ("systemd-timesyncd", "Network Time Synchronization", "masked"),
];

/// Whether a service of a node runs: as seeded, or as the last start/stop left it.
fn service_running(state: &State, node: &str, name: &str, unit: &str) -> bool {
    match state.services.get(&(node.to_string(), name.to_string())) {
        Some(running) => *running,
        None => !matches!(unit, "disabled" | "not-found" | "masked"),
    }
}

fn services(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        SERVICES
            .iter()
            .map(|(name, desc, unit)| {
                let running = service_running(state, call.node(), name, unit);
                let desc = if *unit == "not-found" { "" } else { desc };
                json!({ "service": name, "name": name, "desc": desc, "unit-state": unit,
                    "state": if running { "running" } else { "dead" },
                    "active-state": if running { "active" } else { "inactive" } })
            })
            .collect(),
    ))
}

fn service_action(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let service = call.var("service").to_string();
    let Some((_, _, unit)) = SERVICES.iter().find(|(n, ..)| *n == service) else {
        return Err(DemoError::param("service", format!("value '{service}' does not have a value in the enumeration")));
    };
    let action = call.last().to_string();
    let node = call.node().to_string();
    let outcome = match (*unit, action.as_str()) {
        ("not-found" | "masked", "start" | "restart" | "reload") => {
            Err(format!("Failed to {action} {service}.service: Unit {service}.service is {unit}."))
        }
        _ => Ok(()),
    };
    let running = action != "stop";
    let key = (node.clone(), service.clone());
    Ok(json!(state.start_task(&node, &format!("srv{action}"), &service, outcome, move |s| {
        s.services.insert(key, running);
    })))
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
            "health": "PASSED", "wearout": 98, "used": "LVM", "gpt": 1, "rpm": 0, "vendor": "unknown", "mounted": 0, "osdid": -1,
            "osdid-list": [], "wwn": "eui.002538b231a0b7c4", "by_id_link": "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0W123456" }),
        json!({ "devpath": "/dev/sda", "type": "ssd", "model": "INTEL SSDSC2KB960G8", "serial": "PHYF912345AB960CGN", "size": 960_197_124_096u64,
            "health": "PASSED", "wearout": 95, "used": "ZFS", "gpt": 1, "rpm": 0, "vendor": "ATA", "mounted": 0, "osdid": -1,
            "osdid-list": [], "wwn": "0x55cd2e415c0a1b2c" }),
        json!({ "devpath": "/dev/sdb", "type": "hdd", "model": "WDC WD40EFRX-68N32N0", "serial": "WD-WCC7K1234567", "size": 4_000_787_030_016u64,
            "health": "PASSED", "wearout": "N/A", "used": "ZFS", "gpt": 1, "rpm": 5400, "vendor": "ATA", "mounted": 0, "osdid": -1,
            "osdid-list": [], "wwn": "0x50014ee2b5c3d4e5" }),
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
    // Proxmox keeps passwords, keyrings and keys apart (/etc/pve/priv), out of the definition.
    for (k, v) in call.params() {
        if !crate::client::is_secret_param(k) {
            config.insert(k.into(), json!(v));
        }
    }
    state.storages.push(StorageState { config, total: 500 * 1024 * 1024 * 1024, volumes: Vec::new() });
    Ok(json!({ "storage": id, "type": kind }))
}

fn storage_update(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let s = find(state, call.var("storage"))?;
    for (k, v) in call.params() {
        if !matches!(k, "delete" | "digest" | "storage" | "type") && !crate::client::is_secret_param(k) {
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
    let upid = state.start_task(call.node(), "imgdel", "", Ok(()), move |s| {
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
    let upid = state.start_task(call.node(), "download", &filename.clone(), Ok(()), move |s| {
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
                config: None,
            });
        }
    });
    Ok(json!(upid))
}

/// The guest type of a backup volume: qemu or lxc.
fn backup_type(volid: &str) -> &'static str {
    if volid.contains("vzdump-lxc-") || volid.contains(":backup/ct/") { "lxc" } else { "qemu" }
}

/// A backup and its prune mark: (volid, vmid, guest type, ctime, mark).
type Marked = (String, u32, &'static str, u64, &'static str);

/// The backups of a storage with what a prune by these rules does to each, as Proxmox marks
/// them: per guest, newest first, `keep-last` keeps the newest N, then each of `keep-hourly`,
/// `-daily`, `-weekly`, `-monthly`, `-yearly` keeps the newest backup of N more periods.
/// Without rules the storage's own apply; without those, every backup is kept.
fn prunable(state: &mut State, call: &Call) -> Result<Vec<Marked>, DemoError> {
    let only: Option<u32> = call.param("vmid").and_then(|v| v.parse().ok());
    let kind = call.param("type");
    let s = find(state, call.var("storage"))?;
    let rules = call
        .param("prune-backups")
        .map(str::to_string)
        .or_else(|| s.config.get("prune-backups").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| "keep-all=1".into());
    let mut keep: Vec<(&str, usize)> = Vec::new();
    for rule in rules.split(',').filter(|r| !r.is_empty()) {
        let (name, n) = rule.split_once('=').ok_or_else(|| DemoError::param("prune-backups", "invalid format"))?;
        let n: usize = n.parse().map_err(|_| DemoError::param("prune-backups", format!("invalid value for {name}")))?;
        match name {
            "keep-all" | "keep-last" | "keep-hourly" | "keep-daily" | "keep-weekly" | "keep-monthly"
            | "keep-yearly" => keep.push((if name == "keep-all" { "keep-all" } else { name }, n)),
            _ => return Err(DemoError::param("prune-backups", format!("invalid option '{name}'"))),
        }
    }
    let keep_all = keep.iter().any(|(k, n)| *k == "keep-all" && *n > 0);
    let mut backups: Vec<(String, u32, &'static str, u64)> = s
        .volumes
        .iter()
        .filter(|v| v.content == "backup" && only.is_none_or(|id| v.vmid == Some(id)))
        .filter(|v| kind.is_none_or(|k| k == backup_type(&v.volid)))
        .map(|v| (v.volid.clone(), v.vmid.unwrap_or(0), backup_type(&v.volid), v.ctime))
        .collect();
    backups.sort_by_key(|b| std::cmp::Reverse(b.3));
    let mut marks: Vec<Option<&'static str>> = vec![None; backups.len()];
    let period = |rule: &str, t: u64| -> String {
        let (y, m, d) = super::state::civil((t / 86_400) as i64);
        match rule {
            "keep-last" => t.to_string(),
            "keep-hourly" => format!("{y}/{m}/{d}/{}", t % 86_400 / 3600),
            "keep-daily" => format!("{y}/{m}/{d}"),
            "keep-weekly" => ((t / 86_400 + 3) / 7).to_string(),
            "keep-monthly" => format!("{y}/{m}"),
            _ => y.to_string(),
        }
    };
    let groups: std::collections::BTreeSet<(u32, &str)> = backups.iter().map(|b| (b.1, b.2)).collect();
    for (vmid, kind) in groups {
        let members: Vec<usize> =
            (0..backups.len()).filter(|i| backups[*i].1 == vmid && backups[*i].2 == kind).collect();
        for rule in ["keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"] {
            let Some(count) = keep.iter().find(|(k, _)| *k == rule).map(|(_, n)| *n).filter(|n| *n > 0) else {
                continue;
            };
            let already: Vec<String> =
                members.iter().filter(|i| marks[**i] == Some("keep")).map(|i| period(rule, backups[*i].3)).collect();
            let mut newly: Vec<String> = Vec::new();
            for &i in &members {
                let id = period(rule, backups[i].3);
                if marks[i].is_some() || already.contains(&id) {
                    continue;
                }
                if !newly.contains(&id) {
                    if newly.len() >= count {
                        break;
                    }
                    newly.push(id);
                    marks[i] = Some("keep");
                } else {
                    marks[i] = Some("remove");
                }
            }
        }
    }
    Ok(backups
        .into_iter()
        .zip(marks)
        .map(|((volid, vmid, kind, ctime), mark)| {
            (volid, vmid, kind, ctime, mark.unwrap_or(if keep_all { "keep" } else { "remove" }))
        })
        .collect())
}

fn prune_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    Ok(Value::Array(
        prunable(state, call)?
            .into_iter()
            .map(|(volid, vmid, kind, ctime, mark)| {
                json!({ "volid": volid, "vmid": vmid, "type": kind, "ctime": ctime, "mark": mark })
            })
            .collect(),
    ))
}

fn prune(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("storage").to_string();
    let remove: Vec<String> = prunable(state, call)?.into_iter().filter(|p| p.4 == "remove").map(|p| p.0).collect();
    Ok(json!(state.start_task(call.node(), "prunebackups", &id.clone(), Ok(()), move |s| {
        if let Some(store) = s.storage_mut(&id) {
            store.volumes.retain(|v| !remove.contains(&v.volid));
        }
    })))
}

fn version(_: &mut State, _: &Call) -> Result<Value, DemoError> {
    Ok(json!({ "version": "9.1.2", "release": "9.1", "repoid": "demo0001" }))
}

/// `POST .../upload`: the file arrives (the demo notes its size), then a task "copies" it in.
fn upload(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let id = call.var("storage").to_string();
    let content = call.required("content")?.to_string();
    let Some(file) = call.upload() else {
        return Err(DemoError::param("filename", "property is missing and it is not optional"));
    };
    let filename = file.filename.clone();
    let size = file.len();
    let s = find(state, &id)?;
    if !s.on_node(call.node()) {
        return Err(DemoError::new(500, format!("storage '{id}' is not available on node '{}'", call.node())));
    }
    if !s.config["content"].as_str().unwrap_or("").split(',').any(|c| c == content) {
        return Err(DemoError::param("content", format!("storage '{id}' does not support content type '{content}'")));
    }
    let volid = format!("{id}:{content}/{filename}");
    let format = match content.as_str() {
        "iso" => "iso".to_string(),
        _ => filename.split_once('.').map_or("raw", |(_, ext)| ext).to_string(),
    };
    let upid = state.start_task(call.node(), "imgcopy", "", Ok(()), move |s| {
        if let Some(store) = s.storage_mut(&id) {
            store.volumes.retain(|v| v.volid != volid);
            store.volumes.push(VolumeState { volid, content, format, size, vmid: None, ctime: now(), config: None });
        }
    });
    Ok(json!(upid))
}

/// The files of a PBS backup, for single-file restore: (path, type, content). Type `v` is a
/// virtual entry (an archive, a partition), `d` a directory, `f` a file.
fn backup_files(volume: &str) -> Vec<(String, &'static str, &'static str)> {
    let vm = volume.contains(":backup/vm/");
    let (root, fs) = if vm {
        ("/drive-scsi0.img.fidx", "/drive-scsi0.img.fidx/part/1")
    } else {
        ("/root.pxar.didx", "/root.pxar.didx")
    };
    let host = if vm { "web\n" } else { "dns\n" };
    let mut entries = vec![(root.to_string(), "v", "")];
    if vm {
        entries.push((format!("{root}/part"), "v", ""));
        entries.push((fs.to_string(), "d", ""));
    }
    let files: &[(&str, &'static str, &'static str)] = &[
        ("etc", "d", ""),
        ("etc/hostname", "f", ""),
        ("etc/hosts", "f", "127.0.0.1\tlocalhost\n192.0.2.100\tweb.lab.example.com web\n"),
        (
            "etc/os-release",
            "f",
            "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"13\"\nID=debian\n",
        ),
        ("etc/fstab", "f", "UUID=6f0c2f3e-1c5e-4b0a-9d3a-2b1f0e6c7d8a / ext4 errors=remount-ro 0 1\n"),
        ("home", "d", ""),
        ("home/admin", "d", ""),
        ("home/admin/notes.txt", "f", "Remember: renew the TLS certificate before December.\n"),
        ("var", "d", ""),
        ("var/www", "d", ""),
        ("var/www/index.html", "f", "<!doctype html>\n<title>It works</title>\n<h1>Hello from the demo cluster</h1>\n"),
    ];
    for (path, kind, content) in files {
        let content = if *path == "etc/hostname" { host } else { content };
        entries.push((format!("{fs}/{path}"), kind, content));
    }
    entries
}

/// The PBS backup of a file-restore request and the path asked for (`filepath`: base64 or `/`).
fn restore_target(state: &mut State, call: &Call) -> Result<(String, String), DemoError> {
    let volume = call.required("volume")?.to_string();
    let filepath = call.required("filepath")?.to_string();
    let s = find(state, call.var("storage"))?;
    if s.config["type"] != "pbs" {
        return Err(DemoError::new(500, "file restore is only possible from Proxmox Backup Server storages"));
    }
    if !s.volumes.iter().any(|v| v.volid == volume) {
        return Err(DemoError::new(500, format!("volume '{volume}' does not exist")));
    }
    let path = if filepath == "/" {
        String::new()
    } else {
        backup_files(&volume)
            .into_iter()
            .map(|(p, ..)| p)
            .find(|p| crate::format::base64(p.as_bytes()) == filepath)
            .ok_or_else(|| {
                DemoError::new(500, "path not found in the backup (filepath is the base64 of a listed path)")
            })?
    };
    Ok((volume, path))
}

fn file_restore_list(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let (volume, dir) = restore_target(state, call)?;
    let files = backup_files(&volume);
    let mtime = now() - 86_400;
    let children: Vec<Value> = files
        .iter()
        .filter(|(p, ..)| p.rsplit_once('/').is_some_and(|(parent, _)| parent == dir))
        .map(|(p, kind, content)| {
            let mut e = json!({ "filepath": crate::format::base64(p.as_bytes()), "text": p.rsplit('/').next().unwrap_or(p),
                "type": kind, "leaf": *kind == "f" });
            if *kind != "v" {
                e["mtime"] = json!(mtime);
            }
            if *kind == "f" {
                e["size"] = json!(content.len());
            }
            e
        })
        .collect();
    if children.is_empty() && files.iter().any(|(p, kind, _)| *p == dir && *kind == "f") {
        return Err(DemoError::new(500, format!("'{dir}' is a file, not a directory")));
    }
    Ok(Value::Array(children))
}

/// A file's content, or a directory as a zip archive (bytes).
fn file_restore_download(state: &mut State, call: &Call) -> Result<Value, DemoError> {
    let (volume, path) = restore_target(state, call)?;
    let files = backup_files(&volume);
    if let Some((_, _, content)) = files.iter().find(|(p, kind, _)| *p == path && *kind == "f") {
        return Ok(json!(content));
    }
    let inside: Vec<(String, &str)> = files
        .iter()
        .filter(|(p, kind, _)| *kind == "f" && p.starts_with(&format!("{path}/")))
        .map(|(p, _, content)| (p[path.len() + 1..].to_string(), *content))
        .collect();
    Ok(Value::Array(zip(&inside).into_iter().map(Value::from).collect()))
}

/// A zip archive (stored, not compressed) of these files.
fn zip(files: &[(String, &str)]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, content) in files {
        let (name, data) = (name.as_bytes(), content.as_bytes());
        let (crc, len, offset) = (crc32(data), data.len() as u32, out.len() as u32);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]); // version, flags, stored, time, date
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&[0, 0]);
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0]);
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&[0; 4]); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let (count, size, offset) = (files.len() as u16, central.len() as u32, out.len() as u32);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}
