//! VM Creation: container templates, and new QEMU VMs and LXC containers.
//!
//! Disks, NICs and features are built from typed fields (as in the Disks and VM/LXC Network
//! areas), so no argument can smuggle options into a Proxmox property string. A container's
//! root password is sent to Proxmox and never shown: not in results, errors or logs.

use crate::client::Secret;
use crate::format::{self, str_field, u64_field};
use crate::page::Page;
use crate::tools::disks::{GiB, Ranged, flag};
use crate::tools::guest_network::{LxcNicOptions, VmNicOptions};
use crate::types::{DnsName, InvalidValue, Node, PoolId, StorageId, VmId, Volume, shown, string_id};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] = &[&PROXMOX_LIST_TEMPLATES, &PROXMOX_CREATE_LXC, &PROXMOX_CREATE_VM];

// ------------------------------------------------------------------------------------ types

string_id! {
    /// An ISO image to attach as a CD-ROM: a volume id without `,` or `=`, which would add options
    /// to the drive string it is written into (`<iso>,media=cdrom`).
    IsoImage, kind = "ISO volume id", pattern = "^[a-z][a-z0-9_.-]*[a-z0-9]:[A-Za-z0-9_.+@~:/-]+$", max = 512,
    rule = "storage:name, e.g. local:iso/debian-13.iso (letters, digits and `_.+@~:/-`; no `,`, `=`, `.` or `..` component)",
    beyond = |s| Volume::new(s).is_ok()
}

string_id! {
    /// A QEMU CPU model, e.g. `host`, `x86-64-v2-AES`, `kvm64` or `custom-mycpu`.
    CpuType, kind = "CPU type", pattern = "^[A-Za-z0-9][A-Za-z0-9_.+-]*$", max = 64,
    rule = "a CPU model name such as host or x86-64-v2-AES (letters, digits, `_.+-`)"
}

/// A password of 5 to 1024 characters: a [`Secret`] (sent to Proxmox, never shown: not in
/// results, errors or logs).
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct Password(Secret);

impl Password {
    pub const MIN: usize = 5;
    pub const MAX: usize = 1024;
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for Password {
    /// Errors never contain the value.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Secret::deserialize(d)?;
        if !(Password::MIN..=Password::MAX).contains(&s.chars()) {
            return Err(serde::de::Error::custom(format!(
                "must be {} to {} characters long (the value is not shown)",
                Password::MIN,
                Password::MAX
            )));
        }
        Ok(Password(s))
    }
}

impl JsonSchema for Password {
    fn schema_name() -> Cow<'static, str> {
        "Password".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": Password::MIN,
            "maxLength": Password::MAX,
            "writeOnly": true,
        })
    }
}

/// The guest OS of a VM, which tunes Proxmox's defaults for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VmOsType {
    /// Linux 2.6 to 6.x (most Linux guests).
    #[default]
    L26,
    /// Linux 2.4.
    L24,
    /// Windows 11, Server 2022 and 2025.
    Win11,
    /// Windows 10, Server 2016 and 2019.
    Win10,
    /// Windows 8, Server 2012.
    Win8,
    /// Windows 7, Server 2008 R2.
    Win7,
    /// Windows Vista, Server 2008.
    Wvista,
    /// Windows Server 2008.
    W2k8,
    /// Windows Server 2003.
    W2k3,
    /// Windows 2000.
    W2k,
    /// Windows XP.
    Wxp,
    /// Solaris or OpenSolaris.
    Solaris,
    /// Anything else.
    Other,
}

/// A VM's firmware. (No doc comments on the variants: an optional enum then has a plain `enum` schema.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bios {
    Seabios,
    Ovmf,
}

string_id! {
    /// The QEMU machine (Proxmox's `machine` property string), e.g. `q35`, `pc-q35-9.2+pve1` or
    /// `q35,viommu=virtio`.
    MachineSpec, kind = "machine",
    pattern = r"^((type=)?(pc|pc(-i440fx)?-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|q35|pc-q35-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|virt(-\d+(\.\d+)+)?(\+pve\d+)?))?(,(aw-bits=\d{2}|enable-s3=[01]|enable-s4=[01]|viommu=(intel|virtio)))*$",
    max = 128,
    rule = "a machine type (q35, pc, or a versioned one such as pc-q35-9.2+pve1), optionally with ,viommu=intel|virtio, ,enable-s3=0|1, ,enable-s4=0|1 or ,aw-bits=N"
}

