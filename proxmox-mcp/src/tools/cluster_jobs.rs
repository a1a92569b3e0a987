//! Cluster Management, jobs and options: scheduled backup jobs, storage replication jobs and the
//! datacenter-wide options.

use super::ha::SettingList;
use super::{set_keys, to_params};
use crate::format::{self, Block, f64_field, str_field, u64_field};
use crate::page::Page;
use crate::types::{
    BackupJobId, ConfigId, Digest, InvalidValue, Node, ReplicationJobId, StorageId, VmId, shown, string_id,
};
use crate::{Api, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_LIST_CLUSTER_BACKUP_JOBS,
    &PROXMOX_GET_CLUSTER_BACKUP_JOB,
    &PROXMOX_CREATE_CLUSTER_BACKUP_JOB,
    &PROXMOX_UPDATE_CLUSTER_BACKUP_JOB,
    &PROXMOX_DELETE_CLUSTER_BACKUP_JOB,
    &PROXMOX_LIST_CLUSTER_REPLICATION_JOBS,
    &PROXMOX_GET_CLUSTER_REPLICATION_JOB,
    &PROXMOX_CREATE_CLUSTER_REPLICATION_JOB,
    &PROXMOX_UPDATE_CLUSTER_REPLICATION_JOB,
    &PROXMOX_DELETE_CLUSTER_REPLICATION_JOB,
    &PROXMOX_GET_CLUSTER_OPTIONS,
    &PROXMOX_UPDATE_CLUSTER_OPTIONS,
];

string_id! {
    /// A schedule (Proxmox format `pve-calendar-event`, a subset of systemd calendar events),
    /// e.g. `daily`, `sun 01:00`, `mon..fri 21:30`, `*/15`.
    CalendarEvent, kind = "calendar event", pattern = "^ *[!-~][ -~]*$", max = 128,
    rule = "a systemd-style calendar event such as `daily`, `sun 01:00`, `mon..fri 21:30` or `*/15`"
}

string_id! {
    /// A start time, `HH:MM` (deprecated by Proxmox in favour of `schedule`).
    StartTime, kind = "start time", pattern = "^[0-9]{1,2}:[0-9]{1,2}$", max = 5,
    rule = "HH:MM, e.g. 02:30"
}

string_id! {
    /// Days of the week (Proxmox format `pve-day-of-week-list`), e.g. `mon,wed,fri`.
    DayList, kind = "list of week days", pattern = "^(mon|tue|wed|thu|fri|sat|sun)(,(mon|tue|wed|thu|fri|sat|sun))*$", max = 27,
    rule = "mon, tue, wed, thu, fri, sat or sun, separated by commas"
}

/// Guest ids (Proxmox format `pve-vmid-list`): given as `"100,101"` or `[100, 101]`, sent as
/// `100,101`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmIdList(Vec<VmId>);

impl fmt::Display for VmIdList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.0.iter().map(VmId::to_string).collect();
        f.write_str(&ids.join(","))
    }
}

impl Serialize for VmIdList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for VmIdList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let ids = match Value::deserialize(d)? {
            Value::String(s) => s
                .split([',', ';', ' '])
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<VmId>())
                .collect::<Result<Vec<_>, InvalidValue>>()
                .map_err(D::Error::custom)?,
            Value::Array(items) => items
                .into_iter()
                .map(|v| serde_json::from_value::<VmId>(v).map_err(|e| D::Error::custom(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?,
            Value::Number(n) => vec![serde_json::from_value::<VmId>(Value::Number(n)).map_err(D::Error::custom)?],
            other => return Err(D::Error::custom(format!("{other} is not a list of guest ids, e.g. \"100,101\""))),
        };
        if ids.is_empty() {
            return Err(D::Error::custom("must name at least one guest id, e.g. \"100,101\""));
        }
        Ok(VmIdList(ids))
    }
}

impl JsonSchema for VmIdList {
    fn schema_name() -> Cow<'static, str> {
        "VmIdList".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]+([,; ]+[0-9]+)*$",
            "description": "Guest ids (100 to 999999999) separated by commas, e.g. 100,101.",
        })
    }
}

fn done(errors: Vec<(String, String)>) -> Result<(), ToolError> {
    if errors.is_empty() { Ok(()) } else { Err(ToolError::InvalidArguments(errors)) }
}

// ---------------------------------------------------------------------------------------------
// Backup jobs

/// Compression of backup files. (No doc comments on the variants of the optional enums here:
/// their schema is then a plain `enum`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Compress {
    #[serde(rename = "0")]
    None,
    #[serde(rename = "1")]
    Default,
    #[serde(rename = "gzip")]
    Gzip,
    #[serde(rename = "lzo")]
    Lzo,
    #[serde(rename = "zstd")]
    Zstd,
}

