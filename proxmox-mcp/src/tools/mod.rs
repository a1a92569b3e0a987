//! The built-in tools, one file per area of the Proxmox API. Each file lists its tools in a
//! `TOOLS` slice; [`GROUPS`] joins them for [`crate::Registry::builtin`].

use crate::{ToolDescriptor, ToolError};
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

/// Every built-in tool, by area.
pub static GROUPS: &[&[&ToolDescriptor]] = &[
    cluster::TOOLS,
    nodes::TOOLS,
    node_disks::TOOLS,
    vm_query::TOOLS,
    lifecycle::TOOLS,
    snapshots::TOOLS,
    backups::TOOLS,
    disks::TOOLS,
    guest_network::TOOLS,
    guest_advanced::TOOLS,
    agent::TOOLS,
    creation::TOOLS,
    storage::TOOLS,
    ha::TOOLS,
    firewall::TOOLS,
    cluster_jobs::TOOLS,
];

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
    out.push_str(&format!("{} tools. 🔒 = elevated: refused unless `PROXMOX_ALLOW_ELEVATED=true`.\n", registry.len()));
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