string_id! {
    /// The EFI vars disk of an OVMF VM (Proxmox's `efidisk0`), e.g. `local-lvm:1,efitype=4m,pre-enrolled-keys=1`
    /// (`storage:1` allocates a new one).
    EfiDiskSpec, kind = "EFI disk",
    pattern = r"^((file|volume)=)?[a-zA-Z][a-zA-Z0-9_.-]*:[A-Za-z0-9_.+@~/-]+(,(efitype=(2m|4m)|format=(raw|qcow|qed|qcow2|vmdk|cloop)|import-from=[A-Za-z0-9_.+@~:/-]+|ms-cert=(2011|2023|2023w|2023k)|pre-enrolled-keys=[01]|size=\d+(\.\d+)?[KMGT]?))*$",
    max = 512,
    rule = "storage:1 to allocate (or an existing volume), then options such as ,efitype=4m ,pre-enrolled-keys=1 ,ms-cert=2023, e.g. local-lvm:1,efitype=4m,pre-enrolled-keys=1"
}

string_id! {
    /// The TPM state disk of a VM (Proxmox's `tpmstate0`), e.g. `local-lvm:1,version=v2.0` (`storage:1`
    /// allocates a new one).
    TpmStateSpec, kind = "TPM state disk",
    pattern = r"^((file|volume)=)?[a-zA-Z][a-zA-Z0-9_.-]*:[A-Za-z0-9_.+@~/-]+(,(format=(raw|qcow2|vmdk)|import-from=[A-Za-z0-9_.+@~:/-]+|size=\d+(\.\d+)?[KMGT]?|version=(v1\.2|v2\.0)))*$",
    max = 512,
    rule = "storage:1 to allocate (or an existing volume), then options such as ,version=v2.0, e.g. local-lvm:1,version=v2.0"
}

/// SCSI controller models of a VM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScsiHw {
    /// VirtIO SCSI with one controller per disk (an I/O thread each): the recommended default.
    #[default]
    VirtioScsiSingle,
    /// VirtIO SCSI, one controller for all disks.
    VirtioScsiPci,
    /// LSI 53C895A (works without drivers on old guests).
    Lsi,
    /// LSI 53C810.
    Lsi53c810,
    /// MegaRAID SAS 8708EM2.
    Megasas,
    /// VMware PVSCSI.
    Pvscsi,
}

/// A serde enum's name as Proxmox spells it.
fn spelled<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Container features to turn on or off.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CtFeatures {
    /// Allow nested containers, e.g. Docker or systemd services that need it.
    pub nesting: Option<bool>,
    /// Allow the keyctl() system call (unprivileged containers; e.g. Docker).
    pub keyctl: Option<bool>,
    /// Allow FUSE mounts.
    pub fuse: Option<bool>,
    /// Allow mknod() of some device nodes.
    pub mknod: Option<bool>,
}

impl CtFeatures {
    /// `nesting=1,keyctl=1`, or `None` when nothing was given.
    fn value(&self) -> Option<String> {
        let parts: Vec<String> =
            [("nesting", self.nesting), ("keyctl", self.keyctl), ("fuse", self.fuse), ("mknod", self.mknod)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|b| format!("{k}={}", flag(b))))
                .collect();
        (!parts.is_empty()).then(|| parts.join(","))
    }
}

// ------------------------------------------------------------------------------------ tools

/// List container templates on a storage. The vztmpl volumes, to pick an ostemplate for proxmox_create_lxc.
#[pve_tool(method = GET, category = "VM Creation")]
async fn proxmox_list_templates(
    api: Api,
    /// The node whose storage to look at, e.g. pve1.
    node: Node,
    /// The storage to look in (default local).
    storage: Option<StorageId>,
    #[flatten] page: Page,
) -> ToolResult {
    let storage = match storage {
        Some(s) => s,
        None => StorageId::new("local").map_err(|e| ToolError::Other(e.to_string()))?,
    };
    let path = ApiPath::lit("/nodes").join(&node).join_lit("storage").join(&storage).join_lit("content");
    let mut items: Vec<Value> = api.get(&path, json!({ "content": "vztmpl" })).await?;
    items.sort_by(|a, b| str_field(a, "volid").cmp(&str_field(b, "volid")));
    if items.is_empty() {
        return Ok(ToolOutput::new(
            format!(
                "No container templates on {storage} ({node}). Download one in the web UI (node → {storage} → CT Templates → Templates), or on the node: pveam update && pveam available && pveam download {storage} <template>"
            ),
            items,
        ));
    }
    let mut text = format!("📦 **Container templates on {storage}** ({node}, {})", items.len());
    let page = page.cut(items);
    text.push_str(&page.lines(|t| {
        let volid = str_field(t, "volid").unwrap_or("?");
        match u64_field(t, "size") {
            Some(size) => format!("• {volid} ({})", format::bytes(size as f64)),
            None => format!("• {volid}"),
        }
    }));
    Ok(ToolOutput::new(text, page.data("items")))
}