/// How guests are backed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackupMode {
    Snapshot,
    Suspend,
    Stop,
}

/// When to send notification mails (deprecated by Proxmox: use notification matchers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MailNotification {
    Always,
    Failure,
}

/// Which notification system a job uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationMode {
    Auto,
    LegacySendmail,
    NotificationSystem,
}

/// How Proxmox Backup Server detects changed files of container backups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PbsChangeDetectionMode {
    Legacy,
    Data,
    Metadata,
}

/// Settings of a backup job: the vzdump options POST /cluster/backup and PUT
/// /cluster/backup/{id} take.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupJobSettings {
    /// When the job runs, as a calendar event: e.g. `daily`, `sun 01:00`, `mon..fri 21:30`,
    /// `*-*-01 03:00`. Use this or `starttime`.
    pub schedule: Option<CalendarEvent>,
    /// Deprecated: start time HH:MM (with `dow`); Proxmox converts it into a `schedule`.
    #[schemars(extend("x-rare" = true))]
    pub starttime: Option<StartTime>,
    /// Deprecated: week days for `starttime`, e.g. mon,wed,fri (default every day).
    #[schemars(extend("x-rare" = true))]
    pub dow: Option<DayList>,
    /// The storage to write the backups to, e.g. local.
    pub storage: Option<StorageId>,
    /// Guests to back up: ids separated by commas, e.g. 100,101.
    pub vmid: Option<VmIdList>,
    /// Back up every guest (of the node the job runs on).
    pub all: Option<bool>,
    /// With `all`: guests to leave out, e.g. 100,101.
    pub exclude: Option<VmIdList>,
    /// Back up the guests of this resource pool.
    #[schemars(length(max = 64))]
    pub pool: Option<String>,
    /// Only run on this node.
    pub node: Option<Node>,
    /// Backup mode: snapshot (default: live), suspend (the guest during the backup) or stop (it).
    pub mode: Option<BackupMode>,
    /// Compression: 0 (none, Proxmox's default), 1 (lzo), gzip, lzo or zstd.
    pub compress: Option<Compress>,
    /// Whether the job runs (default true).
    pub enabled: Option<bool>,
    /// Description of the job.
    #[schemars(length(max = 512))]
    pub comment: Option<String>,
    /// Retention instead of the storage's, e.g. keep-last=3,keep-weekly=2.
    #[serde(rename = "prune-backups")]
    pub prune_backups: Option<String>,
    /// Prune older backups according to `prune-backups` (default true).
    pub remove: Option<bool>,
    /// Deprecated (use `prune-backups` keep-last=N): backups to keep per guest. Proxmox VE 8.4
    /// and 9.1 take it; later versions drop it.
    #[schemars(range(min = 1))]
    #[schemars(extend("x-rare" = true))]
    pub maxfiles: Option<u32>,
    /// Notes for the backups, with {{guestname}}, {{node}}, {{vmid}}, {{cluster}} (needs `storage`).
    #[serde(rename = "notes-template")]
    #[schemars(length(max = 1024))]
    pub notes_template: Option<String>,
    /// Mark the backups protected (needs `storage`).
    pub protected: Option<bool>,
    /// Run a missed job as soon as possible when the scheduler comes back (default false).
    #[serde(rename = "repeat-missed")]
    pub repeat_missed: Option<bool>,
    /// Deprecated by Proxmox (use notification matchers): mail recipients, comma-separated.
    #[schemars(extend("x-rare" = true))]
    pub mailto: Option<String>,
    /// Deprecated by Proxmox: when to mail: always or failure.
    #[schemars(extend("x-rare" = true))]
    pub mailnotification: Option<MailNotification>,
    /// Notification system: auto (default), legacy-sendmail or notification-system.
    #[serde(rename = "notification-mode")]
    #[schemars(extend("x-rare" = true))]
    pub notification_mode: Option<NotificationMode>,
    /// I/O bandwidth limit in KiB/s (0 = none).
    #[schemars(extend("x-rare" = true))]
    pub bwlimit: Option<u64>,
    /// I/O priority with the BFQ scheduler, 0 to 8 (default 7).
    #[schemars(range(min = 0, max = 8))]
    #[schemars(extend("x-rare" = true))]
    pub ionice: Option<u8>,
    /// Minutes to wait for the global backup lock (default 180).
    #[schemars(extend("x-rare" = true))]
    pub lockwait: Option<u32>,
    /// Minutes to wait for a guest to stop (default 10).
    #[schemars(extend("x-rare" = true))]
    pub stopwait: Option<u32>,
    /// pigz instead of gzip: N>0 threads (1 = half the cores).
    #[schemars(extend("x-rare" = true))]
    pub pigz: Option<u32>,
    /// zstd threads (0 = half the cores; default 1).
    #[schemars(extend("x-rare" = true))]
    pub zstd: Option<u32>,
    /// Performance settings, e.g. max-workers=2,pbs-entries-max=1048576.
    #[schemars(extend("x-rare" = true))]
    pub performance: Option<String>,
    /// Backup fleecing for VMs, e.g. enabled=1,storage=local-lvm.
    #[schemars(extend("x-rare" = true))]
    pub fleecing: Option<String>,
    /// Container backups to a Proxmox Backup Server: legacy, data or metadata.
    #[serde(rename = "pbs-change-detection-mode")]
    #[schemars(extend("x-rare" = true))]
    pub pbs_change_detection_mode: Option<PbsChangeDetectionMode>,
    /// Container paths to leave out (shell globs), e.g. ["/tmp/?*", "/var/cache/?*"].
    #[serde(rename = "exclude-path")]
    #[schemars(extend("x-rare" = true))]
    pub exclude_path: Option<Vec<String>>,
    /// Skip temporary files and logs (default true).
    #[schemars(extend("x-rare" = true))]
    pub stdexcludes: Option<bool>,
    /// Store the files in this directory (root@pam only).
    #[schemars(extend("x-rare" = true))]
    pub dumpdir: Option<String>,
    /// Temporary files in this directory (root@pam only).
    #[schemars(extend("x-rare" = true))]
    pub tmpdir: Option<String>,
    /// Hook script to run (root@pam only).
    #[schemars(extend("x-rare" = true))]
    pub script: Option<String>,
    /// Stop running backup jobs on the node.
    #[schemars(extend("x-rare" = true))]
    pub stop: Option<bool>,
    /// Less output.
    #[schemars(extend("x-rare" = true))]
    pub quiet: Option<bool>,
}

