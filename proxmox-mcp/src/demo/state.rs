//! The simulated cluster's state: nodes, guests, storage, tasks and cluster configuration.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub type Object = Map<String, Value>;

/// A cluster node.
#[derive(Clone, Debug)]
pub struct NodeState {
    pub name: String,
    pub online: bool,
    pub cores: u64,
    pub mem_total: u64,
    pub ip: String,
}

/// A VM or container.
#[derive(Clone, Debug)]
pub struct Guest {
    pub vmid: u32,
    /// "qemu" or "lxc".
    pub kind: &'static str,
    pub node: String,
    pub status: String,
    pub config: Object,
    /// Snapshots in creation order: (name, description, snaptime, config at the time).
    pub snapshots: Vec<(String, String, u64, Object)>,
    pub started: Option<Instant>,
    pub agent_running: bool,
    pub firewall_rules: Vec<Object>,
    /// The options of its firewall (`enable`, policies, log levels), as set.
    pub firewall_options: Object,
}

impl Guest {
    pub fn name(&self) -> String {
        let key = if self.kind == "lxc" { "hostname" } else { "name" };
        self.config.get(key).and_then(Value::as_str).unwrap_or("").to_string()
    }
    pub fn is_template(&self) -> bool {
        self.config.get("template").is_some_and(|t| t == 1 || t == "1")
    }
    pub fn memory_bytes(&self) -> u64 {
        let mib =
            self.config.get("memory").and_then(|m| m.as_u64().or_else(|| m.as_str()?.parse().ok())).unwrap_or(512);
        mib * 1024 * 1024
    }
    pub fn cores(&self) -> u64 {
        self.config.get("cores").and_then(|m| m.as_u64().or_else(|| m.as_str()?.parse().ok())).unwrap_or(1)
    }
    /// The configuration turns the QEMU guest agent on (`agent: 1` or `agent: enabled=1,...`).
    pub fn agent_enabled(&self) -> bool {
        let value = self.config.get("agent").map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string));
        value.is_some_and(|v| v.split(',').any(|p| p == "1" || p == "enabled=1"))
    }
    pub fn uptime(&self) -> u64 {
        self.started.map_or(0, |s| s.elapsed().as_secs() + 3600)
    }
}

/// What a task does to the cluster when it ends OK.
pub type Effect = Box<dyn FnOnce(&mut State) + Send>;

/// A task: what Proxmox calls a worker, with a UPID.
pub struct Task {
    pub upid: String,
    pub node: String,
    pub kind: String,
    pub id: String,
    pub starttime: u64,
    pub began: Instant,
    pub ends: Instant,
    /// `Ok` or the error the task ends with.
    pub outcome: Result<(), String>,
    /// Warnings it logs; an `Ok` task with warnings ends `WARNINGS: n`.
    pub warnings: Vec<String>,
    /// Applied when the task ends.
    pub effect: Option<Effect>,
    pub log: Vec<String>,
    pub done: bool,
}

/// A volume on a storage.
#[derive(Clone, Debug)]
pub struct VolumeState {
    pub volid: String,
    pub content: String,
    pub format: String,
    pub size: u64,
    pub vmid: Option<u32>,
    pub ctime: u64,
    /// A backup's guest configuration (what a restore brings back).
    pub config: Option<Object>,
}

/// A storage definition and what it holds.
#[derive(Clone, Debug)]
pub struct StorageState {
    pub config: Object,
    pub total: u64,
    pub volumes: Vec<VolumeState>,
}

impl StorageState {
    pub fn id(&self) -> &str {
        self.config.get("storage").and_then(Value::as_str).unwrap_or("")
    }
    pub fn used(&self) -> u64 {
        self.volumes.iter().map(|v| v.size).sum()
    }
    pub fn shared(&self) -> bool {
        self.config.get("shared").is_some_and(|s| s == 1)
    }
    pub fn on_node(&self, node: &str) -> bool {
        match self.config.get("nodes").and_then(Value::as_str) {
            Some(list) => list.split(',').any(|n| n == node),
            None => true,
        }
    }
}

