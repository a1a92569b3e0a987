//! Disks: add, resize, move and remove the disks of QEMU VMs and the mount points of LXC
//! containers.
//!
//! Config keys are never free text: each is a validated slot (`scsi1`, `mp0`), and every value
//! written into a Proxmox property string is built from typed fields, so no argument can add
//! `,key=value` options of its own. Adding refuses a slot that is in use (Proxmox would replace
//! the disk); removing refuses a slot that is not set (Proxmox would only warn). Both send the
//! config digest they read, so a concurrent change is refused rather than overwritten.

use crate::format::{self, str_field};
use crate::types::{GuestType, InvalidValue, Node, StorageId, VmId, shown, string_id};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_ADD_DISK_VM,
    &PROXMOX_ADD_MOUNTPOINT_LXC,
    &PROXMOX_RESIZE_DISK_VM,
    &PROXMOX_RESIZE_DISK_LXC,
    &PROXMOX_REMOVE_DISK_VM,
    &PROXMOX_REMOVE_MOUNTPOINT_LXC,
    &PROXMOX_MOVE_DISK_VM,
    &PROXMOX_MOVE_DISK_LXC,
];

// ------------------------------------------------------------------------------ shared types

/// `prefix` followed by an index from 0 to `max`, written plainly (`scsi7`, not `scsi07`).
pub(crate) fn key_index(key: &str, prefix: &str, max: u16) -> Option<u16> {
    let digits = key.strip_prefix(prefix)?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse::<u16>().ok().filter(|n| *n <= max)
}

/// The data buses of a QEMU VM and their highest index.
const VM_BUSES: [(&str, u16); 4] = [("ide", 3), ("sata", 5), ("scsi", 30), ("virtio", 15)];

fn is_unused(s: &str) -> bool {
    key_index(s, "unused", 255).is_some()
}

string_id! {
    /// A disk slot of a QEMU VM: ide0-3, sata0-5, scsi0-30 or virtio0-15.
    DiskSlot, kind = "disk slot", pattern = "^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5]))$", max = 8,
    rule = "ide0-ide3, sata0-sata5, scsi0-scsi30 or virtio0-virtio15, e.g. scsi1"
}

string_id! {
    /// A disk of a QEMU VM: a disk slot, efidisk0, tpmstate0 or an unused disk unused0-255.
    VmDisk, kind = "VM disk", pattern = "^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0|unused([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))$", max = 9,
    rule = "ide0-3, sata0-5, scsi0-30, virtio0-15, efidisk0, tpmstate0 or unused0-255, e.g. scsi0"
}

string_id! {
    /// A disk of a QEMU VM that can be resized: a disk slot, efidisk0 or tpmstate0 (Proxmox's
    /// `disk` enum of a resize; an unused disk must be attached first).
    ResizableDisk, kind = "VM disk", pattern = "^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0)$", max = 9,
    rule = "ide0-3, sata0-5, scsi0-30, virtio0-15, efidisk0 or tpmstate0, e.g. scsi0 (an unused disk cannot be resized: attach it first)"
}

string_id! {
    /// A mount point slot of an LXC container: mp0 to mp255.
    MountPoint, kind = "mount point", pattern = "^mp([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$", max = 5,
    rule = "mp0 to mp255, e.g. mp0"
}

string_id! {
    /// A volume of an LXC container: rootfs, a mount point mp0-255 or an unused volume unused0-255.
    CtVolume, kind = "container volume", pattern = "^(rootfs|(mp|unused)([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))$", max = 9,
    rule = "rootfs, mp0-mp255 or unused0-unused255"
}

string_id! {
    /// A volume of an LXC container that can be resized: rootfs or a mount point (Proxmox's
    /// `disk` enum of a resize; an unused volume must be attached first).
    ResizableVolume, kind = "container volume", pattern = "^(rootfs|mp([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))$", max = 6,
    rule = "rootfs or mp0-mp255 (an unused volume cannot be resized: attach it first)"
}

