//! Snapshots: take, list, roll back to and delete snapshots of VMs and containers. The VM and
//! container variants share one implementation per action.

use crate::format::{self, str_field, u64_field};
use crate::page::Page;
use crate::types::{GuestType, Node, SnapshotName, VmId};
use crate::{Api, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use serde_json::{Value, json};

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_CREATE_SNAPSHOT_LXC,
    &PROXMOX_CREATE_SNAPSHOT_VM,
    &PROXMOX_LIST_SNAPSHOTS_LXC,
    &PROXMOX_LIST_SNAPSHOTS_VM,
    &PROXMOX_ROLLBACK_SNAPSHOT_LXC,
    &PROXMOX_ROLLBACK_SNAPSHOT_VM,
    &PROXMOX_DELETE_SNAPSHOT_LXC,
    &PROXMOX_DELETE_SNAPSHOT_VM,
];

/// "VM 100" or "Container 200".
fn guest(kind: GuestType, vmid: VmId) -> String {
    format!("{} {vmid}", kind.subject())
}

/// Take a snapshot: the tool's own request with the snapshot's name, description and (VMs) RAM flag.
async fn create(
    api: Api,
    kind: GuestType,
    node: Node,
    vmid: VmId,
    snapname: SnapshotName,
    description: Option<String>,
    vmstate: Option<bool>,
) -> ToolResult {
    // Names Proxmox keeps for itself: `current` (the present state), and per type one more.
    let reserved = match kind {
        GuestType::Qemu => ["current", "pending"],
        GuestType::Lxc => ["current", "vzdump"],
    };
    if reserved.iter().any(|r| snapname.as_str().eq_ignore_ascii_case(r)) {
        return Err(ToolError::invalid(
            "snapname",
            format!("\"{snapname}\" is a name Proxmox reserves; choose another"),
        ));
    }
    let params = json!({ "snapname": snapname, "description": description, "vmstate": vmstate });
    let ram = if vmstate == Some(true) { " (with RAM)" } else { "" };
    let out = api
        .start_task(params, &node, format!("Snapshot '{snapname}' of {}{ram} is being taken", guest(kind, vmid)))
        .await?;
    let out = out.with(description.as_ref().map(|d| format!("• Description: {d}")), "vmid", vmid);
    Ok(out.with(None, "snapname", snapname))
}

/// Snapshot an LXC container.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/snapshot", method = POST, elevated, task, category = "Snapshots", title = "Create LXC snapshot")]
async fn proxmox_create_snapshot_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// Name of the new snapshot, e.g. before-upgrade.
    snapname: SnapshotName,
    /// A note kept with the snapshot.
    description: Option<String>,
) -> ToolResult {
    create(api, GuestType::Lxc, node, vmid, snapname, description, None).await
}

/// Snapshot a QEMU VM. Optionally with its RAM.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/snapshot", method = POST, elevated, task, category = "Snapshots", title = "Create VM snapshot")]
async fn proxmox_create_snapshot_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// Name of the new snapshot, e.g. before-upgrade.
    snapname: SnapshotName,
    /// A note kept with the snapshot.
    description: Option<String>,
    /// Also save the running VM's memory, so a rollback resumes it where it was.
    vmstate: Option<bool>,
) -> ToolResult {
    create(api, GuestType::Qemu, node, vmid, snapname, description, vmstate).await
}

/// List a guest's snapshots, newest first, without Proxmox's `current` pseudo-entry (whose parent
/// is the snapshot the present state grew from).
async fn list(api: Api, kind: GuestType, node: Node, vmid: VmId, page: Page) -> ToolResult {
    let entries: Vec<Value> = api.send(()).await?;
    let current = entries.iter().find(|s| str_field(s, "name") == Some("current"));
    let based_on = current.and_then(|c| str_field(c, "parent")).map(str::to_string);
    let mut snaps: Vec<Value> = entries.iter().filter(|s| str_field(s, "name") != Some("current")).cloned().collect();
    snaps.sort_by_key(|s| std::cmp::Reverse(u64_field(s, "snaptime").unwrap_or(0)));
    let mut text = if snaps.is_empty() {
        format!("No snapshots of {} on {node}.", guest(kind, vmid))
    } else {
        format!("📸 **Snapshots of {} on {node}** ({})", guest(kind, vmid), snaps.len())
    };
    let page = page.cut(snaps);
    text.push_str(&page.lines(|s| {
        let name = str_field(s, "name").unwrap_or("?");
        let mut line = format!("• **{name}**");
        if let Some(t) = u64_field(s, "snaptime").filter(|t| *t > 0) {
            line.push_str(&format!(" — {}", format::timestamp(t)));
        }
        if let Some(d) = str_field(s, "description").map(str::trim).filter(|d| !d.is_empty()) {
            line.push_str(&format!(" — {d}"));
        }
        if let Some(p) = str_field(s, "parent") {
            line.push_str(&format!(" (parent: {p})"));
        }
        if s.get("vmstate").is_some_and(|v| v.as_bool() == Some(true) || v.as_u64() == Some(1)) {
            line.push_str(", with RAM");
        }
        if let Some(state) = str_field(s, "snapstate") {
            line.push_str(&format!(", ⚠️ incomplete ({state})"));
        }
        line
    }));
    if let Some(parent) = &based_on {
        text.push_str(&format!("\n\nThe current state is based on '{parent}'."));
    }
    let mut data = page.data("snapshots");
    data.insert("current_parent".into(), json!(based_on));
    Ok(ToolOutput::new(text, data))
}

