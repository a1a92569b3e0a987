//! Storage Management: storage definitions (storage.cfg), the volumes on a storage, uploads and
//! downloads into it, single-file restore from backups, and pruning backups.

use super::{set_keys, to_params};
use crate::client::{Secret, Upload};
use crate::format::{self, Block, str_field, u64_field};
use crate::page::{self, Page};
use crate::types::{Node, StorageId, VmId, Volume};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::{Component, Path, PathBuf};

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_LIST_STORAGE_CONFIG,
    &PROXMOX_GET_STORAGE_CONFIG,
    &PROXMOX_CREATE_STORAGE,
    &PROXMOX_UPDATE_STORAGE,
    &PROXMOX_DELETE_STORAGE,
    &PROXMOX_UPLOAD_TO_STORAGE,
    &PROXMOX_DOWNLOAD_URL_TO_STORAGE,
    &PROXMOX_LIST_STORAGE_CONTENT,
    &PROXMOX_DELETE_STORAGE_CONTENT,
    &PROXMOX_LIST_FILE_RESTORE,
    &PROXMOX_DOWNLOAD_FILE_RESTORE,
    &PROXMOX_PRUNE_BACKUPS,
];

// ------------------------------------------------------------------ storage.cfg

/// Storage types (plugins) of Proxmox VE 9.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    Btrfs,
    Cephfs,
    Cifs,
    Dir,
    Esxi,
    Iscsi,
    Iscsidirect,
    Lvm,
    Lvmthin,
    Nfs,
    Pbs,
    Rbd,
    Zfs,
    Zfspool,
}

/// List the datacenter's storage definitions. From storage.cfg: type, content, nodes, state.
#[pve_tool(path = "/storage", method = GET, category = "Storage Management")]
async fn proxmox_list_storage_config(
    api: Api,
    /// Only storages of this type.
    r#type: Option<StorageType>,
) -> ToolResult {
    let mut storages: Vec<Value> = api.send(json!({ "type": r#type })).await?;
    storages.sort_by(|a, b| str_field(a, "storage").cmp(&str_field(b, "storage")));
    if storages.is_empty() {
        return Ok(ToolOutput::new("No storage definitions found.", storages));
    }
    let mut text = format!("💾 **Storage definitions** ({})\n", storages.len());
    for s in &storages {
        let disabled = s.get("disable").is_some_and(|d| d.as_u64() == Some(1) || d.as_bool() == Some(true));
        let shared = s.get("shared").is_some_and(|d| d.as_u64() == Some(1) || d.as_bool() == Some(true));
        text.push_str(&format!(
            "\n• {} **{}** ({}) — content: {}; nodes: {}{}",
            if disabled { "🔴" } else { "🟢" },
            str_field(s, "storage").unwrap_or("?"),
            str_field(s, "type").unwrap_or("?"),
            str_field(s, "content").filter(|c| !c.is_empty()).unwrap_or("none"),
            str_field(s, "nodes").unwrap_or("all"),
            match (disabled, shared) {
                (true, _) => ", disabled",
                (false, true) => ", shared",
                _ => "",
            }
        ));
    }
    Ok(ToolOutput::new(text, storages))
}

/// Show one storage definition with all its options.
#[pve_tool(path = "/storage/<storage>", method = GET, category = "Storage Management")]
async fn proxmox_get_storage_config(
    api: Api,
    /// The storage id, e.g. local or local-lvm.
    storage: StorageId,
) -> ToolResult {
    let cfg: Value = api.send(()).await?;
    let mut block = Block::new(format!("💾 **Storage {storage}**"));
    if let Some(map) = cfg.as_object() {
        let mut keys: Vec<&String> = map.keys().filter(|k| !matches!(k.as_str(), "storage" | "digest")).collect();
        keys.sort_by_key(|k| (k.as_str() != "type", k.as_str()));
        for k in keys {
            block = block.line(k, format::value(&map[k]));
        }
        if let Some(d) = map.get("digest").and_then(Value::as_str) {
            block = block.line("digest", d);
        }
    }
    Ok(ToolOutput::new(block.finish(), cfg))
}

/// The types the create tool knows the options of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NewStorageType {
    Dir,
    Lvm,
    Lvmthin,
    Nfs,
    Cifs,
    Zfspool,
    Btrfs,
    Cephfs,
    Rbd,
    Iscsi,
    Iscsidirect,
    Pbs,
}

impl NewStorageType {
    fn name(self) -> &'static str {
        match self {
            NewStorageType::Dir => "dir",
            NewStorageType::Lvm => "lvm",
            NewStorageType::Lvmthin => "lvmthin",
            NewStorageType::Nfs => "nfs",
            NewStorageType::Cifs => "cifs",
            NewStorageType::Zfspool => "zfspool",
            NewStorageType::Btrfs => "btrfs",
            NewStorageType::Cephfs => "cephfs",
            NewStorageType::Rbd => "rbd",
            NewStorageType::Iscsi => "iscsi",
            NewStorageType::Iscsidirect => "iscsidirect",
            NewStorageType::Pbs => "pbs",
        }
    }
}

/// Per storage type: the options of this tool set it takes, those it requires at creation, and
/// those fixed once created (from the plugins' option tables of pve-storage).
struct TypeOptions {
    name: &'static str,
    options: &'static [&'static str],
    required: &'static [&'static str],
    fixed: &'static [&'static str],
}

const TYPE_OPTIONS: &[TypeOptions] = &[
    TypeOptions {
        name: "dir",
        options: &["content", "nodes", "disable", "prune-backups", "max-protected-backups", "path", "format", "shared"],
        required: &["path"],
        fixed: &["path"],
    },
    TypeOptions {
        name: "btrfs",
        options: &["content", "nodes", "disable", "prune-backups", "max-protected-backups", "path", "format", "shared"],
        required: &["path"],
        fixed: &["path"],
    },
    TypeOptions {
        name: "nfs",
        options: &[
            "content",
            "nodes",
            "disable",
            "prune-backups",
            "max-protected-backups",
            "path",
            "format",
            "server",
            "export",
            "options",
        ],
        required: &["server", "export"],
        fixed: &["path", "server", "export"],
    },
    TypeOptions {
        name: "cifs",
        options: &[
            "content",
            "nodes",
            "disable",
            "prune-backups",
            "max-protected-backups",
            "path",
            "format",
            "server",
            "share",
            "subdir",
            "username",
            "password",
            "domain",
            "smbversion",
            "options",
        ],
        required: &["server", "share"],
        fixed: &["path", "server", "share"],
    },
    TypeOptions {
        name: "cephfs",
        options: &[
            "content",
            "nodes",
            "disable",
            "prune-backups",
            "max-protected-backups",
            "path",
            "format",
            "monhost",
            "subdir",
            "options",
            "username",
            "fuse",
            "keyring",
            "fs-name",
        ],
        required: &[],
        fixed: &["path"],
    },
    TypeOptions {
        name: "lvm",
        options: &["content", "nodes", "disable", "shared", "vgname"],
        required: &["vgname"],
        fixed: &["vgname"],
    },
    TypeOptions {
        name: "lvmthin",
        options: &["content", "nodes", "disable", "vgname", "thinpool"],
        required: &["vgname", "thinpool"],
        fixed: &["vgname", "thinpool"],
    },
    TypeOptions {
        name: "zfspool",
        options: &["content", "nodes", "disable", "pool", "blocksize", "sparse"],
        required: &["pool"],
        fixed: &["pool"],
    },
    TypeOptions {
        name: "rbd",
        options: &["content", "nodes", "disable", "pool", "monhost", "username", "keyring", "krbd", "namespace"],
        required: &[],
        fixed: &[],
    },
    TypeOptions {
        name: "iscsi",
        options: &["content", "nodes", "disable", "portal", "target"],
        required: &["portal", "target"],
        fixed: &["portal", "target"],
    },
    TypeOptions {
        name: "iscsidirect",
        options: &["content", "nodes", "disable", "portal", "target"],
        required: &["portal", "target"],
        fixed: &["portal", "target"],
    },
    TypeOptions {
        name: "pbs",
        options: &[
            "content",
            "nodes",
            "disable",
            "prune-backups",
            "max-protected-backups",
            "server",
            "datastore",
            "username",
            "password",
            "fingerprint",
            "encryption-key",
            "namespace",
            "port",
        ],
        required: &["server", "datastore"],
        fixed: &["server", "datastore"],
    },
];

