//! VM/LXC Network: add, change and remove the virtual NICs of VMs and containers.
//!
//! A NIC's value (`virtio=MAC,bridge=vmbr0,tag=20`) is built from typed fields, never taken as
//! free text. Changing a NIC reads the configuration, merges the given fields into the current
//! value (keeping the MAC address and every option not mentioned) and writes it back with the
//! configuration digest, so a concurrent change is refused rather than lost.

use crate::tools::disks::{Ranged, delete_key, flag, keys_where, own_config, put_key, require_free, require_set};
use crate::types::{GuestType, Iface, InvalidValue, Node, VmId, shown, string_id};
use crate::{Api, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_ADD_NETWORK_VM,
    &PROXMOX_ADD_NETWORK_LXC,
    &PROXMOX_UPDATE_NETWORK_VM,
    &PROXMOX_UPDATE_NETWORK_LXC,
    &PROXMOX_REMOVE_NETWORK_VM,
    &PROXMOX_REMOVE_NETWORK_LXC,
];

// ------------------------------------------------------------------------------------ types

string_id! {
    /// A NIC slot of a VM or container: net0 to net31.
    NetKey, kind = "network device", pattern = "^net([0-9]|[12][0-9]|3[01])$", max = 5,
    rule = "net0 to net31, e.g. net1"
}

string_id! {
    /// A unicast MAC address, e.g. `BC:24:11:12:34:56`.
    MacAddr, kind = "MAC address", pattern = "^[0-9A-Fa-f][02468aceACE](:[0-9A-Fa-f]{2}){5}$", max = 17,
    rule = "six hex pairs separated by `:`, unicast (second digit even), e.g. BC:24:11:12:34:56"
}

/// `address/prefix` with a prefix from 8 to `max`, as Proxmox's CIDR formats require (the
/// pattern has already said that the prefix is digits).
fn is_cidr<A: FromStr>(s: &str, max: u8) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else { return false };
    addr.parse::<A>().is_ok() && prefix.parse::<u8>().is_ok_and(|p| (8..=max).contains(&p))
}

string_id! {
    /// The IPv4 setting of a container NIC: `dhcp`, `manual` or `address/prefix`.
    Ipv4Config, kind = "IPv4 setting", pattern = "^(dhcp|manual|[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2})$", max = 18,
    rule = "dhcp, manual, or an address with prefix length such as 192.0.2.10/24",
    beyond = |s| s == "dhcp" || s == "manual" || is_cidr::<Ipv4Addr>(s, 32)
}

string_id! {
    /// The IPv6 setting of a container NIC: `auto` (SLAAC), `dhcp`, `manual` or `address/prefix`.
    Ipv6Config, kind = "IPv6 setting", pattern = "^(auto|dhcp|manual|[0-9A-Fa-f:.]+/[0-9]{1,3})$", max = 50,
    rule = "auto, dhcp, manual, or an address with prefix length such as 2001:db8::10/64",
    beyond = |s| s == "auto" || s == "dhcp" || s == "manual" || is_cidr::<Ipv6Addr>(s, 128)
}

string_id! {
    /// A network interface name inside a container, e.g. `eth0`.
    GuestIfName, kind = "interface name", pattern = "^[A-Za-z0-9_.-]+$", max = 15,
    rule = "letters, digits, `_`, `.` and `-`, at most 15 characters, e.g. eth0",
    beyond = |s| s != "." && s != ".."
}

/// A rate limit in MB/s (decimals allowed), 0 or more.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Rate(f64);

impl Rate {
    pub const MAX: f64 = 1_000_000.0;
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        match v.as_f64().or_else(|| v.as_str()?.parse::<f64>().ok()) {
            Some(r) if r.is_finite() && (0.0..=Rate::MAX).contains(&r) => Ok(Rate(r)),
            _ => Err(serde::de::Error::custom(format!(
                "must be a number of MB/s from 0 to 1000000, not {}",
                shown(&v.to_string())
            ))),
        }
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "minimum": 0, "maximum": Rate::MAX, "description": "Rate limit in MB/s." })
    }
}