/// Everything the demo cluster knows.
pub struct State {
    pub nodes: Vec<NodeState>,
    pub guests: Vec<Guest>,
    pub storages: Vec<StorageState>,
    pub tasks: Vec<Task>,
    pub task_duration: Duration,
    /// Cluster-level objects kept as Proxmox returns them, by collection.
    pub ha_resources: BTreeMap<String, Object>,
    pub ha_groups: BTreeMap<String, Object>,
    pub ha_rules: BTreeMap<String, Object>,
    pub firewall_rules: Vec<Object>,
    /// The options of the cluster firewall, and of each node's.
    pub firewall_options: Object,
    pub node_firewall_options: BTreeMap<String, Object>,
    pub firewall_groups: BTreeMap<String, (String, Vec<Object>)>,
    pub backup_jobs: BTreeMap<String, Object>,
    pub replication_jobs: BTreeMap<String, Object>,
    pub options: Object,
    /// Guest agent processes started with `agent/exec`: pid → (vmid, exit code, stdout, stderr).
    pub agent_processes: BTreeMap<u64, (u32, i64, String, String)>,
    /// Services started or stopped: (node, service) → running.
    pub services: BTreeMap<(String, String), bool>,
    /// The `total` Proxmox sends beside `data` for the list a handler just answered with a page
    /// of (task lists, logs): set by the handler, taken with the answer.
    pub total: Option<u64>,
    pid: u32,
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The day count since 1970-01-01 of a (year, month, day).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// When a backup was made, from its name: `vzdump-…-2026_11_20-02_00_01.vma.zst` or a PBS
/// snapshot `…/2026-11-24T01:00:00Z`.
pub fn backup_time(volid: &str) -> Option<u64> {
    let digits: Vec<u64> =
        volid.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect();
    let [y, mo, d, h, mi, s] = digits[digits.len().checked_sub(6)?..] else { return None };
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    u64::try_from(days * 86_400).ok().map(|t| t + h * 3600 + mi * 60 + s)
}

fn obj(v: Value) -> Object {
    match v {
        Value::Object(m) => m,
        _ => Object::new(),
    }
}

const GIB: u64 = 1024 * 1024 * 1024;

/// The PBS backup of VM 100 whose files the demo's single-file restore shows.
pub const PBS_VM_BACKUP: &str = "pbs:backup/vm/100/2026-11-24T01:00:00Z";

impl State {
    /// The demo cluster: pve1 and pve2 online, pve3 offline; VM 100 runs on pve1.
    pub fn seeded(task_duration: Duration) -> State {
        let node = |name: &str, online: bool, cores: u64, mem_gib: u64, ip: &str| NodeState {
            name: name.into(),
            online,
            cores,
            mem_total: mem_gib * GIB,
            ip: ip.into(),
        };
        let guest = |vmid: u32, kind: &'static str, node: &str, status: &str, config: Value| Guest {
            vmid,
            kind,
            node: node.into(),
            status: status.into(),
            config: obj(config),
            snapshots: Vec::new(),
            started: (status == "running").then(Instant::now),
            agent_running: false,
            firewall_rules: Vec::new(),
            firewall_options: Object::new(),
        };
        let mut web = guest(
            100,
            "qemu",
            "pve1",
            "running",
            json!({
                "name": "web", "memory": "4096", "cores": 2, "sockets": 1, "ostype": "l26", "agent": "1",
                "scsihw": "virtio-scsi-single", "scsi0": "local-lvm:vm-100-disk-0,iothread=1,size=32G",
                "net0": "virtio=BC:24:11:2A:00:64,bridge=vmbr0,firewall=1", "boot": "order=scsi0;net0",
                "ide2": "none,media=cdrom", "onboot": 1, "digest": "5b1c7e0a1f3d"
            }),
        );
        web.agent_running = true;
        web.firewall_rules = vec![obj(
            json!({ "pos": 0, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "443", "enable": 1, "comment": "HTTPS" }),
        )];
        let mut db = guest(
            101,
            "qemu",
            "pve1",
            "stopped",
            json!({
                "name": "db", "memory": "8192", "cores": 4, "sockets": 1, "ostype": "l26",
                "scsihw": "virtio-scsi-single", "scsi0": "local-lvm:vm-101-disk-0,size=64G",
                "net0": "virtio=BC:24:11:2A:00:65,bridge=vmbr0", "digest": "8e2d4c6b9a01"
            }),
        );
        let snap_config = db.config.clone();
        db.snapshots.push((
            "before-upgrade".into(),
            "PostgreSQL 16 before the upgrade".into(),
            now() - 86_400 * 3,
            snap_config.clone(),
        ));
        db.snapshots.push(("after-upgrade".into(), "PostgreSQL 17".into(), now() - 86_400, snap_config));
        let template = guest(
            9000,
            "qemu",
            "pve2",
            "stopped",
            json!({
                "name": "debian-13-template", "memory": "2048", "cores": 2, "ostype": "l26", "template": 1,
                "scsi0": "local-lvm:base-9000-disk-0,size=8G", "net0": "virtio=BC:24:11:2A:23:28,bridge=vmbr0",
                "digest": "0f0e0d0c0b0a"
            }),
        );
        let mut dns = guest(
            200,
            "lxc",
            "pve1",
            "running",
            json!({
                "hostname": "dns", "memory": 512, "swap": 512, "cores": 1, "ostype": "debian", "arch": "amd64",
                "rootfs": "local-lvm:vm-200-disk-0,size=8G", "net0": "name=eth0,bridge=vmbr0,ip=dhcp,hwaddr=BC:24:11:2A:00:C8",
                "unprivileged": 1, "onboot": 1, "digest": "a1b2c3d4e5f6"
            }),
        );
        dns.firewall_rules = vec![obj(
            json!({ "pos": 0, "type": "in", "action": "ACCEPT", "proto": "udp", "dport": "53", "enable": 1, "comment": "DNS" }),
        )];
        let proxy = guest(
            201,
            "lxc",
            "pve2",
            "stopped",
            json!({
                "hostname": "proxy", "memory": 1024, "swap": 0, "cores": 2, "ostype": "alpine", "arch": "amd64",
                "rootfs": "local-lvm:vm-201-disk-0,size=4G", "mp0": "local-lvm:vm-201-disk-1,mp=/var/cache,size=16G",
                "net0": "name=eth0,bridge=vmbr0,ip=192.0.2.21/24,gw=192.0.2.1", "unprivileged": 1, "digest": "c0ffee000201"
            }),
        );
        let vol = |volid: &str, content: &str, format: &str, size: u64, vmid: Option<u32>| VolumeState {
            volid: volid.into(),
            content: content.into(),
            format: format.into(),
            size,
            vmid,
            ctime: now() - 86_400 * 7,
            config: None,
        };
        // A backup of a guest as seeded: restoring it brings this configuration back.
        let backup = |volid: &str, format: &str, size: u64, g: &Guest, age_days: u64| VolumeState {
            volid: volid.into(),
            content: "backup".into(),
            format: format.into(),
            size,
            vmid: Some(g.vmid),
            ctime: backup_time(volid).unwrap_or_else(|| now() - 86_400 * age_days),
            config: Some(g.config.clone()),
        };
        let storages = vec![
            StorageState {
                config: obj(
                    json!({ "storage": "local", "type": "dir", "path": "/var/lib/vz", "content": "iso,vztmpl,backup,import" }),
                ),
                total: 100 * GIB,
                volumes: vec![
                    vol("local:iso/debian-13.1.0-amd64-netinst.iso", "iso", "iso", 754 * 1024 * 1024, None),
                    vol(
                        "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
                        "vztmpl",
                        "tzst",
                        130 * 1024 * 1024,
                        None,
                    ),
                    vol(
                        "local:vztmpl/alpine-3.22-default_20250617_amd64.tar.xz",
                        "vztmpl",
                        "txz",
                        3 * 1024 * 1024,
                        None,
                    ),
                    backup("local:backup/vzdump-qemu-101-2026_11_20-02_00_01.vma.zst", "vma.zst", 9 * GIB, &db, 5),
                    backup(
                        "local:backup/vzdump-lxc-200-2026_11_20-02_10_00.tar.zst",
                        "tar.zst",
                        700 * 1024 * 1024,
                        &dns,
                        5,
                    ),
                ],
            },
            StorageState {
                config: obj(
                    json!({ "storage": "local-lvm", "type": "lvmthin", "vgname": "pve", "thinpool": "data", "content": "images,rootdir" }),
                ),
                total: 800 * GIB,
                volumes: vec![
                    vol("local-lvm:vm-100-disk-0", "images", "raw", 32 * GIB, Some(100)),
                    vol("local-lvm:vm-101-disk-0", "images", "raw", 64 * GIB, Some(101)),
                    vol("local-lvm:base-9000-disk-0", "images", "raw", 8 * GIB, Some(9000)),
                    vol("local-lvm:vm-200-disk-0", "rootdir", "raw", 8 * GIB, Some(200)),
                    vol("local-lvm:vm-201-disk-0", "rootdir", "raw", 4 * GIB, Some(201)),
                    vol("local-lvm:vm-201-disk-1", "rootdir", "raw", 16 * GIB, Some(201)),
                ],
            },
            StorageState {
                config: obj(
                    json!({ "storage": "nas-backup", "type": "nfs", "server": "192.0.2.50", "export": "/export/pve",
                    "path": "/mnt/pve/nas-backup", "content": "backup,iso", "shared": 1, "prune-backups": "keep-daily=7,keep-weekly=4" }),
                ),
                total: 4096 * GIB,
                volumes: vec![
                    backup(
                        "nas-backup:backup/vzdump-qemu-100-2026_11_23-01_00_00.vma.zst",
                        "vma.zst",
                        14 * GIB,
                        &web,
                        2,
                    ),
                    backup(
                        "nas-backup:backup/vzdump-qemu-100-2026_11_24-01_00_00.vma.zst",
                        "vma.zst",
                        14 * GIB,
                        &web,
                        1,
                    ),
                ],
            },
            StorageState {
                config: obj(
                    json!({ "storage": "local-zfs", "type": "zfspool", "pool": "tank/data", "sparse": 1, "content": "images,rootdir",
                    "nodes": "pve1,pve2" }),
                ),
                total: 2 * 1024 * GIB,
                volumes: Vec::new(),
            },
            StorageState {
                config: obj(
                    json!({ "storage": "pbs", "type": "pbs", "server": "192.0.2.60", "datastore": "store1", "username": "backup@pbs",
                    "fingerprint": "b4:2f:9a:0c:6e:11:d3:58:7a:e0:44:19:c2:8b:5d:f6:01:23:45:67:89:ab:cd:ef:fe:dc:ba:98:76:54:32:10",
                    "content": "backup", "prune-backups": "keep-last=3,keep-daily=7", "shared": 1 }),
                ),
                total: 8192 * GIB,
                volumes: vec![
                    backup(PBS_VM_BACKUP, "pbs-vm", 11 * GIB, &web, 1),
                    backup("pbs:backup/ct/200/2026-11-24T01:10:00Z", "pbs-ct", 600 * 1024 * 1024, &dns, 1),
                ],
            },
        ];
        let mut ha_resources = BTreeMap::new();
        ha_resources.insert("vm:100".into(), obj(json!({ "sid": "vm:100", "type": "vm", "state": "started", "max_restart": 1, "max_relocate": 1, "comment": "public web server", "digest": "9a8b7c6d" })));
        let mut ha_groups = BTreeMap::new();
        ha_groups.insert("prefer-pve1".into(), obj(json!({ "group": "prefer-pve1", "type": "group", "nodes": "pve1:2,pve2:1", "restricted": 0, "nofailback": 0 })));
        let mut ha_rules = BTreeMap::new();
        ha_rules.insert("web-on-pve1".into(), obj(json!({ "rule": "web-on-pve1", "type": "node-affinity", "resources": "vm:100", "nodes": "pve1:2,pve2:1", "strict": 0, "comment": "keep the web server on pve1 while it is up" })));
        let mut firewall_groups = BTreeMap::new();
        firewall_groups.insert(
            "webservers".into(),
            ("HTTP and HTTPS in".to_string(), vec![
                obj(json!({ "pos": 0, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "80", "enable": 1 })),
                obj(json!({ "pos": 1, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "443", "enable": 1 })),
            ]),
        );
        let mut backup_jobs = BTreeMap::new();
        backup_jobs.insert("backup-5f3a2c1e-7d10".into(), obj(json!({
            "id": "backup-5f3a2c1e-7d10", "type": "vzdump", "schedule": "daily 02:00", "storage": "nas-backup", "mode": "snapshot",
            "compress": "zstd", "all": 1, "enabled": 1, "mailnotification": "failure", "comment": "nightly backup of every guest"
        })));
        let mut replication_jobs = BTreeMap::new();
        replication_jobs.insert("100-0".into(), obj(json!({ "id": "100-0", "type": "local", "guest": 100, "target": "pve2", "schedule": "*/15", "jobnum": 0, "source": "pve1" })));
        let mut state = State {
            nodes: vec![
                node("pve1", true, 16, 64, "192.0.2.11"),
                node("pve2", true, 16, 64, "192.0.2.12"),
                node("pve3", false, 8, 32, "192.0.2.13"),
            ],
            guests: vec![web, db, template, dns, proxy],
            storages,
            tasks: Vec::new(),
            task_duration,
            ha_resources,
            ha_groups,
            ha_rules,
            firewall_rules: vec![
                obj(
                    json!({ "pos": 0, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "8006", "source": "192.0.2.0/24", "enable": 1, "comment": "web UI from the admin LAN" }),
                ),
                obj(
                    json!({ "pos": 1, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "22", "source": "192.0.2.0/24", "enable": 1, "comment": "SSH" }),
                ),
                obj(json!({ "pos": 2, "type": "group", "action": "webservers", "enable": 1 })),
            ],
            firewall_options: obj(json!({ "enable": 1, "policy_in": "DROP", "policy_out": "ACCEPT" })),
            node_firewall_options: BTreeMap::new(),
            firewall_groups,
            backup_jobs,
            replication_jobs,
            agent_processes: BTreeMap::new(),
            services: BTreeMap::new(),
            options: obj(
                json!({ "keyboard": "en-us", "console": "html5", "migration": { "type": "secure" }, "digest": "11aa22bb" }),
            ),
            total: None,
            pid: 0x1000,
        };
        state.record_history();
        state
    }

