//! Guest volumes on the demo's storages: new disks (`local-lvm:32` in a configuration becomes
//! an allocated volume), unused disks, copies for clones and restores, moves and sizes.

use super::DemoError;
use super::state::{Object, State, VolumeState, now};
use serde_json::{Value, json};

const GIB: u64 = 1024 * 1024 * 1024;

/// `key` followed by a number only.
fn numbered(key: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| key.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())))
}

/// A configuration key that holds a disk (a volume) of this guest kind.
pub(super) fn is_disk_key(kind: &str, key: &str) -> bool {
    if kind == "lxc" {
        key == "rootfs" || numbered(key, &["mp"])
    } else {
        key == "efidisk0" || key == "tpmstate0" || numbered(key, &["scsi", "virtio", "sata", "ide"])
    }
}

pub(super) fn is_unused(key: &str) -> bool {
    numbered(key, &["unused"])
}

/// The volume a disk value refers to: its first part, when it names a volume on a storage (not
/// a CD-ROM drive, not `none`).
pub(super) fn volume_of(value: &str) -> Option<&str> {
    let first = value.split(',').next().unwrap_or("");
    let cdrom = value.split(',').any(|o| o == "media=cdrom");
    (!cdrom && first.contains(':')).then_some(first)
}

/// `8G`, `512M`, `1T`, `4096K` or plain bytes, in bytes.
pub(super) fn size_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let n: f64 = number.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let factor = match unit {
        'B' => 1.0,
        'K' => 1024.0,
        'M' => 1024.0 * 1024.0,
        'G' => GIB as f64,
        'T' => GIB as f64 * 1024.0,
        _ => return None,
    };
    Some((n * factor).round() as u64)
}

/// Bytes as Proxmox writes a size option: `8G`, `512M`.
pub(super) fn size_text(bytes: u64) -> String {
    if bytes.is_multiple_of(GIB) {
        format!("{}G", bytes / GIB)
    } else if bytes.is_multiple_of(1024 * 1024) {
        format!("{}M", bytes / (1024 * 1024))
    } else {
        format!("{}K", bytes.div_ceil(1024))
    }
}

/// The size option of a disk value, in bytes.
pub(super) fn size_of(value: &str) -> Option<u64> {
    value.split(',').find_map(|o| o.strip_prefix("size=")).and_then(size_bytes)
}

/// The disk value with this volume and size (its other options kept, size last as Proxmox writes it).
pub(super) fn with_volume(value: &str, volid: &str, bytes: u64) -> String {
    let mut parts = vec![volid.to_string()];
    parts.extend(value.split(',').skip(1).filter(|o| !o.starts_with("size=")).map(str::to_string));
    parts.push(format!("size={}", size_text(bytes)));
    parts.join(",")
}

/// The storage of a volume id.
fn storage_of(volid: &str) -> &str {
    volid.split(':').next().unwrap_or("")
}

/// Refuse a storage that does not exist, is not on the node, or does not take guest disks.
pub(super) fn check_storage(state: &State, id: &str, kind: &str, node: &str) -> Result<(), DemoError> {
    let s = state.storage(id).ok_or_else(|| DemoError::new(500, format!("storage '{id}' does not exist")))?;
    if !s.on_node(node) {
        return Err(DemoError::new(500, format!("storage '{id}' is not available on node '{node}'")));
    }
    let (content, what) = if kind == "lxc" { ("rootdir", "container directories") } else { ("images", "vm images") };
    if !s.config["content"].as_str().unwrap_or("").split(',').any(|c| c == content) {
        return Err(DemoError::new(500, format!("storage '{id}' does not support {what}")));
    }
    Ok(())
}

