//! Node Disk Query: a node's physical disks, their SMART health, LVM volume groups, ZFS pools.

use crate::format::{self, Block, f64_field, str_field, u64_field};
use crate::types::{InvalidValue, Node, shown, string_id};
use crate::{Api, ToolDescriptor, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] =
    &[&PROXMOX_GET_NODE_DISKS, &PROXMOX_GET_DISK_SMART, &PROXMOX_GET_NODE_LVM, &PROXMOX_GET_NODE_ZFS];

string_id! {
    /// A block device path, as Proxmox's SMART query takes it, e.g. `/dev/sda` or `/dev/nvme0n1`.
    DiskPath, kind = "disk device path", pattern = "^/dev/[a-zA-Z0-9/]+$", max = 128,
    rule = "/dev/ followed by letters, digits and `/`, e.g. /dev/sda"
}

/// Which disks to list.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiskFilter {
    Unused,
    JournalDisks,
}

/// 🟢 passed, 🔴 failed, 🟡 unknown.
fn health_dot(health: &str) -> &'static str {
    match health.to_ascii_uppercase().as_str() {
        "PASSED" | "OK" | "ONLINE" => "🟢",
        "UNKNOWN" | "" => "🟡",
        _ => "🔴",
    }
}

/// List a node's physical disks. Size, model, serial, what uses them, SMART health.
#[pve_tool(path = "/nodes/<node>/disks/list", method = GET, category = "Node Disk Query")]
async fn proxmox_get_node_disks(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// Also list partitions.
    include_partitions: Option<bool>,
    /// Skip the SMART health checks (faster).
    skip_smart: Option<bool>,
    /// Only unused disks, or only disks usable as a Ceph journal (journal_disks).
    r#type: Option<DiskFilter>,
) -> ToolResult {
    let params = json!({ "include-partitions": include_partitions, "skipsmart": skip_smart, "type": r#type });
    let mut disks: Vec<Value> = api.send(params).await?;
    disks.sort_by(|a, b| str_field(a, "devpath").cmp(&str_field(b, "devpath")));
    if disks.is_empty() {
        return Ok(ToolOutput::new(format!("No disks found on {node}."), disks));
    }
    let mut text = format!("💽 **Disks on {node}** ({})\n", disks.len());
    for d in &disks {
        let health = str_field(d, "health");
        let mut line = format!(
            "\n• {} **{}** — {}",
            health.map_or("⚪", health_dot),
            str_field(d, "devpath").unwrap_or("?"),
            u64_field(d, "size").map_or("N/A".into(), |s| format::bytes(s as f64))
        );
        if let Some(kind) = str_field(d, "type") {
            line.push_str(&format!(" {kind}"));
        }
        let model: Vec<&str> = ["vendor", "model"]
            .iter()
            .filter_map(|k| str_field(d, k).map(str::trim))
            .filter(|s| !s.is_empty())
            .collect();
        if !model.is_empty() {
            line.push_str(&format!(", {}", model.join(" ")));
        }
        if let Some(serial) = str_field(d, "serial").filter(|s| !s.is_empty()) {
            line.push_str(&format!(", serial {serial}"));
        }
        match str_field(d, "used").filter(|u| !u.is_empty()) {
            Some(used) => line.push_str(&format!(", used by {used}")),
            None => line.push_str(", unused"),
        }
        if let Some(h) = health {
            line.push_str(&format!(", health {h}"));
        }
        text.push_str(&line);
    }
    Ok(ToolOutput::new(text, disks))
}

/// Read a disk's SMART data. Overall health and its attributes.
#[pve_tool(path = "/nodes/<node>/disks/smart", method = GET, category = "Node Disk Query", title = "Get disk SMART data")]
async fn proxmox_get_disk_smart(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The disk, e.g. /dev/sda or /dev/nvme0n1.
    disk: DiskPath,
    /// Only the overall health verdict.
    health_only: Option<bool>,
) -> ToolResult {
    let smart: Value = api.send(json!({ "disk": disk, "healthonly": health_only })).await?;
    let health = str_field(&smart, "health").unwrap_or("UNKNOWN");
    let mut block = Block::new(format!("💽 **SMART of {disk} on {node}**"))
        .line("Health", format!("{} {health}", health_dot(health)))
        .opt("Type", str_field(&smart, "type"));
    let attributes = smart.get("attributes").and_then(Value::as_array).filter(|a| !a.is_empty());
    if let Some(attributes) = attributes {
        block =
            block.raw("").raw("| ID | Attribute | Value | Worst | Threshold | Raw |").raw("|---|---|---|---|---|---|");
        for a in attributes {
            let cell = |k: &str| a.get(k).map_or(String::new(), format::value);
            block = block.raw(format!(
                "| {} | {} | {} | {} | {} | {} |",
                cell("id"),
                cell("name"),
                cell("value"),
                cell("worst"),
                cell("threshold"),
                cell("raw")
            ));
        }
    }
    if let Some(text) = str_field(&smart, "text").filter(|t| !t.trim().is_empty()) {
        block = block.raw("").raw(format!("```\n{}\n```", text.trim_end()));
    }
    Ok(ToolOutput::new(block.finish(), smart))
}

/// List a node's LVM volume groups. Size, free space and their physical volumes.
#[pve_tool(path = "/nodes/<node>/disks/lvm", method = GET, category = "Node Disk Query", title = "Get node LVM")]
async fn proxmox_get_node_lvm(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
) -> ToolResult {
    let lvm: Value = api.send(()).await?;
    let groups: &[Value] = lvm.get("children").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    if groups.is_empty() {
        return Ok(ToolOutput::new(format!("No LVM volume groups on {node}."), lvm));
    }
    let mut text = format!("🗄️ **LVM volume groups on {node}** ({})\n", groups.len());
    for vg in groups {
        let (size, free) = (u64_field(vg, "size"), u64_field(vg, "free"));
        text.push_str(&format!(
            "\n• **{}** — used {}, free {}",
            str_field(vg, "name").unwrap_or("?"),
            format::usage(size.zip(free).map(|(s, f)| s.saturating_sub(f)), size),
            free.map_or("N/A".into(), |f| format::bytes(f as f64))
        ));
        for pv in vg.get("children").and_then(Value::as_array).into_iter().flatten() {
            text.push_str(&format!(
                "\n  ◦ {} — {}",
                str_field(pv, "name").unwrap_or("?"),
                u64_field(pv, "size").map_or("N/A".into(), |s| format::bytes(s as f64))
            ));
            if let Some(f) = u64_field(pv, "free") {
                text.push_str(&format!(", free {}", format::bytes(f as f64)));
            }
        }
    }
    Ok(ToolOutput::new(text, lvm))
}

/// List a node's ZFS pools. Size, allocation, free space, fragmentation, dedup ratio, health.
#[pve_tool(path = "/nodes/<node>/disks/zfs", method = GET, category = "Node Disk Query", title = "Get node ZFS pools")]
async fn proxmox_get_node_zfs(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
) -> ToolResult {
    let mut pools: Vec<Value> = api.send(()).await?;
    pools.sort_by(|a, b| str_field(a, "name").cmp(&str_field(b, "name")));
    if pools.is_empty() {
        return Ok(ToolOutput::new(format!("No ZFS pools found on {node}."), pools));
    }
    let mut text = format!("🗄️ **ZFS pools on {node}** ({})\n", pools.len());
    for p in &pools {
        let health = str_field(p, "health").unwrap_or("UNKNOWN");
        let mut line = format!(
            "\n• {} **{}** ({health}) — allocated {}, free {}",
            health_dot(health),
            str_field(p, "name").unwrap_or("?"),
            format::usage(u64_field(p, "alloc"), u64_field(p, "size")),
            u64_field(p, "free").map_or("N/A".into(), |f| format::bytes(f as f64))
        );
        if let Some(frag) = u64_field(p, "frag") {
            line.push_str(&format!(", fragmentation {frag}%"));
        }
        if let Some(dedup) = f64_field(p, "dedup") {
            line.push_str(&format!(", dedup {dedup:.2}x"));
        }
        text.push_str(&line);
    }
    Ok(ToolOutput::new(text, pools))
}