impl BackupJobSettings {
    /// The rules that span arguments, checked as Proxmox checks them.
    fn check(&self, errors: &mut Vec<(String, String)>) {
        let mut rule = |arg: &str, msg: &str| errors.push((arg.to_string(), msg.to_string()));
        if self.schedule.is_some() && self.starttime.is_some() {
            rule("starttime", "cannot be given together with `schedule`");
        }
        if self.dow.is_some() && self.starttime.is_none() {
            rule("dow", "needs `starttime` (or give a `schedule` such as \"mon,wed 02:00\")");
        }
        if self.vmid.is_some() {
            if self.all == Some(true) {
                rule("all", "conflicts with `vmid`");
            }
            if self.exclude.is_some() {
                rule("exclude", "conflicts with `vmid`");
            }
            if self.pool.is_some() {
                rule("pool", "conflicts with `vmid`");
            }
        }
        if self.storage.is_none() {
            if self.notes_template.is_some() {
                rule("notes-template", "needs `storage`");
            }
            if self.protected.is_some() {
                rule("protected", "needs `storage`");
            }
        }
    }

    /// Which guests a request selects, if any.
    fn selects_guests(&self) -> bool {
        self.vmid.is_some()
            || self.all == Some(true)
            || self.pool.is_some()
            || self.exclude.is_some()
            || self.stop == Some(true)
    }
}

/// When a job runs, as Proxmox shows it: its calendar event, or the legacy `dow` + `starttime`.
fn job_schedule(job: &Value) -> String {
    if let Some(s) = str_field(job, "schedule") {
        return s.to_string();
    }
    match (str_field(job, "dow"), str_field(job, "starttime")) {
        (Some(d), Some(t)) => format!("{d} {t}"),
        (None, Some(t)) => t.to_string(),
        _ => "N/A".into(),
    }
}

/// Which guests a job backs up.
fn job_selection(job: &Value) -> String {
    if format::truthy(job.get("all")) == Some(true) {
        return match job.get("exclude").map(format::value) {
            Some(ex) => format!("all guests except {ex}"),
            None => "all guests".into(),
        };
    }
    if let Some(pool) = str_field(job, "pool") {
        return format!("pool {pool}");
    }
    match job.get("vmid").map(format::value) {
        Some(ids) => format!("guests {ids}"),
        None => "N/A".into(),
    }
}

fn job_enabled(job: &Value) -> bool {
    format::truthy(job.get("enabled")).unwrap_or(true)
}

