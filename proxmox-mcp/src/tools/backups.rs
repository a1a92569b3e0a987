//! Backups: run vzdump for a VM or container, list the archives on a storage, restore one to a
//! guest, delete one. The VM and container variants share one implementation per action.

use crate::format::{self, str_field, u64_field};
use crate::page::Page;
use crate::types::{GuestType, Node, PoolId, StorageId, VmId, Volume};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_CREATE_BACKUP_LXC,
    &PROXMOX_CREATE_BACKUP_VM,
    &PROXMOX_LIST_BACKUPS,
    &PROXMOX_RESTORE_BACKUP_LXC,
    &PROXMOX_RESTORE_BACKUP_VM,
    &PROXMOX_DELETE_BACKUP,
];

// --------------------------------------------------------------------------------- create

/// How vzdump gets a consistent copy of the guest.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum BackupMode {
    /// Live backup while the guest runs (no downtime).
    #[default]
    Snapshot,
    /// The guest is suspended while its state is copied (short downtime).
    Suspend,
    /// The guest is shut down for the backup and started again after (longest downtime, most consistent).
    Stop,
}

impl BackupMode {
    fn explain(self) -> &'static str {
        match self {
            BackupMode::Snapshot => "snapshot: live backup, no downtime",
            BackupMode::Suspend => "suspend: the guest is suspended for part of the backup",
            BackupMode::Stop => "stop: the guest is shut down for the backup and started again after",
        }
    }
}

/// Compression of the archive, as vzdump names it (`0` = none; `1` = lzo).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, JsonSchema)]
enum Compression {
    // No compression (`none` is accepted too: see the `compress` argument). Variants carry no
    // doc comments, so that the schema is one plain `enum`.
    #[serde(rename = "0")]
    None,
    // vzdump's default compressor, lzo.
    #[serde(rename = "1")]
    Default,
    #[serde(rename = "gzip")]
    Gzip,
    #[serde(rename = "lzo")]
    Lzo,
    #[default]
    #[serde(rename = "zstd")]
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "none",
            Compression::Default => "lzo (default)",
            Compression::Gzip => "gzip",
            Compression::Lzo => "lzo",
            Compression::Zstd => "zstd",
        })
    }
}

/// Further vzdump options.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BackupOptions {
    /// Template of the backup's notes, e.g. "{{guestname}} before upgrade" (needs `storage`).
    #[serde(rename = "notes-template")]
    #[schemars(length(max = 1024))]
    notes_template: Option<String>,
    /// Protect the backup from pruning and deletion (needs `storage`).
    protected: Option<bool>,
    /// Prune older backups by the storage's retention settings (Proxmox's default: true).
    remove: Option<bool>,
    /// I/O bandwidth limit in KiB/s.
    bwlimit: Option<u64>,
}

/// The body of `POST /nodes/{node}/vzdump` for one guest.
#[derive(Serialize)]
struct Vzdump {
    vmid: VmId,
    storage: Option<StorageId>,
    mode: BackupMode,
    compress: Compression,
    #[serde(flatten)]
    options: BackupOptions,
}

/// Back a guest up with vzdump.
async fn backup(api: Api, kind: GuestType, node: Node, request: Vzdump) -> ToolResult {
    let Vzdump { vmid, storage, mode, compress, options } = &request;
    if storage.is_none() {
        let needs = [("notes-template", options.notes_template.is_some()), ("protected", options.protected.is_some())];
        let bad: Vec<(String, String)> = needs
            .iter()
            .filter(|(_, given)| *given)
            .map(|(arg, _)| (arg.to_string(), "needs `storage` to be given too".to_string()))
            .collect();
        if !bad.is_empty() {
            return Err(ToolError::InvalidArguments(bad));
        }
    }
    let what = format!("Backup of {} started", kind.with_id(*vmid));
    let target = storage.as_ref().map_or_else(|| "the node's default".to_string(), |s| s.to_string());
    let text = format!(
        "• Storage: {target}\n• Mode: {}\n• Compression: {compress}\n\nproxmox_list_backups shows the archive once the task has finished.",
        mode.explain()
    );
    let (vmid, storage, mode) = (*vmid, storage.clone(), *mode);
    let out = api.start_task(request, &node, what).await?;
    let out = out.with(Some(text), "vmid", vmid);
    Ok(out.with(None, "storage", storage).with(None, "mode", mode))
}