string_id! {
    /// A volume of an LXC container that can be removed: a mount point or an unused volume (not
    /// the root disk).
    RemovableVolume, kind = "container volume", pattern = "^(mp|unused)([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])$", max = 9,
    rule = "mp0-mp255 or unused0-unused255 (the root disk, rootfs, cannot be removed)"
}

string_id! {
    /// A new disk size for a resize: `+10G` grows by 10 GiB, `50G` sets 50 GiB.
    DiskSize, kind = "disk size", pattern = "^\\+?[0-9]+(\\.[0-9]+)?[KMGT]?$", max = 24,
    rule = "a size such as 50G (the new size) or +10G (grow by); units K, M, G, T (no unit: bytes)"
}

string_id! {
    /// An absolute path inside a container, e.g. `/mnt/data`.
    MountPath, kind = "mount path", pattern = "^(/[A-Za-z0-9_.+@~:-]+)+/?$", max = 255,
    rule = "an absolute path such as /mnt/data (letters, digits and `_.+@~:-`; no `.` or `..` component)",
    beyond = |s| s.split('/').all(|seg| seg != "." && seg != "..")
}

/// An integer from `MIN` to `MAX`; the JSON schema carries the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Ranged<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Ranged<MIN, MAX> {
    pub fn new(n: u64) -> Result<Self, InvalidValue> {
        if (MIN..=MAX).contains(&n) {
            Ok(Ranged(n))
        } else {
            Err(InvalidValue(format!("{n} is out of range: it must be from {MIN} to {MAX}")))
        }
    }
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Ranged<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A whole number, or a string of digits (some clients send numbers as strings).
fn whole_number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Ranged<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let n = whole_number(&v).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "must be a whole number from {MIN} to {MAX}, not {}",
                shown(&v.to_string())
            ))
        })?;
        Ranged::new(n).map_err(serde::de::Error::custom)
    }
}

impl<const MIN: u64, const MAX: u64> JsonSchema for Ranged<MIN, MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Integer{MIN}To{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": MIN, "maximum": MAX })
    }
}

/// The size of a new volume in whole GiB (1 to 1048576). `32`, `"32"` and `"32G"` are all 32 GiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct GiB(u32);

impl GiB {
    pub const MAX: u32 = 1_048_576;

    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        if (1..=Self::MAX).contains(&n) {
            Ok(GiB(n))
        } else {
            Err(InvalidValue(format!("{n} GiB is out of range: a size is from 1 to {} GiB", Self::MAX)))
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for GiB {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} GiB", self.0)
    }
}

impl<'de> Deserialize<'de> for GiB {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let number = match &v {
            Value::String(s) => {
                let t = s.trim();
                let t =
                    ["GiB", "GB", "G", "gib", "gb", "g"].iter().find_map(|u| t.strip_suffix(u)).unwrap_or(t).trim_end();
                whole_number(&Value::String(t.to_string()))
            }
            other => whole_number(other),
        };
        let n = number.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "must be a whole number of GiB such as 32 (or \"32G\"), not {}",
                shown(&v.to_string())
            ))
        })?;
        GiB::new(n).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for GiB {
    fn schema_name() -> Cow<'static, str> {
        "GiB".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": 1,
            "maximum": GiB::MAX,
            "x-unit": "GiB",
            "description": "A size in whole GiB, e.g. 32.",
        })
    }
}

/// Image formats Proxmox can allocate or convert to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiskFormat {
    Raw,
    Qcow2,
    Vmdk,
}

impl DiskFormat {
    fn as_str(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Vmdk => "vmdk",
        }
    }
}

/// QEMU cache modes of a disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CacheMode {
    #[serde(rename = "none")]
    NoCache,
    #[serde(rename = "writethrough")]
    Writethrough,
    #[serde(rename = "writeback")]
    Writeback,
    #[serde(rename = "unsafe")]
    Unsafe,
    #[serde(rename = "directsync")]
    Directsync,
}

