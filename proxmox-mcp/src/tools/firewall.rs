//! Firewall: the datacenter's rules and security groups, the rules of each VM and container, and
//! the options (on/off, policies, log levels, ...) of the cluster, node and guest firewalls.
//!
//! A rule has the same settings at every level, so one pair of parameter structs ([`NewRule`],
//! [`RuleChanges`], declared with the shared settings by `rule_params!`) serves the cluster, VM
//! and container tools, and one private function per operation does the work for all three.

use crate::format::{self, Block, str_field, u64_field};
use crate::page::Page;
use crate::types::{Digest, FirewallGroup, GuestType, Iface, InvalidValue, Node, VmId, shown, string_id};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_LIST_CLUSTER_FIREWALL_RULES,
    &PROXMOX_GET_CLUSTER_FIREWALL_RULE,
    &PROXMOX_CREATE_CLUSTER_FIREWALL_RULE,
    &PROXMOX_UPDATE_CLUSTER_FIREWALL_RULE,
    &PROXMOX_DELETE_CLUSTER_FIREWALL_RULE,
    &PROXMOX_LIST_CLUSTER_FIREWALL_GROUPS,
    &PROXMOX_GET_CLUSTER_FIREWALL_GROUP,
    &PROXMOX_CREATE_CLUSTER_FIREWALL_GROUP,
    &PROXMOX_UPDATE_CLUSTER_FIREWALL_GROUP,
    &PROXMOX_DELETE_CLUSTER_FIREWALL_GROUP,
    &PROXMOX_GET_FIREWALL_OPTIONS,
    &PROXMOX_UPDATE_FIREWALL_OPTIONS,
    &PROXMOX_LIST_VM_FIREWALL_RULES,
    &PROXMOX_GET_VM_FIREWALL_RULE,
    &PROXMOX_CREATE_VM_FIREWALL_RULE,
    &PROXMOX_UPDATE_VM_FIREWALL_RULE,
    &PROXMOX_DELETE_VM_FIREWALL_RULE,
    &PROXMOX_LIST_LXC_FIREWALL_RULES,
    &PROXMOX_GET_LXC_FIREWALL_RULE,
    &PROXMOX_CREATE_LXC_FIREWALL_RULE,
    &PROXMOX_UPDATE_LXC_FIREWALL_RULE,
    &PROXMOX_DELETE_LXC_FIREWALL_RULE,
];

// ------------------------------------------------------------------------------------------
// Parameter types

string_id! {
    /// What a rule does: `ACCEPT`, `DROP` or `REJECT`; for a `group` rule, the security group.
    RuleAction, kind = "rule action", pattern = "^[A-Za-z][A-Za-z0-9_-]+$", max = 20,
    rule = "ACCEPT, DROP or REJECT, or for a `group` rule the name of a security group"
}

/// The direction of a rule: incoming, outgoing, routed (`forward`: cluster and node firewalls
/// only), or `group` to apply a security group (`action` is then the group's name). (No doc
/// comments on the variants: the schema stays a plain `enum`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleType {
    In,
    Out,
    Forward,
    Group,
}

/// How packets that match a rule are logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
    Nolog,
}

/// The settings of a rule that `delete` can remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKey {
    Macro,
    Iface,
    Source,
    Dest,
    Proto,
    Sport,
    Dport,
    IcmpType,
    Log,
    Comment,
    Enable,
}

/// Settings to remove (rule settings, firewall options): a list, or a comma-separated string as
/// Proxmox takes it; sent as `a,b,c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyList<K>(Vec<K>);

/// Rule settings to remove.
pub type RuleKeys = KeyList<RuleKey>;

impl<K: Serialize> KeyList<K> {
    /// The names, as Proxmox spells them.
    fn names(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|k| serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)))
            .collect()
    }
}

impl<K: Serialize> Serialize for KeyList<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.names().join(","))
    }
}

impl<'de, K: Deserialize<'de>> Deserialize<'de> for KeyList<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = match Value::deserialize(d)? {
            Value::String(s) => s.split(',').map(str::trim).filter(|k| !k.is_empty()).map(Value::from).collect(),
            Value::Array(items) => items,
            other => return Err(D::Error::custom(format!("must be a list of setting names, not {other}"))),
        };
        items.into_iter().map(|v| K::deserialize(v).map_err(D::Error::custom)).collect::<Result<_, _>>().map(KeyList)
    }
}

impl<K: JsonSchema> JsonSchema for KeyList<K> {
    fn schema_name() -> Cow<'static, str> {
        format!("KeyList_{}", K::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Vec<K>>::json_schema(generator)
    }
}

/// A 0/1 switch; `true`/`false` are taken too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(u8::from(self.0))
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Flag(b)),
            Value::Number(n) if n.as_u64() == Some(0) => Ok(Flag(false)),
            Value::Number(n) if n.as_u64() == Some(1) => Ok(Flag(true)),
            other => Err(D::Error::custom(format!("must be 1 (on) or 0 (off), not {other}"))),
        }
    }
}

impl JsonSchema for Flag {
    fn schema_name() -> Cow<'static, str> {
        "Flag".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": 1 })
    }
}

/// A port specification (`22`, `ssh`, `8000:8080`, `80,443`), also taken as a plain number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Ports(String);

impl<'de> Deserialize<'de> for Ports {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Ports(s)),
            Value::Number(n) if n.is_u64() => Ok(Ports(n.to_string())),
            other => Err(D::Error::custom(format!(
                "must be a port, a service name, a range like 8000:8080 or a comma list, not {other}"
            ))),
        }
    }
}

