//! VM Lifecycle and VM Modify: start, stop, shut down, reboot, pause, resume and destroy guests;
//! clone them; change their memory and cores. The VM and container variants of an action share
//! one implementation; each tool only names its endpoint and its options.

use crate::types::{DnsName, GuestType, Node, PoolId, SnapshotName, StorageId, VmId};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_START_LXC,
    &PROXMOX_START_VM,
    &PROXMOX_STOP_LXC,
    &PROXMOX_STOP_VM,
    &PROXMOX_DELETE_LXC,
    &PROXMOX_DELETE_VM,
    &PROXMOX_REBOOT_LXC,
    &PROXMOX_REBOOT_VM,
    &PROXMOX_SHUTDOWN_LXC,
    &PROXMOX_SHUTDOWN_VM,
    &PROXMOX_PAUSE_VM,
    &PROXMOX_RESUME_VM,
    &PROXMOX_CLONE_LXC,
    &PROXMOX_CLONE_VM,
    &PROXMOX_RESIZE_LXC,
    &PROXMOX_RESIZE_VM,
];

// ---------------------------------------------------------------------------------- power

/// A power action of `/nodes/{node}/{type}/{vmid}/status/{action}`.
#[derive(Clone, Copy)]
enum Power {
    Start,
    Stop,
    Shutdown,
    Reboot,
    Suspend,
    Resume,
}

impl Power {
    fn doing(self) -> &'static str {
        match self {
            Power::Start => "is starting",
            Power::Stop => "is being stopped (hard stop, like pulling the plug)",
            Power::Shutdown => "is shutting down",
            Power::Reboot => "is rebooting",
            Power::Suspend => "is being paused",
            Power::Resume => "is resuming",
        }
    }
}

/// One power action on one guest: the tool's own request, reported as a task.
async fn power(
    api: Api,
    kind: GuestType,
    node: Node,
    vmid: VmId,
    action: Power,
    options: impl Serialize,
) -> ToolResult {
    let out = api.start_task(options, &node, format!("{} {vmid} {}", kind.subject(), action.doing())).await?;
    let type_arg = if kind == GuestType::Lxc { ", type lxc" } else { "" };
    let hint = format!("\nCheck the state with proxmox_get_vm_status (node {node}, vmid {vmid}{type_arg}).");
    Ok(out.with(Some(hint), "vmid", vmid))
}

/// Options of starting a VM.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StartVmOptions {
    /// Seconds to wait for the start (Proxmox's default: 30, or the memory in GiB if more).
    timeout: Option<u32>,
    /// Start even if the VM is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Options of starting a container.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StartLxcOptions {
    /// Start with very verbose debug logging.
    debug: Option<bool>,
    /// Start even if the container is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Start an LXC container.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/status/start", method = POST, elevated, task, category = "VM Lifecycle", title = "Start LXC container")]
async fn proxmox_start_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    #[flatten] options: StartLxcOptions,
) -> ToolResult {
    power(api, GuestType::Lxc, node, vmid, Power::Start, options).await
}

/// Start a QEMU VM.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/start", method = POST, elevated, task, category = "VM Lifecycle")]
async fn proxmox_start_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] options: StartVmOptions,
) -> ToolResult {
    power(api, GuestType::Qemu, node, vmid, Power::Start, options).await
}

/// Options of a hard stop of a VM.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StopVmOptions {
    /// Seconds to wait for the VM to stop.
    timeout: Option<u32>,
    /// Abort a running shutdown task first.
    #[serde(rename = "overrule-shutdown")]
    overrule_shutdown: Option<bool>,
    /// Keep the storage volumes activated.
    #[serde(rename = "keepActive")]
    keep_active: Option<bool>,
    /// Stop even if the VM is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Options of a hard stop of a container.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StopLxcOptions {
    /// Abort a running shutdown task first.
    #[serde(rename = "overrule-shutdown")]
    overrule_shutdown: Option<bool>,
    /// Stop even if the container is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Stop an LXC container at once. Its processes are killed (use proxmox_shutdown_lxc for a clean shutdown).
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/status/stop", method = POST, elevated, task, destructive = true, category = "VM Lifecycle", title = "Stop LXC container")]
async fn proxmox_stop_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    #[flatten] options: StopLxcOptions,
) -> ToolResult {
    power(api, GuestType::Lxc, node, vmid, Power::Stop, options).await
}

/// Stop a QEMU VM at once (hard). Like pulling the plug (use proxmox_shutdown_vm for a clean shutdown).
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/stop", method = POST, elevated, task, destructive = true, category = "VM Lifecycle")]
async fn proxmox_stop_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] options: StopVmOptions,
) -> ToolResult {
    power(api, GuestType::Qemu, node, vmid, Power::Stop, options).await
}

