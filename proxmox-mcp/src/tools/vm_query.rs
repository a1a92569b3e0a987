//! VM Query: find guests, read their status and configuration, list storage.

use crate::format::{self, Block, f64_field, str_field, u64_field};
use crate::page::{self, Page};
use crate::types::{GuestType, Node, PoolId, VmId};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub static TOOLS: &[&ToolDescriptor] =
    &[&PROXMOX_GET_VMS, &PROXMOX_GET_VM_STATUS, &PROXMOX_GET_VM_CONFIG, &PROXMOX_GET_LXC_CONFIG, &PROXMOX_GET_STORAGE];

/// Which guests to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuestFilter {
    /// QEMU virtual machines only.
    Qemu,
    /// LXC containers only.
    Lxc,
    /// Both.
    #[default]
    All,
}

/// The nodes to visit: the given one, or every node of the cluster, split into reachable ones
/// and ones reported offline (which are named in the result, not fatal to it).
pub(super) async fn target_nodes(api: &Api, node: Option<Node>) -> Result<(Vec<Node>, Vec<String>), ToolError> {
    if let Some(node) = node {
        return Ok((vec![node], Vec::new()));
    }
    let nodes: Vec<Value> = api.get(&ApiPath::lit("/nodes"), ()).await?;
    let mut online = Vec::new();
    let mut offline = Vec::new();
    for n in &nodes {
        let Some(name) = str_field(n, "node") else { continue };
        match (str_field(n, "status"), Node::new(name)) {
            (Some("online"), Ok(node)) => online.push(node),
            _ => offline.push(name.to_string()),
        }
    }
    online.sort();
    Ok((online, offline))
}

/// A guest's state, as the guest lists give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuestStatus {
    Running,
    Stopped,
}