    /// Tasks that ran before the demo started: last night's backups (one guest failed), a snapshot
    /// and a start, with their logs.
    fn record_history(&mut self) {
        let day = 86_400;
        // (node, task type, id, seconds ago, outcome, log)
        type Past<'a> = (&'a str, &'a str, &'a str, u64, Result<(), &'a str>, &'a [&'a str]);
        let history: [Past; 4] = [
            ("pve1", "qmsnapshot", "101", 3 * day, Ok(()), &["snapshotting 'drive-scsi0' (local-lvm:vm-101-disk-0)"]),
            (
                "pve1",
                "vzdump",
                "",
                day + 6 * 3600,
                Ok(()),
                &[
                    "INFO: starting new backup job: vzdump --all 1 --storage nas-backup --mode snapshot --compress zstd",
                    "INFO: Starting Backup of VM 100 (qemu)",
                    "INFO: Finished Backup of VM 100 (00:02:31)",
                    "INFO: Starting Backup of VM 200 (lxc)",
                    "INFO: Finished Backup of VM 200 (00:00:42)",
                    "INFO: Backup job finished successfully",
                ],
            ),
            (
                "pve2",
                "vzdump",
                "",
                day + 6 * 3600,
                Err("job errors"),
                &[
                    "INFO: starting new backup job: vzdump --all 1 --storage nas-backup --mode snapshot --compress zstd",
                    "INFO: Starting Backup of VM 201 (lxc)",
                    "ERROR: Backup of VM 201 failed - command 'mount -o bind /var/cache' failed: exit code 32",
                    "INFO: Backup job finished with errors",
                ],
            ),
            ("pve1", "qmstart", "100", 3600, Ok(()), &["start VM 100: UPID ok"]),
        ];
        for (node, kind, id, ago, outcome, log) in history {
            self.pid += 1;
            let starttime = now().saturating_sub(ago);
            let mut lines: Vec<String> = log.iter().map(|l| l.to_string()).collect();
            lines.push(match outcome {
                Ok(()) => "TASK OK".into(),
                Err(e) => format!("TASK ERROR: {e}"),
            });
            self.tasks.push(Task {
                upid: format!(
                    "UPID:{node}:{:08X}:{:08X}:{starttime:08X}:{kind}:{id}:root@pam:",
                    self.pid,
                    self.pid * 7
                ),
                node: node.into(),
                kind: kind.into(),
                id: id.into(),
                starttime,
                began: Instant::now(),
                ends: Instant::now(),
                outcome: outcome.map_err(str::to_string),
                warnings: Vec::new(),
                effect: None,
                log: lines,
                done: true,
            });
        }
    }

    /// Log the progress of running tasks and finish those whose time has come, applying their
    /// effects.
    pub fn advance(&mut self) {
        let now = Instant::now();
        let mut effects = Vec::new();
        for task in self.tasks.iter_mut().filter(|t| !t.done) {
            // A running task logs a line at each quarter of its time, as real ones log steps.
            let total = task.ends.saturating_duration_since(task.began).as_secs_f64();
            let quarters = if total > 0.0 {
                ((now.saturating_duration_since(task.began).as_secs_f64() / total) * 4.0).min(3.0) as usize
            } else {
                0
            };
            let logged = task.log.iter().filter(|l| l.contains("% done")).count();
            for q in logged + 1..=quarters {
                task.log.push(format!("{} {}: {}% done", task.kind, task.id, q * 25));
            }
            if task.ends > now {
                continue;
            }
            task.done = true;
            match &task.outcome {
                Ok(()) => {
                    for w in &task.warnings {
                        task.log.push(format!("WARN: {w}"));
                    }
                    task.log.push(match task.warnings.len() {
                        0 => "TASK OK".into(),
                        n => format!("TASK WARNINGS: {n}"),
                    });
                    effects.extend(task.effect.take());
                }
                Err(e) => task.log.push(format!("TASK ERROR: {e}")),
            }
        }
        for effect in effects {
            effect(self);
        }
    }

    /// Start a task on `node`; `effect` happens when it ends OK. Returns the UPID.
    pub fn start_task(
        &mut self,
        node: &str,
        kind: &str,
        id: &str,
        outcome: Result<(), String>,
        effect: impl FnOnce(&mut State) + Send + 'static,
    ) -> String {
        self.start_task_warning(node, kind, id, outcome, Vec::new(), effect)
    }

    /// [`State::start_task`] for a task that logs `warnings` (it ends `WARNINGS: n` if OK).
    pub fn start_task_warning(
        &mut self,
        node: &str,
        kind: &str,
        id: &str,
        outcome: Result<(), String>,
        warnings: Vec<String>,
        effect: impl FnOnce(&mut State) + Send + 'static,
    ) -> String {
        self.pid += 1;
        let starttime = now();
        let upid =
            format!("UPID:{node}:{:08X}:{:08X}:{:08X}:{kind}:{id}:root@pam!mcp:", self.pid, self.pid * 7, starttime);
        self.tasks.push(Task {
            upid: upid.clone(),
            node: node.into(),
            kind: kind.into(),
            id: id.into(),
            starttime,
            began: Instant::now(),
            ends: Instant::now() + self.task_duration,
            outcome,
            warnings,
            effect: Some(Box::new(effect)),
            log: vec![format!("starting {kind} {id}")],
            done: false,
        });
        self.advance();
        upid
    }

    pub fn node(&self, name: &str) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn set_node_online(&mut self, name: &str, online: bool) {
        if let Some(n) = self.nodes.iter_mut().find(|n| n.name == name) {
            n.online = online;
        }
    }

    pub fn guest(&self, vmid: u32) -> Option<&Guest> {
        self.guests.iter().find(|g| g.vmid == vmid)
    }

    pub fn guest_mut(&mut self, vmid: u32) -> Option<&mut Guest> {
        self.guests.iter_mut().find(|g| g.vmid == vmid)
    }

    pub fn storage(&self, id: &str) -> Option<&StorageState> {
        self.storages.iter().find(|s| s.id() == id)
    }

    pub fn storage_mut(&mut self, id: &str) -> Option<&mut StorageState> {
        self.storages.iter_mut().find(|s| s.id() == id)
    }

    pub fn next_vmid(&self) -> u32 {
        (100..).find(|id| self.guest(*id).is_none()).unwrap_or(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_times_come_from_their_names() {
        assert_eq!(backup_time("local:backup/vzdump-qemu-101-2026_11_20-02_00_01.vma.zst"), Some(1_795_140_001));
        assert_eq!(backup_time("pbs:backup/vm/100/2026-11-24T01:00:00Z"), Some(1_795_482_000));
        assert_eq!(backup_time("local:iso/x.iso"), None);
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }
}
