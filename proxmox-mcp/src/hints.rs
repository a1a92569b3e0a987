//! What to do next, added to an error an agent would otherwise have to puzzle over: a guest
//! that is running when it should not be, a lock and the task that holds it, an offline node.
//! Each hint goes after the error's text and into `structuredContent.error.hint`.

use crate::client::{ApiError, Client, Method, Params};
use crate::path::ApiPath;
use crate::tool::{JsonObject, ToolDescriptor, ToolError};
use serde_json::Value;

/// A hint for `error`, returned by `tool` called with `args`, if there is one to give. May ask
/// Proxmox (the tasks of a locked guest, the nodes that are up); a failed question gives none.
pub async fn explain(tool: &ToolDescriptor, client: &Client, args: &JsonObject, error: &ToolError) -> Option<String> {
    let message = match error {
        ToolError::Api(e) => e.to_string(),
        ToolError::TaskFailed(f) => f.report.exitstatus.clone().unwrap_or_default(),
        _ => return None,
    };
    let node = args.get("node").and_then(Value::as_str);
    let vmid = args.get("vmid").and_then(Value::as_u64);
    if let ToolError::Api(ApiError::NodeUnreachable(_)) = error {
        return offline(client, node).await;
    }
    if message.contains("is running") && tool.method == Method::Delete {
        return Some(running_guest(tool));
    }
    // A snapshot name is taken: say where the taken ones are listed.
    if message.contains("snapshot name") && message.contains("already used") {
        let list = if tool.name.contains("lxc") { "proxmox_list_snapshots_lxc" } else { "proxmox_list_snapshots_vm" };
        return Some(format!(
            "Choose another snapname ({list} lists the taken ones), or delete the old snapshot first."
        ));
    }
    // Proxmox names its command-line flag; the agent has the tool's argument.
    if message.contains("without --online")
        && tool.input_schema().get("properties").is_some_and(|p| p.get("online").is_some())
    {
        return Some(format!("The guest is running: call {} again with online: true to migrate it live.", tool.name));
    }
    if let (Some(lock), Some(node), Some(vmid)) = (locked(&message), node, vmid) {
        return Some(lock_holder(client, node, vmid, &lock).await);
    }
    None
}

/// Destroying a running guest: stop it first, or the option that does it.
fn running_guest(tool: &ToolDescriptor) -> String {
    let schema = tool.input_schema();
    let has = |p: &str| schema.get("properties").and_then(|ps| ps.get(p)).is_some();
    let container = tool.path.is_some_and(|p| p.contains("/lxc/")) || tool.name.contains("lxc");
    let stop = if container {
        "proxmox_shutdown_lxc (or proxmox_stop_lxc)"
    } else {
        "proxmox_shutdown_vm (or proxmox_stop_vm)"
    };
    let mut hint = format!("Stop it first with {stop}, then call {} again", tool.name);
    if has("force") {
        hint.push_str(", or call it with force: true, which stops it and destroys it");
    }
    hint.push('.');
    if has("purge") {
        hint.push_str(" purge: true also removes it from backup jobs, replication and HA.");
    }
    hint
}

/// `VM is locked (clone)`, `CT 200 is locked (backup)` → `clone`, `backup`.
fn locked(message: &str) -> Option<String> {
    let rest = &message[message.find("is locked (")? + "is locked (".len()..];
    Some(rest.split(')').next()?.to_string())
}

/// Name the lock and, if a task of the guest is running, its UPID.
async fn lock_holder(client: &Client, node: &str, vmid: u64, lock: &str) -> String {
    let Ok(node_seg) = crate::types::Node::new(node) else { return format!("The guest is locked ({lock}).") };
    let path = ApiPath::lit("/nodes").join(&node_seg).join_lit("tasks");
    let params = Params(vec![("vmid".into(), vmid.to_string()), ("source".into(), "active".into())]);
    let running = client.request(Method::Get, &path, params).await.ok();
    let upid = running
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|tasks| tasks.iter().find_map(|t| t.get("upid").and_then(Value::as_str)))
        .map(str::to_string);
    match upid {
        Some(upid) => format!(
            "{vmid} is locked ({lock}) while task {upid} runs: proxmox_wait_task (upid {upid}) waits for it, then call again."
        ),
        None => format!(
            "{vmid} is locked ({lock}) and no task of it is running: a failed {lock} may have left the lock; `qm unlock {vmid}` (or `pct unlock {vmid}`) on {node} removes it."
        ),
    }
}

/// Which node is offline, and which are up.
async fn offline(client: &Client, node: Option<&str>) -> Option<String> {
    let nodes = client.request(Method::Get, &ApiPath::lit("/nodes"), Params::default()).await.ok()?;
    let up: Vec<&str> = nodes
        .as_array()?
        .iter()
        .filter(|n| n.get("status").and_then(Value::as_str) == Some("online"))
        .filter_map(|n| n.get("node").and_then(Value::as_str))
        .collect();
    let which = node.map_or_else(|| "The node".to_string(), |n| format!("Node {n}"));
    Some(if up.is_empty() {
        format!("{which} cannot be reached, and no node reports online.")
    } else {
        format!("{which} is offline or unreachable; up: {}.", up.join(", "))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn locks_are_read_from_proxmox_messages() {
        assert_eq!(super::locked("VM is locked (clone)").as_deref(), Some("clone"));
        assert_eq!(super::locked("CT 200 is locked (backup)").as_deref(), Some("backup"));
        assert_eq!(super::locked("no lock here"), None);
    }
}
