//! The built-in tools, one file per area of the Proxmox API. Each file lists its tools in a
//! `TOOLS` slice, an area of [`TOOLSETS`]; [`crate::Registry::builtin`] joins them.

use crate::ToolError;
use crate::registry::Toolset;
use serde::Serialize;
use serde_json::Value;

pub mod agent;
pub mod backups;
pub mod cluster;
pub mod cluster_jobs;
pub mod creation;
pub mod disks;
pub mod firewall;
pub mod guest_advanced;
pub mod guest_network;
pub mod ha;
pub mod lifecycle;
pub mod node_disks;
pub mod nodes;
pub mod snapshots;
pub mod storage;
pub mod vm_query;

/// The toolsets an operator names as `@name` in `PROXMOX_TOOLS` and `PROXMOX_EXCLUDE_TOOLS`:
/// one per area (each file's `TOOLS`; together, in this order, [`crate::Registry::builtin`]),
/// then one per tier.
pub static TOOLSETS: &[Toolset] = &[
    Toolset::area(
        "cluster",
        "nodes, their status, network and DNS; cluster status; the next free vmid",
        cluster::TOOLS,
    ),
    Toolset::area(
        "nodes",
        "node services, logs, tasks (follow, stop), downloadable templates, guests' network traffic",
        nodes::TOOLS,
    ),
    Toolset::area("node_disks", "a node's disks, SMART health, LVM and ZFS", node_disks::TOOLS),
    Toolset::area("vm_query", "guests: list, status, configuration; storages with usage", vm_query::TOOLS),
    Toolset::area(
        "lifecycle",
        "start, stop, shut down, reboot, pause, resume, delete, clone and resize guests",
        lifecycle::TOOLS,
    ),
    Toolset::area("snapshots", "guest snapshots: list, create, roll back, delete", snapshots::TOOLS),
    Toolset::area("backups", "guest backups: make, list, restore, delete", backups::TOOLS),
    Toolset::area("disks", "guest disks and mount points: add, resize, move, remove", disks::TOOLS),
    Toolset::area("guest_network", "guest network interfaces: add, update, remove", guest_network::TOOLS),
    Toolset::area("guest_advanced", "migration, templates, usage history (RRD)", guest_advanced::TOOLS),
    Toolset::area("agent", "the QEMU guest agent: what it reports, and running commands in the guest", agent::TOOLS),
    Toolset::area("creation", "OS templates; creating VMs and containers", creation::TOOLS),
    Toolset::area(
        "storage",
        "storage definitions and content, uploads, downloads, file restore, pruning",
        storage::TOOLS,
    ),
    Toolset::area("ha", "high availability: resources, groups, rules, status", ha::TOOLS),
    Toolset::area(
        "firewall",
        "firewall rules and security groups of the cluster and of guests; firewall options",
        firewall::TOOLS,
    ),
    Toolset::area("cluster_jobs", "cluster backup and replication jobs, cluster options", cluster_jobs::TOOLS),
    Toolset::tier("read", "every basic tool, of every area: lists, gets, status", false),
    Toolset::tier("elevated", "every elevated tool, of every area: what changes the cluster", true),
];

/// The toolset of this name (without the `@`).
pub fn toolset(name: &str) -> Option<&'static Toolset> {
    TOOLSETS.iter().find(|t| t.name == name)
}

/// The tools reference in Markdown: one table per category, with tier and request. The README's
/// reference is this text (a test keeps them equal).
pub fn reference(registry: &crate::Registry) -> String {
    let mut out = String::new();
    let mut categories: Vec<&str> = Vec::new();
    for t in registry.iter() {
        if !categories.contains(&t.category) {
            categories.push(t.category);
        }
    }
    out.push_str(&format!(
        "{} tools. 🔒 = elevated: listed and run only with `PROXMOX_ALLOW_ELEVATED=true`.\n",
        registry.len()
    ));
    for category in categories {
        let tools: Vec<_> = registry.iter().filter(|t| t.category == category).collect();
        out.push_str(&format!(
            "\n### {category} ({})\n\n| Tool | Tier | Request | Description |\n|---|---|---|---|\n",
            tools.len()
        ));
        for t in tools {
            let request = match t.path {
                Some(p) => format!("`{} {p}`", t.method),
                None => "several".to_string(),
            };
            let tier = if t.elevated { "🔒 elevated" } else { "basic" };
            let waits = if t.task { format!(" {}", crate::listing::TASK_NOTE) } else { String::new() };
            out.push_str(&format!(
                "| `{}` | {tier} | {request} | {}{waits} |\n",
                t.name,
                t.description.replace('\n', " ")
            ));
        }
    }
    out
}

/// A parameter struct as the JSON object of a request, for fields to be added before sending.
pub(crate) fn to_params(value: &impl Serialize) -> Result<Value, ToolError> {
    serde_json::to_value(value).map_err(|e| ToolError::Other(format!("cannot encode parameters: {e}")))
}

/// The names of the parameters a request sets (non-null), but `skip`: for result texts.
pub(crate) fn set_keys(params: &Value, skip: &[&str]) -> Vec<String> {
    params
        .as_object()
        .map(|o| {
            o.iter().filter(|(k, v)| !v.is_null() && !skip.contains(&k.as_str())).map(|(k, _)| k.clone()).collect()
        })
        .unwrap_or_default()
}