/// List an LXC container's snapshots. Newest first.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/snapshot", method = GET, category = "Snapshots", title = "List LXC snapshots")]
async fn proxmox_list_snapshots_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    #[flatten] page: Page,
) -> ToolResult {
    list(api, GuestType::Lxc, node, vmid, page).await
}

/// List a QEMU VM's snapshots. Newest first.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/snapshot", method = GET, category = "Snapshots", title = "List VM snapshots")]
async fn proxmox_list_snapshots_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] page: Page,
) -> ToolResult {
    list(api, GuestType::Qemu, node, vmid, page).await
}

/// Roll a guest back to a snapshot: its present state is lost.
async fn rollback(
    api: Api,
    kind: GuestType,
    node: Node,
    vmid: VmId,
    snapname: SnapshotName,
    start: Option<bool>,
) -> ToolResult {
    let what = format!("{} is being rolled back to snapshot '{snapname}'", guest(kind, vmid));
    let out = api.start_task(json!({ "start": start }), &node, what).await?;
    let mut warning = "⚠️ Everything since the snapshot (disk changes, configuration) is discarded.".to_string();
    if start != Some(true) {
        warning.push_str(
            " Unless the snapshot holds RAM, the guest is now stopped: start it, or roll back with start=true.",
        );
    }
    let out = out.with(Some(format!("\n{warning}")), "vmid", vmid);
    Ok(out.with(None, "snapname", snapname))
}

/// Roll an LXC container back to a snapshot. Its current state is discarded.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/snapshot/<snapname>/rollback", method = POST, elevated, task, destructive = true, category = "Snapshots", title = "Rollback LXC snapshot")]
async fn proxmox_rollback_snapshot_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The snapshot to return to.
    snapname: SnapshotName,
    /// Start the container after the rollback.
    start: Option<bool>,
) -> ToolResult {
    rollback(api, GuestType::Lxc, node, vmid, snapname, start).await
}

/// Roll a QEMU VM back to a snapshot. Its current state is discarded.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/snapshot/<snapname>/rollback", method = POST, elevated, task, destructive = true, category = "Snapshots", title = "Rollback VM snapshot")]
async fn proxmox_rollback_snapshot_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The snapshot to return to.
    snapname: SnapshotName,
    /// Start the VM after the rollback (a snapshot with RAM starts it anyway).
    start: Option<bool>,
) -> ToolResult {
    rollback(api, GuestType::Qemu, node, vmid, snapname, start).await
}

/// Delete a snapshot (the guest's present state is kept).
async fn delete(
    api: Api,
    kind: GuestType,
    node: Node,
    vmid: VmId,
    snapname: SnapshotName,
    force: Option<bool>,
) -> ToolResult {
    let what = format!("Snapshot '{snapname}' of {} is being deleted", guest(kind, vmid));
    let out = api.start_task(json!({ "force": force }), &node, what).await?;
    Ok(out.with(None, "vmid", vmid).with(None, "snapname", snapname))
}

/// Delete an LXC container's snapshot.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/snapshot/<snapname>", method = DELETE, elevated, task, category = "Snapshots", title = "Delete LXC snapshot")]
async fn proxmox_delete_snapshot_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The snapshot to delete.
    snapname: SnapshotName,
    /// Remove it from the configuration even if removing the disk snapshots fails.
    force: Option<bool>,
) -> ToolResult {
    delete(api, GuestType::Lxc, node, vmid, snapname, force).await
}

/// Delete a QEMU VM's snapshot.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/snapshot/<snapname>", method = DELETE, elevated, task, category = "Snapshots", title = "Delete VM snapshot")]
async fn proxmox_delete_snapshot_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The snapshot to delete.
    snapname: SnapshotName,
    /// Remove it from the configuration even if removing the disk snapshots fails.
    force: Option<bool>,
) -> ToolResult {
    delete(api, GuestType::Qemu, node, vmid, snapname, force).await
}