/// Emulated NIC models of a QEMU VM: virtio is paravirtualised and fastest (Windows needs the
/// virtio drivers); e1000/e1000e work everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NicModel {
    #[serde(rename = "virtio")]
    Virtio,
    #[serde(rename = "e1000")]
    E1000,
    #[serde(rename = "e1000e")]
    E1000e,
    #[serde(rename = "e1000-82540em")]
    E1000_82540em,
    #[serde(rename = "e1000-82544gc")]
    E1000_82544gc,
    #[serde(rename = "e1000-82545em")]
    E1000_82545em,
    #[serde(rename = "i82551")]
    I82551,
    #[serde(rename = "i82557b")]
    I82557b,
    #[serde(rename = "i82559er")]
    I82559er,
    #[serde(rename = "ne2k_isa")]
    Ne2kIsa,
    #[serde(rename = "ne2k_pci")]
    Ne2kPci,
    #[serde(rename = "pcnet")]
    Pcnet,
    #[serde(rename = "rtl8139")]
    Rtl8139,
    #[serde(rename = "vmxnet3")]
    Vmxnet3,
}

/// Every model name, as Proxmox writes it.
const NIC_MODELS: [&str; 14] = [
    "virtio",
    "e1000",
    "e1000e",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "vmxnet3",
];

impl NicModel {
    pub fn as_str(self) -> &'static str {
        match self {
            NicModel::Virtio => "virtio",
            NicModel::E1000 => "e1000",
            NicModel::E1000e => "e1000e",
            NicModel::E1000_82540em => "e1000-82540em",
            NicModel::E1000_82544gc => "e1000-82544gc",
            NicModel::E1000_82545em => "e1000-82545em",
            NicModel::I82551 => "i82551",
            NicModel::I82557b => "i82557b",
            NicModel::I82559er => "i82559er",
            NicModel::Ne2kIsa => "ne2k_isa",
            NicModel::Ne2kPci => "ne2k_pci",
            NicModel::Pcnet => "pcnet",
            NicModel::Rtl8139 => "rtl8139",
            NicModel::Vmxnet3 => "vmxnet3",
        }
    }
}

/// The bridge a new NIC goes on when none is given.
pub(crate) const DEFAULT_BRIDGE: &str = "vmbr0";

/// Settings of a VM NIC. Left out: unchanged (or Proxmox's default for a new NIC).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VmNicOptions {
    /// The bridge to attach to, e.g. vmbr0 or an SDN VNet (a new NIC: vmbr0 if left out).
    pub bridge: Option<Iface>,
    /// NIC model: virtio (default for a new NIC), e1000, e1000e, rtl8139, vmxnet3, ...
    pub model: Option<NicModel>,
    /// A fixed MAC address, e.g. BC:24:11:12:34:56 (a new NIC: Proxmox generates one).
    pub macaddr: Option<MacAddr>,
    /// VLAN tag, 1 to 4094; 0 removes the tag.
    #[schemars(extend("x-aliases" = ["tag"]))]
    pub vlan: Option<Ranged<0, 4094>>,
    /// Filter the NIC's traffic with the Proxmox firewall.
    pub firewall: Option<bool>,
    /// Rate limit in MB/s.
    pub rate: Option<Rate>,
    /// MTU, 1 to 65520 (1 = the bridge's MTU; virtio only).
    #[schemars(extend("x-rare" = true))]
    pub mtu: Option<Ranged<1, 65520>>,
    /// Disconnect the NIC, as if its cable were pulled.
    #[schemars(extend("x-rare" = true))]
    pub link_down: Option<bool>,
}

impl VmNicOptions {
    fn is_empty(&self) -> bool {
        self.bridge.is_none()
            && self.model.is_none()
            && self.macaddr.is_none()
            && self.vlan.is_none()
            && self.firewall.is_none()
            && self.rate.is_none()
            && self.mtu.is_none()
            && self.link_down.is_none()
    }

