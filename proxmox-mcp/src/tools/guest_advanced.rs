//! VM/LXC Advanced: migrate guests between nodes, turn them into templates, read their
//! performance history (RRD).

use crate::format::{self, f64_field};
use crate::types::{InvalidValue, Node, VmId, shown, string_id};
use crate::{Api, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_MIGRATE_VM,
    &PROXMOX_MIGRATE_LXC,
    &PROXMOX_CREATE_TEMPLATE_VM,
    &PROXMOX_CREATE_TEMPLATE_LXC,
    &PROXMOX_GET_VM_RRDDATA,
    &PROXMOX_GET_LXC_RRDDATA,
];

string_id! {
    /// A storage mapping for migration (Proxmox format `storage-pair-list`): one storage id for
    /// every disk, or `source:target` pairs separated by commas, e.g. `local-lvm:ceph,local:nfs`.
    StorageMap, kind = "storage mapping",
    pattern = "^(1|[a-z][a-z0-9_.-]*[a-z0-9](:[a-z][a-z0-9_.-]*[a-z0-9])?)(,(1|[a-z][a-z0-9_.-]*[a-z0-9](:[a-z][a-z0-9_.-]*[a-z0-9])?))*$",
    max = 1024,
    rule = "a storage id, or source:target storage id pairs separated by commas (`1`: the storage of the same name)"
}

string_id! {
    /// A network in CIDR notation, e.g. `10.10.0.0/24` or `fd00::/64`.
    Cidr, kind = "network (CIDR)", pattern = "^[0-9A-Fa-f:.]+/[0-9]{1,3}$", max = 64,
    rule = "an IPv4 or IPv6 address and a prefix length, e.g. 10.10.0.0/24",
    beyond = |s| s.split_once('/').is_some_and(|(addr, len)| {
        let max = match addr.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => 32,
            Ok(std::net::IpAddr::V6(_)) => 128,
            Err(_) => return false,
        };
        len.parse::<u8>().is_ok_and(|n| n <= max)
    })
}

/// How migration traffic travels: secure (SSH tunnel, Proxmox's default) or insecure (faster,
/// unencrypted, for private trusted networks only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MigrationType {
    // (no doc comments on these variants: an optional enum then stays a plain `enum` in the schema)
    Secure,
    Insecure,
}

/// The options of a QEMU migration (Proxmox's names).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VmMigrateOptions {
    /// Live-migrate the VM while it runs (ignored when it is stopped).
    pub online: Option<bool>,
    /// Also migrate a VM that uses local devices (only root@pam may).
    pub force: Option<bool>,
    /// Bandwidth limit in KiB/s (default: the datacenter's or storage's migration limit).
    pub bwlimit: Option<u64>,
    /// Also migrate disks on local storage (live storage migration).
    #[serde(rename = "with-local-disks")]
    #[schemars(extend("x-aliases" = ["with-local-storage"]))]
    pub with_local_disks: Option<bool>,
    /// Target storage for the disks: one storage id, or source:target pairs separated by commas.
    pub targetstorage: Option<StorageMap>,
    /// secure (SSH tunnel, default) or insecure (faster, trusted networks only).
    #[schemars(extend("x-rare" = true))]
    pub migration_type: Option<MigrationType>,
    /// The network (CIDR) to migrate over, e.g. 10.10.0.0/24.
    #[schemars(extend("x-rare" = true))]
    pub migration_network: Option<Cidr>,
    /// Keep the connection-tracking state of a running VM (Proxmox VE 9 and later).
    #[serde(rename = "with-conntrack-state")]
    #[schemars(extend("x-rare" = true))]
    pub with_conntrack_state: Option<bool>,
}

/// The options of a container migration (Proxmox's names).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LxcMigrateOptions {
    /// Restart migration: shut the running container down, move it, start it on the target.
    pub restart: Option<bool>,
    /// Seconds to wait for the shutdown of a restart migration (Proxmox's default: 180).
    pub timeout: Option<u32>,
    /// Live migration (Proxmox does not implement it for containers yet: use restart).
    pub online: Option<bool>,
    /// Bandwidth limit in KiB/s (default: the datacenter's or storage's migration limit).
    pub bwlimit: Option<u64>,
    /// Target storage for the volumes: one storage id, or source:target pairs separated by commas.
    #[serde(rename = "target-storage")]
    pub target_storage: Option<StorageMap>,
}