/// Allocate a new volume for a guest, named the way its storage type names volumes.
pub(super) fn allocate(state: &mut State, id: &str, kind: &str, vmid: u32, bytes: u64) -> String {
    let Some(s) = state.storage_mut(id) else { return format!("{id}:vm-{vmid}-disk-0") };
    let kind_name = if kind == "lxc" && s.config["type"] == "zfspool" { "subvol" } else { "vm" };
    let file_based = matches!(s.config["type"].as_str(), Some("dir" | "nfs" | "cifs" | "btrfs" | "cephfs"));
    let (format, ext) = match (file_based, kind) {
        (true, "lxc") => ("raw", ".raw"),
        (true, _) => ("qcow2", ".qcow2"),
        (false, _) if kind_name == "subvol" => ("subvol", ""),
        (false, _) => ("raw", ""),
    };
    let taken = |n: u32| s.volumes.iter().any(|v| v.volid.contains(&format!("-{vmid}-disk-{n}")));
    let n = (0..).find(|n| !taken(*n)).unwrap_or(0);
    let name = format!("{kind_name}-{vmid}-disk-{n}{ext}");
    let volid = if file_based { format!("{id}:{vmid}/{name}") } else { format!("{id}:{name}") };
    s.volumes.push(VolumeState {
        volid: volid.clone(),
        content: if kind == "lxc" { "rootdir" } else { "images" }.into(),
        format: format.into(),
        size: bytes,
        vmid: Some(vmid),
        ctime: now(),
        config: None,
    });
    volid
}

/// A new-disk value (`local-lvm:8,iothread=1`: storage and size in GiB): its storage and size.
pub(super) fn new_disk(value: &str) -> Option<(&str, u64)> {
    let first = value.split(',').next()?;
    let (storage, size) = first.split_once(':')?;
    let gib: f64 = size.parse().ok().filter(|g: &f64| g.is_finite() && *g > 0.0)?;
    Some((storage, (gib * GIB as f64).round() as u64))
}

/// Check every new disk of a configuration change before anything is allocated.
pub(super) fn check_new_disks<'a>(
    state: &State,
    kind: &str,
    node: &str,
    changes: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), DemoError> {
    for (key, value) in changes {
        if is_disk_key(kind, key)
            && let Some((storage, _)) = new_disk(value)
        {
            check_storage(state, storage, kind, node).map_err(|e| DemoError::param(key, e.message))?;
        }
    }
    Ok(())
}

/// The value to store for a disk key: a new disk allocated, anything else as given.
pub(super) fn allocate_value(state: &mut State, kind: &str, vmid: u32, key: &str, value: &str) -> String {
    match new_disk(value).filter(|_| is_disk_key(kind, key)) {
        Some((storage, bytes)) => {
            let storage = storage.to_string();
            let volid = allocate(state, &storage, kind, vmid, bytes);
            with_volume(value, &volid, bytes)
        }
        None => value.to_string(),
    }
}

/// The size of a volume the demo holds.
pub(super) fn volume_size(state: &State, volid: &str) -> Option<u64> {
    state.storage(storage_of(volid))?.volumes.iter().find(|v| v.volid == volid).map(|v| v.size)
}

pub(super) fn set_volume_size(state: &mut State, volid: &str, bytes: u64) {
    if let Some(v) = state.storage_mut(storage_of(volid)).and_then(|s| s.volumes.iter_mut().find(|v| v.volid == volid))
    {
        v.size = bytes;
    }
}

/// Destroy a volume.
pub(super) fn free(state: &mut State, volid: &str) {
    if let Some(s) = state.storage_mut(storage_of(volid)) {
        s.volumes.retain(|v| v.volid != volid);
    }
}

/// The first `unusedN` key the configuration does not use.
pub(super) fn next_unused(config: &Object) -> String {
    (0..).map(|n| format!("unused{n}")).find(|k| !config.contains_key(k)).unwrap_or_else(|| "unused0".into())
}