fn type_options(name: &str) -> Option<&'static TypeOptions> {
    TYPE_OPTIONS.iter().find(|t| t.name == name)
}

/// The names of the options that are set in a parameter struct.
fn set_options(params: &impl Serialize) -> Vec<String> {
    serde_json::to_value(params).map_or_else(|_| Vec::new(), |v| set_keys(&v, &[]))
}

/// Every set option applies to the type (and may change, when updating).
fn check_options_for_type(t: &TypeOptions, set: &[String], updating: bool) -> Result<(), ToolError> {
    let mut errors = Vec::new();
    for opt in set {
        if matches!(opt.as_str(), "delete" | "digest") {
            continue;
        }
        if !t.options.contains(&opt.as_str()) {
            errors.push((
                opt.clone(),
                format!("does not apply to {} storage (its options here: {})", t.name, t.options.join(", ")),
            ));
        } else if updating && t.fixed.contains(&opt.as_str()) {
            errors.push((opt.clone(), format!("is fixed once a {} storage exists", t.name)));
        }
    }
    if !updating {
        for req in t.required {
            if !set.iter().any(|s| s == req) {
                errors.push((req.to_string(), format!("is required for {} storage", t.name)));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ToolError::InvalidArguments(errors)) }
}

/// Content types a storage holds (Proxmox's `pve-storage-content-list`): a comma-separated
/// list, or `none` alone.
const CONTENT_LIST: &str = r"^(none|(images|rootdir|vztmpl|iso|backup|snippets|import)(\s*,\s*(images|rootdir|vztmpl|iso|backup|snippets|import))*)$";

/// Node names separated by commas (Proxmox's `pve-node-list`), each a host name of at most 63
/// characters, as [`Node`].
const NODE_LIST: &str =
    r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\s*,\s*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$";

/// Retention options (Proxmox's `prune-backups`), e.g. `keep-last=3,keep-daily=7` (or `keep-all=1`).
const PRUNE_BACKUPS: &str = r"^keep-(all|last|hourly|daily|weekly|monthly|yearly)=[0-9]+(,keep-(all|last|hourly|daily|weekly|monthly|yearly)=[0-9]+)*$";

/// Default image format of file storages.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Raw,
    Qcow2,
    Subvol,
    Vmdk,
}

/// SMB protocol versions.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
pub enum SmbVersion {
    #[serde(rename = "default")]
    Default,
    #[serde(rename = "2.0")]
    V2_0,
    #[serde(rename = "2.1")]
    V2_1,
    #[serde(rename = "3")]
    V3,
    #[serde(rename = "3.0")]
    V3_0,
    #[serde(rename = "3.11")]
    V3_11,
}