impl JsonSchema for Ports {
    fn schema_name() -> Cow<'static, str> {
        "Ports".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

/// Declares a rule parameter struct: its own fields, then the settings every rule has, the same
/// at cluster, VM and container level. (Declared flat, not with a nested `#[serde(flatten)]`,
/// so that an error in any field names that field.)
macro_rules! rule_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// A predefined service macro (it sets protocol and ports), e.g. SSH, HTTP, HTTPS, DNS, Ping.
            #[schemars(length(max = 128))]
            pub r#macro: Option<String>,
            /// IP protocol: a name from /etc/protocols (tcp, udp, icmp, icmpv6, ...) or its number.
            pub proto: Option<String>,
            /// Source: an IP address, CIDR, range or comma list (10.0.0.0/8,192.0.2.1), an alias, or +ipset.
            #[schemars(length(max = 512))]
            pub source: Option<String>,
            /// Destination, in the same forms as `source`.
            #[schemars(length(max = 512))]
            pub dest: Option<String>,
            /// Source port(s): a number, service name, range (1024:65535) or comma list; needs `proto`.
            pub sport: Option<Ports>,
            /// Destination port(s): a number, service name, range (8000:8080) or comma list; needs `proto`.
            pub dport: Option<Ports>,
            /// ICMP type, with proto icmp or icmpv6, e.g. echo-request.
            #[serde(rename = "icmp-type")]
            #[schemars(extend("x-rare" = true))]
            pub icmp_type: Option<String>,
            /// Network interface: for a VM or container rule its network device (net0, net1, ...); for a cluster rule a host interface.
            #[schemars(extend("x-rare" = true))]
            pub iface: Option<Iface>,
            /// Log level for packets matching the rule (nolog: none).
            #[schemars(extend("x-rare" = true))]
            pub log: Option<LogLevel>,
            /// 1 = enabled, 0 = disabled. Proxmox adds a new rule disabled unless this is 1.
            pub enable: Option<Flag>,
            /// A comment (an empty string removes it).
            pub comment: Option<String>,
        }
    };
}

rule_params! {
    /// A new rule: direction, action and its settings.
    NewRule {
        /// Direction: in, out, group (apply a security group) or forward (routed traffic; cluster only).
        r#type: RuleType,
        /// ACCEPT, DROP or REJECT; for type group, the security group's name.
        action: RuleAction,
    }
}

rule_params! {
    /// Changes to a rule: new settings, settings to remove, or a move.
    RuleChanges {
        /// New direction: in, out, group or forward (cluster only).
        r#type: Option<RuleType>,
        /// New action: ACCEPT, DROP or REJECT; for type group, the security group's name.
        action: Option<RuleAction>,
        /// Settings to remove from the rule, e.g. ["comment", "log"] (or "comment,log").
        delete: Option<RuleKeys>,
        /// Move the rule to this position instead (0 = first); a move changes nothing else, so make other changes in another call.
        moveto: Option<u32>,
        /// Refuse the change if the rules changed since they were read: the `digest` they came with.
        digest: Option<Digest>,
    }
}

impl RuleChanges {
    /// Whether anything besides `moveto` and `digest` is set.
    fn changes_settings(&self) -> bool {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map.iter().any(|(k, v)| !v.is_null() && k != "moveto" && k != "digest"),
            _ => false,
        }
    }
}

// ------------------------------------------------------------------------------------------
// What the tools share

/// Whose rules or options: the datacenter's, a node's or one guest's.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Cluster,
    Node(&'a Node),
    Guest(GuestType, &'a Node, VmId),
}

impl fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Cluster => f.write_str("the cluster"),
            Scope::Node(node) => write!(f, "node {node}"),
            Scope::Guest(kind, node, vmid) => write!(f, "{} {vmid} on {node}", kind.noun()),
        }
    }
}

/// What Proxmox refuses for guest rules, said before sending: forward rules, and an interface
/// that is not one of the guest's network devices.
fn check_scope(scope: Scope<'_>, r#type: Option<RuleType>, iface: Option<&Iface>) -> Result<(), ToolError> {
    let Scope::Guest(kind, ..) = scope else { return Ok(()) };
    if r#type == Some(RuleType::Forward) {
        return Err(ToolError::invalid(
            "type",
            format!(
                "forward rules exist only in the cluster and node firewalls; a {} rule is in, out or group",
                kind.noun()
            ),
        ));
    }
    if let Some(iface) = iface {
        let net = iface.as_str().strip_prefix("net");
        if !net.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
            return Err(ToolError::invalid(
                "iface",
                format!("for a {} rule, the guest's network device: net0, net1, ...", kind.noun()),
            ));
        }
    }
    Ok(())
}

/// The `moveto` Proxmox needs to land a rule at `to`: it puts the rule in front of the rule
/// at `moveto`, counted before the move, so moving down needs one more.
fn api_moveto(from: u32, to: u32) -> u32 {
    if to > from { to.saturating_add(1) } else { to }
}

/// `🟢 #0 in ACCEPT proto=tcp dport=22 — comment`
fn rule_line(r: &Value) -> String {
    let enabled = u64_field(r, "enable").unwrap_or(0) != 0;
    let mut line = format!(
        "{} **#{}** {} {}",
        if enabled { "🟢" } else { "⚪" },
        r.get("pos").map_or("?".into(), format::value),
        str_field(r, "type").unwrap_or("?"),
        str_field(r, "action").unwrap_or("?"),
    );
    for (key, label) in [
        ("macro", "macro"),
        ("proto", "proto"),
        ("source", "src"),
        ("dest", "dst"),
        ("sport", "sport"),
        ("dport", "dport"),
        ("icmp-type", "icmp-type"),
        ("iface", "iface"),
        ("log", "log"),
    ] {
        if let Some(v) = r.get(key).filter(|v| !v.is_null()) {
            line.push_str(&format!(" {label}={}", format::value(v)));
        }
    }
    if !enabled {
        line.push_str(" (disabled)");
    }
    if let Some(c) = str_field(r, "comment").filter(|c| !c.is_empty()) {
        line.push_str(&format!(" — {c}"));
    }
    line
}

