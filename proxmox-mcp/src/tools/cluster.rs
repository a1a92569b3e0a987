//! Node & Cluster: the nodes, their network and DNS, cluster health, the next free id.

use crate::format::{self, Block, f64_field, str_field, u64_field};
use crate::types::{Iface, Node};
use crate::{Api, ApiError, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_GET_NODES,
    &PROXMOX_GET_NODE_STATUS,
    &PROXMOX_GET_NODE_NETWORK,
    &PROXMOX_GET_NODE_DNS,
    &PROXMOX_GET_NETWORK_IFACE,
    &PROXMOX_GET_CLUSTER_STATUS,
    &PROXMOX_GET_NEXT_VMID,
];

/// One line per node: status, uptime, CPU, memory, load.
fn node_line(n: &Value) -> String {
    let name = str_field(n, "node").unwrap_or("?");
    let status = str_field(n, "status").unwrap_or("unknown");
    let mut line = format!("{} **{name}** ({status})", format::dot(status));
    if status == "online" {
        line.push_str(&format!(
            " — uptime {}, CPU {}, memory {}",
            u64_field(n, "uptime").map_or("N/A".into(), format::uptime),
            f64_field(n, "cpu").map_or("N/A".into(), format::percent),
            format::usage(u64_field(n, "mem"), u64_field(n, "maxmem")),
        ));
    }
    line
}

/// List cluster nodes with status and usage. Per node: status, uptime, CPU and memory use.
#[pve_tool(path = "/nodes", method = GET, category = "Node & Cluster")]
async fn proxmox_get_nodes(api: Api) -> ToolResult {
    let mut nodes: Vec<Value> = api.send(()).await?;
    nodes.sort_by(|a, b| str_field(a, "node").cmp(&str_field(b, "node")));
    let mut text = format!("🖥️ **Proxmox nodes** ({})\n", nodes.len());
    for n in &nodes {
        text.push_str(&format!("\n• {}", node_line(n)));
    }
    Ok(ToolOutput::new(text, nodes))
}

/// Show a node's uptime, load and usage. Also its root disk and versions.
#[pve_tool(path = "/nodes/<node>/status", method = GET, category = "Node & Cluster")]
async fn proxmox_get_node_status(
    api: Api,
    /// The node to inspect, e.g. pve1.
    node: Node,
) -> ToolResult {
    let s: Value = api.send(()).await?;
    let load =
        s.get("loadavg").and_then(Value::as_array).map(|l| l.iter().map(format::value).collect::<Vec<_>>().join(", "));
    let text = Block::new(format!("🖥️ **Node {node}**"))
        .opt("Uptime", u64_field(&s, "uptime").map(format::uptime))
        .opt("Load average", load)
        .opt("CPU", f64_field(&s, "cpu").map(format::percent))
        .opt("CPU model", s.pointer("/cpuinfo/model").map(format::value))
        .line(
            "Memory",
            format::usage(
                s.pointer("/memory/used").and_then(Value::as_u64),
                s.pointer("/memory/total").and_then(Value::as_u64),
            ),
        )
        .line(
            "Root disk",
            format::usage(
                s.pointer("/rootfs/used").and_then(Value::as_u64),
                s.pointer("/rootfs/total").and_then(Value::as_u64),
            ),
        )
        .opt("Version", str_field(&s, "pveversion"))
        .opt("Kernel", s.pointer("/current-kernel/release").map(format::value))
        .finish();
    Ok(ToolOutput::new(text, s))
}

/// Interface types Proxmox can filter by.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
pub enum IfaceType {
    #[serde(rename = "bridge")]
    Bridge,
    #[serde(rename = "bond")]
    Bond,
    #[serde(rename = "eth")]
    Eth,
    #[serde(rename = "alias")]
    Alias,
    #[serde(rename = "vlan")]
    Vlan,
    #[serde(rename = "fabric")]
    Fabric,
    OVSBridge,
    OVSBond,
    OVSPort,
    OVSIntPort,
    #[serde(rename = "vnet")]
    Vnet,
    #[serde(rename = "any_bridge")]
    AnyBridge,
    #[serde(rename = "any_local_bridge")]
    AnyLocalBridge,
    #[serde(rename = "include_sdn")]
    IncludeSdn,
}