// --------------------------------------------------------------------------------- delete

/// Options of destroying a VM (query parameters).
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DeleteVmOptions {
    /// Also remove the VM from backup jobs, replication jobs and HA.
    purge: Option<bool>,
    /// Also destroy disks with this VM's id on any enabled storage that its configuration does not reference.
    #[serde(rename = "destroy-unreferenced-disks")]
    destroy_unreferenced_disks: Option<bool>,
    /// Destroy even if the VM is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Options of destroying a container (query parameters).
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DeleteLxcOptions {
    /// Also remove the container from backup jobs, replication jobs and HA.
    purge: Option<bool>,
    /// Also destroy volumes with this container's id on any enabled storage that its configuration does not reference.
    #[serde(rename = "destroy-unreferenced-disks")]
    destroy_unreferenced_disks: Option<bool>,
    /// Destroy the container even if it is running.
    force: Option<bool>,
}

/// Destroy a guest and its disks.
async fn delete(api: Api, kind: GuestType, node: Node, vmid: VmId, options: impl Serialize) -> ToolResult {
    let out =
        api.start_task(options, &node, format!("{} {vmid} is being destroyed with its disks", kind.subject())).await?;
    Ok(out.with(None, "vmid", vmid))
}

/// Destroy an LXC container. Its volumes go too; it must be stopped unless `force` is set.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>", method = DELETE, elevated, task, category = "VM Lifecycle", title = "Delete LXC container")]
async fn proxmox_delete_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    #[flatten] options: DeleteLxcOptions,
) -> ToolResult {
    delete(api, GuestType::Lxc, node, vmid, options).await
}

/// Destroy a QEMU VM. Its disks, permissions and firewall rules go too; it must be stopped.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>", method = DELETE, elevated, task, category = "VM Lifecycle")]
async fn proxmox_delete_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] options: DeleteVmOptions,
) -> ToolResult {
    delete(api, GuestType::Qemu, node, vmid, options).await
}

// ------------------------------------------------------------------- reboot and shutdown

/// Options of a reboot (VM and container alike).
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RebootOptions {
    /// Seconds to wait for the shutdown part of the reboot.
    timeout: Option<u32>,
}

/// Reboot an LXC container. A clean shutdown, then a start (applies pending changes).
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/status/reboot", method = POST, elevated, task, destructive = true, category = "VM Lifecycle", title = "Reboot LXC container")]
async fn proxmox_reboot_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    #[flatten] options: RebootOptions,
) -> ToolResult {
    power(api, GuestType::Lxc, node, vmid, Power::Reboot, options).await
}

/// Reboot a QEMU VM. A clean shutdown, then a start (applies pending changes).
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/reboot", method = POST, elevated, task, destructive = true, category = "VM Lifecycle")]
async fn proxmox_reboot_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] options: RebootOptions,
) -> ToolResult {
    power(api, GuestType::Qemu, node, vmid, Power::Reboot, options).await
}

/// Options of a clean shutdown of a VM.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ShutdownVmOptions {
    /// Seconds to wait for the guest to shut down.
    timeout: Option<u32>,
    /// Stop the VM hard if it has not shut down when the timeout ends.
    #[serde(rename = "forceStop")]
    force_stop: Option<bool>,
    /// Keep the storage volumes activated.
    #[serde(rename = "keepActive")]
    keep_active: Option<bool>,
    /// Shut down even if the VM is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Options of a clean shutdown of a container.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ShutdownLxcOptions {
    /// Seconds to wait for the container to shut down (Proxmox's default: 60).
    timeout: Option<u32>,
    /// Stop the container hard if it has not shut down when the timeout ends.
    #[serde(rename = "forceStop")]
    force_stop: Option<bool>,
}

/// Shut an LXC container down cleanly.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/status/shutdown", method = POST, elevated, task, destructive = true, category = "VM Lifecycle", title = "Shutdown LXC container")]
async fn proxmox_shutdown_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    #[flatten] options: ShutdownLxcOptions,
) -> ToolResult {
    power(api, GuestType::Lxc, node, vmid, Power::Shutdown, options).await
}

/// Shut a QEMU VM down cleanly (ACPI). The guest OS gets an ACPI power-button event.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/shutdown", method = POST, elevated, task, destructive = true, category = "VM Lifecycle")]
async fn proxmox_shutdown_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] options: ShutdownVmOptions,
) -> ToolResult {
    power(api, GuestType::Qemu, node, vmid, Power::Shutdown, options).await
}

// --------------------------------------------------------------------- pause and resume

/// Options of pausing a VM.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PauseVmOptions {
    /// Suspend to disk (hibernate): the state is saved and the VM resumes at its next start.
    todisk: Option<bool>,
    /// The storage for the saved state (only with `todisk`).
    statestorage: Option<StorageId>,
    /// Pause even if the VM is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Pause or hibernate a QEMU VM. It pauses in memory, or hibernates to disk with `todisk`.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/suspend", method = POST, elevated, task, category = "VM Lifecycle")]