impl CacheMode {
    fn as_str(self) -> &'static str {
        match self {
            CacheMode::NoCache => "none",
            CacheMode::Writethrough => "writethrough",
            CacheMode::Writeback => "writeback",
            CacheMode::Unsafe => "unsafe",
            CacheMode::Directsync => "directsync",
        }
    }
}

/// `1` or `0`, as Proxmox property strings spell booleans.
pub(crate) fn flag(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

/// Options of a new VM disk, written into its drive string.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskOptions {
    /// Image format, for file-based storages (raw, qcow2, vmdk); default: the storage's.
    pub format: Option<DiskFormat>,
    /// Cache mode: none (default), writethrough, writeback, unsafe, directsync.
    #[schemars(extend("x-rare" = true))]
    pub cache: Option<CacheMode>,
    /// Pass discard/TRIM to the storage, so a thin volume gives freed space back.
    pub discard: Option<bool>,
    /// Show the disk to the guest as an SSD (not for virtio).
    pub ssd: Option<bool>,
    /// Give the disk its own I/O thread (virtio, or scsi with the virtio-scsi-single controller).
    #[schemars(extend("x-rare" = true))]
    pub iothread: Option<bool>,
    /// Include the disk in backups (default yes).
    pub backup: Option<bool>,
}

impl DiskOptions {
    /// `storage:size` (a new volume of `size` GiB) and the options.
    pub(crate) fn drive(&self, storage: &StorageId, size: GiB) -> String {
        let mut value = format!("{storage}:{}", size.get());
        if let Some(f) = self.format {
            value.push_str(&format!(",format={}", f.as_str()));
        }
        if let Some(c) = self.cache {
            value.push_str(&format!(",cache={}", c.as_str()));
        }
        if let Some(d) = self.discard {
            value.push_str(if d { ",discard=on" } else { ",discard=ignore" });
        }
        for (key, v) in [("ssd", self.ssd), ("iothread", self.iothread), ("backup", self.backup)] {
            if let Some(b) = v {
                value.push_str(&format!(",{key}={}", flag(b)));
            }
        }
        value
    }
}

// ---------------------------------------------------------------------------- shared helpers

/// True if the configuration sets this key.
pub(crate) fn has_key(cfg: &Value, key: &str) -> bool {
    cfg.get(key).is_some_and(|v| !v.is_null())
}

/// The first `prefix`N (N from 0 to `max`) the configuration does not use.
pub(crate) fn free_slot(cfg: &Value, prefix: &str, max: u16) -> Option<String> {
    (0..=max).map(|i| format!("{prefix}{i}")).find(|k| !has_key(cfg, k))
}

/// The keys of the configuration that match `is_key`, sorted naturally (`scsi2` before `scsi10`).
pub(crate) fn keys_where(cfg: &Value, is_key: impl Fn(&str) -> bool) -> Vec<String> {
    let mut keys: Vec<String> = cfg.as_object().map_or_else(Vec::new, |o| {
        o.iter().filter(|(k, v)| !v.is_null() && is_key(k)).map(|(k, _)| k.clone()).collect()
    });
    keys.sort_by_key(|k| {
        let split = k.find(|c: char| c.is_ascii_digit()).unwrap_or(k.len());
        (k[..split].to_string(), k[split..].parse::<u32>().unwrap_or(0))
    });
    keys
}

/// Write one key (with the digest read before, so a concurrent change is refused).
pub(crate) async fn put_key(api: &Api, path: &ApiPath, cfg: &Value, key: &str, value: &str) -> Result<(), ToolError> {
    let mut body = Map::new();
    body.insert(key.to_string(), json!(value));
    if let Some(digest) = str_field(cfg, "digest") {
        body.insert("digest".into(), json!(digest));
    }
    let _: Value = api.put(path, body).await?;
    Ok(())
}

/// Delete one key (with the digest read before).
pub(crate) async fn delete_key(api: &Api, path: &ApiPath, cfg: &Value, key: &str) -> Result<(), ToolError> {
    let _: Value = api.put(path, json!({ "delete": key, "digest": str_field(cfg, "digest") })).await?;
    Ok(())
}