/// List scheduled backup jobs. Schedule, guests, storage, next run.
#[pve_tool(path = "/cluster/backup", method = GET, category = "Cluster Management", title = "List backup jobs")]
async fn proxmox_list_cluster_backup_jobs(api: Api, #[flatten] page: Page) -> ToolResult {
    let mut jobs: Vec<Value> = api.send(()).await?;
    jobs.sort_by(|a, b| str_field(a, "id").cmp(&str_field(b, "id")));
    if jobs.is_empty() {
        return Ok(ToolOutput::new("No backup jobs found.", jobs));
    }
    let mut text = format!("🗓️ **Backup jobs** ({})", jobs.len());
    let page = page.cut(jobs);
    text.push_str(&page.lines(|j| {
        let enabled = job_enabled(j);
        let mut line = format!(
            "• {} **{}** — `{}`, {}, storage {}",
            if enabled { "🟢" } else { "⏸️" },
            str_field(j, "id").unwrap_or("?"),
            job_schedule(j),
            job_selection(j),
            str_field(j, "storage").unwrap_or("default"),
        );
        if let Some(mode) = str_field(j, "mode") {
            line.push_str(&format!(", mode {mode}"));
        }
        if !enabled {
            line.push_str(", disabled");
        } else if let Some(next) = j.get("next-run").and_then(Value::as_i64) {
            line.push_str(&format!(", next run {}", format::utc_minutes(next)));
        }
        if let Some(c) = str_field(j, "comment").filter(|c| !c.is_empty()) {
            line.push_str(&format!(" — {c}"));
        }
        line
    }));
    Ok(ToolOutput::new(text, page.data("items")))
}

/// Show a scheduled backup job and its options.
#[pve_tool(path = "/cluster/backup/<id>", method = GET, category = "Cluster Management", title = "Get backup job")]
async fn proxmox_get_cluster_backup_job(
    api: Api,
    /// The backup job id, e.g. backup-4f2a9c1e-77d0.
    id: BackupJobId,
) -> ToolResult {
    let job: Value = api.send(()).await?;
    let mut block = Block::new(format!("🗓️ **Backup job {id}**"))
        .line("Enabled", if job_enabled(&job) { "yes" } else { "no" })
        .line("Schedule", job_schedule(&job))
        .opt("Next run", job.get("next-run").and_then(Value::as_i64).map(format::utc_minutes))
        .line("Guests", job_selection(&job))
        .line("Storage", str_field(&job, "storage").unwrap_or("default"))
        .opt("Node", str_field(&job, "node"))
        .opt("Mode", str_field(&job, "mode"))
        .opt("Compression", str_field(&job, "compress"))
        .opt(
            "Retention",
            str_field(&job, "prune-backups").map(str::to_string).or_else(|| {
                job.get("prune-backups").filter(|v| v.is_object()).map(|v| {
                    v.as_object()
                        .map(|o| {
                            o.iter().map(|(k, v)| format!("{k}={}", format::value(v))).collect::<Vec<_>>().join(",")
                        })
                        .unwrap_or_default()
                })
            }),
        )
        .opt("Notes template", str_field(&job, "notes-template"))
        .opt("Comment", str_field(&job, "comment"));
    let shown_keys = [
        "id",
        "type",
        "enabled",
        "schedule",
        "next-run",
        "all",
        "vmid",
        "pool",
        "exclude",
        "storage",
        "node",
        "mode",
        "compress",
        "prune-backups",
        "notes-template",
        "comment",
        "dow",
        "starttime",
    ];
    if let Some(obj) = job.as_object() {
        for (k, v) in obj.iter().filter(|(k, v)| !shown_keys.contains(&k.as_str()) && !v.is_null()) {
            block = block.line(k, format::value(v));
        }
    }
    Ok(ToolOutput::new(block.finish(), job))
}