/// Back up an LXC container with vzdump.
#[pve_tool(path = "/nodes/<node>/vzdump", method = POST, elevated, task, category = "Backups", title = "Create LXC backup")]
async fn proxmox_create_backup_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// Storage that receives the backup (default: the node's vzdump default, normally local).
    storage: Option<StorageId>,
    /// snapshot (live, default), suspend or stop.
    #[serde(default)]
    mode: BackupMode,
    /// Compression: zstd (default), gzip, lzo, 1 (lzo) or 0 (none).
    #[serde(default)]
    #[schemars(extend("x-value-aliases" = {"none": "0"}))]
    compress: Compression,
    #[flatten] options: BackupOptions,
) -> ToolResult {
    backup(api, GuestType::Lxc, node, Vzdump { vmid, storage, mode, compress, options }).await
}

/// Back up a QEMU VM with vzdump.
#[pve_tool(path = "/nodes/<node>/vzdump", method = POST, elevated, task, category = "Backups", title = "Create VM backup")]
async fn proxmox_create_backup_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// Storage that receives the backup (default: the node's vzdump default, normally local).
    storage: Option<StorageId>,
    /// snapshot (live, default), suspend or stop.
    #[serde(default)]
    mode: BackupMode,
    /// Compression: zstd (default), gzip, lzo, 1 (lzo) or 0 (none).
    #[serde(default)]
    #[schemars(extend("x-value-aliases" = {"none": "0"}))]
    compress: Compression,
    #[flatten] options: BackupOptions,
) -> ToolResult {
    backup(api, GuestType::Qemu, node, Vzdump { vmid, storage, mode, compress, options }).await
}

// ----------------------------------------------------------------------------------- list

/// "VM" or "CT" for a backup entry: from `subtype`, else from the archive's name or format.
fn backup_kind(item: &Value) -> Option<&'static str> {
    let volid = str_field(item, "volid").unwrap_or("");
    let format = str_field(item, "format").unwrap_or("");
    match str_field(item, "subtype") {
        Some("qemu") => return Some("VM"),
        Some("lxc") | Some("openvz") => return Some("CT"),
        _ => {}
    }
    if volid.contains("vzdump-qemu-") || format == "pbs-vm" || volid.contains(":backup/vm/") {
        Some("VM")
    } else if volid.contains("vzdump-lxc-")
        || volid.contains("vzdump-openvz-")
        || format == "pbs-ct"
        || volid.contains(":backup/ct/")
    {
        Some("CT")
    } else {
        None
    }
}