/// The tool's own path (all the config tools of these areas have one: the guest's
/// configuration) and the configuration read from it (pending changes applied, as Proxmox
/// shows it by default).
pub(crate) async fn own_config(api: &Api) -> Result<(ApiPath, Value), ToolError> {
    let path = api.path().cloned().ok_or_else(|| ToolError::Other("internal error: this tool has no path".into()))?;
    let cfg = api.get(&path, ()).await?;
    Ok((path, cfg))
}

/// Refuse a slot that is in use, suggesting a free one of the same kind.
pub(crate) fn require_free(
    cfg: &Value,
    arg: &str,
    key: &str,
    prefix: &str,
    max: u16,
    what: &str,
) -> Result<(), ToolError> {
    if !has_key(cfg, key) {
        return Ok(());
    }
    let current = cfg.get(key).map(format::value).unwrap_or_default();
    let hint = match free_slot(cfg, prefix, max) {
        Some(free) => format!("choose a free one, e.g. {free}"),
        None => format!("every {prefix} slot is in use"),
    };
    Err(ToolError::invalid(arg, format!("{key} is already in use on {what} ({current}): {hint}")))
}

/// Refuse a key the configuration does not set, naming those it has.
pub(crate) fn require_set(
    cfg: &Value,
    arg: &str,
    key: &str,
    what: &str,
    existing: Vec<String>,
) -> Result<(), ToolError> {
    if has_key(cfg, key) {
        return Ok(());
    }
    let have = if existing.is_empty() { "none".to_string() } else { existing.join(", ") };
    Err(ToolError::invalid(arg, format!("{what} has no {key} (it has: {have})")))
}

// ------------------------------------------------------------------------------------ tools

/// Add a new disk to a QEMU VM (size in GiB). Allocates a volume of the given size on a storage and attaches it to
/// a free slot (scsi1, virtio1, sata1, ide1...). Refuses a slot that is already in use.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, idempotent = false, category = "Disks")]
async fn proxmox_add_disk_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The slot for the new disk: scsi0-30, virtio0-15, sata0-5 or ide0-3, e.g. scsi1.
    disk: DiskSlot,
    /// The storage to allocate the volume on, e.g. local-lvm.
    storage: StorageId,
    /// Size of the new disk in GiB, e.g. 32.
    size: GiB,
    #[flatten] options: DiskOptions,
) -> ToolResult {
    let (path, cfg) = own_config(&api).await?;
    let bus = VM_BUSES.iter().find(|(b, max)| key_index(disk.as_str(), b, *max).is_some());
    let (prefix, max) = bus.copied().unwrap_or(("scsi", 30));
    require_free(&cfg, "disk", disk.as_str(), prefix, max, &format!("VM {vmid}"))?;
    let value = options.drive(&storage, size);
    put_key(&api, &path, &cfg, disk.as_str(), &value).await?;
    Ok(ToolOutput::new(
        format!(
            "✅ Added {disk} to VM {vmid}: a new {size} disk on {storage}\n\n• Node: {node}\n• {disk}: {value}\n\nA running VM gets it now if disk hot-plug is on, else at its next start."
        ),
        json!({ "node": node, "vmid": vmid, "disk": disk, "value": value }),
    ))
}