/// The options of a new storage. Which apply depends on `type` (said per option).
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStorageOptions {
    /// Content types it holds, comma-separated: images, rootdir, vztmpl, iso, backup, snippets, import (or none). All types.
    #[schemars(regex(pattern = CONTENT_LIST))]
    content: Option<String>,
    /// Only these nodes, comma-separated (default: all). All types.
    #[schemars(regex(pattern = NODE_LIST))]
    nodes: Option<String>,
    /// Create it disabled. All types.
    disable: Option<bool>,
    /// The same content on every node (dir, btrfs, lvm).
    shared: Option<bool>,
    /// Backup retention, e.g. keep-last=3,keep-daily=7 (dir, btrfs, nfs, cifs, cephfs, pbs).
    #[serde(rename = "prune-backups")]
    #[schemars(regex(pattern = PRUNE_BACKUPS))]
    prune_backups: Option<String>,
    /// Protected backups per guest at most, -1 for unlimited (dir, btrfs, nfs, cifs, cephfs, pbs).
    #[serde(rename = "max-protected-backups")]
    #[schemars(range(min = -1))]
    #[schemars(extend("x-rare" = true))]
    max_protected_backups: Option<i64>,
    /// File system path: the directory (dir, btrfs) or mount point (nfs, cifs, cephfs; default `/mnt/pve/<storage>`).
    #[schemars(length(max = 4096), regex(pattern = r"^/[-/a-zA-Z0-9_.@]*$"))]
    path: Option<String>,
    /// Default image format: raw, qcow2, subvol, vmdk (dir, btrfs, nfs, cifs, cephfs).
    format: Option<ImageFormat>,
    /// Server name or IP address (nfs, cifs, pbs).
    #[schemars(length(max = 256))]
    server: Option<String>,
    /// NFS export path on the server (nfs).
    #[schemars(length(max = 4096))]
    export: Option<String>,
    /// SMB share name (cifs).
    #[schemars(length(max = 256))]
    share: Option<String>,
    /// Subdirectory of the share to mount (cifs, cephfs).
    #[schemars(length(max = 4096))]
    subdir: Option<String>,
    /// User name (cifs, cephfs, rbd; pbs: user@realm or user@realm!token).
    #[schemars(length(max = 256))]
    username: Option<String>,
    /// Password of the share or PBS user (cifs, pbs). Sent, never shown.
    #[schemars(length(max = 256))]
    password: Option<Secret>,
    /// Windows domain (cifs).
    #[schemars(length(max = 256))]
    #[schemars(extend("x-rare" = true))]
    domain: Option<String>,
    /// SMB protocol version (cifs).
    #[schemars(extend("x-rare" = true))]
    smbversion: Option<SmbVersion>,
    /// Mount options (nfs, cifs, cephfs).
    #[schemars(length(max = 1024))]
    #[schemars(extend("x-rare" = true))]
    options: Option<String>,
    /// LVM volume group name (lvm, lvmthin).
    #[schemars(length(max = 128))]
    vgname: Option<String>,
    /// LVM thin pool name (lvmthin).
    #[schemars(length(max = 128))]
    thinpool: Option<String>,
    /// Pool name (zfspool: the ZFS pool/dataset; rbd: the Ceph pool, default rbd).
    #[schemars(length(max = 256))]
    pool: Option<String>,
    /// ZFS volume block size, e.g. 16k (zfspool).
    #[schemars(length(max = 16))]
    #[schemars(extend("x-rare" = true))]
    blocksize: Option<String>,
    /// Thin-provisioned ZFS volumes (zfspool).
    #[schemars(extend("x-rare" = true))]
    sparse: Option<bool>,
    /// Ceph monitor addresses, for an external cluster (rbd, cephfs).
    #[schemars(length(max = 1024))]
    monhost: Option<String>,
    /// Ceph keyring contents, for an external cluster (rbd, cephfs). Sent, never shown.
    #[schemars(length(max = 65536))]
    #[schemars(extend("x-rare" = true))]
    keyring: Option<Secret>,
    /// Always use the krbd kernel module (rbd).
    #[schemars(extend("x-rare" = true))]
    krbd: Option<bool>,
    /// The Ceph file system name (cephfs).
    #[serde(rename = "fs-name")]
    #[schemars(extend("x-aliases" = ["fsname"]))]
    #[schemars(length(max = 128))]
    #[schemars(extend("x-rare" = true))]
    fs_name: Option<String>,
    /// Mount CephFS through FUSE (cephfs).
    #[schemars(extend("x-rare" = true))]
    fuse: Option<bool>,
    /// Namespace (rbd, pbs).
    #[schemars(length(max = 256))]
    #[schemars(extend("x-rare" = true))]
    namespace: Option<String>,
    /// iSCSI portal: IP or DNS name with optional port (iscsi, iscsidirect).
    #[schemars(length(max = 256))]
    portal: Option<String>,
    /// iSCSI target IQN (iscsi, iscsidirect).
    #[schemars(length(max = 256))]
    target: Option<String>,
    /// PBS datastore name (pbs).
    #[schemars(length(max = 256))]
    datastore: Option<String>,
    /// SHA-256 fingerprint of the PBS server certificate, AA:BB:… (pbs).
    #[schemars(regex(pattern = r"^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$"))]
    fingerprint: Option<String>,
    /// Client-side encryption key of the backups (pbs): the key file's contents, or `autogen` to
    /// have one made. Sent, never shown; keep a copy, backups cannot be read without it.
    #[serde(rename = "encryption-key")]
    #[schemars(length(max = 65536))]
    #[schemars(extend("x-rare" = true))]
    encryption_key: Option<Secret>,
    /// Port of the PBS server (pbs; default 8007).
    #[schemars(range(min = 1, max = 65535))]
    port: Option<u16>,
}