/// List backups, newest first: of every storage that holds backups in the cluster (a shared one once), of one
/// node's, or of one storage. Filter by guest with `vmid`; an offline node's storages are named, not read.
#[pve_tool(method = GET, category = "Backups")]
async fn proxmox_list_backups(
    api: Api,
    /// Only this node's storages (default: every node).
    node: Option<Node>,
    /// Only this storage (default: every storage whose content includes backup).
    storage: Option<StorageId>,
    /// Only backups of this guest.
    vmid: Option<VmId>,
    #[flatten] page: Page,
) -> ToolResult {
    let (places, mut unread) = backup_storages(&api, node, storage.as_ref()).await?;
    let query = json!({ "content": "backup", "vmid": vmid });
    let mut items: Vec<Value> = Vec::new();
    for (node, storage) in &places {
        let path = ApiPath::lit("/nodes").join(node).join_lit("storage").join(storage).join_lit("content");
        match api.get::<Vec<Value>>(&path, &query).await {
            // Entries that are not objects are not backups (and cannot take a node).
            Ok(list) => items.extend(list.into_iter().filter_map(|mut b| {
                b.as_object_mut()?.insert("node".into(), json!(node));
                Some(b)
            })),
            // One storage failing does not hide the others.
            Err(e) if places.len() > 1 => unread.push(format!("{storage} on {node} ({e})")),
            Err(e) => return Err(e),
        }
    }
    items.sort_by_key(|b| std::cmp::Reverse(u64_field(b, "ctime").unwrap_or(0)));
    let whose = vmid.map(|v| format!(" of guest {v}")).unwrap_or_default();
    let place = match (&storage, places.first()) {
        (Some(s), Some((n, _))) if places.len() == 1 => format!("on {s} ({n})"),
        (Some(s), _) => format!("on {s}"),
        _ => format!("on {} storages", places.len()),
    };
    let mut text = if items.is_empty() {
        let mut t = format!("No backups{whose} {place}.");
        if storage.is_some() {
            t.push_str(" Other storages may hold some: leave out `storage` to look at all of them.");
        }
        t
    } else {
        format!("💾 **Backups{whose} {place}** ({})", items.len())
    };
    let page = page.cut(items);
    text.push_str(&page.lines(|b| {
        let mut line = format!("• **{}**", str_field(b, "volid").unwrap_or("?"));
        let mut facts = Vec::new();
        match (backup_kind(b), u64_field(b, "vmid")) {
            (Some(kind), Some(id)) => facts.push(format!("{kind} {id}")),
            (None, Some(id)) => facts.push(format!("guest {id}")),
            _ => {}
        }
        if let Some(size) = u64_field(b, "size") {
            facts.push(format::bytes(size as f64));
        }
        if let Some(t) = u64_field(b, "ctime").filter(|t| *t > 0) {
            facts.push(format::timestamp(t));
        }
        if b.get("protected").is_some_and(|p| p.as_bool() == Some(true) || p.as_u64() == Some(1)) {
            facts.push("🔒 protected".into());
        }
        if places.len() > 1 {
            facts.push(format!("via {}", str_field(b, "node").unwrap_or("?")));
        }
        if !facts.is_empty() {
            line.push_str(&format!(" — {}", facts.join(", ")));
        }
        if let Some(notes) = str_field(b, "notes").map(str::trim).filter(|n| !n.is_empty()) {
            line.push_str(&format!("\n  {}", notes.replace('\n', " ")));
        }
        line
    }));
    if !unread.is_empty() {
        text.push_str(&format!("\n\n⚠️ Not read (node offline or storage unavailable): {}", unread.join(", ")));
    }
    let mut data = page.data("items");
    data.insert(
        "storages".into(),
        json!(places.iter().map(|(n, s)| json!({ "node": n, "storage": s })).collect::<Vec<_>>()),
    );
    data.insert("unread".into(), json!(unread));
    Ok(ToolOutput::new(text, data))
}