/// A titled list of rules, or `empty` if there are none.
/// A list of rules (in their order) as a result: the page asked for.
fn rules_output(title: String, empty: String, rules: Vec<Value>, page: Page) -> ToolOutput {
    if rules.is_empty() {
        return ToolOutput::new(empty, page.cut(rules).data("items"));
    }
    let mut text = format!("🛡️ **{title}** ({} rules, applied top down)", rules.len());
    let page = page.cut(rules);
    text.push_str(&page.lines(|r| format!("• {}", rule_line(r))));
    ToolOutput::new(text, page.data("items"))
}

async fn list_rules(api: &Api, scope: Scope<'_>, page: Page) -> ToolResult {
    let rules: Vec<Value> = api.send(()).await?;
    Ok(rules_output(format!("Firewall rules of {scope}"), format!("No firewall rules in {scope}."), rules, page))
}

async fn get_rule(api: &Api, scope: Scope<'_>, pos: u32) -> ToolResult {
    let r: Value = api.send(()).await?;
    let enabled = u64_field(&r, "enable").unwrap_or(0) != 0;
    let field = |key: &str| r.get(key).filter(|v| !v.is_null()).map(format::value);
    let text = Block::new(format!("🛡️ **Firewall rule #{pos} of {scope}**"))
        .line("Type", str_field(&r, "type").unwrap_or("?"))
        .line("Action", str_field(&r, "action").unwrap_or("?"))
        .line("Enabled", if enabled { "yes" } else { "no" })
        .opt("Macro", field("macro"))
        .opt("Protocol", field("proto"))
        .opt("Source", field("source"))
        .opt("Destination", field("dest"))
        .opt("Source port", field("sport"))
        .opt("Destination port", field("dport"))
        .opt("ICMP type", field("icmp-type"))
        .opt("Interface", field("iface"))
        .opt("Log", field("log"))
        .opt("IP version", field("ipversion"))
        .opt("Comment", field("comment"))
        .finish();
    Ok(ToolOutput::new(text, r))
}