/// Add a storage definition. Types: directory, LVM, NFS, SMB, ZFS, Ceph, iSCSI or PBS.
#[pve_tool(path = "/storage", method = POST, elevated, category = "Storage Management")]
async fn proxmox_create_storage(
    api: Api,
    /// The new storage's id, e.g. backup-nfs.
    storage: StorageId,
    /// The storage type and what it needs: dir (path), lvm (vgname), lvmthin (vgname, thinpool),
    /// nfs (server, export), cifs (server, share), zfspool (pool), btrfs (path), cephfs, rbd,
    /// iscsi or iscsidirect (portal, target), pbs (server, datastore; usually username, password, fingerprint).
    r#type: NewStorageType,
    #[flatten] options: NewStorageOptions,
) -> ToolResult {
    let t = type_options(r#type.name()).ok_or_else(|| ToolError::invalid("type", "is not supported"))?;
    check_options_for_type(t, &set_options(&options), false)?;
    // Serialised once, on the way to Proxmox (a secret turned into a `Value` before that
    // would read `[redacted]`).
    #[derive(Serialize)]
    struct NewStorage<'a> {
        storage: &'a StorageId,
        r#type: &'a NewStorageType,
        #[serde(flatten)]
        options: &'a NewStorageOptions,
    }
    let created: Value = api.send(NewStorage { storage: &storage, r#type: &r#type, options: &options }).await?;
    let text = Block::new(format!("✅ Storage **{storage}** ({}) created", r#type.name()))
        .opt("Content", options.content.as_deref())
        .line("Nodes", options.nodes.as_deref().unwrap_or("all"))
        .finish();
    Ok(ToolOutput::new(text, json!({ "storage": storage, "type": r#type, "result": created })))
}

/// Changes to a storage definition (only what Proxmox lets change after creation).
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageChanges {
    /// Content types it holds, comma-separated: images, rootdir, vztmpl, iso, backup, snippets, import (or none). All types.
    #[schemars(regex(pattern = CONTENT_LIST))]
    content: Option<String>,
    /// Only these nodes, comma-separated. All types.
    #[schemars(regex(pattern = NODE_LIST))]
    nodes: Option<String>,
    /// Disable (true) or enable (false) it. All types.
    disable: Option<bool>,
    /// The same content on every node (dir, btrfs, lvm).
    shared: Option<bool>,
    /// Backup retention, e.g. keep-last=3,keep-daily=7 (dir, btrfs, nfs, cifs, cephfs, pbs).
    #[serde(rename = "prune-backups")]
    #[schemars(regex(pattern = PRUNE_BACKUPS))]
    prune_backups: Option<String>,
    /// Protected backups per guest at most, -1 for unlimited (dir, btrfs, nfs, cifs, cephfs, pbs).
    #[serde(rename = "max-protected-backups")]
    #[schemars(range(min = -1))]
    #[schemars(extend("x-rare" = true))]
    max_protected_backups: Option<i64>,
    /// Default image format: raw, qcow2, subvol, vmdk (dir, btrfs, nfs, cifs, cephfs).
    format: Option<ImageFormat>,
    /// Server name or IP address (fixed for nfs, cifs and pbs).
    #[schemars(length(max = 256))]
    server: Option<String>,
    /// Subdirectory of the share to mount (cifs, cephfs).
    #[schemars(length(max = 4096))]
    subdir: Option<String>,
    /// User name (cifs, cephfs, rbd, pbs).
    #[schemars(length(max = 256))]
    username: Option<String>,
    /// Password (cifs, pbs). Sent, never shown.
    #[schemars(length(max = 256))]
    password: Option<Secret>,
    /// Windows domain (cifs).
    #[schemars(length(max = 256))]
    #[schemars(extend("x-rare" = true))]
    domain: Option<String>,
    /// SMB protocol version (cifs).
    #[schemars(extend("x-rare" = true))]
    smbversion: Option<SmbVersion>,
    /// Mount options (nfs, cifs, cephfs).
    #[schemars(length(max = 1024))]
    #[schemars(extend("x-rare" = true))]
    options: Option<String>,
    /// Ceph pool (rbd; the pool of a zfspool storage is fixed).
    #[schemars(length(max = 256))]
    pool: Option<String>,
    /// ZFS volume block size, e.g. 16k (zfspool).
    #[schemars(length(max = 16))]
    #[schemars(extend("x-rare" = true))]
    blocksize: Option<String>,
    /// Thin-provisioned ZFS volumes (zfspool).
    #[schemars(extend("x-rare" = true))]
    sparse: Option<bool>,
    /// Ceph monitor addresses (rbd, cephfs).
    #[schemars(length(max = 1024))]
    monhost: Option<String>,
    /// Ceph keyring contents (rbd, cephfs). Sent, never shown.
    #[schemars(length(max = 65536))]
    #[schemars(extend("x-rare" = true))]
    keyring: Option<Secret>,
    /// Always use the krbd kernel module (rbd).
    #[schemars(extend("x-rare" = true))]
    krbd: Option<bool>,
    /// The Ceph file system name (cephfs).
    #[serde(rename = "fs-name")]
    #[schemars(extend("x-aliases" = ["fsname"]))]
    #[schemars(length(max = 128))]
    #[schemars(extend("x-rare" = true))]
    fs_name: Option<String>,
    /// Mount CephFS through FUSE (cephfs).
    #[schemars(extend("x-rare" = true))]
    fuse: Option<bool>,
    /// Namespace (rbd, pbs).
    #[schemars(length(max = 256))]
    #[schemars(extend("x-rare" = true))]
    namespace: Option<String>,
    /// SHA-256 fingerprint of the PBS server certificate (pbs).
    #[schemars(regex(pattern = r"^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$"))]
    fingerprint: Option<String>,
    /// Client-side encryption key of the backups (pbs): the key file's contents, or `autogen`.
    /// Sent, never shown.
    #[serde(rename = "encryption-key")]
    #[schemars(length(max = 65536))]
    #[schemars(extend("x-rare" = true))]
    encryption_key: Option<Secret>,
    /// Port of the PBS server (pbs).
    #[schemars(range(min = 1, max = 65535))]
    port: Option<u16>,
    /// Options to unset, comma-separated, e.g. nodes,prune-backups.
    #[schemars(length(max = 4096), regex(pattern = r"^[a-zA-Z][a-zA-Z0-9_-]*(,[a-zA-Z][a-zA-Z0-9_-]*)*$"))]
    delete: Option<String>,
    /// Refuse the change if the definition changed since it was read with this digest.
    #[schemars(length(max = 64), regex(pattern = r"^[0-9a-fA-F]+$"))]
    digest: Option<String>,
}

/// Change a storage definition. Content, nodes, enable/disable, retention, credentials…
#[pve_tool(path = "/storage/<storage>", method = PUT, elevated, category = "Storage Management")]
async fn proxmox_update_storage(
    api: Api,
    /// The storage id, e.g. local.
    storage: StorageId,
    #[flatten] changes: StorageChanges,
) -> ToolResult {
    let set = set_options(&changes);
    if set.is_empty() {
        return Err(ToolError::Other("Nothing to change: give at least one option to set, or `delete`.".into()));
    }
    if let Some(both) = changes.delete.as_deref().and_then(|d| d.split(',').find(|o| set.iter().any(|s| s == o))) {
        return Err(ToolError::invalid("delete", format!("cannot unset `{both}` and set it at once")));
    }
    // What applies depends on the storage's type: read it first.
    let current: Value = api.get(&ApiPath::lit("/storage").join(&storage), ()).await?;
    let kind = str_field(&current, "type").unwrap_or("");
    if let Some(t) = type_options(kind) {
        check_options_for_type(t, &set, true)?;
    }
    let _: Value = api.send(&changes).await?;
    let mut changed: Vec<&str> =
        set.iter().map(String::as_str).filter(|s| !matches!(*s, "delete" | "digest")).collect();
    changed.sort_unstable();
    let text = Block::new(format!("✅ Storage **{storage}** updated"))
        .opt("Changed", (!changed.is_empty()).then(|| changed.join(", ")))
        .opt("Unset", changes.delete.as_deref())
        .finish();
    Ok(ToolOutput::new(text, json!({ "storage": storage, "changed": changed, "deleted": changes.delete })))
}

/// Remove a storage definition. The data on it is not deleted or unmounted.
#[pve_tool(path = "/storage/<storage>", method = DELETE, elevated, category = "Storage Management")]
async fn proxmox_delete_storage(
    api: Api,
    /// The storage id to remove, e.g. old-nfs.
    storage: StorageId,
) -> ToolResult {
    let _: Value = api.send(()).await?;
    Ok(ToolOutput::new(
        format!("✅ Storage **{storage}** removed from the configuration (its data was not touched)"),
        json!({ "storage": storage }),
    ))
}

// ------------------------------------------------------------ files into a storage

/// What an uploaded or downloaded file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileContent {
    Iso,
    Vztmpl,
    Import,
}

impl FileContent {
    fn as_str(self) -> &'static str {
        match self {
            FileContent::Iso => "iso",
            FileContent::Vztmpl => "vztmpl",
            FileContent::Import => "import",
        }
    }
}

/// A file name Proxmox stores as it is: letters, digits, `-`, `.`, `+`, `=` and `_`, not
/// starting with `.` (the `filename` arguments' pattern; at most [`MAX_FILE_NAME`] characters).
const FILE_NAME: &str = r"^[A-Za-z0-9+=_-][A-Za-z0-9.+=_-]*$";
const MAX_FILE_NAME: usize = 255;

/// The name a file has at its source (the local file's, the URL's), used when `filename` is not
/// given: held to the rule the schema holds `filename` to.
fn default_filename(name: &str, source: &str) -> Result<String, ToolError> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let storable = name.chars().count() <= MAX_FILE_NAME
        && RE.get_or_init(|| regex::Regex::new(FILE_NAME).ok()).as_ref().is_some_and(|re| re.is_match(name));
    if storable {
        Ok(name.to_string())
    } else {
        Err(ToolError::invalid(
            "filename",
            format!(
                "is required: {source} is not one Proxmox stores as it is (1 to {MAX_FILE_NAME} letters, digits, `-`, \
                 `.`, `+`, `=` or `_`, not starting with `.`)"
            ),
        ))
    }
}

/// The file name's extension must be one of the content's.
fn check_extension(content: FileContent, name: &str) -> Result<(), ToolError> {
    let lower = name.to_ascii_lowercase();
    let exts: &[&str] = match content {
        FileContent::Iso => &[".iso", ".img"],
        FileContent::Vztmpl => &[".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2"],
        FileContent::Import => &[".ova", ".qcow2", ".raw", ".vmdk"],
    };
    let stem_ok = exts.iter().any(|e| lower.ends_with(e) && lower.len() > e.len());
    if !stem_ok {
        return Err(ToolError::invalid("filename", format!("must end in {} for this content", exts.join(", "))));
    }
    Ok(())
}

/// Checksum algorithms Proxmox verifies.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumAlgorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

fn check_checksum(checksum: &Option<String>, algorithm: Option<ChecksumAlgorithm>) -> Result<(), ToolError> {
    match (checksum, algorithm) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(ToolError::invalid("checksum-algorithm", "is required with checksum")),
        (None, Some(_)) => Err(ToolError::invalid("checksum", "is required with checksum-algorithm")),
        (Some(sum), Some(alg)) => {
            let len = match alg {
                ChecksumAlgorithm::Md5 => 32,
                ChecksumAlgorithm::Sha1 => 40,
                ChecksumAlgorithm::Sha224 => 56,
                ChecksumAlgorithm::Sha256 => 64,
                ChecksumAlgorithm::Sha384 => 96,
                ChecksumAlgorithm::Sha512 => 128,
            };
            if sum.len() == len {
                Ok(())
            } else {
                Err(ToolError::invalid("checksum", format!("must be {len} hex digits for this algorithm")))
            }
        }
    }
}

/// The checksum to verify an upload with.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadChecksum {
    /// The file's expected checksum, in hex (with checksum-algorithm).
    #[schemars(length(max = 128), regex(pattern = r"^[0-9a-fA-F]+$"))]
    checksum: Option<String>,
    /// The checksum's algorithm (with checksum).
    #[serde(rename = "checksum-algorithm")]
    checksum_algorithm: Option<ChecksumAlgorithm>,
}

/// The local file an upload may send, opened once: a regular file under the upload directory
/// `dir` (`PROXMOX_UPLOAD_DIR`), reached from an open handle of that directory one component at a
/// time without following any symlink, with no other hard link. The open file is what is sent:
/// nothing can swap the path between the checks and the upload.
async fn upload_source(dir: Option<&Path>, file: &str) -> Result<(std::fs::File, PathBuf, u64), ToolError> {
    let Some(dir) = dir else {
        return Err(ToolError::Other(
            "Uploads are disabled: set PROXMOX_UPLOAD_DIR to the directory whose files may be uploaded, \
             put the file there, and give its name in `file`."
                .into(),
        ));
    };
    let requested = Path::new(file);
    if file.chars().any(char::is_control) || requested.components().any(|c| c == Component::ParentDir) {
        return Err(ToolError::invalid(
            "file",
            "must be a file name or a path inside PROXMOX_UPLOAD_DIR, without `..`",
        ));
    }
    let relative = if requested.is_absolute() {
        requested
            .strip_prefix(dir)
            .map_err(|_| ToolError::invalid("file", "must be a file inside PROXMOX_UPLOAD_DIR"))?
    } else {
        requested
    };
    let components: Vec<std::ffi::OsString> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            _ => None,
        })
        .collect();
    if components.is_empty() {
        return Err(ToolError::invalid("file", "must name a file inside PROXMOX_UPLOAD_DIR, not the directory"));
    }
    let (dir, shown) = (dir.to_path_buf(), dir.join(relative));
    let opened = tokio::task::spawn_blocking(move || sealed::open_beneath(&dir, &components))
        .await
        .map_err(|e| ToolError::Other(format!("the upload could not be prepared: {e}")))?;
    let (file, len) = opened.map_err(|e| match e {
        sealed::Refused::Dir(e) => ToolError::Other(format!("PROXMOX_UPLOAD_DIR cannot be used: {e}")),
        sealed::Refused::File(rule) => ToolError::invalid("file", rule),
    })?;
    Ok((file, shown, len))
}

/// Opening a file under a directory handle without following symlinks (`openat` with
/// `O_NOFOLLOW` on every component), then checking the opened handle itself.
mod sealed {
    use std::ffi::OsString;
    use std::path::Path;

    pub(super) enum Refused {
        /// The upload directory itself cannot be opened.
        Dir(String),
        /// The file argument breaks a rule: what to tell the caller.
        File(String),
    }

    #[cfg(unix)]
    pub(super) fn open_beneath(dir: &Path, components: &[OsString]) -> Result<(std::fs::File, u64), Refused> {
        use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, fcntl_getfl, fcntl_setfl, fstat, openat, statat};
        use rustix::io::Errno;
        let base = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY;
        let mut handle = openat(CWD, dir, base | OFlags::DIRECTORY, Mode::empty())
            .map_err(|e| Refused::Dir(std::io::Error::from(e).to_string()))?;
        let last = components.len() - 1;
        for (i, name) in components.iter().enumerate() {
            let shown = Path::new(name).display();
            // The last one may be anything until checked: O_NONBLOCK keeps a FIFO from blocking the open.
            let flags = if i == last { base | OFlags::NONBLOCK } else { base | OFlags::DIRECTORY };
            let opened = openat(&handle, name.as_os_str(), flags, Mode::empty());
            // O_NOFOLLOW on a symlink: ELOOP (Linux, macOS), EMLINK (FreeBSD); with O_DIRECTORY, ENOTDIR.
            let is_link = || {
                statat(&handle, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode as _) == FileType::Symlink)
            };
            handle = opened.map_err(|e| match e {
                Errno::LOOP | Errno::MLINK | Errno::NOTDIR if is_link() => Refused::File(format!(
                    "\"{shown}\" is a symbolic link: uploads do not follow links, give the real file inside PROXMOX_UPLOAD_DIR"
                )),
                Errno::NOTDIR => Refused::File(format!("\"{shown}\" is not a directory")),
                Errno::NOENT => Refused::File(format!("\"{shown}\" does not exist in PROXMOX_UPLOAD_DIR")),
                e => Refused::File(format!("\"{shown}\" cannot be opened: {}", std::io::Error::from(e))),
            })?;
        }
        let stat = fstat(&handle).map_err(|e| Refused::File(format!("cannot be read: {}", std::io::Error::from(e))))?;
        if FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile {
            return Err(Refused::File("is not a regular file".into()));
        }
        if stat.st_nlink != 1 {
            return Err(Refused::File(format!(
                "has {} hard links: only a file with a single link is sent, since a hard link can bring a file from \
                 outside PROXMOX_UPLOAD_DIR inside it",
                stat.st_nlink
            )));
        }
        let flags = fcntl_getfl(&handle).and_then(|f| fcntl_setfl(&handle, f - OFlags::NONBLOCK));
        flags.map_err(|e| Refused::File(format!("cannot be read: {}", std::io::Error::from(e))))?;
        Ok((std::fs::File::from(handle), stat.st_size as u64))
    }

    #[cfg(not(unix))]
    pub(super) fn open_beneath(_dir: &Path, _components: &[OsString]) -> Result<(std::fs::File, u64), Refused> {
        Err(Refused::Dir("uploads need a Unix system (the file is opened without following links)".into()))
    }
}