/// A migration request: the target node and the options.
#[derive(Serialize)]
struct Migrate<'a, O: Serialize> {
    target: &'a Node,
    #[serde(flatten)]
    options: &'a O,
}

/// The target must be another node.
fn check_target(node: &Node, target: &Node) -> Result<(), ToolError> {
    if node == target {
        return Err(ToolError::invalid("target", format!("is {node}, the node the guest is on already")));
    }
    Ok(())
}

/// Migrate a QEMU VM to another node.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/migrate", method = POST, elevated, task, category = "VM/LXC Advanced")]
async fn proxmox_migrate_vm(
    api: Api,
    /// The node the VM is on now.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The node to move the VM to.
    target: Node,
    #[flatten] options: VmMigrateOptions,
) -> ToolResult {
    check_target(&node, &target)?;
    let upid: String = api.send(Migrate { target: &target, options: &options }).await?;
    api.follow_task(upid, &node, format!("VM {vmid} is migrating from {node} to {target}")).await
}

/// Migrate an LXC container to another node (a running one needs restart=true: no live migration). With `restart`
/// it is shut down, moved and started again.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/migrate", method = POST, elevated, task, category = "VM/LXC Advanced")]
async fn proxmox_migrate_lxc(
    api: Api,
    /// The node the container is on now.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The node to move the container to.
    target: Node,
    #[flatten] options: LxcMigrateOptions,
) -> ToolResult {
    check_target(&node, &target)?;
    if options.timeout.is_some() && options.restart != Some(true) {
        return Err(ToolError::invalid("timeout", "only applies to a restart migration: set `restart` to true"));
    }
    let upid: String = api.send(Migrate { target: &target, options: &options }).await?;
    api.follow_task(upid, &node, format!("Container {vmid} is migrating from {node} to {target}")).await
}

string_id! {
    /// A VM disk slot that can become a base image on its own, e.g. `scsi0`.
    TemplateDisk, kind = "disk", pattern = "^(ide[0-3]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5]|efidisk0|tpmstate0)$", max = 9,
    rule = "one of ide0-ide3, scsi0-scsi30, virtio0-virtio15, sata0-sata5, efidisk0, tpmstate0"
}

/// Turn a stopped QEMU VM into a template. Irreversible: its disks become read-only base images for clones.
#[pve_tool(
    path = "/nodes/<node>/qemu/<vmid>/template",
    method = POST,
    elevated, task,
    destructive = true,
    category = "VM/LXC Advanced"
)]
async fn proxmox_create_template_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id (the VM must be stopped and have no snapshots).
    vmid: VmId,
    /// Convert only this disk to a base image, e.g. scsi0 (default: the whole VM).
    disk: Option<TemplateDisk>,
) -> ToolResult {
    let upid: String = api.send(json!({ "disk": disk })).await?;
    let what = match &disk {
        Some(d) => format!("Disk {d} of VM {vmid} is becoming a base image"),
        None => format!("VM {vmid} is becoming a template"),
    };
    api.follow_task(upid, &node, what).await
}

/// Turn a stopped container into a template. Irreversible: its volumes become read-only base images for clones.
#[pve_tool(
    path = "/nodes/<node>/lxc/<vmid>/template",
    method = POST,
    elevated,
    destructive = true,
    category = "VM/LXC Advanced"
)]
async fn proxmox_create_template_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id (the container must be stopped and have no snapshots).
    vmid: VmId,
) -> ToolResult {
    let _: Value = api.send(()).await?;
    Ok(ToolOutput::new(
        format!("✅ Container {vmid} on {node} is now a template"),
        json!({ "node": node, "vmid": vmid }),
    ))
}

/// The period of performance history to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Timeframe {
    /// The last hour (one point a minute).
    #[default]
    Hour,
    /// The last day.
    Day,
    /// The last week.
    Week,
    /// The last month.
    Month,
    /// The last year.
    Year,
}

impl Timeframe {
    fn label(self) -> &'static str {
        match self {
            Timeframe::Hour => "last hour",
            Timeframe::Day => "last day",
            Timeframe::Week => "last week",
            Timeframe::Month => "last month",
            Timeframe::Year => "last year",
        }
    }
}

/// How the points of a period are consolidated: AVERAGE (Proxmox's default) or MAX.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Consolidation {
    Average,
    Max,
}