    /// The NIC value: the current one (empty for a new NIC, which goes on vmbr0 unless a bridge
    /// is given) with these settings applied. The
    /// model and MAC come first as Proxmox writes them (`virtio=BC:24:11:..`); other options the
    /// current value has are kept in their order.
    pub(crate) fn apply(&self, current: &str) -> String {
        let new = current.is_empty();
        let mut props = Props::parse(current);
        let (mut model, mut mac) = (None, None);
        props.0.retain(|(k, v)| {
            if k.is_empty() || k == "model" {
                model = Some(v.clone());
            } else if NIC_MODELS.contains(&k.as_str()) {
                model = Some(k.clone());
                mac = Some(v.clone()).filter(|m| !m.is_empty());
            } else if k == "macaddr" {
                mac = Some(v.clone());
            } else {
                return true;
            }
            false
        });
        let model = self.model.map(|m| m.as_str().to_string()).or(model).unwrap_or_else(|| "virtio".into());
        let first = match self.macaddr.as_ref().map(|m| m.to_string()).or(mac) {
            Some(mac) => (model, mac),
            None => (String::new(), model),
        };
        props.0.insert(0, first);
        match &self.bridge {
            Some(b) => props.set("bridge", b.to_string()),
            None if new => props.set("bridge", DEFAULT_BRIDGE),
            None => {}
        }
        match self.vlan.map(Ranged::get) {
            Some(0) => props.remove("tag"),
            Some(tag) => props.set("tag", tag.to_string()),
            None => {}
        }
        if let Some(f) = self.firewall {
            props.set("firewall", flag(f));
        }
        if let Some(r) = self.rate {
            props.set("rate", r.0.to_string());
        }
        if let Some(m) = self.mtu {
            props.set("mtu", m.to_string());
        }
        if let Some(l) = self.link_down {
            props.set("link_down", flag(l));
        }
        props.to_string()
    }
}

/// Settings of a container NIC. Left out: unchanged (or Proxmox's default for a new NIC).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LxcNicOptions {
    /// The interface name inside the container (a new NIC: ethN for netN).
    pub name: Option<GuestIfName>,
    /// The bridge to attach to, e.g. vmbr0 or an SDN VNet (a new NIC: vmbr0 if left out).
    pub bridge: Option<Iface>,
    /// IPv4: dhcp, manual, or a static address with prefix such as 192.0.2.10/24 (dhcp or manual
    /// drops a gateway not given with it).
    pub ip: Option<Ipv4Config>,
    /// IPv4 gateway, with a static ip, e.g. 192.0.2.1.
    pub gw: Option<Ipv4Addr>,
    /// IPv6: auto (SLAAC), dhcp, manual, or a static address with prefix such as 2001:db8::10/64.
    pub ip6: Option<Ipv6Config>,
    /// IPv6 gateway, with a static ip6.
    pub gw6: Option<Ipv6Addr>,
    /// A fixed MAC address, e.g. BC:24:11:12:34:56 (a new NIC: Proxmox generates one).
    pub hwaddr: Option<MacAddr>,
    /// VLAN tag, 1 to 4094; 0 removes the tag.
    #[schemars(extend("x-aliases" = ["tag"]))]
    pub vlan: Option<Ranged<0, 4094>>,
    /// Filter the NIC's traffic with the Proxmox firewall.
    pub firewall: Option<bool>,
    /// Rate limit in MB/s.
    pub rate: Option<Rate>,
    /// MTU, 64 to 65535.
    #[schemars(extend("x-rare" = true))]
    pub mtu: Option<Ranged<64, 65535>>,
    /// Disconnect the NIC, as if its cable were pulled.
    #[schemars(extend("x-rare" = true))]
    pub link_down: Option<bool>,
}