/// Upload a local file to a storage. An ISO, container template or VM image. Only files under the directory set in
/// PROXMOX_UPLOAD_DIR can be sent.
#[pve_tool(path = "/nodes/<node>/storage/<storage>/upload", method = POST, elevated, task, category = "Storage Management")]
async fn proxmox_upload_to_storage(
    api: Api,
    /// The node whose storage receives the file, e.g. pve1.
    node: Node,
    /// The target storage, e.g. local (it must allow this content).
    storage: StorageId,
    /// What the file is: iso, vztmpl (container template) or import (VM image).
    content: FileContent,
    /// A file in PROXMOX_UPLOAD_DIR, by name or relative path (or an absolute path inside it).
    /// (Older callers name it `filename` alone: it is then the local file, stored under its own name.)
    #[schemars(length(min = 1, max = 4096), extend("x-aliases" = ["filename"]))]
    file: String,
    /// The name to store it as (default: the local file's name), e.g. debian-13.iso.
    #[schemars(length(min = 1, max = MAX_FILE_NAME), regex(pattern = FILE_NAME))]
    filename: Option<String>,
    #[flatten] checksum: UploadChecksum,
) -> ToolResult {
    let (local, path, size) = upload_source(api.upload_dir(), &file).await?;
    let filename = match filename {
        Some(f) => f,
        None => {
            default_filename(path.file_name().and_then(|n| n.to_str()).unwrap_or_default(), "the local file's name")?
        }
    };
    check_extension(content, &filename)?;
    check_checksum(&checksum.checksum, checksum.checksum_algorithm)?;
    let target = ApiPath::lit("/nodes").join(&node).join_lit("storage").join(&storage).join_lit("upload");
    let params = json!({
        "content": content,
        "checksum": checksum.checksum,
        "checksum-algorithm": checksum.checksum_algorithm,
    });
    let upload = Upload::new("filename", filename.clone(), path, local)?;
    let upid: String = api.upload(&target, params, upload).await?;
    let mut out = api
        .follow_task(
            upid,
            &node,
            format!("Uploaded {filename} ({}) to {storage}; Proxmox is importing it", format::bytes(size as f64)),
        )
        .await?;
    out.data["storage"] = json!(storage);
    out.data["volume"] = json!(format!("{storage}:{}/{filename}", content.as_str()));
    out.data["size"] = json!(size);
    Ok(out)
}