/// Add a rule. Proxmox always adds it first (it ignores a `pos` sent with it), so a position
/// asked for is a move after that.
async fn create_rule(api: &Api, scope: Scope<'_>, pos: Option<u32>, rule: NewRule) -> ToolResult {
    check_scope(scope, Some(rule.r#type), rule.iface.as_ref())?;
    let _: Value = api.send(&rule).await?;
    let pos = pos.unwrap_or(0);
    if pos > 0 {
        let Some(path) = api.path() else { return Err(ToolError::Other("no rules path".into())) };
        let moved: Result<Value, _> = api.put(&path.clone().join(&0u32), json!({ "moveto": api_moveto(0, pos) })).await;
        if let Err(e) = moved {
            return Err(ToolError::Other(format!(
                "the rule was added to {scope} at position 0, but moving it to position {pos} failed: {e}"
            )));
        }
    }
    let enabled = rule.enable.is_some_and(|f| f.0);
    let mut shown = serde_json::to_value(&rule).unwrap_or_default();
    shown["pos"] = json!(pos);
    shown["enable"] = json!(u8::from(enabled));
    let mut text = Block::new(format!("✅ Firewall rule added to {scope}"))
        .line("Position", if pos > 0 { format!("{pos} (last, if there are fewer rules)") } else { "0".into() })
        .line("Rule", rule_line(&shown))
        .line("Enabled", if enabled { "yes" } else { "no: set enable=1 to activate it" })
        .finish();
    let off = firewalls_off(api, scope).await;
    if !off.is_empty() {
        text.push_str(&format!(
            "\n\n⚠️ Not in effect yet: the firewall of {} is off. proxmox_update_firewall_options with enable=1 turns it on.",
            off.join(" and of ")
        ));
    }
    Ok(ToolOutput::new(
        text,
        json!({ "pos": pos, "type": rule.r#type, "action": rule.action, "enable": u8::from(enabled), "firewall_off": off }),
    ))
}

/// The firewalls a rule of `scope` needs on that are off: the cluster's, and a guest's own
/// (each as its `proxmox_update_firewall_options` scope says it). One that cannot be read is
/// not reported: the rule is added either way.
async fn firewalls_off(api: &Api, scope: Scope<'_>) -> Vec<String> {
    let mut needed = vec![(Scope::Cluster, "the cluster (scope cluster)".to_string())];
    if let Scope::Guest(kind, _, vmid) = scope {
        let which = if kind == GuestType::Qemu { "vm" } else { "lxc" };
        needed.push((scope, format!("{scope} (scope {which}, vmid {vmid})")));
    }
    let mut off = Vec::new();
    for (scope, name) in needed {
        if let Ok(options) = api.get::<Value>(&options_path(scope), ()).await
            && format::truthy(options.get("enable")) != Some(true)
        {
            off.push(name);
        }
    }
    off
}

async fn update_rule(api: &Api, scope: Scope<'_>, pos: u32, mut changes: RuleChanges) -> ToolResult {
    check_scope(scope, changes.r#type, changes.iface.as_ref())?;
    let changes_settings = changes.changes_settings();
    let Some(to) = changes.moveto else {
        if !changes_settings {
            return Err(ToolError::invalid("changes", "none given: set a rule setting, `delete` or `moveto`"));
        }
        let _: Value = api.send(&changes).await?;
        return Ok(ToolOutput::new(format!("✅ Firewall rule #{pos} of {scope} updated"), json!({ "pos": pos })));
    };
    if changes_settings {
        return Err(ToolError::invalid(
            "moveto",
            "only moves the rule (Proxmox ignores other changes made with it): change and move it in two calls",
        ));
    }
    changes.moveto = Some(api_moveto(pos, to));
    let _: Value = api.send(&changes).await?;
    Ok(ToolOutput::new(
        format!("✅ Firewall rule #{pos} of {scope} moved to position {to} (last, if there are fewer rules)"),
        json!({ "pos": pos, "moveto": to }),
    ))
}

async fn delete_rule(api: &Api, scope: Scope<'_>, pos: u32, digest: Option<Digest>) -> ToolResult {
    let _: Value = api.send(json!({ "digest": digest })).await?;
    Ok(ToolOutput::new(
        format!("✅ Firewall rule #{pos} deleted from {scope}; the rules after it moved up one position"),
        json!({ "pos": pos }),
    ))
}

// ------------------------------------------------------------------------------------------
// Cluster rules

/// List datacenter firewall rules. In the order they apply.
#[pve_tool(path = "/cluster/firewall/rules", method = GET, category = "Cluster Management")]
async fn proxmox_list_cluster_firewall_rules(api: Api, #[flatten] page: Page) -> ToolResult {
    list_rules(&api, Scope::Cluster, page).await
}

/// Show a datacenter firewall rule.
#[pve_tool(path = "/cluster/firewall/rules/<pos>", method = GET, category = "Cluster Management")]
async fn proxmox_get_cluster_firewall_rule(
    api: Api,
    /// The rule's position in the list (0 = first).
    pos: u32,
) -> ToolResult {
    get_rule(&api, Scope::Cluster, pos).await
}

/// Add a datacenter firewall rule (off unless enable=1; it acts only while the cluster firewall is on:
/// proxmox_update_firewall_options).
#[pve_tool(path = "/cluster/firewall/rules", method = POST, elevated, category = "Cluster Management")]
async fn proxmox_create_cluster_firewall_rule(
    api: Api,
    /// Where to put the rule in the list (0 = first, the default; rules apply top down).
    pos: Option<u32>,
    #[flatten] rule: NewRule,
) -> ToolResult {
    create_rule(&api, Scope::Cluster, pos, rule).await
}

/// Change or move a datacenter firewall rule.
#[pve_tool(path = "/cluster/firewall/rules/<pos>", method = PUT, elevated, category = "Cluster Management")]
async fn proxmox_update_cluster_firewall_rule(
    api: Api,
    /// The rule's position in the list (0 = first).
    pos: u32,
    #[flatten] changes: RuleChanges,
) -> ToolResult {
    update_rule(&api, Scope::Cluster, pos, changes).await
}

/// Delete a datacenter firewall rule.
#[pve_tool(path = "/cluster/firewall/rules/<pos>", method = DELETE, elevated, category = "Cluster Management")]
async fn proxmox_delete_cluster_firewall_rule(
    api: Api,
    /// The rule's position in the list (0 = first).
    pos: u32,
    /// Refuse if the rules changed since they were read: the `digest` they came with.
    digest: Option<Digest>,
) -> ToolResult {
    delete_rule(&api, Scope::Cluster, pos, digest).await
}

// ------------------------------------------------------------------------------------------
// Security groups

/// List firewall security groups with their comments.
#[pve_tool(path = "/cluster/firewall/groups", method = GET, category = "Cluster Management")]
async fn proxmox_list_cluster_firewall_groups(api: Api) -> ToolResult {
    let mut groups: Vec<Value> = api.send(()).await?;
    groups.sort_by(|a, b| str_field(a, "group").cmp(&str_field(b, "group")));
    let mut text = if groups.is_empty() {
        "No security groups defined.".to_string()
    } else {
        format!("🛡️ **Security groups** ({})\n", groups.len())
    };
    for g in &groups {
        text.push_str(&format!("\n• **{}**", str_field(g, "group").unwrap_or("?")));
        if let Some(c) = str_field(g, "comment").filter(|c| !c.is_empty()) {
            text.push_str(&format!(" — {c}"));
        }
    }
    Ok(ToolOutput::new(text, groups))
}

/// Show a security group's rules.
#[pve_tool(path = "/cluster/firewall/groups/<group>", method = GET, category = "Cluster Management")]
async fn proxmox_get_cluster_firewall_group(
    api: Api,
    /// The security group's name.
    group: FirewallGroup,
    #[flatten] page: Page,
) -> ToolResult {
    let rules: Vec<Value> = api.send(()).await?;
    Ok(rules_output(format!("Security group {group}"), format!("Security group {group} has no rules."), rules, page))
}

/// Create a security group (or, with rename=<old name>, rename that group to group). This is Proxmox's own form;
/// proxmox_update_cluster_firewall_group renames the other way round, to the name in `rename`.
#[pve_tool(path = "/cluster/firewall/groups", method = POST, elevated, category = "Cluster Management")]
async fn proxmox_create_cluster_firewall_group(
    api: Api,
    /// The new group's name: a letter, then letters, digits, `-` or `_` (2 to 18 characters).
    group: FirewallGroup,
    /// A comment.
    comment: Option<String>,
    /// An existing group to rename to `group` instead of creating one.
    rename: Option<FirewallGroup>,
) -> ToolResult {
    let _: Value = api.send(json!({ "group": group, "comment": comment, "rename": rename })).await?;
    let text = match &rename {
        Some(old) => format!("✅ Security group {old} renamed to {group}"),
        None => format!("✅ Security group {group} created"),
    };
    Ok(ToolOutput::new(text, json!({ "group": group })))
}

/// Change a security group's comment, or rename it to the name in rename. Its comment and/or name (rules that use
/// it follow).
#[pve_tool(path = "/cluster/firewall/groups", method = POST, elevated, category = "Cluster Management")]
async fn proxmox_update_cluster_firewall_group(
    api: Api,
    /// The group to change.
    group: FirewallGroup,
    /// Its new comment (an empty string removes it).
    comment: Option<String>,
    /// Its new name.
    rename: Option<FirewallGroup>,
    /// Refuse if the groups changed since they were listed: the `digest` they came with.
    digest: Option<Digest>,
) -> ToolResult {
    if comment.is_none() && rename.is_none() {
        return Err(ToolError::invalid(
            "comment",
            "nothing to change: give a new `comment` and/or a new name in `rename`",
        ));
    }
    // Proxmox's form: `group` is the resulting name, `rename` the group it was.
    let name = rename.as_ref().unwrap_or(&group);
    let _: Value = api.send(json!({ "group": name, "rename": group, "comment": comment, "digest": digest })).await?;
    let text = if name == &group {
        format!("✅ Security group {group} updated")
    } else {
        format!("✅ Security group {group} renamed to {name}")
    };
    Ok(ToolOutput::new(text, json!({ "group": name })))
}

/// Delete a firewall security group. Proxmox refuses while it still has rules.
#[pve_tool(path = "/cluster/firewall/groups/<group>", method = DELETE, elevated, category = "Cluster Management")]
async fn proxmox_delete_cluster_firewall_group(
    api: Api,
    /// The security group's name.
    group: FirewallGroup,
) -> ToolResult {
    let _: Value = api.send(()).await?;
    Ok(ToolOutput::new(format!("✅ Security group {group} deleted"), json!({ "group": group })))
}

// ------------------------------------------------------------------------------------------
// VM rules

/// List a QEMU VM's firewall rules. In the order they apply.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/firewall/rules", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_list_vm_firewall_rules(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    #[flatten] page: Page,
) -> ToolResult {
    list_rules(&api, Scope::Guest(GuestType::Qemu, &node, vmid), page).await
}

/// Show a QEMU VM's firewall rule.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/firewall/rules/<pos>", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_get_vm_firewall_rule(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The rule's position in the list (0 = first).
    pos: u32,
) -> ToolResult {
    get_rule(&api, Scope::Guest(GuestType::Qemu, &node, vmid), pos).await
}

/// Add a QEMU VM firewall rule (off unless enable=1; it acts only while the VM's firewall is on, see
/// proxmox_update_firewall_options, and its NIC has firewall=1).
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/firewall/rules", method = POST, elevated, category = "VM/LXC Advanced")]
async fn proxmox_create_vm_firewall_rule(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// Where to put the rule in the list (0 = first, the default; rules apply top down).
    pos: Option<u32>,
    #[flatten] rule: NewRule,
) -> ToolResult {
    create_rule(&api, Scope::Guest(GuestType::Qemu, &node, vmid), pos, rule).await
}

/// Change or move a QEMU VM's firewall rule.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/firewall/rules/<pos>", method = PUT, elevated, category = "VM/LXC Advanced")]
async fn proxmox_update_vm_firewall_rule(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The rule's position in the list (0 = first).
    pos: u32,
    #[flatten] changes: RuleChanges,
) -> ToolResult {
    update_rule(&api, Scope::Guest(GuestType::Qemu, &node, vmid), pos, changes).await
}

/// Delete a QEMU VM's firewall rule.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/firewall/rules/<pos>", method = DELETE, elevated, category = "VM/LXC Advanced")]
async fn proxmox_delete_vm_firewall_rule(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The rule's position in the list (0 = first).
    pos: u32,
    /// Refuse if the rules changed since they were read: the `digest` they came with.
    digest: Option<Digest>,
) -> ToolResult {
    delete_rule(&api, Scope::Guest(GuestType::Qemu, &node, vmid), pos, digest).await
}

// ------------------------------------------------------------------------------------------
// Container rules

/// List a container's firewall rules. In the order they apply.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/firewall/rules", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_list_lxc_firewall_rules(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    #[flatten] page: Page,
) -> ToolResult {
    list_rules(&api, Scope::Guest(GuestType::Lxc, &node, vmid), page).await
}

/// Show a container's firewall rule.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/firewall/rules/<pos>", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_get_lxc_firewall_rule(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The rule's position in the list (0 = first).
    pos: u32,
) -> ToolResult {
    get_rule(&api, Scope::Guest(GuestType::Lxc, &node, vmid), pos).await
}

/// Add a container firewall rule (off unless enable=1; it acts only while the container's firewall is on, see
/// proxmox_update_firewall_options, and its NIC has firewall=1).
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/firewall/rules", method = POST, elevated, category = "VM/LXC Advanced")]
async fn proxmox_create_lxc_firewall_rule(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// Where to put the rule in the list (0 = first, the default; rules apply top down).
    pos: Option<u32>,
    #[flatten] rule: NewRule,
) -> ToolResult {
    create_rule(&api, Scope::Guest(GuestType::Lxc, &node, vmid), pos, rule).await
}

/// Change or move a container's firewall rule.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/firewall/rules/<pos>", method = PUT, elevated, category = "VM/LXC Advanced")]
async fn proxmox_update_lxc_firewall_rule(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The rule's position in the list (0 = first).
    pos: u32,
    #[flatten] changes: RuleChanges,
) -> ToolResult {
    update_rule(&api, Scope::Guest(GuestType::Lxc, &node, vmid), pos, changes).await
}

/// Delete a container's firewall rule.
#[pve_tool(path = "/nodes/<node>/lxc/<vmid>/firewall/rules/<pos>", method = DELETE, elevated, category = "VM/LXC Advanced")]
async fn proxmox_delete_lxc_firewall_rule(
    api: Api,
    /// The node the container is on.
    node: Node,
    /// The container id.
    vmid: VmId,
    /// The rule's position in the list (0 = first).
    pos: u32,
    /// Refuse if the rules changed since they were read: the `digest` they came with.
    digest: Option<Digest>,
) -> ToolResult {
    delete_rule(&api, Scope::Guest(GuestType::Lxc, &node, vmid), pos, digest).await
}

// ------------------------------------------------------------------------------------------
// Firewall options

/// Whose firewall options: the datacenter's, a node's, a VM's or a container's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptionsScope {
    Cluster,
    Node,
    Vm,
    Lxc,
}