/// Create a scheduled backup job. When (`schedule`), which guests (`vmid`, `all` or `pool`), where (`storage`) and
/// how (vzdump options).
#[pve_tool(path = "/cluster/backup", method = POST, elevated, category = "Cluster Management", title = "Create backup job")]
async fn proxmox_create_cluster_backup_job(
    api: Api,
    /// An id for the job (letters, digits, `-`, `_`; at most 50); Proxmox generates one if left out.
    #[schemars(length(max = BackupJobId::MAX_LEN))]
    id: Option<ConfigId>,
    #[flatten] job: BackupJobSettings,
) -> ToolResult {
    let mut errors = Vec::new();
    job.check(&mut errors);
    if job.schedule.is_none() && job.starttime.is_none() {
        errors.push(("schedule".into(), "is required: when the job runs, e.g. \"sun 01:00\" or \"daily\"".into()));
    }
    if !job.selects_guests() {
        errors.push(("vmid".into(), "is required unless `all` or `pool` selects the guests".into()));
    }
    done(errors)?;
    let mut params = to_params(&job)?;
    params["id"] = json!(id);
    let _: Value = api.send(&params).await?;
    let title = match &id {
        Some(id) => format!("✅ Backup job {id} created"),
        None => "✅ Backup job created (Proxmox chose its id: list the jobs to see it)".into(),
    };
    let schedule = job.schedule.as_ref().map(ToString::to_string).unwrap_or_else(|| {
        format!(
            "{} {}",
            job.dow.as_ref().map_or("every day", DayList::as_str),
            job.starttime.as_ref().map_or("", StartTime::as_str)
        )
    });
    let text = Block::new(title)
        .line("Schedule", schedule)
        .line("Guests", job_selection(&params))
        .line("Storage", job.storage.as_ref().map_or("default", StorageId::as_str))
        .finish();
    Ok(ToolOutput::new(text, json!({ "id": id, "settings": params })))
}

/// Change a scheduled backup job. Reset options with `delete`.
#[pve_tool(path = "/cluster/backup/<id>", method = PUT, elevated, category = "Cluster Management", title = "Update backup job")]
async fn proxmox_update_cluster_backup_job(
    api: Api,
    /// The backup job id.
    id: BackupJobId,
    /// Settings to remove (back to their defaults), comma-separated, e.g. comment,node.
    delete: Option<SettingList>,
    #[flatten] job: BackupJobSettings,
) -> ToolResult {
    let mut errors = Vec::new();
    job.check(&mut errors);
    done(errors)?;
    let mut params = to_params(&job)?;
    params["delete"] = json!(delete);
    let changed = set_keys(&params, &[]);
    if changed.is_empty() {
        return Err(ToolError::invalid("schedule", "nothing to change: give at least one option or `delete`"));
    }
    let _: Value = api.send(&params).await?;
    Ok(ToolOutput::new(
        format!("✅ Backup job {id} updated ({})", changed.join(", ")),
        json!({ "id": id, "settings": params }),
    ))
}

/// Delete a scheduled backup job. Existing backups stay.
#[pve_tool(
    path = "/cluster/backup/<id>",
    method = DELETE,
    elevated,
    category = "Cluster Management",
    title = "Delete backup job"
)]
async fn proxmox_delete_cluster_backup_job(
    api: Api,
    /// The backup job id.
    id: BackupJobId,
) -> ToolResult {
    let _: Value = api.send(()).await?;
    Ok(ToolOutput::new(format!("✅ Backup job {id} deleted"), json!({ "id": id })))
}

// ---------------------------------------------------------------------------------------------
// Replication jobs

/// Replication types; Proxmox has only local (ZFS) replication.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplicationType {
    #[default]
    Local,
}

/// Marking a replication job for removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemoveJob {
    Local,
    Full,
}

/// Settings of a replication job, as POST/PUT /cluster/replication take them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationSettings {
    /// When to replicate, as a calendar event (Proxmox's default: `*/15`, every 15 minutes).
    pub schedule: Option<CalendarEvent>,
    /// Bandwidth limit in MB/s (at least 1; decimals allowed).
    #[schemars(range(min = 1.0))]
    pub rate: Option<f64>,
    /// Disable the job (true) or enable it again (false).
    pub disable: Option<bool>,
    /// Description.
    #[schemars(length(max = 4096))]
    pub comment: Option<String>,
    /// Mark the job for removal: local, or full (also remove the data on the target).
    pub remove_job: Option<RemoveJob>,
    /// For internal use: the node the guest is expected on (to detect a stolen guest).
    #[schemars(extend("x-rare" = true))]
    pub source: Option<Node>,
}

fn replication_line(j: &Value) -> String {
    let enabled = format::truthy(j.get("disable")) != Some(true);
    let mut line = format!(
        "• {} **{}** — guest {} → {}, schedule `{}`",
        if enabled { "🟢" } else { "⏸️" },
        str_field(j, "id").unwrap_or("?"),
        j.get("guest").map_or("?".into(), format::value),
        str_field(j, "target").unwrap_or("?"),
        str_field(j, "schedule").unwrap_or("*/15"),
    );
    if let Some(rate) = f64_field(j, "rate") {
        line.push_str(&format!(", {rate} MB/s"));
    }
    if !enabled {
        line.push_str(", disabled");
    }
    if let Some(r) = str_field(j, "remove_job") {
        line.push_str(&format!(", marked for removal ({r})"));
    }
    if let Some(c) = str_field(j, "comment").filter(|c| !c.is_empty()) {
        line.push_str(&format!(" — {c}"));
    }
    line
}