impl LxcNicOptions {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.bridge.is_none()
            && self.ip.is_none()
            && self.gw.is_none()
            && self.ip6.is_none()
            && self.gw6.is_none()
            && self.hwaddr.is_none()
            && self.vlan.is_none()
            && self.firewall.is_none()
            && self.rate.is_none()
            && self.mtu.is_none()
            && self.link_down.is_none()
    }

    /// The NIC value: the current one (empty for a new NIC, named `default_name`) with these
    /// settings applied; other options the current value has are kept in their order.
    pub(crate) fn apply(&self, current: &str, default_name: &str) -> String {
        let new = current.is_empty();
        let mut props = Props::parse(current);
        match &self.name {
            Some(n) => props.set("name", n.to_string()),
            None if new => props.0.insert(0, ("name".into(), default_name.into())),
            None => {}
        }
        match &self.bridge {
            Some(b) => props.set("bridge", b.to_string()),
            None if new => props.set("bridge", DEFAULT_BRIDGE),
            None => {}
        }
        let texts = [
            ("hwaddr", self.hwaddr.as_ref().map(|v| v.to_string())),
            ("ip", self.ip.as_ref().map(|v| v.to_string())),
            ("gw", self.gw.map(|v| v.to_string())),
            ("ip6", self.ip6.as_ref().map(|v| v.to_string())),
            ("gw6", self.gw6.map(|v| v.to_string())),
        ];
        for (key, value) in texts {
            if let Some(v) = value {
                props.set(key, v);
            }
        }
        // A gateway only goes with a static address: switching to dhcp/manual/auto drops it.
        if self.ip.as_ref().is_some_and(|ip| !ip.as_str().contains('/')) && self.gw.is_none() {
            props.remove("gw");
        }
        if self.ip6.as_ref().is_some_and(|ip| !ip.as_str().contains('/')) && self.gw6.is_none() {
            props.remove("gw6");
        }
        match self.vlan.map(Ranged::get) {
            Some(0) => props.remove("tag"),
            Some(tag) => props.set("tag", tag.to_string()),
            None => {}
        }
        if let Some(f) = self.firewall {
            props.set("firewall", flag(f));
        }
        if let Some(r) = self.rate {
            props.set("rate", r.0.to_string());
        }
        if let Some(m) = self.mtu {
            props.set("mtu", m.to_string());
        }
        if let Some(l) = self.link_down {
            props.set("link_down", flag(l));
        }
        props.to_string()
    }
}

/// A Proxmox property string (`key=value,...`) as ordered pairs; a part without `=` (the
/// default key, e.g. the model of `virtio,bridge=vmbr0`) has the key "".
#[derive(Debug, Default, PartialEq)]
struct Props(Vec<(String, String)>);

impl Props {
    fn parse(s: &str) -> Self {
        Props(
            s.split(',')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (String::new(), p.to_string()),
                })
                .collect(),
        )
    }
    /// Replace the value in place, or append the pair.
    fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }
    fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }
}

impl fmt::Display for Props {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if k.is_empty() {
                f.write_str(v)?;
            } else {
                write!(f, "{k}={v}")?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------- shared steps

fn is_net(key: &str) -> bool {
    NetKey::new(key).is_ok()
}

/// Add `net` with the value `build` makes (refused if the slot is in use).
async fn add(api: Api, node: Node, kind: GuestType, vmid: VmId, net: NetKey, value: String) -> ToolResult {
    let (path, cfg) = own_config(&api).await?;
    let what = kind.with_id(vmid);
    require_free(&cfg, "net", net.as_str(), "net", 31, &what)?;
    put_key(&api, &path, &cfg, net.as_str(), &value).await?;
    Ok(ToolOutput::new(
        format!("✅ Added {net} to {what}\n\n• Node: {node}\n• {net}: {value}"),
        json!({ "node": node, "vmid": vmid, "net": net, "value": value }),
    ))
}

/// Change `net`: its current value through `merge`, written back with the digest.
async fn update(
    api: Api,
    node: Node,
    kind: GuestType,
    vmid: VmId,
    net: NetKey,
    merge: impl FnOnce(&str) -> String,
) -> ToolResult {
    let (path, cfg) = own_config(&api).await?;
    let what = kind.with_id(vmid);
    require_set(&cfg, "net", net.as_str(), &what, keys_where(&cfg, is_net))?;
    let before = cfg.get(net.as_str()).and_then(Value::as_str).unwrap_or_default().to_string();
    let after = merge(&before);
    let data = json!({ "node": node, "vmid": vmid, "net": net, "before": before, "after": after });
    if after == before {
        return Ok(ToolOutput::new(
            format!("ℹ️ {net} of {what} already has these settings: nothing changed\n\n• {net}: {after}"),
            data,
        ));
    }
    put_key(&api, &path, &cfg, net.as_str(), &after).await?;
    Ok(ToolOutput::new(
        format!("✅ Updated {net} of {what}\n\n• Node: {node}\n• Before: {before}\n• After: {after}"),
        data,
    ))
}

/// Remove `net` (refused if the guest has no such NIC).
async fn remove(api: Api, node: Node, kind: GuestType, vmid: VmId, net: NetKey) -> ToolResult {
    let (path, cfg) = own_config(&api).await?;
    let what = kind.with_id(vmid);
    require_set(&cfg, "net", net.as_str(), &what, keys_where(&cfg, is_net))?;
    let before = cfg.get(net.as_str()).and_then(Value::as_str).unwrap_or_default().to_string();
    delete_key(&api, &path, &cfg, net.as_str()).await?;
    Ok(ToolOutput::new(
        format!("✅ Removed {net} from {what}\n\n• Node: {node}\n• Was: {before}"),
        json!({ "node": node, "vmid": vmid, "net": net, "was": before }),
    ))
}

fn nothing_to_change(fields: &str) -> ToolError {
    ToolError::invalid("settings", format!("nothing to change: give at least one of {fields}"))
}

// ------------------------------------------------------------------------------------ tools

/// Add a NIC to a QEMU VM. E.g. net1 on bridge vmbr0 with a VLAN tag. Refuses a slot that is already in use (use
/// proxmox_update_network_vm to change a NIC).
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, idempotent = false, category = "VM/LXC Network")]
async fn proxmox_add_network_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The NIC slot to create, net0 to net31, e.g. net1.
    net: NetKey,
    #[flatten] nic: VmNicOptions,
) -> ToolResult {
    let value = nic.apply("");
    add(api, node, GuestType::Qemu, vmid, net, value).await
}