impl OptionsScope {
    const ALL: [OptionsScope; 4] = [OptionsScope::Cluster, OptionsScope::Node, OptionsScope::Vm, OptionsScope::Lxc];

    fn as_str(self) -> &'static str {
        match self {
            OptionsScope::Cluster => "cluster",
            OptionsScope::Node => "node",
            OptionsScope::Vm => "vm",
            OptionsScope::Lxc => "lxc",
        }
    }

    /// The options its `/firewall/options` takes (as the PVE API schema has them).
    fn options(self) -> &'static [&'static str] {
        match self {
            OptionsScope::Cluster => {
                &["enable", "policy_in", "policy_out", "policy_forward", "ebtables", "log_ratelimit"]
            }
            OptionsScope::Node => &[
                "enable",
                "log_level_in",
                "log_level_out",
                "log_level_forward",
                "log_nf_conntrack",
                "ndp",
                "nf_conntrack_allow_invalid",
                "nf_conntrack_helpers",
                "nf_conntrack_max",
                "nf_conntrack_tcp_timeout_established",
                "nf_conntrack_tcp_timeout_syn_recv",
                "nftables",
                "nosmurfs",
                "protection_synflood",
                "protection_synflood_burst",
                "protection_synflood_rate",
                "smurf_log_level",
                "tcp_flags_log_level",
                "tcpflags",
            ],
            OptionsScope::Vm | OptionsScope::Lxc => &[
                "enable",
                "policy_in",
                "policy_out",
                "log_level_in",
                "log_level_out",
                "dhcp",
                "ipfilter",
                "macfilter",
                "ndp",
                "radv",
            ],
        }
    }

    /// Whether the firewall is on when `enable` is not set: only a node's is.
    fn on_by_default(self) -> bool {
        self == OptionsScope::Node
    }

    /// The scope of the firewall `scope`, from the node and vmid given (each only where it
    /// belongs).
    fn target<'a>(self, node: Option<&'a Node>, vmid: Option<VmId>) -> Result<Scope<'a>, ToolError> {
        let name = self.as_str();
        match self {
            OptionsScope::Cluster | OptionsScope::Node if vmid.is_some() => {
                return Err(ToolError::invalid("vmid", format!("is for scope vm or lxc, not {name}")));
            }
            OptionsScope::Cluster if node.is_some() => {
                return Err(ToolError::invalid("node", "is not taken by scope cluster (the datacenter's firewall)"));
            }
            OptionsScope::Cluster => return Ok(Scope::Cluster),
            _ => {}
        }
        let node = node.ok_or_else(|| {
            let whose = match self {
                OptionsScope::Node => "",
                _ => ": the node the guest is on",
            };
            ToolError::invalid("node", format!("is required for scope {name}{whose}"))
        })?;
        let kind = match self {
            OptionsScope::Vm => GuestType::Qemu,
            OptionsScope::Lxc => GuestType::Lxc,
            _ => return Ok(Scope::Node(node)),
        };
        let vmid = vmid.ok_or_else(|| ToolError::invalid("vmid", format!("is required for scope {name}")))?;
        Ok(Scope::Guest(kind, node, vmid))
    }

    /// Refuse the options (set in `params`, or named in `delete`) this scope does not have,
    /// each by name, with the scopes that have it.
    fn check(self, params: &Value, delete: &[String]) -> Result<(), ToolError> {
        let mine = self.options();
        let not_mine = |name: &str| {
            let owners: Vec<&str> =
                Self::ALL.iter().filter(|s| s.options().contains(&name)).map(|s| s.as_str()).collect();
            format!("is not a firewall option of scope {} (only of scope {})", self.as_str(), owners.join(", "))
        };
        let mut problems: Vec<(String, String)> = Vec::new();
        for (name, value) in params.as_object().into_iter().flatten() {
            if !value.is_null() && !mine.contains(&name.as_str()) {
                problems.push((name.clone(), not_mine(name)));
            }
        }
        for name in delete.iter().filter(|n| !mine.contains(&n.as_str())) {
            problems.push(("delete".into(), format!("names `{name}`, which {}", not_mine(name))));
        }
        if problems.is_empty() { Ok(()) } else { Err(ToolError::InvalidArguments(problems)) }
    }
}