/// List a node's network interfaces. Bridges, bonds, NICs and VLANs, with their addresses.
#[pve_tool(path = "/nodes/<node>/network", method = GET, category = "Node & Cluster")]
async fn proxmox_get_node_network(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// Only interfaces of this type.
    r#type: Option<IfaceType>,
) -> ToolResult {
    let mut ifaces: Vec<Value> = api.send(json!({ "type": r#type })).await?;
    ifaces.sort_by(|a, b| str_field(a, "iface").cmp(&str_field(b, "iface")));
    if ifaces.is_empty() {
        return Ok(ToolOutput::new(format!("No network interfaces found on {node}."), ifaces));
    }
    let mut text = format!("🌐 **Network interfaces on {node}** ({})\n", ifaces.len());
    for i in &ifaces {
        let active = format::flag(i, "active").unwrap_or(false);
        text.push_str(&format!(
            "\n• {} **{}** ({})",
            if active { "🟢" } else { "🔴" },
            str_field(i, "iface").unwrap_or("?"),
            str_field(i, "type").unwrap_or("?")
        ));
        if let Some(cidr) = str_field(i, "cidr").or(str_field(i, "address")) {
            text.push_str(&format!(" {cidr}"));
        }
        if let Some(gw) = str_field(i, "gateway") {
            text.push_str(&format!(", gateway {gw}"));
        }
        if let Some(ports) = str_field(i, "bridge_ports").filter(|p| !p.is_empty()) {
            text.push_str(&format!(", ports {ports}"));
        }
    }
    Ok(ToolOutput::new(text, ifaces))
}

/// Show a node's DNS settings. Its search domain and name servers.
#[pve_tool(path = "/nodes/<node>/dns", method = GET, category = "Node & Cluster", title = "Get node DNS")]
async fn proxmox_get_node_dns(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
) -> ToolResult {
    let dns: Value = api.send(()).await?;
    let text = Block::new(format!("🌐 **DNS of {node}**"))
        .line("Search domain", str_field(&dns, "search").unwrap_or("N/A"))
        .opt("DNS 1", str_field(&dns, "dns1"))
        .opt("DNS 2", str_field(&dns, "dns2"))
        .opt("DNS 3", str_field(&dns, "dns3"))
        .finish();
    Ok(ToolOutput::new(text, dns))
}

/// Show one network interface of a node.
#[pve_tool(path = "/nodes/<node>/network/<iface>", method = GET, category = "Node & Cluster")]
async fn proxmox_get_network_iface(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The interface, e.g. vmbr0, eno1, bond0, vmbr0.100.
    iface: Iface,
) -> ToolResult {
    let cfg: Value = api.send(()).await?;
    let mut block = Block::new(format!("🌐 **{iface} on {node}**"));
    for key in [
        "type",
        "method",
        "cidr",
        "address",
        "netmask",
        "gateway",
        "method6",
        "cidr6",
        "gateway6",
        "bridge_ports",
        "bridge_stp",
        "bridge_fd",
        "bridge_vlan_aware",
        "bond_mode",
        "slaves",
        "vlan-raw-device",
        "mtu",
        "autostart",
        "families",
        "priority",
        "comments",
    ] {
        if let Some(v) = cfg.get(key).filter(|v| !v.is_null()) {
            block = block.line(key, format::value(v));
        }
    }
    Ok(ToolOutput::new(block.finish(), cfg))
}

/// Show cluster health and quorum. Nodes online, total CPU and memory use.
#[pve_tool(method = GET, category = "Node & Cluster")]
async fn proxmox_get_cluster_status(api: Api) -> ToolResult {
    let mut nodes: Vec<Value> = api.get(&ApiPath::lit("/nodes"), ()).await?;
    let status: Vec<Value> = api.get(&ApiPath::lit("/cluster/status"), ()).await?;
    nodes.sort_by(|a, b| str_field(a, "node").cmp(&str_field(b, "node")));
    let online: Vec<&Value> = nodes.iter().filter(|n| str_field(n, "status") == Some("online")).collect();
    let cluster = status.iter().find(|e| str_field(e, "type") == Some("cluster"));
    let quorate = cluster.and_then(|c| format::flag(c, "quorate"));
    let healthy = online.len() == nodes.len() && quorate != Some(false);
    let (cpu_used, cpu_total) = online.iter().fold((0.0, 0.0), |(u, t), n| {
        let max = f64_field(n, "maxcpu").unwrap_or(0.0);
        (u + f64_field(n, "cpu").unwrap_or(0.0) * max, t + max)
    });
    let mem_used: u64 = online.iter().filter_map(|n| u64_field(n, "mem")).sum();
    let mem_total: u64 = online.iter().filter_map(|n| u64_field(n, "maxmem")).sum();
    let mut block = Block::new("🏢 **Cluster status**")
        .line("Health", if healthy { "🟢 Healthy" } else { "🟡 Warning" })
        .opt("Cluster", cluster.and_then(|c| str_field(c, "name")))
        .opt("Quorate", quorate.map(|q| if q { "yes" } else { "NO" }))
        .line("Nodes online", format!("{}/{}", online.len(), nodes.len()))
        .line(
            "CPU",
            if cpu_total > 0.0 {
                format!("{} of {cpu_total} cores", format::percent(cpu_used / cpu_total))
            } else {
                "N/A".into()
            },
        )
        .line("Memory", format::usage(Some(mem_used), Some(mem_total)))
        .raw("")
        .raw("Nodes:");
    for n in &nodes {
        block = block.raw(format!("• {}", node_line(n)));
    }
    let data = json!({
        "healthy": healthy,
        "quorate": quorate,
        "cluster": cluster,
        "nodes_online": online.len(),
        "nodes_total": nodes.len(),
        "nodes": nodes,
        "status": status,
    });
    Ok(ToolOutput::new(block.finish(), data))
}

/// Get the next free VM/container id.
#[pve_tool(path = "/cluster/nextid", method = GET, category = "Node & Cluster", title = "Get next VMID")]
async fn proxmox_get_next_vmid(api: Api) -> ToolResult {
    if api.scope().limits_vmids() {
        return next_vmid_in_scope(&api).await;
    }
    // Proxmox returns the id as a string in some versions, a number in others.
    let id: Value = api.send(()).await?;
    let id = format::value(&id);
    Ok(ToolOutput::new(format!("🆔 Next available VMID: {id}"), json!({ "vmid": id.parse::<u64>().ok() })))
}

/// The first free id inside the scope's ranges: the lowest not used by any guest of the cluster,
/// confirmed by Proxmox (`/cluster/nextid?vmid=N` refuses an id in use).
async fn next_vmid_in_scope(api: &Api) -> ToolResult {
    let scope = api.scope();
    // Every guest, not only those in scope: the ids in use are what matters.
    let mut used: BTreeSet<u64> = crate::guests::list_guests(api.client()).await?.iter().map(|g| g.vmid).collect();
    for _ in 0..8 {
        let Some(id) = scope.first_free_vmid(&used) else { break };
        match api.send::<Value>(json!({ "vmid": id })).await {
            Ok(_) => {
                let ranges = scope.vmids_spec().unwrap_or_default();
                return Ok(ToolOutput::new(
                    format!("🆔 Next available VMID: {id} (inside this server's scope, ids {ranges})"),
                    json!({ "vmid": id, "scope": scope.to_json() }),
                ));
            }
            // Taken meanwhile, or reserved: try the next one.
            Err(ToolError::Api(ApiError::BadRequest { .. })) => {
                used.insert(id);
            }
            Err(e) => return Err(e),
        }
    }
    let ranges = scope.vmids_spec().unwrap_or_default();
    Err(ToolError::Other(match scope.first_free_vmid(&used) {
        None => format!(
            "no free guest id is left inside this server's scope (ids {ranges}): the operator can widen PROXMOX_ALLOWED_VMIDS"
        ),
        Some(_) => format!("Proxmox refused every id tried inside this server's scope (ids {ranges}): try again"),
    }))
}