/// List or find VMs and containers: status and usage, on one node or the whole cluster. Filters narrow it (name,
/// vmid, status, tag, pool, node, type); the result says how many matched of how many.
#[pve_tool(method = GET, category = "VM Query", title = "Get VMs and containers")]
async fn proxmox_get_vms(
    api: Api,
    /// Only this node (default: every node of the cluster).
    node: Option<Node>,
    /// Which guests: qemu, lxc or all.
    #[serde(default)]
    r#type: GuestFilter,
    /// Only guests of this name: exact, or a glob with `*` and `?` (e.g. web-*).
    #[schemars(length(min = 1, max = 128))]
    name: Option<String>,
    /// Only the guest with this id.
    vmid: Option<VmId>,
    /// Only running or only stopped guests.
    status: Option<GuestStatus>,
    /// Only guests with this tag.
    #[schemars(length(min = 1, max = 128))]
    tag: Option<String>,
    /// Only guests in this resource pool.
    pool: Option<PoolId>,
    #[flatten] page: Page,
) -> ToolResult {
    let (nodes, mut unreachable) = target_nodes(&api, node).await?;
    let kinds: &[GuestType] = match r#type {
        GuestFilter::Qemu => &[GuestType::Qemu],
        GuestFilter::Lxc => &[GuestType::Lxc],
        GuestFilter::All => &[GuestType::Qemu, GuestType::Lxc],
    };
    let mut guests: Vec<Value> = Vec::new();
    for node in &nodes {
        for kind in kinds {
            let path = ApiPath::lit("/nodes").join(node).join(kind);
            match api.get::<Vec<Value>>(&path, ()).await {
                // Entries that are not objects are not guests.
                Ok(list) => guests.extend(list.into_iter().filter_map(|mut g| {
                    let fields = g.as_object_mut()?;
                    fields.insert("node".into(), json!(node));
                    fields.insert("type".into(), json!(kind));
                    Some(g)
                })),
                // One node failing does not hide the others.
                Err(e) if nodes.len() > 1 => unreachable.push(format!("{node} ({e})")),
                Err(e) => return Err(e),
            }
        }
    }
    guests.sort_by_key(|g| u64_field(g, "vmid"));
    let total = guests.len();
    // Pool membership is in the cluster's resource list, not the node lists.
    let in_pool: Option<Vec<u64>> = match &pool {
        None => None,
        Some(pool) => {
            let resources: Vec<Value> = api.get(&ApiPath::lit("/cluster/resources"), json!({ "type": "vm" })).await?;
            Some(
                resources
                    .iter()
                    .filter(|r| str_field(r, "pool") == Some(pool.as_str()))
                    .filter_map(|r| u64_field(r, "vmid"))
                    .collect(),
            )
        }
    };
    let status = status.map(|s| if s == GuestStatus::Running { "running" } else { "stopped" });
    guests.retain(|g| {
        name.as_deref().is_none_or(|n| str_field(g, "name").is_some_and(|gn| format::glob_match(n, gn)))
            && vmid.is_none_or(|id| u64_field(g, "vmid") == Some(u64::from(id.get())))
            && status.is_none_or(|s| str_field(g, "status") == Some(s))
            && tag
                .as_deref()
                .is_none_or(|t| str_field(g, "tags").is_some_and(|tags| tags.split([';', ',']).any(|x| x == t)))
            && in_pool.as_ref().is_none_or(|ids| u64_field(g, "vmid").is_some_and(|id| ids.contains(&id)))
    });
    let filtered = name.is_some() || vmid.is_some() || status.is_some() || tag.is_some() || pool.is_some();
    let summary = page::counts(&guests, SUMMARY);
    let page = page.cut(guests);
    let matched = page.total;
    let mut text = if matched == 0 {
        if filtered {
            format!("No guest matches (0 of {total}).")
        } else {
            "No virtual machines or containers found.".to_string()
        }
    } else if filtered {
        format!("💻 **Guests** ({matched} of {total} match)")
    } else {
        format!("💻 **Guests** ({matched})")
    };
    if !page.is_whole() {
        text.push_str(&format!("\n{}", page::counts_line(&summary, SUMMARY)));
    }
    text.push_str(&page.lines(|g| {
        let status = str_field(g, "status").unwrap_or("unknown");
        let vmid = u64_field(g, "vmid").unwrap_or(0);
        let icon = if str_field(g, "type") == Some("lxc") { "📦" } else { "🖥️" };
        let name = str_field(g, "name").map_or_else(|| format!("VM-{vmid}"), str::to_string);
        let mut line = format!(
            "• {} {icon} **{name}** ({vmid}) on {} — {status}",
            format::dot(status),
            str_field(g, "node").unwrap_or("?")
        );
        if format::flag(g, "template") == Some(true) {
            line.push_str(", template");
        }
        if status == "running" {
            line.push_str(&format!(
                ", up {}, CPU {}, memory {}",
                u64_field(g, "uptime").map_or("N/A".into(), format::uptime),
                f64_field(g, "cpu").map_or("N/A".into(), format::percent),
                format::usage(u64_field(g, "mem"), u64_field(g, "maxmem")),
            ));
        }
        line
    }));
    if page.next_offset.is_some() {
        text.push_str(" Or narrow with filters.");
    }
    if !unreachable.is_empty() {
        text.push_str(&format!("\n\n⚠️ Not listed (node offline or unreachable): {}", unreachable.join(", ")));
    }
    let mut data = page.data("guests");
    data.insert("matched".into(), matched.into());
    data.insert("total".into(), total.into());
    data.insert("summary".into(), summary.into());
    data.insert("unreachable_nodes".into(), json!(unreachable));
    Ok(ToolOutput::new(text, data))
}

/// What a long guest list leads with: counts by these fields.
const SUMMARY: &[&str] = &["status", "node", "type"];