/// Where to look for backups: `(node, storage)` pairs, and what could not be asked (offline
/// nodes). Node and storage given: just that. Otherwise each node's storages whose content
/// includes backup (only `storage`, if given), a shared storage once, from the first node that
/// sees it.
async fn backup_storages(
    api: &Api,
    node: Option<Node>,
    storage: Option<&StorageId>,
) -> Result<(Vec<(Node, StorageId)>, Vec<String>), ToolError> {
    if let (Some(node), Some(storage)) = (&node, storage) {
        return Ok((vec![(node.clone(), storage.clone())], Vec::new()));
    }
    let single = node.is_some();
    let (nodes, mut unread) = super::vm_query::target_nodes(api, node).await?;
    let mut places: Vec<(Node, StorageId)> = Vec::new();
    let mut shared_seen: Vec<String> = Vec::new();
    for node in nodes {
        let path = ApiPath::lit("/nodes").join(&node).join_lit("storage");
        let list: Vec<Value> = match api.get(&path, json!({ "content": "backup" })).await {
            Ok(list) => list,
            Err(e) if !single => {
                unread.push(format!("{node} ({e})"));
                continue;
            }
            Err(e) => return Err(e),
        };
        for s in list {
            let Some(id) = str_field(&s, "storage").filter(|id| storage.is_none_or(|want| want.as_str() == *id)) else {
                continue;
            };
            if !super::vm_query::storage_usable(&s) {
                continue;
            }
            if format::flag(&s, "shared") == Some(true) {
                if shared_seen.iter().any(|seen| seen == id) {
                    continue;
                }
                shared_seen.push(id.to_string());
            }
            if let Ok(id) = StorageId::new(id) {
                places.push((node.clone(), id));
            }
        }
    }
    Ok((places, unread))
}

// -------------------------------------------------------------------------------- restore

/// A backup's volume id, `storage:backup/...` (a [`Volume`] whose name is under `backup/`), as
/// the schema of the `archive` and `volume` arguments says.
const BACKUP_VOLUME: &str = r"^[a-z][a-z0-9_.-]*[a-z0-9]:backup/[A-Za-z0-9_.+=@,~:/-]+$";

/// The longest `archive` (`ostemplate` for containers) Proxmox takes in a restore.
const MAX_ARCHIVE: usize = 255;

/// Options of restoring a VM backup.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RestoreVmOptions {
    /// Overwrite an existing VM with this id (its disks are replaced by the backup's).
    force: Option<bool>,
    /// Give the restored VM new random MAC addresses (for a copy next to the original).
    unique: Option<bool>,
    /// Start the VM once the restore has finished.
    start: Option<bool>,
    /// Start the VM at once and restore its data in the background.
    #[serde(rename = "live-restore")]
    live_restore: Option<bool>,
    /// Add the VM to this resource pool.
    pool: Option<PoolId>,
    /// I/O bandwidth limit in KiB/s.
    bwlimit: Option<u64>,
}

/// Options of restoring a container backup.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RestoreLxcOptions {
    /// Overwrite an existing container with this id (it must be stopped).
    force: Option<bool>,
    /// Give the restored container new random MAC addresses (for a copy next to the original).
    unique: Option<bool>,
    /// Start the container once the restore has finished.
    start: Option<bool>,
    /// Add the container to this resource pool.
    pool: Option<PoolId>,
    /// I/O bandwidth limit in KiB/s.
    bwlimit: Option<u64>,
}

/// Restore options that may overwrite an existing guest.
trait Overwrites {
    fn force(&self) -> bool;
}

impl Overwrites for RestoreVmOptions {
    fn force(&self) -> bool {
        self.force == Some(true)
    }
}

impl Overwrites for RestoreLxcOptions {
    fn force(&self) -> bool {
        self.force == Some(true)
    }
}

/// The body of a restore: `POST /nodes/{node}/qemu` takes the backup as `archive`;
/// `POST /nodes/{node}/lxc` takes it as `ostemplate` with `restore=1`.
#[derive(Serialize)]
struct RestoreRequest<'a, T> {
    vmid: VmId,
    archive: Option<&'a Volume>,
    ostemplate: Option<&'a Volume>,
    restore: Option<bool>,
    storage: Option<&'a StorageId>,
    #[serde(flatten)]
    options: &'a T,
}