/// A metric summarised: its key in the points, its label, how a value is shown.
struct Metric {
    key: &'static str,
    label: &'static str,
    show: fn(f64) -> String,
}

fn size(v: f64) -> String {
    format::bytes(v)
}

fn rate(v: f64) -> String {
    format!("{}/s", format::bytes(v))
}

const METRICS: &[Metric] = &[
    Metric { key: "cpu", label: "CPU", show: format::percent },
    Metric { key: "mem", label: "Memory", show: size },
    Metric { key: "netin", label: "Network in", show: rate },
    Metric { key: "netout", label: "Network out", show: rate },
    Metric { key: "diskread", label: "Disk read", show: rate },
    Metric { key: "diskwrite", label: "Disk write", show: rate },
];

/// Latest, average and maximum of one metric over the points that have it.
fn stats(points: &[Value], key: &str) -> Option<(f64, f64, f64)> {
    let values: Vec<f64> = points.iter().filter_map(|p| f64_field(p, key)).filter(|v| v.is_finite()).collect();
    let latest = *values.last()?;
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    Some((latest, values.iter().sum::<f64>() / values.len() as f64, max))
}

/// Read a guest's RRD history and summarise it; the points stay in the data.
async fn rrddata(
    api: &Api,
    noun: &str,
    node: &Node,
    vmid: VmId,
    timeframe: Timeframe,
    cf: Option<Consolidation>,
) -> ToolResult {
    let mut points: Vec<Value> = api.send(json!({ "timeframe": timeframe, "cf": cf })).await?;
    points.sort_by(|a, b| f64_field(a, "time").partial_cmp(&f64_field(b, "time")).unwrap_or(std::cmp::Ordering::Equal));
    let cf_label = match cf {
        Some(Consolidation::Max) => "MAX",
        _ => "AVERAGE",
    };
    let title = format!("📈 **{noun} {vmid} performance** (node {node}, {}, {cf_label})", timeframe.label());
    let mut summary = serde_json::Map::new();
    let mut lines = Vec::new();
    let maxmem = points.iter().rev().find_map(|p| f64_field(p, "maxmem"));
    for Metric { key, label, show } in METRICS {
        if let Some((latest, average, max)) = stats(&points, key) {
            summary.insert(key.to_string(), json!({ "latest": latest, "average": average, "max": max }));
            let of = match (*key, maxmem) {
                ("mem", Some(total)) => format!(" (of {})", format::bytes(total)),
                _ => String::new(),
            };
            lines.push(format!("• {label}: latest {}, average {}, max {}{of}", show(latest), show(average), show(max)));
        }
    }
    let text = if lines.is_empty() {
        format!("{title}\n\nNo performance data recorded for this period.")
    } else {
        let times: Vec<i64> = points.iter().filter_map(|p| f64_field(p, "time")).map(|t| t as i64).collect();
        let span = match (times.first(), times.last()) {
            (Some(from), Some(to)) => format!(", {} to {}", format::utc(*from), format::utc(*to)),
            _ => String::new(),
        };
        format!("{title}\n{} points{span}\n\n{}", points.len(), lines.join("\n"))
    };
    let mut out = ToolOutput::new(text, points);
    out.data["summary"] = Value::Object(summary);
    out.data["timeframe"] = json!(timeframe);
    out.data["cf"] = json!(cf_label);
    Ok(out)
}

/// Summarise a QEMU VM's performance history. CPU, memory, network and disk I/O (latest, average, maximum) over the
/// last hour, day, week, month or year; the data has the points.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/rrddata", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_get_vm_rrddata(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The period: hour (default), day, week, month or year.
    #[serde(default)]
    timeframe: Timeframe,
    /// AVERAGE (default) or MAX of each interval.
    cf: Option<Consolidation>,
) -> ToolResult {
    rrddata(&api, "VM", &node, vmid, timeframe, cf).await
}

/// Summarise a container's performance history. CPU, memory, network and disk I/O (latest, average, maximum) over
/// the last hour, day, week, month or year; the data has the points.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/rrddata", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_get_lxc_rrddata(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The period: hour (default), day, week, month or year.
    #[serde(default)]
    timeframe: Timeframe,
    /// AVERAGE (default) or MAX of each interval.
    cf: Option<Consolidation>,
) -> ToolResult {
    rrddata(&api, "Container", &node, vmid, timeframe, cf).await
}