/// Add a mount point to an LXC container (size in GiB). Allocates a volume of the given size on a storage and
/// mounts it at a path inside the container. Refuses a slot that is already in use.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/config", method = PUT, elevated, idempotent = false, category = "Disks")]
async fn proxmox_add_mountpoint_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The mount point slot, mp0 to mp255.
    mp: MountPoint,
    /// The storage to allocate the volume on, e.g. local-lvm.
    storage: StorageId,
    /// Size of the new volume in GiB, e.g. 16.
    size: GiB,
    /// Where to mount it inside the container, an absolute path such as /mnt/data.
    path: MountPath,
    /// Include the volume in backups (Proxmox's default: no, for mount points).
    backup: Option<bool>,
    /// Mount it read-only.
    ro: Option<bool>,
) -> ToolResult {
    let (config, cfg) = own_config(&api).await?;
    require_free(&cfg, "mp", mp.as_str(), "mp", 255, &format!("container {vmid}"))?;
    let mut value = format!("{storage}:{},mp={path}", size.get());
    for (key, v) in [("backup", backup), ("ro", ro)] {
        if let Some(b) = v {
            value.push_str(&format!(",{key}={}", flag(b)));
        }
    }
    put_key(&api, &config, &cfg, mp.as_str(), &value).await?;
    Ok(ToolOutput::new(
        format!(
            "✅ Added {mp} to container {vmid}: a new {size} volume on {storage} at {path}\n\n• Node: {node}\n• {mp}: {value}"
        ),
        json!({ "node": node, "vmid": vmid, "mp": mp, "value": value }),
    ))
}

/// Shared by the two resize tools.
async fn resize(api: Api, node: Node, kind: GuestType, vmid: VmId, disk: &str, size: DiskSize) -> ToolResult {
    let what = match size.as_str().strip_prefix('+') {
        Some(by) => format!("grown by {by}"),
        None => format!("resized to {size}"),
    };
    let out = api
        .start_task(
            json!({ "disk": disk, "size": size }),
            &node,
            format!("{disk} of {} is being {what}", kind.with_id(vmid)),
        )
        .await?;
    Ok(out.with(None, "vmid", vmid).with(None, "disk", disk).with(None, "size", size))
}

/// Grow a QEMU VM's disk (size +10G adds, 50G sets). Disks cannot shrink; the guest's partitions and file systems
/// must be grown inside the guest afterwards.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/resize", method = PUT, elevated, task, idempotent = false, category = "Disks")]
async fn proxmox_resize_disk_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The disk to grow, e.g. scsi0, virtio0, efidisk0 (not an unused disk: attach it first).
    disk: ResizableDisk,
    /// `+10G` to grow by 10 GiB, or `50G` for a new total size (units K, M, G, T).
    size: DiskSize,
) -> ToolResult {
    resize(api, node, GuestType::Qemu, vmid, disk.as_str(), size).await
}

/// Grow a container's volume (size +10G adds, 50G sets). The rootfs or a mount point; volumes cannot shrink.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/resize", method = PUT, elevated, task, idempotent = false, category = "Disks")]
async fn proxmox_resize_disk_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The volume to grow: rootfs or mp0-mp255 (not an unused volume: attach it first).
    disk: ResizableVolume,
    /// `+10G` to grow by 10 GiB, or `50G` for a new total size (units K, M, G, T).
    size: DiskSize,
) -> ToolResult {
    resize(api, node, GuestType::Lxc, vmid, disk.as_str(), size).await
}

/// Detach a QEMU VM's disk (it becomes unusedN); removing an unusedN deletes it. An attached disk becomes an unused
/// disk (its data stays on the storage); removing an unused disk (unusedN) destroys its volume. Refuses a disk the
/// VM does not have.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, destructive = true, category = "Disks")]
async fn proxmox_remove_disk_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The disk to remove, e.g. scsi1, ide2 or unused0.
    disk: VmDisk,
) -> ToolResult {
    let (path, cfg) = own_config(&api).await?;
    let existing = keys_where(&cfg, |k| VmDisk::new(k).is_ok());
    require_set(&cfg, "disk", disk.as_str(), &format!("VM {vmid}"), existing)?;
    let before = cfg.get(disk.as_str()).map(format::value).unwrap_or_default();
    delete_key(&api, &path, &cfg, disk.as_str()).await?;
    let effect = if is_unused(disk.as_str()) {
        "its volume was destroyed"
    } else {
        "a volume it held stays on the storage as an unused disk (remove that unusedN to free the space)"
    };
    Ok(ToolOutput::new(
        format!("✅ Removed {disk} from VM {vmid}: {effect}\n\n• Node: {node}\n• Was: {before}"),
        json!({ "node": node, "vmid": vmid, "disk": disk, "was": before }),
    ))
}