/// What happens to packets no rule decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Policy {
    Accept,
    Reject,
    Drop,
}

/// What happens to routed packets no rule decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ForwardPolicy {
    Accept,
    Drop,
}

/// A log rate limit (a property string): `[enable=]1|0`, `burst=N`, `rate=N/second|minute|hour|day`.
const LOG_RATELIMIT: &str = "^((enable=)?[01]|burst=[0-9]{1,9}|rate=[1-9][0-9]{0,8}/(second|minute|hour|day))(,(enable=[01]|burst=[0-9]{1,9}|rate=[1-9][0-9]{0,8}/(second|minute|hour|day)))*$";
/// Conntrack helpers (Proxmox format `pve-fw-conntrack-helper`): a comma list, or empty for none.
const CONNTRACK_HELPERS: &str =
    "^((amanda|ftp|irc|netbios-ns|pptp|sane|sip|snmp|tftp)(,(amanda|ftp|irc|netbios-ns|pptp|sane|sip|snmp|tftp))*)?$";

/// The options of a firewall, as PUT `/firewall/options` takes them: each scope has some of them
/// (the description says which).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirewallOptions {
    /// 1 = the firewall is on, 0 = off (all scopes; a node's is on unless set to 0, the others off).
    pub enable: Option<Flag>,
    /// Policy for incoming traffic no rule decided on (cluster, vm, lxc; default DROP).
    pub policy_in: Option<Policy>,
    /// Policy for outgoing traffic no rule decided on (cluster, vm, lxc; default ACCEPT).
    pub policy_out: Option<Policy>,
    /// Policy for routed traffic no rule decided on (cluster; default ACCEPT).
    pub policy_forward: Option<ForwardPolicy>,
    /// Log level for incoming traffic (node, vm, lxc).
    pub log_level_in: Option<LogLevel>,
    /// Log level for outgoing traffic (node, vm, lxc).
    pub log_level_out: Option<LogLevel>,
    /// Log level for routed traffic (node).
    pub log_level_forward: Option<LogLevel>,
    /// Enable ebtables rules cluster wide (cluster; default on).
    #[schemars(extend("x-rare" = true))]
    pub ebtables: Option<bool>,
    /// Log rate limit (cluster), e.g. enable=1,rate=1/second,burst=5.
    #[schemars(length(max = 128), regex(pattern = LOG_RATELIMIT))]
    #[schemars(extend("x-rare" = true))]
    pub log_ratelimit: Option<String>,
    /// Allow DHCP (vm, lxc; default off).
    pub dhcp: Option<bool>,
    /// Default IP filters: only the guest's own addresses may send (vm, lxc).
    pub ipfilter: Option<bool>,
    /// MAC address filter (vm, lxc; default on).
    pub macfilter: Option<bool>,
    /// Allow Neighbor Discovery Protocol (node, vm, lxc; default on).
    pub ndp: Option<bool>,
    /// Allow sending Router Advertisements (vm, lxc).
    pub radv: Option<bool>,
    /// Use the nftables firewall, a tech preview (node; default off).
    pub nftables: Option<bool>,
    /// SMURFS filter (node).
    pub nosmurfs: Option<bool>,
    /// Log level of the SMURFS filter (node).
    #[schemars(extend("x-rare" = true))]
    pub smurf_log_level: Option<LogLevel>,
    /// Filter illegal combinations of TCP flags (node; default off).
    pub tcpflags: Option<bool>,
    /// Log level of the illegal TCP flags filter (node).
    #[schemars(extend("x-rare" = true))]
    pub tcp_flags_log_level: Option<LogLevel>,
    /// SYN flood protection (node; default off).
    pub protection_synflood: Option<bool>,
    /// SYN flood protection: burst per source IP (node; default 1000).
    #[schemars(extend("x-rare" = true))]
    pub protection_synflood_burst: Option<u32>,
    /// SYN flood protection: SYNs per second per source IP (node; default 200).
    #[schemars(extend("x-rare" = true))]
    pub protection_synflood_rate: Option<u32>,
    /// Log connection tracking information (node; default off).
    #[schemars(extend("x-rare" = true))]
    pub log_nf_conntrack: Option<bool>,
    /// Allow invalid packets on connection tracking (node; default off).
    #[schemars(extend("x-rare" = true))]
    pub nf_conntrack_allow_invalid: Option<bool>,
    /// Conntrack helpers, comma-separated: amanda, ftp, irc, netbios-ns, pptp, sane, sip, snmp, tftp (node; "" for none).
    #[schemars(length(max = 128), regex(pattern = CONNTRACK_HELPERS))]
    #[schemars(extend("x-rare" = true))]
    pub nf_conntrack_helpers: Option<String>,
    /// Most connections tracked (node; default 262144).
    #[schemars(range(min = 32768))]
    #[schemars(extend("x-rare" = true))]
    pub nf_conntrack_max: Option<u32>,
    /// Conntrack timeout of established connections, in seconds (node; default 432000).
    #[schemars(range(min = 7875))]
    #[schemars(extend("x-rare" = true))]
    pub nf_conntrack_tcp_timeout_established: Option<u32>,
    /// Conntrack SYN_RECV timeout, in seconds (node; default 60).
    #[schemars(range(min = 30, max = 60))]
    #[schemars(extend("x-rare" = true))]
    pub nf_conntrack_tcp_timeout_syn_recv: Option<u32>,
}