/// Decompression of a downloaded ISO.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gz,
    Lzo,
    Zst,
    Bz2,
}

/// Options of a download.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadOptions {
    /// The file's expected checksum, in hex (with checksum-algorithm).
    #[schemars(length(max = 128), regex(pattern = r"^[0-9a-fA-F]+$"))]
    checksum: Option<String>,
    /// The checksum's algorithm (with checksum).
    #[serde(rename = "checksum-algorithm")]
    #[schemars(extend("x-rare" = true))]
    checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Verify the server's TLS certificate (default true).
    #[serde(rename = "verify-certificates")]
    #[schemars(extend("x-rare" = true))]
    verify_certificates: Option<bool>,
    /// Decompress the download with this (ISO only): gz, lzo, zst, bz2.
    #[schemars(extend("x-rare" = true))]
    compression: Option<Compression>,
}

/// Download a URL into a storage. A node downloads an ISO, container template or VM image.
#[pve_tool(
    path = "/nodes/<node>/storage/<storage>/download-url",
    method = POST,
    elevated, task,
    category = "Storage Management",
    title = "Download URL to storage",
    open_world = true
)]
async fn proxmox_download_url_to_storage(
    api: Api,
    /// The node that downloads, e.g. pve1.
    node: Node,
    /// The target storage, e.g. local (it must allow this content).
    storage: StorageId,
    /// The http(s) URL of the file.
    #[schemars(length(max = 4096), regex(pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$"))]
    url: String,
    /// What the file is: iso, vztmpl (container template) or import (VM image).
    content: FileContent,
    /// The name to store it as (default: the URL's last path segment), e.g. debian-13.iso.
    #[schemars(length(min = 1, max = MAX_FILE_NAME), regex(pattern = FILE_NAME))]
    filename: Option<String>,
    #[flatten] options: DownloadOptions,
) -> ToolResult {
    let filename = match filename {
        Some(f) => f,
        None => {
            let path = url.split(['?', '#']).next().unwrap_or("");
            let last = path.rsplit('/').next().unwrap_or("");
            if path.matches('/').count() < 3 || last.is_empty() {
                return Err(ToolError::invalid("filename", "is required: the URL does not end in a file name"));
            }
            default_filename(last, "the URL's file name")?
        }
    };
    check_extension(content, &filename)?;
    check_checksum(&options.checksum, options.checksum_algorithm)?;
    if options.compression.is_some() && content != FileContent::Iso {
        return Err(ToolError::invalid("compression", "applies to ISO downloads only"));
    }
    let mut params = to_params(&options)?;
    params["url"] = json!(url);
    params["content"] = json!(content);
    params["filename"] = json!(filename);
    let upid: String = api.send(params).await?;
    let mut out = api.follow_task(upid, &node, format!("Download of {filename} into {storage} started")).await?;
    out.data["storage"] = json!(storage);
    out.data["filename"] = json!(filename);
    Ok(out)
}

// ------------------------------------------------------------------- volumes

/// Content types of volumes.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    Images,
    Rootdir,
    Vztmpl,
    Iso,
    Backup,
    Snippets,
    Import,
}

/// List the volumes on a storage. Disk images, ISOs, templates and backups, as a node sees them.
#[pve_tool(path = "/nodes/<node>/storage/<storage>/content", method = GET, category = "Storage Management")]
async fn proxmox_list_storage_content(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The storage, e.g. local.
    storage: StorageId,
    /// Only this content type: images (VM disks), rootdir (container volumes), vztmpl, iso,
    /// backup, snippets or import.
    content: Option<ContentType>,
    /// Only volumes of this guest.
    vmid: Option<VmId>,
    #[flatten] page: Page,
) -> ToolResult {
    let mut items: Vec<Value> = api.send(json!({ "content": content, "vmid": vmid })).await?;
    items.sort_by(|a, b| str_field(a, "volid").cmp(&str_field(b, "volid")));
    if items.is_empty() {
        return Ok(ToolOutput::new(format!("No content found on {storage} ({node})."), items));
    }
    let size: u64 = items.iter().filter_map(|i| u64_field(i, "size")).sum();
    let counts = page::counts(&items, &["content"]);
    let mut text = format!(
        "📁 **Content of {storage} on {node}** ({} volume{}, {}). {}",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        format::bytes(size as f64),
        page::counts_line(&counts, &["content"])
    );
    let page = page.cut(items);
    text.push_str(&page.lines(|i| {
        let mut line = format!(
            "• **{}** ({}, {}) — {}",
            str_field(i, "volid").unwrap_or("?"),
            str_field(i, "content").unwrap_or("?"),
            str_field(i, "format").unwrap_or("?"),
            u64_field(i, "size").map_or("N/A".into(), |s| format::bytes(s as f64))
        );
        if let Some(v) = u64_field(i, "vmid") {
            line.push_str(&format!(", guest {v}"));
        }
        if let Some(c) = u64_field(i, "ctime").filter(|c| *c > 0) {
            line.push_str(&format!(", created {}", format::timestamp(c)));
        }
        if i.get("protected").is_some_and(|p| p.as_u64() == Some(1) || p.as_bool() == Some(true)) {
            line.push_str(", 🔒 protected");
        }
        if let Some(n) = str_field(i, "notes").filter(|n| !n.is_empty()) {
            line.push_str(&format!(" — {}", n.lines().next().unwrap_or("")));
        }
        line
    }));
    let mut data = page.data("items");
    data.extend(counts);
    data.insert("size".into(), size.into());
    Ok(ToolOutput::new(text, data))
}