/// List storage replication jobs. Guest, target node, schedule, rate, enabled.
#[pve_tool(path = "/cluster/replication", method = GET, category = "Cluster Management", title = "List replication jobs")]
async fn proxmox_list_cluster_replication_jobs(api: Api, #[flatten] page: Page) -> ToolResult {
    let mut jobs: Vec<Value> = api.send(()).await?;
    jobs.sort_by_key(|j| (u64_field(j, "guest"), u64_field(j, "jobnum")));
    if jobs.is_empty() {
        return Ok(ToolOutput::new("No replication jobs found.", jobs));
    }
    let mut text = format!("🔁 **Replication jobs** ({})", jobs.len());
    let page = page.cut(jobs);
    text.push_str(&page.lines(replication_line));
    Ok(ToolOutput::new(text, page.data("items")))
}

/// Show a replication job.
#[pve_tool(path = "/cluster/replication/<id>", method = GET, category = "Cluster Management", title = "Get replication job")]
async fn proxmox_get_cluster_replication_job(
    api: Api,
    /// The replication job id: guest id, `-`, job number, e.g. 100-0.
    id: ReplicationJobId,
) -> ToolResult {
    let j: Value = api.send(()).await?;
    let text = Block::new(format!("🔁 **Replication job {id}**"))
        .opt("Guest", j.get("guest").map(format::value))
        .opt("Target", str_field(&j, "target"))
        .opt("Type", str_field(&j, "type"))
        .line("Schedule", str_field(&j, "schedule").unwrap_or("*/15"))
        .opt("Rate", f64_field(&j, "rate").map(|r| format!("{r} MB/s")))
        .line("Enabled", if format::truthy(j.get("disable")) == Some(true) { "no" } else { "yes" })
        .opt("Marked for removal", str_field(&j, "remove_job"))
        .opt("Source", str_field(&j, "source"))
        .opt("Comment", str_field(&j, "comment"))
        .finish();
    Ok(ToolOutput::new(text, j))
}

/// Create a storage replication job (id <vmid>-<n>, e.g. 100-0; target a node). It copies a guest's local (ZFS)
/// disks to another node on a schedule.
#[pve_tool(
    path = "/cluster/replication",
    method = POST,
    elevated,
    category = "Cluster Management",
    title = "Create replication job"
)]
async fn proxmox_create_cluster_replication_job(
    api: Api,
    /// The job id: the guest id, `-`, a job number, e.g. 100-0.
    id: ReplicationJobId,
    /// The node to replicate to, e.g. pve2.
    target: Node,
    /// The replication type: only `local` exists (the default).
    #[serde(default)]
    r#type: ReplicationType,
    #[flatten] settings: ReplicationSettings,
) -> ToolResult {
    let mut params = to_params(&settings)?;
    params["id"] = json!(id);
    params["target"] = json!(target);
    params["type"] = json!(r#type);
    let _: Value = api.send(&params).await?;
    let text = Block::new(format!("✅ Replication job {id} created"))
        .line("Target", &target)
        .line("Schedule", settings.schedule.as_ref().map_or("*/15 (default)", CalendarEvent::as_str))
        .finish();
    Ok(ToolOutput::new(text, json!({ "id": id, "settings": params })))
}

/// Change a replication job. Schedule, rate, enabled, comment; or reset settings with `delete`.
#[pve_tool(
    path = "/cluster/replication/<id>",
    method = PUT,
    elevated,
    category = "Cluster Management",
    title = "Update replication job"
)]
async fn proxmox_update_cluster_replication_job(
    api: Api,
    /// The replication job id, e.g. 100-0.
    id: ReplicationJobId,
    /// Settings to remove (back to their defaults), comma-separated, e.g. rate,comment.
    delete: Option<SettingList>,
    /// Only change if the configuration still has this digest (from a read), against concurrent edits.
    digest: Option<Digest>,
    #[flatten] settings: ReplicationSettings,
) -> ToolResult {
    let mut params = to_params(&settings)?;
    params["delete"] = json!(delete);
    params["digest"] = json!(digest);
    let changed = set_keys(&params, &["digest"]);
    if changed.is_empty() {
        return Err(ToolError::invalid("schedule", "nothing to change: give at least one setting or `delete`"));
    }
    let _: Value = api.send(&params).await?;
    Ok(ToolOutput::new(
        format!("✅ Replication job {id} updated ({})", changed.join(", ")),
        json!({ "id": id, "settings": params }),
    ))
}