/// Copies of a configuration's disks for guest `to` (a full clone or a restore), on `target`
/// or each disk's own storage. Unused disks are not copied.
pub(super) fn copy_disks(state: &mut State, config: &mut Object, kind: &str, to: u32, target: Option<&str>) {
    config.retain(|k, _| !is_unused(k));
    let keys: Vec<String> = config.keys().filter(|k| is_disk_key(kind, k)).cloned().collect();
    for key in keys {
        let Some(Value::String(value)) = config.get(&key).cloned() else { continue };
        let Some(volid) = volume_of(&value) else { continue };
        let bytes = size_of(&value).or_else(|| volume_size(state, volid)).unwrap_or(8 * GIB);
        let storage = target.unwrap_or(storage_of(volid)).to_string();
        let new = allocate(state, &storage, kind, to, bytes);
        config.insert(key, json!(with_volume(&value, &new, bytes)));
    }
}

/// The disks a configuration change deletes become unused disks; deleted unused disks are
/// destroyed.
pub(super) fn delete_disk(state: &mut State, config: &mut Object, kind: &str, key: &str) {
    let Some(Value::String(value)) = config.remove(key) else { return };
    let Some(volid) = volume_of(&value).map(str::to_string) else { return };
    if is_unused(key) {
        free(state, &volid);
    } else if is_disk_key(kind, key) {
        let slot = next_unused(config);
        config.insert(slot, json!(volid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_disk_values() {
        assert_eq!(size_bytes("8G"), Some(8 * GIB));
        assert_eq!(size_bytes("512M"), Some(512 * 1024 * 1024));
        assert_eq!(size_bytes("1.5T"), Some(1536 * GIB));
        assert_eq!(size_bytes("x"), None);
        assert_eq!(size_text(8 * GIB), "8G");
        assert_eq!(size_text(300 * 1024 * 1024), "300M");
        assert_eq!(new_disk("local-lvm:32,iothread=1"), Some(("local-lvm", 32 * GIB)));
        assert_eq!(new_disk("local-lvm:vm-100-disk-0,size=32G"), None);
        assert_eq!(volume_of("none,media=cdrom"), None);
        assert_eq!(volume_of("local:iso/x.iso,media=cdrom"), None);
        assert_eq!(volume_of("local-lvm:vm-100-disk-0,size=32G"), Some("local-lvm:vm-100-disk-0"));
        assert_eq!(
            with_volume("local-lvm:32,iothread=1", "local-lvm:vm-300-disk-0", 32 * GIB),
            "local-lvm:vm-300-disk-0,iothread=1,size=32G"
        );
        assert!(is_disk_key("qemu", "scsi30") && is_disk_key("lxc", "mp3") && !is_disk_key("lxc", "scsi0"));
        assert!(is_unused("unused0") && !is_unused("unused"));
    }

    #[test]
    fn new_disks_get_volumes_named_as_their_storage_names_them() {
        let mut state = State::seeded(std::time::Duration::ZERO);
        assert_eq!(allocate_value(&mut state, "qemu", 101, "scsi1", "local-lvm:8"), "local-lvm:vm-101-disk-1,size=8G");
        assert_eq!(allocate(&mut state, "local-zfs", "lxc", 201, GIB), "local-zfs:subvol-201-disk-0");
        assert_eq!(allocate(&mut state, "local", "qemu", 101, GIB), "local:101/vm-101-disk-0.qcow2");
        assert_eq!(volume_size(&state, "local-lvm:vm-101-disk-1"), Some(8 * GIB));
        assert!(check_storage(&state, "local", "qemu", "pve1").is_err(), "local holds no VM images");
        assert!(check_storage(&state, "local-zfs", "lxc", "pve3").is_err(), "local-zfs is not on pve3");
        let mut config = Object::new();
        config.insert("scsi1".into(), json!("local-lvm:vm-101-disk-1,size=8G"));
        delete_disk(&mut state, &mut config, "qemu", "scsi1");
        assert_eq!(config.get("unused0"), Some(&json!("local-lvm:vm-101-disk-1")));
        delete_disk(&mut state, &mut config, "qemu", "unused0");
        assert!(config.is_empty() && volume_size(&state, "local-lvm:vm-101-disk-1").is_none());
    }
}