async fn proxmox_pause_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] options: PauseVmOptions,
) -> ToolResult {
    if options.statestorage.is_some() && options.todisk != Some(true) {
        return Err(ToolError::invalid("statestorage", "is only used with `todisk: true`"));
    }
    power(api, GuestType::Qemu, node, vmid, Power::Suspend, options).await
}

/// Options of resuming a VM.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResumeVmOptions {
    /// Resume even if the VM is locked (only root@pam may).
    skiplock: Option<bool>,
}

/// Resume a paused QEMU VM.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/resume", method = POST, elevated, task, category = "VM Lifecycle")]
async fn proxmox_resume_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] options: ResumeVmOptions,
) -> ToolResult {
    power(api, GuestType::Qemu, node, vmid, Power::Resume, options).await
}

// ---------------------------------------------------------------------------------- clone

/// Disk formats a full clone can write on file storage.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum DiskFormat {
    Raw,
    Qcow2,
    Vmdk,
}

/// Options of cloning a VM.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CloneVmOptions {
    /// Name of the new VM (a DNS name, e.g. web-02).
    name: Option<DnsName>,
    /// Description of the new VM.
    description: Option<String>,
    /// Copy all disks (always done for a normal VM; a template is cloned linked unless this is true).
    full: Option<bool>,
    /// Node to create the clone on (the VM's disks must be on shared storage).
    target: Option<Node>,
    /// Storage for the disks of a full clone.
    storage: Option<StorageId>,
    /// Disk format of a full clone on file storage.
    format: Option<DiskFormat>,
    /// Resource pool to add the new VM to.
    pool: Option<PoolId>,
    /// Clone the state of this snapshot instead of the current state.
    snapname: Option<SnapshotName>,
    /// I/O bandwidth limit in KiB/s.
    bwlimit: Option<u64>,
}

/// Options of cloning a container.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CloneLxcOptions {
    /// Host name of the new container (a DNS name, e.g. dns-02).
    hostname: Option<DnsName>,
    /// Description of the new container.
    description: Option<String>,
    /// Copy all volumes (always done for a normal container; a template is cloned linked unless this is true).
    full: Option<bool>,
    /// Node to create the clone on (the container's volumes must be on shared storage).
    target: Option<Node>,
    /// Storage for the volumes of a full clone.
    storage: Option<StorageId>,
    /// Resource pool to add the new container to.
    pool: Option<PoolId>,
    /// Clone the state of this snapshot instead of the current state.
    snapname: Option<SnapshotName>,
    /// I/O bandwidth limit in KiB/s.
    bwlimit: Option<u64>,
}

/// The body of a clone request: the new id and the options.
#[derive(Serialize)]
struct CloneRequest<'a, T> {
    newid: VmId,
    #[serde(flatten)]
    options: &'a T,
}

/// Clone a guest to a new id; with `start`, start the copy once the clone task has ended OK.
#[allow(clippy::too_many_arguments)]
async fn clone<T: Serialize>(
    api: Api,
    kind: GuestType,
    node: Node,
    vmid: VmId,
    newid: VmId,
    name: Option<&DnsName>,
    target: Option<&Node>,
    start: bool,
    options: &T,
) -> ToolResult {
    if newid == vmid {
        return Err(ToolError::invalid("newid", "must differ from `vmid`: it is the id of the copy"));
    }
    let began = tokio::time::Instant::now();
    let named = name.map(|n| format!(" named {n}")).unwrap_or_default();
    let what = format!("{} {vmid} is being cloned to {newid}{named}", kind.subject());
    let out = api.start_task(CloneRequest { newid, options }, &node, what).await?;
    let out = out.with(None, "vmid", vmid).with(None, "newid", newid);
    if !start {
        return Ok(out);
    }
    let home = target.unwrap_or(&node);
    if out.data["task"]["status"] != "stopped" {
        let tool = if kind == GuestType::Qemu { "proxmox_start_vm" } else { "proxmox_start_lxc" };
        let line = format!(
            "▶️ Not started yet: the clone is not finished. Once proxmox_wait_task reports it OK, start it with {tool} (vmid {newid})."
        );
        return Ok(out.with(Some(line), "started", false));
    }
    // The clone exists now: its start is a task of its own, waited for in what is left of the call's wait.
    let path =
        ApiPath::lit("/nodes").join(home).join_lit(kind.as_str()).join(&newid).join_lit("status").join_lit("start");
    let started = match api.post::<Value>(&path, ()).await {
        Ok(Value::String(upid)) => {
            let left = api.task_wait().saturating_sub(began.elapsed());
            api.wait_task(upid, home, format!("{} {newid} is starting", kind.subject()), left).await
        }
        Ok(_) => Ok(ToolOutput::new(format!("✅ {} {newid} started", kind.subject()), json!({}))),
        Err(e) => Err(e),
    };
    Ok(match started {
        Ok(s) => {
            let mut out = out.with(Some(format!("\n{}", s.text)), "started", true);
            out.data["start"] = s.data;
            out
        }
        Err(e) => out.with(
            Some(format!("\n⚠️ The clone was made, but starting {} {newid} failed: {e}", kind.noun())),
            "started",
            false,
        ),
    })
}