/// Show a guest's live status and usage. State, uptime, CPU, memory, disk and network I/O of a VM or container.
#[pve_tool(path = "/nodes/<node>/<type>/<vmid>/status/current", method = GET, category = "VM Query", title = "Get VM status")]
async fn proxmox_get_vm_status(
    api: Api,
    /// The node the guest is on.
    node: Node,
    /// The guest id.
    vmid: VmId,
    /// qemu for a VM, lxc for a container.
    #[serde(default)]
    r#type: GuestType,
) -> ToolResult {
    let s: Value = api.send(()).await?;
    let status = str_field(&s, "status").unwrap_or("unknown");
    let name = str_field(&s, "name").map_or_else(|| r#type.with_id(vmid), |n| format!("{n} ({vmid})"));
    let mut block = Block::new(format!("{} **{name}**", format::dot(status)))
        .line("Node", &node)
        .line("Status", status)
        .line("Type", r#type)
        .opt("QEMU status", str_field(&s, "qmpstatus").filter(|q| *q != status))
        .opt("Lock", str_field(&s, "lock"));
    if status == "running" {
        block = block
            .opt("Uptime", u64_field(&s, "uptime").map(format::uptime))
            .opt(
                "CPU",
                f64_field(&s, "cpu")
                    .map(|c| format!("{} of {} cores", format::percent(c), f64_field(&s, "cpus").unwrap_or(0.0))),
            )
            .line("Memory", format::usage(u64_field(&s, "mem"), u64_field(&s, "maxmem")))
            .opt(
                "Disk read/write",
                u64_field(&s, "diskread").map(|r| {
                    format!(
                        "{} / {}",
                        format::bytes(r as f64),
                        format::bytes(u64_field(&s, "diskwrite").unwrap_or(0) as f64)
                    )
                }),
            )
            .opt(
                "Network in/out",
                u64_field(&s, "netin").map(|i| {
                    format!(
                        "{} / {}",
                        format::bytes(i as f64),
                        format::bytes(u64_field(&s, "netout").unwrap_or(0) as f64)
                    )
                }),
            );
    }
    Ok(ToolOutput::new(block.finish(), s))
}

/// Keys of a config that match `prefix` + a number (`scsi0`, `net1`, `mp0`), sorted.
fn numbered<'a>(cfg: &'a Value, prefixes: &[&str]) -> Vec<(&'a str, &'a Value)> {
    let Some(obj) = cfg.as_object() else { return Vec::new() };
    let mut out: Vec<(&str, &Value)> = obj
        .iter()
        .filter(|(k, _)| {
            prefixes
                .iter()
                .any(|p| k.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())))
        })
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    out.sort_by_key(|(k, _)| {
        let split = k.find(|c: char| c.is_ascii_digit()).unwrap_or(k.len());
        (k[..split].to_string(), k[split..].parse::<u32>().unwrap_or(0))
    });
    out
}

/// Show a QEMU VM's configuration. CPU, memory, OS, disks, network, boot order.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = GET, category = "VM Query", title = "Get VM config")]
async fn proxmox_get_vm_config(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let cfg: Value = api.send(()).await?;
    let mut block = Block::new(format!("⚙️ **VM {vmid} configuration** (node {node})"))
        .opt("Name", str_field(&cfg, "name"))
        .opt("Memory", u64_field(&cfg, "memory").map(|m| format!("{m} MiB")))
        .line("Cores", u64_field(&cfg, "cores").unwrap_or(1))
        .line("Sockets", u64_field(&cfg, "sockets").unwrap_or(1))
        .opt("CPU type", str_field(&cfg, "cpu"))
        .opt("OS type", str_field(&cfg, "ostype"))
        .opt("Boot order", str_field(&cfg, "boot"))
        .opt("Guest agent", cfg.get("agent").map(format::value));
    for (key, value) in numbered(&cfg, &["scsi", "virtio", "sata", "ide", "efidisk", "tpmstate", "unused"]) {
        block = block.line(key, format::value(value));
    }
    for (key, value) in numbered(&cfg, &["net"]) {
        block = block.line(key, format::value(value));
    }
    Ok(ToolOutput::new(block.finish(), cfg))
}

/// Show an LXC container's configuration. Hostname, CPU, memory, root disk, mount points, network.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/config", method = GET, category = "VM Query", title = "Get LXC config")]
async fn proxmox_get_lxc_config(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
) -> ToolResult {
    let cfg: Value = api.send(()).await?;
    let mut block = Block::new(format!("⚙️ **Container {vmid} configuration** (node {node})"))
        .opt("Hostname", str_field(&cfg, "hostname"))
        .opt("Memory", u64_field(&cfg, "memory").map(|m| format!("{m} MiB")))
        .line("Swap", format!("{} MiB", u64_field(&cfg, "swap").unwrap_or(0)))
        .line("Cores", u64_field(&cfg, "cores").map_or("unlimited".to_string(), |c| c.to_string()))
        .opt("OS type", str_field(&cfg, "ostype"))
        .opt("Unprivileged", cfg.get("unprivileged").map(format::value))
        .opt("Root disk", str_field(&cfg, "rootfs"));
    for (key, value) in numbered(&cfg, &["mp", "net", "unused"]) {
        block = block.line(key, format::value(value));
    }
    Ok(ToolOutput::new(block.finish(), cfg))
}