/// Add a NIC to an LXC container. E.g. net1 (eth1 inside) on vmbr0 with DHCP or a static address. Refuses a slot
/// that is already in use.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/config", method = PUT, elevated, idempotent = false, category = "VM/LXC Network")]
async fn proxmox_add_network_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The NIC slot to create, net0 to net31, e.g. net1 (named ethN inside unless `name` is given).
    net: NetKey,
    #[flatten] nic: LxcNicOptions,
) -> ToolResult {
    let index = net.as_str().trim_start_matches("net");
    let value = nic.apply("", &format!("eth{index}"));
    add(api, node, GuestType::Lxc, vmid, net, value).await
}

/// Change a QEMU VM's NIC. Bridge, model, MAC, VLAN, firewall, rate, MTU, link state. Settings not given stay as
/// they are (the MAC address too, unless given).
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, category = "VM/LXC Network")]
async fn proxmox_update_network_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The NIC to change, e.g. net0.
    net: NetKey,
    #[flatten] nic: VmNicOptions,
) -> ToolResult {
    if nic.is_empty() {
        return Err(nothing_to_change("bridge, model, macaddr, vlan, firewall, rate, mtu, link_down"));
    }
    update(api, node, GuestType::Qemu, vmid, net, |current| nic.apply(current)).await
}

/// Change an LXC container's NIC. Bridge, addresses and gateways, VLAN, firewall, MAC, rate, MTU, name, link state.
/// Settings not given stay as they are.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/config", method = PUT, elevated, category = "VM/LXC Network")]
async fn proxmox_update_network_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The NIC to change, e.g. net0.
    net: NetKey,
    #[flatten] nic: LxcNicOptions,
) -> ToolResult {
    if nic.is_empty() {
        return Err(nothing_to_change("name, bridge, ip, gw, ip6, gw6, hwaddr, vlan, firewall, rate, mtu, link_down"));
    }
    let index = net.as_str().trim_start_matches("net").to_string();
    update(api, node, GuestType::Lxc, vmid, net, |current| nic.apply(current, &format!("eth{index}"))).await
}

/// Remove a NIC from a QEMU VM. Refuses a NIC the VM does not have.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, destructive = true, category = "VM/LXC Network")]
async fn proxmox_remove_network_vm(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The NIC to remove, e.g. net1.
    net: NetKey,
) -> ToolResult {
    remove(api, node, GuestType::Qemu, vmid, net).await
}