/// What create_lxc sends.
#[derive(Serialize)]
struct NewCt<'a> {
    vmid: VmId,
    ostemplate: &'a Volume,
    hostname: String,
    password: Option<&'a Password>,
    #[serde(rename = "ssh-public-keys")]
    ssh_public_keys: Option<&'a str>,
    memory: u64,
    swap: u64,
    cores: Option<u64>,
    rootfs: String,
    net0: String,
    unprivileged: bool,
    features: Option<String>,
    start: Option<bool>,
    onboot: Option<bool>,
    description: Option<&'a str>,
    pool: Option<&'a PoolId>,
}

/// Create an LXC container from a template (memory and swap in MiB, rootfs in GiB). See proxmox_list_templates. It
/// gets a root disk on a storage, one NIC (default: eth0 on vmbr0 with DHCP) and is unprivileged unless told
/// otherwise. The root password is sent but never shown; without a password or SSH keys, log in with `pct enter
/// <vmid>` on the node.
#[pve_tool(path = "/nodes/<node>/lxc", method = POST, elevated, task, category = "VM Creation", title = "Create LXC container")]
async fn proxmox_create_lxc(
    api: Api,
    /// The node to create it on.
    node: Node,
    /// The new container's id (see proxmox_get_next_vmid).
    vmid: VmId,
    /// The template volume, e.g. local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst.
    ostemplate: Volume,
    /// Host name (default lxc-<vmid>).
    hostname: Option<DnsName>,
    /// Root password, 5 characters or more (never shown).
    password: Option<Password>,
    /// SSH public keys for root, one per line (OpenSSH format).
    #[schemars(length(max = 65536))]
    ssh_public_keys: Option<String>,
    /// Memory in MiB (default 512).
    #[schemars(extend("default" = 512))]
    memory: Option<Ranged<16, 4_194_304>>,
    /// Swap in MiB (default 512).
    #[schemars(extend("default" = 512))]
    swap: Option<Ranged<0, 4_194_304>>,
    /// CPU cores (default: no limit).
    cores: Option<Ranged<1, 8192>>,
    /// Storage for the root disk (default local-lvm).
    storage: Option<StorageId>,
    /// Root disk size in GiB (default 8).
    #[schemars(extend("default" = 8))]
    rootfs: Option<GiB>,
    /// The first NIC (default: eth0 on vmbr0 with IPv4 DHCP).
    #[schemars(extend("x-property-string" = {}))]
    net0: Option<LxcNicOptions>,
    /// Run as an unprivileged container (default true; false needs root and is less safe).
    #[schemars(extend("default" = true))]
    unprivileged: Option<bool>,
    /// Container features, e.g. {"nesting": true} for Docker or systemd-heavy guests.
    features: Option<CtFeatures>,
    /// Start the container once it is created.
    start: Option<bool>,
    /// Start the container when the node boots.
    onboot: Option<bool>,
    /// A description, shown in the web UI.
    #[schemars(length(max = 8192))]
    description: Option<String>,
    /// Add the container to this resource pool.
    pool: Option<PoolId>,
) -> ToolResult {
    let hostname = hostname.map_or_else(|| format!("lxc-{vmid}"), |h| h.to_string());
    let storage = storage.map_or_else(|| "local-lvm".to_string(), |s| s.to_string());
    let size = rootfs.map_or(8, GiB::get);
    let nic = net0.unwrap_or_else(|| LxcNicOptions {
        ip: crate::tools::guest_network::Ipv4Config::new("dhcp").ok(),
        ..Default::default()
    });
    let net0 = nic.apply("", "eth0");
    let memory = memory.map_or(512, Ranged::get);
    let swap = swap.map_or(512, Ranged::get);
    let unprivileged = unprivileged.unwrap_or(true);
    let features = features.as_ref().and_then(CtFeatures::value);
    let upid: String = api
        .send(NewCt {
            vmid,
            ostemplate: &ostemplate,
            hostname: hostname.clone(),
            password: password.as_ref(),
            ssh_public_keys: ssh_public_keys.as_deref(),
            memory,
            swap,
            cores: cores.map(Ranged::get),
            rootfs: format!("{storage}:{size}"),
            net0: net0.clone(),
            unprivileged,
            features: features.clone(),
            start,
            onboot,
            description: description.as_deref(),
            pool: pool.as_ref(),
        })
        .await?;
    let mut out = api.follow_task(upid, &node, format!("Creating container {vmid} ({hostname}) on {node}")).await?;
    let login = match (&password, &ssh_public_keys) {
        (Some(_), _) => "root password set (not shown)".to_string(),
        (None, Some(_)) => "SSH keys for root".to_string(),
        (None, None) => format!("no password: use `pct enter {vmid}` on {node}"),
    };
    out.text.push_str(&format!(
        "\n• Template: {ostemplate}\n• Memory: {memory} MiB, swap {swap} MiB\n• Cores: {}\n• Root disk: {size} GiB on {storage}\n• net0: {net0}\n• Unprivileged: {}\n• Login: {login}",
        cores.map_or("no limit".to_string(), |c| c.to_string()),
        if unprivileged { "yes" } else { "no" },
    ));
    if let Some(f) = &features {
        out.text.push_str(&format!("\n• Features: {f}"));
    }
    if start == Some(true) {
        out.text.push_str("\n• Starts once created");
    }
    if let Value::Object(o) = &mut out.data {
        o.insert("vmid".into(), json!(vmid));
        o.insert("hostname".into(), json!(hostname));
    }
    Ok(out)
}