/// List storages with usage. Type, content and usage, on one node or across the cluster: a shared storage once, with its nodes; a node-local one per node.
#[pve_tool(method = GET, category = "VM Query")]
async fn proxmox_get_storage(
    api: Api,
    /// Only this node (default: every node of the cluster).
    node: Option<Node>,
    #[flatten] page: Page,
) -> ToolResult {
    let (nodes, mut unreachable) = target_nodes(&api, node).await?;
    let mut storages: Vec<Value> = Vec::new();
    for node in &nodes {
        match api.get::<Vec<Value>>(&ApiPath::lit("/nodes").join(node).join_lit("storage"), ()).await {
            Ok(list) => {
                for s in list {
                    merge_storage(&mut storages, s, node.as_str());
                }
            }
            Err(e) if nodes.len() > 1 => unreachable.push(format!("{node} ({e})")),
            Err(e) => return Err(e),
        }
    }
    storages.sort_by(|a, b| {
        (str_field(a, "storage"), str_field(a, "node")).cmp(&(str_field(b, "storage"), str_field(b, "node")))
    });
    storages.sort_by(|a, b| str_field(a, "storage").cmp(&str_field(b, "storage")));
    let mut text = if storages.is_empty() {
        "No storage found.".to_string()
    } else {
        format!("💾 **Storage** ({})", storages.len())
    };
    let page = page.cut(storages);
    text.push_str(&page.lines(|s| {
        let enabled = storage_usable(s);
        format!(
            "• {} **{}** ({}) on {} — {}; {}{}",
            if enabled { "🟢" } else { "🔴" },
            str_field(s, "storage").unwrap_or("?"),
            str_field(s, "type").unwrap_or("?"),
            storage_place(s),
            str_field(s, "content").unwrap_or(""),
            format::usage(u64_field(s, "used"), u64_field(s, "total")),
            if format::flag(s, "shared") == Some(true) { ", shared" } else { "" },
        )
    }));
    if !unreachable.is_empty() {
        text.push_str(&format!("\n\n⚠️ Not listed (node offline or unreachable): {}", unreachable.join(", ")));
    }
    let mut data = page.data("storages");
    data.insert("unreachable_nodes".into(), json!(unreachable));
    Ok(ToolOutput::new(text, data))
}

/// Whether a node's storage entry is enabled and active (a missing flag counts as yes).
pub(super) fn storage_usable(s: &Value) -> bool {
    s.get("enabled").and_then(Value::as_u64) != Some(0) && s.get("active").and_then(Value::as_u64) != Some(0)
}

/// Adds one node's view of a storage to the cluster list. A shared storage is one storage seen
/// from many nodes: it appears once, with `nodes` naming them (and `node`, the first). A node-local
/// storage with the same id on two nodes is two storages: one entry per node.
fn merge_storage(storages: &mut Vec<Value>, mut s: Value, node: &str) {
    if !s.is_object() {
        // Not a storage.
        return;
    }
    let shared = format::flag(&s, "shared") == Some(true);
    if shared {
        let id = str_field(&s, "storage");
        let seen =
            storages.iter_mut().find(|x| format::flag(x, "shared") == Some(true) && str_field(x, "storage") == id);
        if let Some(seen) = seen {
            if let Some(nodes) = seen.get_mut("nodes").and_then(Value::as_array_mut) {
                nodes.push(json!(node));
            }
            return;
        }
        s["nodes"] = json!([node]);
    }
    s["node"] = json!(node);
    storages.push(s);
}

/// Where a storage is: its node, or for a shared storage, the nodes that see it.
fn storage_place(s: &Value) -> String {
    match s.get("nodes").and_then(Value::as_array) {
        Some(nodes) => nodes.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        None => str_field(s, "node").unwrap_or("?").to_string(),
    }
}