/// Remove a container's mount point (it becomes unusedN); removing an unusedN deletes it. A storage volume becomes
/// an unused volume (its data stays); removing an unused volume (unusedN) destroys it. The root disk cannot be
/// removed.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/config", method = PUT, elevated, destructive = true, category = "Disks")]
async fn proxmox_remove_mountpoint_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The mount point to remove, mp0-mp255 (or an unused volume, unused0-unused255; not rootfs).
    mp: RemovableVolume,
) -> ToolResult {
    let (path, cfg) = own_config(&api).await?;
    let existing = keys_where(&cfg, |k| RemovableVolume::new(k).is_ok());
    require_set(&cfg, "mp", mp.as_str(), &format!("container {vmid}"), existing)?;
    let before = cfg.get(mp.as_str()).map(format::value).unwrap_or_default();
    delete_key(&api, &path, &cfg, mp.as_str()).await?;
    let effect = if is_unused(mp.as_str()) {
        "its volume was destroyed"
    } else {
        "a storage volume stays as an unused volume (remove that unusedN to free the space)"
    };
    Ok(ToolOutput::new(
        format!("✅ Removed {mp} from container {vmid}: {effect}\n\n• Node: {node}\n• Was: {before}"),
        json!({ "node": node, "vmid": vmid, "mp": mp, "was": before }),
    ))
}

/// What the move tools send.
#[derive(Serialize)]
struct Move<'a> {
    disk: Option<&'a str>,
    volume: Option<&'a str>,
    storage: &'a StorageId,
    delete: bool,
    format: Option<DiskFormat>,
    bwlimit: Option<u64>,
}

/// Shared by the two move tools: send the move and report its task and what becomes of the
/// source volume.
async fn move_volume(api: Api, node: Node, kind: GuestType, vmid: VmId, request: Move<'_>) -> ToolResult {
    let name = request.disk.or(request.volume).unwrap_or_default();
    let (storage, delete) = (request.storage, request.delete);
    let upid: String = api.send(&request).await?;
    let kept = match kind {
        GuestType::Qemu => "kept as an unused disk",
        GuestType::Lxc => "kept as an unused volume",
    };
    let mut out = api.follow_task(upid, &node, format!("Moving {name} of {} to {storage}", kind.with_id(vmid))).await?;
    out.text.push_str(&format!("\n• Source volume: {}", if delete { "deleted after the copy" } else { kept }));
    Ok(out)
}

/// Move a QEMU VM's disk to another storage. Also while the VM runs. By default the source volume is deleted after
/// the copy; with delete=false it stays as an unused disk.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/move_disk", method = POST, elevated, task, category = "Disks")]
async fn proxmox_move_disk_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The disk to move, e.g. scsi0.
    disk: VmDisk,
    /// The target storage, e.g. local-lvm.
    storage: StorageId,
    /// Delete the source volume after the copy (default true; false keeps it as an unused disk).
    #[schemars(extend("default" = true))]
    delete: Option<bool>,
    /// Target image format, for file-based storages: raw, qcow2 or vmdk.
    format: Option<DiskFormat>,
    /// Bandwidth limit in KiB/s.
    bwlimit: Option<Ranged<0, 4_294_967_295>>,
) -> ToolResult {
    let request = Move {
        disk: Some(disk.as_str()),
        volume: None,
        storage: &storage,
        delete: delete.unwrap_or(true),
        format,
        bwlimit: bwlimit.map(Ranged::get),
    };
    move_volume(api, node, GuestType::Qemu, vmid, request).await
}