/// What create_vm sends.
#[derive(Serialize)]
struct NewVm<'a> {
    vmid: VmId,
    name: String,
    memory: u64,
    cores: u64,
    sockets: u64,
    cpu: Option<&'a CpuType>,
    ostype: VmOsType,
    scsihw: ScsiHw,
    scsi0: String,
    ide2: Option<String>,
    bios: Option<Bios>,
    machine: Option<&'a MachineSpec>,
    efidisk0: Option<&'a EfiDiskSpec>,
    tpmstate0: Option<&'a TpmStateSpec>,
    boot: &'static str,
    net0: String,
    agent: Option<bool>,
    start: Option<bool>,
    onboot: Option<bool>,
    description: Option<&'a str>,
    pool: Option<&'a PoolId>,
}

/// Create a QEMU VM (memory in MiB, disk_size in GiB). It gets one disk (scsi0) on a storage, one NIC (default:
/// virtio on vmbr0) and optionally an ISO image as CD-ROM to install from (the VM boots from the disk first, then
/// the CD-ROM, then the network).
#[pve_tool(path = "/nodes/<node>/qemu", method = POST, elevated, task, category = "VM Creation", title = "Create VM")]
async fn proxmox_create_vm(
    api: Api,
    /// The node to create it on.
    node: Node,
    /// The new VM's id (see proxmox_get_next_vmid).
    vmid: VmId,
    /// The VM's name (default vm-<vmid>).
    name: Option<DnsName>,
    /// Memory in MiB (default 512).
    #[schemars(extend("default" = 512))]
    memory: Option<Ranged<16, 4_194_304>>,
    /// Cores per socket (default 1).
    #[schemars(extend("default" = 1))]
    cores: Option<Ranged<1, 1024>>,
    /// CPU sockets (default 1).
    #[schemars(extend("default" = 1))]
    sockets: Option<Ranged<1, 64>>,
    /// CPU model, e.g. host or x86-64-v2-AES (default: Proxmox's).
    cpu: Option<CpuType>,
    /// Guest OS type: l26 (Linux 2.6-6.x, default), win11 (also Server 2022/2025), win10 (also
    /// Server 2016/2019), win8, win7, other, ...
    #[serde(default)]
    ostype: VmOsType,
    /// SCSI controller: virtio-scsi-single (default, an I/O thread per disk), virtio-scsi-pci,
    /// lsi (old guests without virtio drivers), megasas, pvscsi.
    #[serde(default)]
    scsihw: ScsiHw,
    /// Storage for the disk (default local-lvm).
    storage: Option<StorageId>,
    /// Disk size in GiB (default 8).
    #[schemars(extend("default" = 8))]
    disk_size: Option<GiB>,
    /// An ISO image to attach as CD-ROM (ide2), e.g. local:iso/debian-13.iso (no `,` or `=`).
    iso: Option<IsoImage>,
    /// The first NIC (default: virtio on vmbr0), e.g. {"bridge": "vmbr0", "vlan": 20}.
    #[schemars(extend("x-property-string" = {"default": "model", "keyed": "macaddr"}))]
    net0: Option<VmNicOptions>,
    /// Firmware: seabios (default) or ovmf (UEFI: give efidisk0 too). Windows 11 needs ovmf, q35, efidisk0 and tpmstate0.
    bios: Option<Bios>,
    /// QEMU machine, e.g. q35 (PCIe; needed for UEFI/Windows 11) or pc (i440fx, Proxmox's default).
    machine: Option<MachineSpec>,
    /// EFI vars disk for ovmf, e.g. local-lvm:1,efitype=4m,pre-enrolled-keys=1 (storage:1 allocates it).
    efidisk0: Option<EfiDiskSpec>,
    /// TPM state disk, e.g. local-lvm:1,version=v2.0 (storage:1 allocates it; Windows 11 needs v2.0).
    tpmstate0: Option<TpmStateSpec>,
    /// Enable the QEMU guest agent (install qemu-guest-agent in the guest).
    agent: Option<bool>,
    /// Start the VM once it is created.
    start: Option<bool>,
    /// Start the VM when the node boots.
    onboot: Option<bool>,
    /// A description, shown in the web UI.
    #[schemars(length(max = 8192))]
    description: Option<String>,
    /// Add the VM to this resource pool.
    pool: Option<PoolId>,
) -> ToolResult {
    let name = name.map_or_else(|| format!("vm-{vmid}"), |n| n.to_string());
    let storage = storage.map_or_else(|| "local-lvm".to_string(), |s| s.to_string());
    let size = disk_size.map_or(8, GiB::get);
    let scsi0 = match scsihw {
        ScsiHw::VirtioScsiSingle => format!("{storage}:{size},iothread=1"),
        _ => format!("{storage}:{size}"),
    };
    let net0 = net0.unwrap_or_default().apply("");
    let (memory, cores, sockets) =
        (memory.map_or(512, Ranged::get), cores.map_or(1, Ranged::get), sockets.map_or(1, Ranged::get));
    let upid: String = api
        .send(NewVm {
            vmid,
            name: name.clone(),
            memory,
            cores,
            sockets,
            cpu: cpu.as_ref(),
            ostype,
            scsihw,
            scsi0: scsi0.clone(),
            ide2: iso.as_ref().map(|i| format!("{i},media=cdrom")),
            bios,
            machine: machine.as_ref(),
            efidisk0: efidisk0.as_ref(),
            tpmstate0: tpmstate0.as_ref(),
            boot: if iso.is_some() { "order=scsi0;ide2;net0" } else { "order=scsi0;net0" },
            net0: net0.clone(),
            agent,
            start,
            onboot,
            description: description.as_deref(),
            pool: pool.as_ref(),
        })
        .await?;
    let mut out = api.follow_task(upid, &node, format!("Creating VM {vmid} ({name}) on {node}")).await?;
    out.text.push_str(&format!(
        "\n• Memory: {memory} MiB\n• CPU: {sockets} socket(s) × {cores} core(s){}\n• OS type: {}\n• scsi0: {size} GiB on {storage} ({})\n• net0: {net0}",
        cpu.as_ref().map_or(String::new(), |c| format!(", {c}")),
        spelled(&ostype),
        spelled(&scsihw),
    ));
    if let Some(iso) = &iso {
        out.text.push_str(&format!("\n• CD-ROM: {iso}"));
    }
    for (key, value) in [
        ("Firmware", bios.map(|b| spelled(&b))),
        ("Machine", machine.map(|m| m.to_string())),
        ("efidisk0", efidisk0.map(|d| d.to_string())),
        ("tpmstate0", tpmstate0.map(|d| d.to_string())),
    ] {
        if let Some(value) = value {
            out.text.push_str(&format!("\n• {key}: {value}"));
        }
    }
    if start == Some(true) {
        out.text.push_str("\n• Starts once created");
    }
    if let Value::Object(o) = &mut out.data {
        o.insert("vmid".into(), json!(vmid));
        o.insert("name".into(), json!(name));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_spellings() {
        let err = serde_json::from_value::<Password>(json!("abc")).unwrap_err().to_string();
        assert!(!err.contains("abc"), "{err}");
        let err = serde_json::from_value::<Password>(json!(12345678)).unwrap_err().to_string();
        assert!(!err.contains("12345678"), "{err}");
        assert_eq!(format!("{:?}", serde_json::from_value::<Password>(json!("s3cret!")).unwrap()), "[redacted]");
        assert_eq!(spelled(&ScsiHw::VirtioScsiSingle), "virtio-scsi-single");
        assert_eq!(spelled(&VmOsType::W2k3), "w2k3");
        assert_eq!(
            CtFeatures { nesting: Some(true), fuse: Some(false), ..Default::default() }.value().as_deref(),
            Some("nesting=1,fuse=0")
        );
    }

    #[test]
    fn iso_images() {
        assert!(IsoImage::new("local:iso/debian-13.iso").is_ok());
        for bad in ["local:iso/x.iso,media=disk", "local:iso/a=b.iso", "local:iso/../x.iso", "local:", "iso"] {
            assert!(IsoImage::new(bad).is_err(), "{bad}");
        }
    }
}