/// The storage part of a volume id must be the storage named.
fn check_volume_storage(volume: &Volume, storage: &StorageId) -> Result<(), ToolError> {
    match volume.as_str().split_once(':') {
        Some((s, _)) if s == storage.as_str() => Ok(()),
        Some((s, _)) => Err(ToolError::invalid("volume", format!("is on storage {s}, not {storage}"))),
        None => Err(ToolError::invalid("volume", "must be storage:name")),
    }
}

/// Delete a volume from a storage. A disk image, ISO, template or backup. This destroys its data.
#[pve_tool(
    path = "/nodes/<node>/storage/<storage>/content/<volume>",
    method = DELETE,
    elevated, task,
    category = "Storage Management"
)]
async fn proxmox_delete_storage_content(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The storage, e.g. local.
    storage: StorageId,
    /// The volume id, e.g. local:iso/old.iso or local:backup/vzdump-qemu-100-2024_01_01-00_00_00.vma.zst.
    volume: Volume,
    /// Wait up to this many seconds (1 to 30) for the deletion to finish.
    #[schemars(range(min = 1, max = 30))]
    delay: Option<u8>,
) -> ToolResult {
    check_volume_storage(&volume, &storage)?;
    let upid: Option<String> = api.send(json!({ "delay": delay })).await?;
    Ok(match upid {
        Some(upid) => api.follow_task(upid, &node, format!("Deletion of {volume} started")).await?,
        None => ToolOutput::new(format!("✅ Volume {volume} deleted"), json!({ "volume": volume, "node": node })),
    })
}

// ------------------------------------------------------------ single-file restore

/// A `filepath` as a listing gives it: the base64 of a path inside the backup, or `/`.
const RESTORE_FILEPATH: &str = r"^[A-Za-z0-9+/=]+$";
/// A plain path inside a backup: absolute, without control characters.
const RESTORE_PATH: &str = r"^/[^\x00-\x1f\x7f-\x9f]*$";

/// `filepath` as Proxmox takes it (base64 of the path inside the backup, or `/`), from either
/// `filepath` (as a listing gave it) or a plain `path`.
fn restore_filepath(filepath: Option<String>, path: Option<String>, required: bool) -> Result<String, ToolError> {
    match (filepath, path) {
        (Some(_), Some(_)) => Err(ToolError::invalid("path", "give either path or filepath, not both")),
        (Some(f), None) => Ok(f),
        (None, Some(p)) => Ok(if p == "/" { p } else { format::base64(p.as_bytes()) }),
        (None, None) if required => Err(ToolError::invalid("filepath", "is required (or give path)")),
        (None, None) => Ok("/".into()),
    }
}

/// Browse the files inside a PBS backup. Proxmox Backup Server snapshots, for single-file restore.
#[pve_tool(path = "/nodes/<node>/storage/<storage>/file-restore/list", method = GET, category = "Storage Management")]
async fn proxmox_list_file_restore(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The PBS storage, e.g. pbs.
    storage: StorageId,
    /// The backup volume id, e.g. pbs:backup/vm/100/2025-01-01T00:00:00Z.
    volume: Volume,
    /// The entry to list, base64, as a listing returned it; default: the root, /.
    #[schemars(length(max = 8192), regex(pattern = RESTORE_FILEPATH))]
    filepath: Option<String>,
    /// Or the plain path inside the backup, e.g. /drive-scsi0.img.fidx/part/1/etc.
    #[schemars(length(max = 4096), regex(pattern = RESTORE_PATH))]
    path: Option<String>,
    #[flatten] page: Page,
) -> ToolResult {
    check_volume_storage(&volume, &storage)?;
    let filepath = restore_filepath(filepath, path, false)?;
    let mut entries: Vec<Value> = api.send(json!({ "volume": volume, "filepath": filepath })).await?;
    entries.sort_by(|a, b| str_field(a, "text").cmp(&str_field(b, "text")));
    if entries.is_empty() {
        return Ok(ToolOutput::new(format!("Nothing at this path in {volume}."), entries));
    }
    let mut text = format!("🗂️ **{volume}** on {node} ({} entries)", entries.len());
    let page = page.cut(entries);
    text.push_str(&page.lines(|e| {
        let leaf = e.get("leaf").is_some_and(|l| l.as_bool() == Some(true) || l.as_u64() == Some(1));
        let mut line = format!(
            "• {} {} ({})",
            if leaf { "📄" } else { "📁" },
            str_field(e, "text").unwrap_or("?"),
            str_field(e, "type").unwrap_or("?")
        );
        if let Some(size) = u64_field(e, "size") {
            line.push_str(&format!(" — {}", format::bytes(size as f64)));
        }
        if let Some(m) = u64_field(e, "mtime") {
            line.push_str(&format!(", modified {}", format::timestamp(m)));
        }
        if let Some(f) = str_field(e, "filepath") {
            line.push_str(&format!("\n  filepath: {f}"));
        }
        line
    }));
    Ok(ToolOutput::new(text, page.data("items")))
}

/// The most bytes of a restored file read.
const MAX_DOWNLOAD: usize = 1024 * 1024;
/// The most bytes of a binary file shown (as base64).
const BINARY_PREFIX: usize = 3 * 1024;