/// The firewall options `delete` can reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptionKey {
    Enable,
    PolicyIn,
    PolicyOut,
    PolicyForward,
    LogLevelIn,
    LogLevelOut,
    LogLevelForward,
    Ebtables,
    LogRatelimit,
    Dhcp,
    Ipfilter,
    Macfilter,
    Ndp,
    Radv,
    Nftables,
    Nosmurfs,
    SmurfLogLevel,
    Tcpflags,
    TcpFlagsLogLevel,
    ProtectionSynflood,
    ProtectionSynfloodBurst,
    ProtectionSynfloodRate,
    LogNfConntrack,
    NfConntrackAllowInvalid,
    NfConntrackHelpers,
    NfConntrackMax,
    NfConntrackTcpTimeoutEstablished,
    NfConntrackTcpTimeoutSynRecv,
}

/// The node given, or for a guest's scope left without one, the node the guest is on.
async fn guest_home(
    api: &Api,
    scope: OptionsScope,
    node: Option<Node>,
    vmid: Option<VmId>,
) -> Result<Option<Node>, ToolError> {
    match (scope, node, vmid) {
        (OptionsScope::Vm | OptionsScope::Lxc, None, Some(vmid)) => match api.guest_node(vmid).await? {
            Some(node) => Ok(Some(node)),
            None => Err(ToolError::invalid(
                "vmid",
                format!("names no guest of the cluster ({vmid}): proxmox_get_vms lists them"),
            )),
        },
        (_, node, _) => Ok(node),
    }
}