/// Restore a backup archive to a guest.
async fn restore<T: Serialize + Overwrites>(
    api: Api,
    kind: GuestType,
    node: Node,
    vmid: VmId,
    archive: Volume,
    storage: Option<StorageId>,
    options: &T,
) -> ToolResult {
    let request = match kind {
        GuestType::Qemu => RestoreRequest {
            vmid,
            archive: Some(&archive),
            ostemplate: None,
            restore: None,
            storage: storage.as_ref(),
            options,
        },
        GuestType::Lxc => RestoreRequest {
            vmid,
            archive: None,
            ostemplate: Some(&archive),
            restore: Some(true),
            storage: storage.as_ref(),
            options,
        },
    };
    let what = format!("Backup {archive} is being restored to {}", kind.with_id(vmid));
    let out = api.start_task(request, &node, what).await?;
    let mut lines = Vec::new();
    if let Some(s) = &storage {
        lines.push(format!("• Storage: {s}"));
    }
    if options.force() {
        lines.push(format!("⚠️ An existing {} is overwritten.", kind.with_id(vmid)));
    }
    let out = out.with((!lines.is_empty()).then(|| lines.join("\n")), "vmid", vmid);
    Ok(out.with(None, "archive", archive))
}

/// Restore an LXC container from a backup. To a new id, or over an existing container with `force`.
#[pve_tool(path = "/nodes/<node>/lxc", method = POST, elevated, task, destructive = true, category = "Backups", title = "Restore LXC backup")]
async fn proxmox_restore_backup_lxc(
    api: Api,
    /// The node to restore on.
    node: Node,
    /// The id the restored container gets.
    vmid: VmId,
    /// The backup's volume id, e.g. local:backup/vzdump-lxc-200-2025_01_01-00_00_00.tar.zst.
    #[schemars(length(max = MAX_ARCHIVE), regex(pattern = BACKUP_VOLUME))]
    archive: Volume,
    /// Storage for the restored volumes (default: local).
    storage: Option<StorageId>,
    #[flatten] options: RestoreLxcOptions,
) -> ToolResult {
    restore(api, GuestType::Lxc, node, vmid, archive, storage, &options).await
}

/// Restore a QEMU VM from a backup. To a new id, or over an existing VM with `force`.
#[pve_tool(path = "/nodes/<node>/qemu", method = POST, elevated, task, destructive = true, category = "Backups", title = "Restore VM backup")]
async fn proxmox_restore_backup_vm(
    api: Api,
    /// The node to restore on.
    node: Node,
    /// The id the restored VM gets.
    vmid: VmId,
    /// The backup's volume id, e.g. local:backup/vzdump-qemu-100-2025_01_01-00_00_00.vma.zst.
    #[schemars(length(max = MAX_ARCHIVE), regex(pattern = BACKUP_VOLUME))]
    archive: Volume,
    /// Storage for the restored disks (default: the storages in the backup).
    storage: Option<StorageId>,
    #[flatten] options: RestoreVmOptions,
) -> ToolResult {
    restore(api, GuestType::Qemu, node, vmid, archive, storage, &options).await
}

// --------------------------------------------------------------------------------- delete

/// Delete a backup archive from a storage.
#[pve_tool(path = "/nodes/<node>/storage/<storage>/content/<volume>", method = DELETE, elevated, task, category = "Backups")]
async fn proxmox_delete_backup(
    api: Api,
    /// The node the storage is on.
    node: Node,
    /// The storage holding the backup.
    storage: StorageId,
    /// The backup's volume id, as proxmox_list_backups shows it, e.g. local:backup/vzdump-qemu-100-2025_01_01-00_00_00.vma.zst.
    #[schemars(regex(pattern = BACKUP_VOLUME))]
    volume: Volume,
) -> ToolResult {
    if volume.as_str().split_once(':').map(|(s, _)| s) != Some(storage.as_str()) {
        return Err(ToolError::invalid(
            "volume",
            format!("is not on storage {storage}: its id starts with another storage"),
        ));
    }
    let what = format!("Backup {volume} is being deleted from {storage}");
    let out = api.start_task((), &node, what).await?;
    let out = out.with(Some("\n⚠️ A deleted backup cannot be recovered.".into()), "volume", &volume);
    Ok(out.with(None, "storage", storage))
}