/// Clone an LXC container to a new id.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/clone", method = POST, elevated, task, category = "VM Modify", title = "Clone LXC container")]
async fn proxmox_clone_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The id of the container to copy.
    vmid: VmId,
    /// The id of the copy (see proxmox_get_next_vmid).
    newid: VmId,
    /// Start the copy once the clone has ended OK (within `wait`).
    start: Option<bool>,
    #[flatten] options: CloneLxcOptions,
) -> ToolResult {
    let (name, target) = (options.hostname.as_ref(), options.target.as_ref());
    clone(api, GuestType::Lxc, node, vmid, newid, name, target, start == Some(true), &options).await
}

/// Clone a QEMU VM or template to a new id.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/clone", method = POST, elevated, task, category = "VM Modify")]
async fn proxmox_clone_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The id of the VM to copy.
    vmid: VmId,
    /// The id of the copy (see proxmox_get_next_vmid).
    newid: VmId,
    /// Start the copy once the clone has ended OK (within `wait`).
    start: Option<bool>,
    #[flatten] options: CloneVmOptions,
) -> ToolResult {
    let (name, target) = (options.name.as_ref(), options.target.as_ref());
    clone(api, GuestType::Qemu, node, vmid, newid, name, target, start == Some(true), &options).await
}

// --------------------------------------------------------------------------------- resize

/// The CPU and memory settings a resize changes (those a guest type lacks stay `None`).
#[derive(Default, Serialize)]
struct Resize {
    memory: Option<u64>,
    cores: Option<u64>,
    sockets: Option<u64>,
    swap: Option<u64>,
}

/// Change a guest's memory and CPU settings through its configuration.
async fn resize(api: Api, kind: GuestType, node: Node, vmid: VmId, change: Resize) -> ToolResult {
    if change.memory.is_none() && change.cores.is_none() && change.sockets.is_none() && change.swap.is_none() {
        let others = if kind == GuestType::Qemu { "cores or sockets" } else { "cores or swap" };
        return Err(ToolError::invalid("memory", format!("or {others} must be given: there is nothing to change")));
    }
    let _: Value = api.send(&change).await?;
    let mut text = format!("✅ {} {vmid} on {node} updated\n", kind.subject());
    for (label, value, unit) in [
        ("Memory", change.memory, " MiB"),
        ("Swap", change.swap, " MiB"),
        ("Cores", change.cores, ""),
        ("Sockets", change.sockets, ""),
    ] {
        if let Some(v) = value {
            text.push_str(&format!("\n• {label}: {v}{unit}"));
        }
    }
    text.push_str("\n\nA running guest gets what can be hot-plugged now; the rest applies at its next restart.");
    Ok(ToolOutput::new(
        text,
        json!({ "node": node, "vmid": vmid, "memory": change.memory, "cores": change.cores, "sockets": change.sockets, "swap": change.swap }),
    ))
}

/// Change a container's memory and swap (MiB) or cores.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/config", method = PUT, elevated, category = "VM Modify", title = "Resize LXC container")]
async fn proxmox_resize_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// New memory size in MiB (at least 16).
    #[schemars(range(min = 16))]
    memory: Option<u64>,
    /// New number of CPU cores (1 to 8192).
    #[schemars(range(min = 1, max = 8192))]
    cores: Option<u64>,
    /// New swap size in MiB.
    swap: Option<u64>,
) -> ToolResult {
    resize(api, GuestType::Lxc, node, vmid, Resize { memory, cores, swap, sockets: None }).await
}

/// Change a QEMU VM's memory (MiB) and CPUs. Memory, cores per socket or sockets.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, category = "VM Modify")]
async fn proxmox_resize_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// New memory size in MiB (at least 16).
    #[schemars(range(min = 16))]
    memory: Option<u64>,
    /// New number of cores per socket (at least 1).
    #[schemars(range(min = 1))]
    cores: Option<u64>,
    /// New number of CPU sockets (at least 1).
    #[schemars(range(min = 1))]
    sockets: Option<u64>,
) -> ToolResult {
    resize(api, GuestType::Qemu, node, vmid, Resize { memory, cores, sockets, swap: None }).await
}