/// Delete a replication job. By default Proxmox marks it for removal and its next run cleans up the replicated data
/// on the target.
#[pve_tool(
    path = "/cluster/replication/<id>",
    method = DELETE,
    elevated,
    category = "Cluster Management",
    title = "Delete replication job"
)]
async fn proxmox_delete_cluster_replication_job(
    api: Api,
    /// The replication job id, e.g. 100-0.
    id: ReplicationJobId,
    /// Remove the job configuration at once, without any cleanup.
    force: Option<bool>,
    /// Keep the replicated data on the target node.
    keep: Option<bool>,
) -> ToolResult {
    // Query parameters: Proxmox refuses a DELETE with a body.
    let _: Value = api.send(json!({ "force": force, "keep": keep })).await?;
    let how = match (force == Some(true), keep == Some(true)) {
        (true, _) => "removed without cleanup",
        (false, true) => "marked for removal; the replicated data stays on the target",
        (false, false) => "marked for removal; its replicated data on the target will be removed",
    };
    Ok(ToolOutput::new(format!("✅ Replication job {id} {how}"), json!({ "id": id, "force": force, "keep": keep })))
}

// ---------------------------------------------------------------------------------------------
// Datacenter options

/// Show datacenter-wide options. From datacenter.cfg: console, keyboard, migration, HA, tags…
#[pve_tool(path = "/cluster/options", method = GET, category = "Cluster Management", title = "Get cluster options")]
async fn proxmox_get_cluster_options(api: Api) -> ToolResult {
    let options: Value = api.send(()).await?;
    let Some(obj) = options.as_object().filter(|o| !o.is_empty()) else {
        return Ok(ToolOutput::new("No cluster options found.", options));
    };
    let mut block = Block::new("⚙️ **Datacenter options**");
    for (k, v) in obj.iter().filter(|(_, v)| !v.is_null()) {
        block = block.line(k, format::value(v));
    }
    Ok(ToolOutput::new(block.finish(), options))
}

/// The default console viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Console {
    Applet,
    Vv,
    Html5,
    Xtermjs,
}

/// HA fencing mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fencing {
    Watchdog,
    Hardware,
    Both,
}

/// Keyboard layouts of the VNC console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Keyboard {
    De,
    DeCh,
    Da,
    EnGb,
    EnUs,
    Es,
    Fi,
    Fr,
    FrBe,
    FrCa,
    FrCh,
    Hu,
    Is,
    It,
    Ja,
    Lt,
    Mk,
    Nl,
    No,
    Pl,
    Pt,
    PtBr,
    Sv,
    Sl,
    Tr,
}

/// Languages of the web interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ar,
    Ca,
    Da,
    De,
    En,
    Es,
    Eu,
    Fa,
    Fr,
    Hr,
    He,
    It,
    Ja,
    Ka,
    Kr,
    Nb,
    Nl,
    Nn,
    Pl,
    #[serde(rename = "pt_BR")]
    PtBr,
    Ru,
    Sl,
    Sv,
    Tr,
    Ukr,
    #[serde(rename = "zh_CN")]
    ZhCn,
    #[serde(rename = "zh_TW")]
    ZhTw,
}