/// Read a file from inside a PBS backup. Text files as text, others as their size and a base64 prefix. At most 1
/// MiB is read.
#[pve_tool(
    path = "/nodes/<node>/storage/<storage>/file-restore/download",
    method = GET,
    category = "Storage Management"
)]
async fn proxmox_download_file_restore(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The PBS storage, e.g. pbs.
    storage: StorageId,
    /// The backup volume id, e.g. pbs:backup/vm/100/2025-01-01T00:00:00Z.
    volume: Volume,
    /// The file, base64, as a listing returned it.
    #[schemars(length(max = 8192), regex(pattern = RESTORE_FILEPATH))]
    filepath: Option<String>,
    /// Or the plain path inside the backup, e.g. /drive-scsi0.img.fidx/part/1/etc/hostname.
    #[schemars(length(max = 4096), regex(pattern = RESTORE_PATH))]
    path: Option<String>,
    /// For a directory: a tar.zst archive instead of a zip.
    tar: Option<bool>,
) -> ToolResult {
    check_volume_storage(&volume, &storage)?;
    let filepath = restore_filepath(filepath, path, true)?;
    let target = ApiPath::lit("/nodes")
        .join(&node)
        .join_lit("storage")
        .join(&storage)
        .join_lit("file-restore")
        .join_lit("download");
    let body =
        api.get_raw(&target, json!({ "volume": volume, "filepath": filepath, "tar": tar }), MAX_DOWNLOAD).await?;
    let more = if body.truncated {
        format!(" (only the first {} read)", format::bytes(MAX_DOWNLOAD as f64))
    } else {
        String::new()
    };
    let text_part = match std::str::from_utf8(&body.bytes) {
        Ok(s) => Some(s),
        // A cut inside a character: the valid part.
        Err(e) if body.truncated && e.error_len().is_none() => std::str::from_utf8(&body.bytes[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
    .filter(|s| !s.contains('\0'));
    Ok(match text_part {
        Some(s) => ToolOutput::new(
            format!("📄 **File from {volume}**, {}{more}\n```\n{s}\n```", format::bytes(body.bytes.len() as f64)),
            json!({ "encoding": "utf-8", "content": s, "bytes": body.bytes.len(), "truncated": body.truncated }),
        ),
        None => {
            let prefix = format::base64(&body.bytes[..body.bytes.len().min(BINARY_PREFIX)]);
            ToolOutput::new(
                format!(
                    "📦 **Binary file from {volume}**, {}{more}. Its first {} as base64:\n{prefix}",
                    format::bytes(body.bytes.len() as f64),
                    format::bytes(body.bytes.len().min(BINARY_PREFIX) as f64)
                ),
                json!({ "encoding": "base64", "content_prefix": prefix, "bytes": body.bytes.len(), "truncated": body.truncated }),
            )
        }
    })
}

// ----------------------------------------------------------------------- pruning

fn yes() -> bool {
    true
}

/// Guest types of backups.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackupGuestType {
    Qemu,
    Lxc,
}

/// What to prune and how.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneOptions {
    /// Only list what would be removed (default true). Set false to delete.
    #[serde(default = "yes")]
    #[schemars(extend("x-aliases" = ["dry-run"]))]
    dry_run: bool,
    /// Keep the last N backups.
    #[serde(rename = "keep-last")]
    keep_last: Option<u32>,
    /// Keep the last backup of each of the last N hours.
    #[serde(rename = "keep-hourly")]
    keep_hourly: Option<u32>,
    /// Keep the last backup of each of the last N days.
    #[serde(rename = "keep-daily")]
    keep_daily: Option<u32>,
    /// Keep the last backup of each of the last N weeks.
    #[serde(rename = "keep-weekly")]
    keep_weekly: Option<u32>,
    /// Keep the last backup of each of the last N months.
    #[serde(rename = "keep-monthly")]
    keep_monthly: Option<u32>,
    /// Keep the last backup of each of the last N years.
    #[serde(rename = "keep-yearly")]
    keep_yearly: Option<u32>,
    /// Retention as one string instead of the keep-* options, e.g. keep-last=3,keep-daily=7.
    /// Without either, the storage's own retention settings apply.
    #[serde(rename = "prune-backups")]
    #[schemars(length(max = 256), regex(pattern = PRUNE_BACKUPS))]
    prune_backups: Option<String>,
    /// Only backups of this guest.
    vmid: Option<VmId>,
    /// Only backups of this guest type: qemu or lxc.
    r#type: Option<BackupGuestType>,
}

impl PruneOptions {
    /// The retention string to send, if any.
    fn retention(&self) -> Result<Option<String>, ToolError> {
        let keeps = [
            ("keep-last", self.keep_last),
            ("keep-hourly", self.keep_hourly),
            ("keep-daily", self.keep_daily),
            ("keep-weekly", self.keep_weekly),
            ("keep-monthly", self.keep_monthly),
            ("keep-yearly", self.keep_yearly),
        ];
        let set: Vec<String> = keeps.iter().filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))).collect();
        match (&self.prune_backups, set.is_empty()) {
            (Some(_), false) => {
                Err(ToolError::invalid("prune-backups", "give either prune-backups or keep-* options, not both"))
            }
            (Some(p), true) => Ok(Some(p.clone())),
            (None, false) => Ok(Some(set.join(","))),
            (None, true) => Ok(None),
        }
    }
}

/// Prune backups by retention rules. By default a dry run that lists what would be removed; with dry_run false it
/// deletes them (with no keep-* options, by the storage's own retention settings).
#[pve_tool(
    path = "/nodes/<node>/storage/<storage>/prunebackups",
    method = DELETE,
    elevated, task,
    category = "Storage Management"
)]
async fn proxmox_prune_backups(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The storage holding the backups, e.g. local.
    storage: StorageId,
    #[flatten] options: PruneOptions,
) -> ToolResult {
    let retention = options.retention()?;
    let params = json!({ "prune-backups": retention, "vmid": options.vmid, "type": options.r#type });
    let path = ApiPath::lit("/nodes").join(&node).join_lit("storage").join(&storage).join_lit("prunebackups");
    let marks: Vec<Value> = api.get(&path, &params).await?;
    let with_mark = |m: &str| marks.iter().filter(|b| str_field(b, "mark") == Some(m)).collect::<Vec<_>>();
    let (remove, keep) = (with_mark("remove"), marks.len() - with_mark("remove").len());
    let rule = retention.as_deref().unwrap_or("the storage's retention settings");
    let mut list = String::new();
    for b in &remove {
        list.push_str(&format!(
            "\n• {}{}",
            str_field(b, "volid").unwrap_or("?"),
            u64_field(b, "ctime").map_or(String::new(), |c| format!(" ({})", format::timestamp(c)))
        ));
    }
    if options.dry_run {
        let text = format!(
            "🧹 **Prune dry run on {storage} ({node})** by {rule}: {} to remove, {keep} kept{}{}",
            remove.len(),
            if remove.is_empty() { "" } else { "\n\nWould remove:" },
            list
        ) + if remove.is_empty() { "" } else { "\n\nCall again with dry_run: false to delete them." };
        return Ok(ToolOutput::new(text, json!({ "dry_run": true, "backups": marks })));
    }
    let upid: String = api.send(&params).await?;
    let what = format!(
        "Pruning {storage} by {rule}: {} backups to remove, {keep} kept{}{}",
        remove.len(),
        if remove.is_empty() { "" } else { "\n\nRemoving:" },
        list
    );
    let out = api.follow_task(upid, &node, what).await?;
    Ok(out.with(None, "dry_run", false).with(None, "backups", marks))
}