/// `/cluster/firewall/options`, `/nodes/{node}/firewall/options` or
/// `/nodes/{node}/{qemu|lxc}/{vmid}/firewall/options`.
fn options_path(scope: Scope<'_>) -> ApiPath {
    let base = match scope {
        Scope::Cluster => ApiPath::lit("/cluster"),
        Scope::Node(node) => ApiPath::lit("/nodes").join(node),
        Scope::Guest(kind, node, vmid) => ApiPath::lit("/nodes").join(node).join(&kind).join(&vmid),
    };
    base.join_lit("firewall").join_lit("options")
}

/// Show a firewall's options: on/off, policies, log levels. The datacenter's (scope cluster), a node's, a VM's or a
/// container's.
#[pve_tool(method = GET, category = "Cluster Management")]
async fn proxmox_get_firewall_options(
    api: Api,
    /// Whose firewall: cluster (the datacenter's), node, vm or lxc.
    scope: OptionsScope,
    /// The node (scope node; for vm or lxc, found from the vmid when left out).
    node: Option<Node>,
    /// The VM or container id (scope vm or lxc).
    vmid: Option<VmId>,
) -> ToolResult {
    let node = guest_home(&api, scope, node, vmid).await?;
    let target = scope.target(node.as_ref(), vmid)?;
    let options: Value = api.get(&options_path(target), ()).await?;
    let on = format::truthy(options.get("enable")).unwrap_or(scope.on_by_default());
    let default = if options.get("enable").is_none() { " (the default)" } else { "" };
    let mut block = Block::new(format!("🛡️ **Firewall options of {target}**"))
        .line("Firewall", format!("{}{default}", if on { "🟢 on" } else { "⚪ off" }));
    for (key, value) in options.as_object().into_iter().flatten() {
        if key != "enable" && key != "digest" && !value.is_null() {
            block = block.line(key, format::value(value));
        }
    }
    if !on {
        block = block.raw("").raw("Its rules do not apply while it is off (enable=1 turns it on).");
    }
    Ok(ToolOutput::new(block.finish(), options))
}

/// Change a firewall's options: on/off, policies, log levels and more (they differ by scope). Each option's
/// description names its scopes (others are refused); `delete` resets options to their defaults.
/// With the cluster firewall on, its policy_in (default DROP) applies to every node.
#[pve_tool(method = PUT, elevated, category = "Cluster Management")]
async fn proxmox_update_firewall_options(
    api: Api,
    /// Whose firewall: cluster (the datacenter's), node, vm or lxc.
    scope: OptionsScope,
    /// The node (scope node; for vm or lxc, found from the vmid when left out).
    node: Option<Node>,
    /// The VM or container id (scope vm or lxc).
    vmid: Option<VmId>,
    /// Options to reset to their defaults, e.g. ["policy_in", "log_level_in"] (or "policy_in,log_level_in").
    delete: Option<KeyList<OptionKey>>,
    /// Refuse the change if the options changed since they were read: the `digest` they came with.
    digest: Option<Digest>,
    #[flatten] options: FirewallOptions,
) -> ToolResult {
    let node = guest_home(&api, scope, node, vmid).await?;
    let target = scope.target(node.as_ref(), vmid)?;
    let mut params = super::to_params(&options)?;
    let reset = delete.as_ref().map(KeyList::names).unwrap_or_default();
    scope.check(&params, &reset)?;
    let set = super::set_keys(&params, &[]);
    if set.is_empty() && reset.is_empty() {
        return Err(ToolError::invalid("enable", "nothing to change: give at least one option or `delete`"));
    }
    params["delete"] = json!(delete);
    params["digest"] = json!(digest);
    let _: Value = api.put(&options_path(target), &params).await?;
    let mut text = format!("✅ Firewall options of {target} updated");
    if !set.is_empty() {
        text.push_str(&format!("\n• Set: {}", set.join(", ")));
    }
    if !reset.is_empty() {
        text.push_str(&format!("\n• Reset to default: {}", reset.join(", ")));
    }
    Ok(ToolOutput::new(text, json!({ "scope": scope, "node": node, "vmid": vmid, "set": set, "reset": reset })))
}