/// Remove a NIC from an LXC container. Refuses a NIC the container does not have.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/config", method = PUT, elevated, destructive = true, category = "VM/LXC Network")]
async fn proxmox_remove_network_lxc(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The NIC to remove, e.g. net1.
    net: NetKey,
) -> ToolResult {
    remove(api, node, GuestType::Lxc, vmid, net).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(v: Value) -> VmNicOptions {
        serde_json::from_value(v).unwrap()
    }
    fn ct(v: Value) -> LxcNicOptions {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn vm_nic_values() {
        assert_eq!(vm(json!({})).apply(""), "virtio,bridge=vmbr0");
        assert_eq!(
            vm(json!({ "bridge": "vmbr1", "model": "e1000", "vlan": 20, "firewall": true, "rate": 12.5 })).apply(""),
            "e1000,bridge=vmbr1,tag=20,firewall=1,rate=12.5"
        );
        assert_eq!(
            vm(json!({ "macaddr": "BC:24:11:00:00:02", "mtu": 1 })).apply(""),
            "virtio=BC:24:11:00:00:02,bridge=vmbr0,mtu=1"
        );
        // Updates keep the MAC and unknown options, change the model in place, drop a tag with 0.
        let current = "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=5,queues=4";
        assert_eq!(
            vm(json!({ "model": "vmxnet3", "vlan": 0, "bridge": "vmbr2" })).apply(current),
            "vmxnet3=BC:24:11:00:00:01,bridge=vmbr2,firewall=1,queues=4"
        );
        assert_eq!(
            vm(json!({ "firewall": false })).apply("model=e1000,macaddr=BC:24:11:00:00:03,bridge=vmbr0"),
            "e1000=BC:24:11:00:00:03,bridge=vmbr0,firewall=0"
        );
    }

    #[test]
    fn lxc_nic_values() {
        assert_eq!(ct(json!({})).apply("", "eth1"), "name=eth1,bridge=vmbr0");
        assert_eq!(
            ct(json!({ "ip": "192.0.2.10/24", "gw": "192.0.2.1", "ip6": "auto", "vlan": 7 })).apply("", "eth0"),
            "name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1,ip6=auto,tag=7"
        );
        let current = "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:09,ip=dhcp,type=veth";
        assert_eq!(
            ct(json!({ "ip": "198.51.100.5/24", "gw": "198.51.100.1", "firewall": true })).apply(current, "eth0"),
            "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:09,ip=198.51.100.5/24,type=veth,gw=198.51.100.1,firewall=1"
        );
        let current = "name=eth0,bridge=vmbr0,ip=192.0.2.5/24,gw=192.0.2.1,ip6=2001:db8::5/64,gw6=2001:db8::1";
        assert_eq!(
            ct(json!({ "ip": "dhcp", "ip6": "auto" })).apply(current, "eth0"),
            "name=eth0,bridge=vmbr0,ip=dhcp,ip6=auto"
        );
    }

    #[test]
    fn nic_inputs_are_checked() {
        for bad in [
            json!({ "vlan": 4095 }),
            json!({ "bridge": "vmbr0,tag=5" }),
            json!({ "macaddr": "BD:24:11:00:00:01" }),
            json!({ "macaddr": "bc:24:11:00:00:01,x=1" }),
            json!({ "rate": -1 }),
            json!({ "mtu": 70000 }),
            json!({ "model": "virtio,bridge=x" }),
            json!({ "queues": 2 }),
        ] {
            assert!(serde_json::from_value::<VmNicOptions>(bad.clone()).is_err(), "{bad}");
        }
        for bad in [
            json!({ "ip": "192.0.2.10" }),
            json!({ "ip": "192.0.2.10/7" }),
            json!({ "ip": "dhcp,gw=1.2.3.4" }),
            json!({ "ip6": "2001:db8::1/129" }),
            json!({ "gw": "192.0.2.300" }),
            json!({ "name": "eth0,ip=dhcp" }),
            json!({ "name": "averyveryverylongname" }),
            json!({ "mtu": 63 }),
        ] {
            assert!(serde_json::from_value::<LxcNicOptions>(bad.clone()).is_err(), "{bad}");
        }
        assert!(NetKey::new("net31").is_ok() && NetKey::new("net32").is_err() && NetKey::new("net01").is_err());
        assert!(
            GuestIfName::new("eth0.1").is_ok() && GuestIfName::new("..").is_err() && GuestIfName::new(".").is_err()
        );
        assert!(Ipv4Config::new("10.0.0.1/8").is_ok() && Ipv4Config::new("10.0.0.1/33").is_err());
    }
}