/// The datacenter options PUT /cluster/options takes (Proxmox VE 9.1). Property strings are
/// given as Proxmox writes them, e.g. `migration: "type=insecure,network=10.0.0.0/24"`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterOptions {
    /// Default keyboard layout of the VNC console, e.g. en-us, de.
    #[schemars(extend("x-rare" = true))]
    pub keyboard: Option<Keyboard>,
    /// Default web interface language, e.g. en, de.
    #[schemars(extend("x-rare" = true))]
    pub language: Option<Language>,
    /// Default console viewer: applet, vv (SPICE), html5 (noVNC) or xtermjs.
    pub console: Option<Console>,
    /// Sender address of notification mails (default root@$hostname).
    #[schemars(extend("x-rare" = true))]
    pub email_from: Option<String>,
    /// HTTP proxy for downloads, e.g. `http://proxy.example.com:3128`.
    #[schemars(regex(pattern = r"^http://.*$"))]
    pub http_proxy: Option<String>,
    /// Prefix of generated MAC addresses (default BC:24:11).
    #[schemars(extend("x-rare" = true))]
    pub mac_prefix: Option<String>,
    /// Most parallel workers per node for bulk actions and HA tasks (at least 1).
    #[schemars(range(min = 1))]
    #[schemars(extend("x-rare" = true))]
    pub max_workers: Option<u32>,
    /// Migration settings, e.g. type=secure,network=10.0.0.0/24.
    pub migration: Option<String>,
    /// Deprecated: migrate without the SSH tunnel (use `migration` type=insecure).
    #[schemars(extend("x-rare" = true))]
    pub migration_unsecure: Option<bool>,
    /// Replication settings, e.g. type=secure,network=10.0.0.0/24 (Proxmox VE 9.1 and later).
    #[schemars(extend("x-rare" = true))]
    pub replication: Option<String>,
    /// Bandwidth limits in KiB/s, e.g. default=102400,migration=51200.
    #[schemars(extend("x-rare" = true))]
    pub bwlimit: Option<String>,
    /// HA settings, e.g. shutdown_policy=migrate.
    #[schemars(extend("x-rare" = true))]
    pub ha: Option<String>,
    /// HA fencing mode: watchdog (default), hardware or both.
    #[schemars(extend("x-rare" = true))]
    pub fencing: Option<Fencing>,
    /// Cluster resource scheduling, e.g. ha=static.
    #[schemars(extend("x-rare" = true))]
    pub crs: Option<String>,
    /// Range of ids `get_next_vmid` picks from, e.g. lower=1000,upper=2000.
    #[serde(rename = "next-id")]
    #[schemars(extend("x-rare" = true))]
    pub next_id: Option<String>,
    /// Notification settings, e.g. package-updates=always.
    #[schemars(extend("x-rare" = true))]
    pub notify: Option<String>,
    /// Tags only users with Sys.Modify on / may set, separated by `;`.
    #[serde(rename = "registered-tags")]
    #[schemars(extend("x-rare" = true))]
    pub registered_tags: Option<String>,
    /// Tag display style, e.g. shape=dense,ordering=alphabetical.
    #[serde(rename = "tag-style")]
    #[schemars(extend("x-rare" = true))]
    pub tag_style: Option<String>,
    /// What tags users may set, e.g. user-allow=list,user-allow-list=a;b.
    #[serde(rename = "user-tag-access")]
    #[schemars(extend("x-rare" = true))]
    pub user_tag_access: Option<String>,
    /// U2F settings, e.g. `appid=https://pve.example.com`.
    #[schemars(extend("x-rare" = true))]
    pub u2f: Option<String>,
    /// WebAuthn settings, e.g. `rp=pve.example.com,origin=https://pve.example.com:8006,id=pve.example.com`.
    #[schemars(extend("x-rare" = true))]
    pub webauthn: Option<String>,
    /// Datacenter notes (Markdown) shown in the web interface.
    #[schemars(length(max = 65536))]
    pub description: Option<String>,
    /// Text shown before login, to consent to.
    #[serde(rename = "consent-text")]
    #[schemars(length(max = 65536))]
    #[schemars(extend("x-rare" = true))]
    pub consent_text: Option<String>,
    /// Options to remove (back to their defaults), comma-separated, e.g. http_proxy,console.
    pub delete: Option<SettingList>,
}

/// Change datacenter-wide options (datacenter.cfg). Reset some with `delete`.
#[pve_tool(path = "/cluster/options", method = PUT, elevated, category = "Cluster Management", title = "Update cluster options")]
async fn proxmox_update_cluster_options(api: Api, #[flatten] options: ClusterOptions) -> ToolResult {
    let params = to_params(&options)?;
    let changed = set_keys(&params, &[]);
    if changed.is_empty() {
        return Err(ToolError::invalid("delete", "nothing to change: give at least one option or `delete`"));
    }
    let _: Value = api.send(&params).await?;
    Ok(ToolOutput::new(
        format!("✅ Datacenter options updated ({})", changed.join(", ")),
        json!({ "settings": params }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmid_lists() {
        let l: VmIdList = serde_json::from_value(json!("100, 101;102")).unwrap();
        assert_eq!(l.to_string(), "100,101,102");
        let l: VmIdList = serde_json::from_value(json!([100, "101"])).unwrap();
        assert_eq!(serde_json::to_value(&l).unwrap(), json!("100,101"));
        for bad in [json!("99"), json!(""), json!("100,abc"), json!([]), json!(true), json!("100/..")] {
            assert!(serde_json::from_value::<VmIdList>(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn schedule_types() {
        assert!(CalendarEvent::new("mon..fri 21:30").is_ok() && CalendarEvent::new("*/15").is_ok());
        assert!(CalendarEvent::new(" ").is_err() && CalendarEvent::new("sün").is_err());
        assert!(StartTime::new("2:30").is_ok() && StartTime::new("02:300").is_err() && StartTime::new("0230").is_err());
        assert!(
            DayList::new("mon,sun").is_ok() && DayList::new("mon,,sun").is_err() && DayList::new("monday").is_err()
        );
    }
}