/// Move a container's volume to another storage. The rootfs or a mount point. The container must be stopped. By
/// default the source volume is deleted after the copy; with delete=false it stays as an unused volume.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/move_volume", method = POST, elevated, task, category = "Disks")]
async fn proxmox_move_disk_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The volume to move: rootfs, mp0-mp255 or unused0-unused255.
    disk: CtVolume,
    /// The target storage, e.g. local-lvm.
    storage: StorageId,
    /// Delete the source volume after the copy (default true; false keeps it as an unused volume).
    #[schemars(extend("default" = true))]
    delete: Option<bool>,
    /// Bandwidth limit in KiB/s.
    bwlimit: Option<Ranged<0, 4_294_967_295>>,
) -> ToolResult {
    let request = Move {
        disk: None,
        volume: Some(disk.as_str()),
        storage: &storage,
        delete: delete.unwrap_or(true),
        format: None,
        bwlimit: bwlimit.map(Ranged::get),
    };
    move_volume(api, node, GuestType::Lxc, vmid, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["scsi0", "scsi30", "virtio15", "sata5", "ide3"] {
            assert!(DiskSlot::new(ok).is_ok(), "{ok}");
        }
        for bad in
            ["scsi31", "scsi01", "virtio16", "sata6", "ide4", "net0", "scsi", "scsi1,x=1", "efidisk0", "hookscript"]
        {
            assert!(DiskSlot::new(bad).is_err(), "{bad}");
        }
        assert!(VmDisk::new("unused255").is_ok() && VmDisk::new("tpmstate0").is_ok());
        assert!(VmDisk::new("unused256").is_err() && VmDisk::new("efidisk1").is_err());
        assert!(MountPoint::new("mp255").is_ok() && MountPoint::new("mp256").is_err());
        assert!(CtVolume::new("rootfs").is_ok() && CtVolume::new("rootfs0").is_err());
        assert!(ResizableDisk::new("efidisk0").is_ok() && ResizableDisk::new("scsi30").is_ok());
        assert!(ResizableDisk::new("unused0").is_err() && ResizableDisk::new("scsi31").is_err());
        assert!(ResizableVolume::new("rootfs").is_ok() && ResizableVolume::new("mp255").is_ok());
        assert!(ResizableVolume::new("unused0").is_err() && ResizableVolume::new("mp256").is_err());
        assert!(RemovableVolume::new("mp0").is_ok() && RemovableVolume::new("unused255").is_ok());
        assert!(RemovableVolume::new("rootfs").is_err() && RemovableVolume::new("mp256").is_err());
        for ok in ["+10G", "50G", "1.5T", "1024", "+512M"] {
            assert!(DiskSize::new(ok).is_ok(), "{ok}");
        }
        for bad in ["10GB", "-1G", "+", "G", "1.G", ".5G", "10g", "1,5G"] {
            assert!(DiskSize::new(bad).is_err(), "{bad}");
        }
        for ok in ["/mnt/data", "/srv/www/", "/a"] {
            assert!(MountPath::new(ok).is_ok(), "{ok}");
        }
        for bad in ["/", "mnt", "/mnt/../etc", "/mnt,ro=1", "/a//b", "/mnt/./x", "/a b", "/a=b"] {
            assert!(MountPath::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        for (json, gib) in [("32", 32), ("\"32\"", 32), ("\"32G\"", 32), ("\"8 GiB\"", 8)] {
            assert_eq!(serde_json::from_str::<GiB>(json).unwrap().get(), gib, "{json}");
        }
        for bad in ["0", "-1", "1.5", "\"1.5T\"", "\"500M\"", "\"\"", "null", "2000000"] {
            assert!(serde_json::from_str::<GiB>(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::from_str::<Ranged<1, 10>>("10").unwrap().get(), 10);
        assert!(serde_json::from_str::<Ranged<1, 10>>("11").is_err());
        assert!(serde_json::from_str::<Ranged<1, 10>>("-1").is_err());
    }

    #[test]
    fn drive_strings() {
        let storage = StorageId::new("local-lvm").unwrap();
        let size = GiB::new(10).unwrap();
        assert_eq!(DiskOptions::default().drive(&storage, size), "local-lvm:10");
        let opts =
            DiskOptions { discard: Some(true), ssd: Some(true), cache: Some(CacheMode::NoCache), ..Default::default() };
        assert_eq!(opts.drive(&storage, size), "local-lvm:10,cache=none,discard=on,ssd=1");
    }
}
