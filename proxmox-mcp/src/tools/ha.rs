//! Cluster Management, high availability: HA resources, HA groups (replaced by HA rules in
//! Proxmox VE 9), HA rules (node and resource affinity, Proxmox VE 9) and the HA manager's status.

use super::{set_keys, to_params};
use crate::client::ApiError;
use crate::format::{self, Block, str_field};
use crate::page::{self, Page};
use crate::types::{ConfigId, Digest, HaResourceId, InvalidValue, shown, string_id};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_GET_HA_RESOURCES,
    &PROXMOX_GET_HA_RESOURCE,
    &PROXMOX_CREATE_HA_RESOURCE,
    &PROXMOX_UPDATE_HA_RESOURCE,
    &PROXMOX_DELETE_HA_RESOURCE,
    &PROXMOX_GET_HA_GROUPS,
    &PROXMOX_GET_HA_GROUP,
    &PROXMOX_CREATE_HA_GROUP,
    &PROXMOX_UPDATE_HA_GROUP,
    &PROXMOX_DELETE_HA_GROUP,
    &PROXMOX_LIST_HA_RULES,
    &PROXMOX_GET_HA_RULE,
    &PROXMOX_CREATE_HA_RULE,
    &PROXMOX_UPDATE_HA_RULE,
    &PROXMOX_DELETE_HA_RULE,
    &PROXMOX_GET_HA_STATUS,
];

/// The longest comment Proxmox keeps for HA resources and groups.
const MAX_COMMENT: usize = 4096;

string_id! {
    /// HA group members (Proxmox format `pve-ha-node-list`): `node[:priority]`, comma-separated,
    /// e.g. `pve1:2,pve2:1`.
    HaNodeList, kind = "HA node list",
    pattern = "^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(:[0-9]{1,9})?(,[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(:[0-9]{1,9})?)*$",
    max = 4096,
    rule = "node names, each optionally with `:priority` (a number, higher is preferred), separated by commas, e.g. pve1:2,pve2:1"
}

string_id! {
    /// Names of settings to remove (Proxmox format `pve-configid-list`), e.g. `comment,max_restart`.
    SettingList, kind = "list of setting names", pattern = "^[a-zA-Z][a-zA-Z0-9_-]*(,[a-zA-Z][a-zA-Z0-9_-]*)*$", max = 4096,
    rule = "setting names separated by commas, e.g. comment,max_restart"
}

/// Kinds of HA resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HaResourceType {
    Vm,
    Ct,
}

/// The state the HA manager should keep a resource in. (No doc comments on the variants: an
/// optional enum then has a plain `enum` schema.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HaState {
    Started,
    Stopped,
    Enabled,
    Disabled,
    Ignored,
}

/// Settings of an HA resource, as POST/PUT /cluster/ha/resources take them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HaResourceSettings {
    /// Requested state: started (default: keep it running), stopped (keep it stopped, still
    /// recovered on node failure), enabled (= started), disabled (stopped, not recovered) or
    /// ignored (HA leaves it alone).
    pub state: Option<HaState>,
    /// HA group to bind the resource to (Proxmox VE 8; refused once a PVE 9 cluster has migrated
    /// its groups to HA rules).
    pub group: Option<ConfigId>,
    /// How often to try to restart the resource on its node after a failed start (default 1).
    #[schemars(range(min = 0))]
    pub max_restart: Option<u32>,
    /// How often to try to relocate the resource to another node after failed starts (default 1).
    #[schemars(range(min = 0))]
    pub max_relocate: Option<u32>,
    /// Move the resource back to its highest-priority node when that node returns (default
    /// true). Proxmox VE 9 and later; version 8 rejects it.
    pub failback: Option<bool>,
    /// Free-text description.
    #[schemars(length(max = MAX_COMMENT))]
    pub comment: Option<String>,
}

impl HaResourceSettings {
    fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.group.is_none()
            && self.max_restart.is_none()
            && self.max_relocate.is_none()
            && self.failback.is_none()
            && self.comment.is_none()
    }
}

/// An error of the HA groups API explained: Proxmox VE 9 replaced groups by HA rules, and once a
/// cluster's groups are migrated every groups call fails. Other errors pass unchanged.
fn groups_error(e: ToolError, what: &str) -> ToolError {
    let ToolError::Api(api) = &e else { return e };
    let gone = match api {
        ApiError::NotImplemented(_) => true,
        ApiError::NotFound(m) => !m.contains("ha group"),
        ApiError::Status { message, .. } => message.contains("migrated to rules"),
        _ => false,
    };
    if !gone {
        return e;
    }
    ToolError::Other(format!(
        "{what} is not possible on this cluster: {api}\n\nProxmox VE 9 replaced HA groups with HA rules: on \
         upgrade a cluster's groups are migrated to node-affinity rules, after which the HA groups API refuses \
         every call (and HA resources no longer take a `group`). Set where HA resources may run with HA rules \
         (/cluster/ha/rules) instead: proxmox_list_ha_rules shows them (the migrated groups among them), \
         proxmox_create_ha_rule with type node-affinity, `resources` and `nodes` adds one, proxmox_update_ha_rule \
         and proxmox_delete_ha_rule change and remove them."
    ))
}

/// The `group` option of a resource refused because groups became rules: explained.
fn resource_error(e: ToolError) -> ToolError {
    match &e {
        ToolError::Api(ApiError::Status { message, .. }) if message.contains("migrated to rules") => {
            groups_error(e, "Binding an HA resource to a group")
        }
        _ => e,
    }
}

/// 🟢 started, 🔴 error or fenced, ⚪ stopped/disabled/ignored, 🟡 on the move.
fn ha_dot(state: &str) -> &'static str {
    match state {
        "started" => "🟢",
        "error" | "fence" => "🔴",
        "stopped" | "disabled" | "ignored" | "freeze" => "⚪",
        _ => "🟡",
    }
}

/// One line per HA resource: sid (type) — state [group], comment.
fn resource_line(r: &Value) -> String {
    let sid = str_field(r, "sid").unwrap_or("?");
    let state = str_field(r, "state").unwrap_or("started");
    let mut line = format!("• **{sid}**");
    if let Some(t) = str_field(r, "type") {
        line.push_str(&format!(" ({t})"));
    }
    line.push_str(&format!(" — requested {state}"));
    if let Some(g) = str_field(r, "group") {
        line.push_str(&format!(" [group {g}]"));
    }
    if let Some(c) = str_field(r, "comment").filter(|c| !c.is_empty()) {
        line.push_str(&format!(", {c}"));
    }
    line
}

/// List HA-managed resources. The VMs and containers the HA manager looks after, with their requested state.
#[pve_tool(path = "/cluster/ha/resources", method = GET, category = "Cluster Management", title = "Get HA resources")]
async fn proxmox_get_ha_resources(
    api: Api,
    /// Only resources of this kind: vm or ct.
    r#type: Option<HaResourceType>,
    #[flatten] page: Page,
) -> ToolResult {
    let mut resources: Vec<Value> = api.send(json!({ "type": r#type })).await?;
    resources.sort_by(|a, b| str_field(a, "sid").cmp(&str_field(b, "sid")));
    if resources.is_empty() {
        return Ok(ToolOutput::new("No HA resources found.", resources));
    }
    let counts = page::counts(&resources, &["state"]);
    let mut text = format!("🛡️ **HA resources** ({}). {}", resources.len(), page::counts_line(&counts, &["state"]));
    let page = page.cut(resources);
    text.push_str(&page.lines(resource_line));
    let mut data = page.data("items");
    data.extend(counts);
    Ok(ToolOutput::new(text, data))
}

/// Show one HA resource's settings. State, group, restart and relocate limits, failback.
#[pve_tool(path = "/cluster/ha/resources/<sid>", method = GET, category = "Cluster Management", title = "Get HA resource")]
async fn proxmox_get_ha_resource(
    api: Api,
    /// The HA resource id: vm:VMID or ct:VMID (a plain VMID also works), e.g. vm:100.
    sid: HaResourceId,
) -> ToolResult {
    let r: Value = api.send(()).await?;
    let text = Block::new(format!("🛡️ **HA resource {}**", str_field(&r, "sid").unwrap_or(sid.as_str())))
        .opt("Type", str_field(&r, "type"))
        .line("State", str_field(&r, "state").unwrap_or("started"))
        .opt("Group", str_field(&r, "group"))
        .opt("Max restart", r.get("max_restart").map(format::value))
        .opt("Max relocate", r.get("max_relocate").map(format::value))
        .opt("Failback", format::truthy(r.get("failback")).map(|b| if b { "yes" } else { "no" }))
        .opt("Comment", str_field(&r, "comment"))
        .finish();
    Ok(ToolOutput::new(text, r))
}

/// Put a guest under HA management. A VM or container, with its requested state and limits.
#[pve_tool(
    path = "/cluster/ha/resources",
    method = POST,
    elevated,
    category = "Cluster Management",
    title = "Create HA resource"
)]
async fn proxmox_create_ha_resource(
    api: Api,
    /// The HA resource id: vm:VMID or ct:VMID (or a plain VMID with `type`), e.g. vm:100.
    sid: HaResourceId,
    /// The kind of resource, when `sid` is a plain VMID: vm or ct.
    r#type: Option<HaResourceType>,
    #[flatten] settings: HaResourceSettings,
) -> ToolResult {
    let mut params = to_params(&settings)?;
    params["sid"] = json!(sid);
    params["type"] = json!(r#type);
    let _: Value = api.send(&params).await.map_err(resource_error)?;
    let text = Block::new(format!("✅ {sid} is now managed by HA"))
        .line("State", settings.state.map_or("started".into(), |s| format::value(&json!(s))))
        .opt("Group", settings.group.as_ref())
        .finish();
    Ok(ToolOutput::new(text, json!({ "sid": sid, "settings": params })))
}

/// Change an HA resource's settings. State, group, limits, failback, comment; or remove some.
#[pve_tool(
    path = "/cluster/ha/resources/<sid>",
    method = PUT,
    elevated,
    category = "Cluster Management",
    title = "Update HA resource"
)]
async fn proxmox_update_ha_resource(
    api: Api,
    /// The HA resource id, e.g. vm:100.
    sid: HaResourceId,
    /// Settings to reset to their defaults, comma-separated, e.g. comment,max_restart.
    delete: Option<SettingList>,
    /// Only change if the configuration still has this digest (from a read), against concurrent edits.
    digest: Option<Digest>,
    #[flatten] settings: HaResourceSettings,
) -> ToolResult {
    if settings.is_empty() && delete.is_none() {
        return Err(ToolError::invalid("state", "nothing to change: give at least one setting or `delete`"));
    }
    let mut params = to_params(&settings)?;
    params["delete"] = json!(delete);
    params["digest"] = json!(digest);
    let _: Value = api.send(&params).await.map_err(resource_error)?;
    let changed = set_keys(&params, &["digest"]);
    Ok(ToolOutput::new(
        format!("✅ HA resource {sid} updated ({})", changed.join(", ")),
        json!({ "sid": sid, "settings": params }),
    ))
}

/// Take a guest out of HA management. The guest itself stays as it is.
#[pve_tool(
    path = "/cluster/ha/resources/<sid>",
    method = DELETE,
    elevated,
    category = "Cluster Management",
    title = "Delete HA resource"
)]
async fn proxmox_delete_ha_resource(
    api: Api,
    /// The HA resource id, e.g. vm:100.
    sid: HaResourceId,
    /// Also remove the resource from the HA rules that name it, deleting rules left empty
    /// (Proxmox's default: true). Proxmox VE 9 and later; version 8 rejects it.
    purge: Option<bool>,
) -> ToolResult {
    let _: Value = api.send(json!({ "purge": purge })).await?;
    Ok(ToolOutput::new(format!("✅ {sid} is no longer managed by HA"), json!({ "sid": sid })))
}

/// One line per HA group: name, nodes, flags, comment.
fn group_line(g: &Value) -> String {
    let mut line =
        format!("• **{}** — nodes {}", str_field(g, "group").unwrap_or("?"), str_field(g, "nodes").unwrap_or("N/A"));
    if format::truthy(g.get("restricted")) == Some(true) {
        line.push_str(", restricted");
    }
    if format::truthy(g.get("nofailback")) == Some(true) {
        line.push_str(", no failback");
    }
    if let Some(c) = str_field(g, "comment").filter(|c| !c.is_empty()) {
        line.push_str(&format!(", {c}"));
    }
    line
}

/// List HA groups (Proxmox VE 8). Deprecated in VE 9, where HA rules replace them (proxmox_list_ha_rules).
#[pve_tool(path = "/cluster/ha/groups", method = GET, category = "Cluster Management", title = "Get HA groups")]
async fn proxmox_get_ha_groups(api: Api) -> ToolResult {
    let mut groups: Vec<Value> = api.send(()).await.map_err(|e| groups_error(e, "Listing HA groups"))?;
    groups.sort_by(|a, b| str_field(a, "group").cmp(&str_field(b, "group")));
    if groups.is_empty() {
        return Ok(ToolOutput::new("No HA groups found.", groups));
    }
    let mut text = format!("🛡️ **HA groups** ({})\n", groups.len());
    for g in &groups {
        text.push('\n');
        text.push_str(&group_line(g));
    }
    Ok(ToolOutput::new(text, groups))
}

/// Show one HA group. Member nodes with priorities, restricted and no-failback flags.
#[pve_tool(path = "/cluster/ha/groups/<group>", method = GET, category = "Cluster Management", title = "Get HA group")]
async fn proxmox_get_ha_group(
    api: Api,
    /// The HA group name.
    group: ConfigId,
) -> ToolResult {
    let g: Value = api.send(()).await.map_err(|e| groups_error(e, "Reading an HA group"))?;
    let flag = |k: &str| if format::truthy(g.get(k)) == Some(true) { "yes" } else { "no" };
    let text = Block::new(format!("🛡️ **HA group {group}**"))
        .line("Nodes", str_field(&g, "nodes").unwrap_or("N/A"))
        .line("Restricted", flag("restricted"))
        .line("No failback", flag("nofailback"))
        .opt("Comment", str_field(&g, "comment"))
        .finish();
    Ok(ToolOutput::new(text, g))
}

/// Settings of an HA group, as POST/PUT /cluster/ha/groups take them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HaGroupSettings {
    /// Keep resources on their current node when a higher-priority node comes back.
    pub nofailback: Option<bool>,
    /// Resources of this group may run only on its nodes (otherwise any node when none is up).
    pub restricted: Option<bool>,
    /// Free-text description.
    #[schemars(length(max = MAX_COMMENT))]
    pub comment: Option<String>,
}

/// The one group type Proxmox knows.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HaGroupType {
    #[default]
    Group,
}

/// Create an HA group (Proxmox VE 8). The nodes its resources prefer, with priorities (VE 9: proxmox_create_ha_rule).
#[pve_tool(path = "/cluster/ha/groups", method = POST, elevated, category = "Cluster Management", title = "Create HA group")]
async fn proxmox_create_ha_group(
    api: Api,
    /// The new group's name: a letter, then letters, digits, `-` or `_`.
    group: ConfigId,
    /// Member nodes, each optionally with `:priority` (higher is preferred), e.g. pve1:2,pve2:1.
    nodes: HaNodeList,
    /// The group type; only `group` exists.
    #[schemars(extend("x-rare" = true))]
    r#type: Option<HaGroupType>,
    #[flatten] settings: HaGroupSettings,
) -> ToolResult {
    let mut params = to_params(&settings)?;
    params["group"] = json!(group);
    params["nodes"] = json!(nodes);
    params["type"] = json!(r#type);
    let _: Value = api.send(&params).await.map_err(|e| groups_error(e, "Creating an HA group"))?;
    Ok(ToolOutput::new(
        format!("✅ HA group {group} created\n\n• Nodes: {nodes}"),
        json!({ "group": group, "settings": params }),
    ))
}

/// Change an HA group (Proxmox VE 8). Its nodes and priorities, flags or comment.
#[pve_tool(
    path = "/cluster/ha/groups/<group>",
    method = PUT,
    elevated,
    category = "Cluster Management",
    title = "Update HA group"
)]
async fn proxmox_update_ha_group(
    api: Api,
    /// The HA group name.
    group: ConfigId,
    /// New member nodes, each optionally with `:priority`, e.g. pve1:2,pve2:1.
    nodes: Option<HaNodeList>,
    /// Settings to reset to their defaults, comma-separated, e.g. comment,nofailback.
    delete: Option<SettingList>,
    /// Only change if the configuration still has this digest (from a read), against concurrent edits.
    digest: Option<Digest>,
    #[flatten] settings: HaGroupSettings,
) -> ToolResult {
    if nodes.is_none()
        && delete.is_none()
        && settings.comment.is_none()
        && settings.nofailback.is_none()
        && settings.restricted.is_none()
    {
        return Err(ToolError::invalid("nodes", "nothing to change: give at least one setting or `delete`"));
    }
    let mut params = to_params(&settings)?;
    params["nodes"] = json!(nodes);
    params["delete"] = json!(delete);
    params["digest"] = json!(digest);
    let _: Value = api.send(&params).await.map_err(|e| groups_error(e, "Changing an HA group"))?;
    Ok(ToolOutput::new(format!("✅ HA group {group} updated"), json!({ "group": group, "settings": params })))
}

/// Delete an HA group (Proxmox VE 8). It must not be used by any HA resource.
#[pve_tool(
    path = "/cluster/ha/groups/<group>",
    method = DELETE,
    elevated,
    category = "Cluster Management",
    title = "Delete HA group"
)]
async fn proxmox_delete_ha_group(
    api: Api,
    /// The HA group name.
    group: ConfigId,
) -> ToolResult {
    let _: Value = api.send(()).await.map_err(|e| groups_error(e, "Deleting an HA group"))?;
    Ok(ToolOutput::new(format!("✅ HA group {group} deleted"), json!({ "group": group })))
}

string_id! {
    /// HA resources (Proxmox format `pve-ha-resource-id-list`): `vm:VMID` or `ct:VMID`,
    /// comma-separated, e.g. `vm:100,ct:101`. Unlike an HA resource's own id, each needs its type.
    HaResourceList, kind = "list of HA resource ids",
    pattern = "^(vm|ct):[1-9][0-9]{2,8}(,(vm|ct):[1-9][0-9]{2,8})*$", max = 4096,
    rule = "vm:VMID or ct:VMID, separated by commas, e.g. vm:100,ct:101"
}

string_id! {
    /// One HA resource as HA rules name it (Proxmox format `pve-ha-resource-id`): `vm:VMID` or
    /// `ct:VMID`, e.g. `vm:100`.
    HaRuleResource, kind = "HA resource id", pattern = "^(vm|ct):[1-9][0-9]{2,8}$", max = 12,
    rule = "vm:VMID or ct:VMID, e.g. vm:100"
}

/// The kinds of HA rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HaRuleType {
    NodeAffinity,
    ResourceAffinity,
}

impl HaRuleType {
    fn as_str(self) -> &'static str {
        match self {
            HaRuleType::NodeAffinity => "node-affinity",
            HaRuleType::ResourceAffinity => "resource-affinity",
        }
    }
}

/// Whether resources go together (positive) or apart (negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Affinity {
    Positive,
    Negative,
}

/// Settings of an HA rule, as POST/PUT /cluster/ha/rules take them (besides id, type, resources).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HaRuleSettings {
    /// node-affinity: the nodes, each optionally with `:priority` (higher is preferred), e.g. pve1:2,pve2:1.
    pub nodes: Option<HaNodeList>,
    /// node-affinity: positive (default) keeps the resources on `nodes`, negative off them.
    /// resource-affinity: positive keeps the resources on one node, negative on separate nodes.
    pub affinity: Option<Affinity>,
    /// node-affinity: true = the resources run only on `nodes` (stopped if none is up); false (default) = preferred.
    pub strict: Option<bool>,
    /// true = the rule is off (kept, not applied).
    pub disable: Option<bool>,
    /// Free-text description.
    #[schemars(length(max = MAX_COMMENT))]
    pub comment: Option<String>,
}

impl HaRuleSettings {
    fn is_empty(&self) -> bool {
        self.nodes.is_none()
            && self.affinity.is_none()
            && self.strict.is_none()
            && self.disable.is_none()
            && self.comment.is_none()
    }

    /// Refuse what the rule type does not take: `nodes` and `strict` belong to node-affinity rules.
    fn check(&self, r#type: HaRuleType) -> Result<(), ToolError> {
        if r#type == HaRuleType::ResourceAffinity {
            for (arg, given) in [("nodes", self.nodes.is_some()), ("strict", self.strict.is_some())] {
                if given {
                    return Err(ToolError::invalid(
                        arg,
                        "is for node-affinity rules only: a resource-affinity rule keeps its resources together or \
                         apart (`affinity`), wherever they run",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// An error of the HA rules API with what to do on Proxmox VE 8, which has no HA rules (it answers
/// 501): HA groups. Other errors pass unchanged.
fn rules_error(e: ToolError) -> ToolError {
    match e {
        ToolError::Api(ApiError::NotImplemented(_)) => ToolError::Hinted(
            Box::new(e),
            "HA rules came with Proxmox VE 9; on Proxmox VE 8 HA groups say where HA resources run \
             (proxmox_get_ha_groups, proxmox_create_ha_group)."
                .into(),
        ),
        other => other,
    }
}

/// One line per HA rule: id (type, affinity, strict) — resources → nodes, state, comment.
fn rule_line(r: &Value) -> String {
    let kind = str_field(r, "type").unwrap_or("?");
    let mut line = format!("• **{}** ({kind}", str_field(r, "rule").unwrap_or("?"));
    if let Some(a) = str_field(r, "affinity") {
        line.push_str(&format!(", {a}"));
    }
    if format::truthy(r.get("strict")) == Some(true) {
        line.push_str(", strict");
    }
    line.push_str(&format!(") — {}", str_field(r, "resources").unwrap_or("no resources")));
    if let Some(n) = str_field(r, "nodes") {
        line.push_str(&format!(" → {n}"));
    }
    if format::truthy(r.get("disable")) == Some(true) {
        line.push_str(" [disabled]");
    }
    if let Some(c) = str_field(r, "comment").filter(|c| !c.is_empty()) {
        line.push_str(&format!(", {c}"));
    }
    line
}

/// List HA rules (Proxmox VE 9): where HA resources run (node-affinity), which run together or apart
/// (resource-affinity).
#[pve_tool(path = "/cluster/ha/rules", method = GET, category = "Cluster Management", title = "List HA rules")]
async fn proxmox_list_ha_rules(
    api: Api,
    /// Only rules of this type.
    r#type: Option<HaRuleType>,
    /// Only rules that name this HA resource, e.g. vm:100.
    resource: Option<HaRuleResource>,
    #[flatten] page: Page,
) -> ToolResult {
    let mut rules: Vec<Value> = api.send(json!({ "type": r#type, "resource": resource })).await.map_err(rules_error)?;
    rules.sort_by(|a, b| str_field(a, "rule").cmp(&str_field(b, "rule")));
    if rules.is_empty() {
        return Ok(ToolOutput::new("No HA rules found.", rules));
    }
    let mut text = format!("🛡️ **HA rules** ({})", rules.len());
    let page = page.cut(rules);
    text.push_str(&page.lines(rule_line));
    Ok(ToolOutput::new(text, page.data("items")))
}

/// Show one HA rule (Proxmox VE 9). Its type, resources, nodes, affinity and state.
#[pve_tool(path = "/cluster/ha/rules/<rule>", method = GET, category = "Cluster Management", title = "Get HA rule")]
async fn proxmox_get_ha_rule(
    api: Api,
    /// The HA rule id.
    rule: ConfigId,
) -> ToolResult {
    let r: Value = api.send(()).await.map_err(rules_error)?;
    let yes_no = |k: &str| format::truthy(r.get(k)).map(|b| if b { "yes" } else { "no" });
    let text = Block::new(format!("🛡️ **HA rule {rule}**"))
        .line("Type", str_field(&r, "type").unwrap_or("?"))
        .opt("Resources", str_field(&r, "resources"))
        .opt("Nodes", str_field(&r, "nodes"))
        .opt("Affinity", str_field(&r, "affinity"))
        .opt("Strict", yes_no("strict"))
        .line("Disabled", yes_no("disable").unwrap_or("no"))
        .opt("Comment", str_field(&r, "comment"))
        .finish();
    Ok(ToolOutput::new(text, r))
}

/// Create an HA rule (Proxmox VE 9): node-affinity keeps `resources` on `nodes`; resource-affinity keeps them
/// together or apart (`affinity`).
#[pve_tool(path = "/cluster/ha/rules", method = POST, elevated, category = "Cluster Management", title = "Create HA rule")]
async fn proxmox_create_ha_rule(
    api: Api,
    /// The new rule's id: a letter, then letters, digits, `-` or `_`.
    rule: ConfigId,
    /// node-affinity (needs `nodes`) or resource-affinity (needs `affinity`).
    r#type: HaRuleType,
    /// The HA resources it applies to, e.g. vm:100,ct:101.
    resources: HaResourceList,
    #[flatten] settings: HaRuleSettings,
) -> ToolResult {
    settings.check(r#type)?;
    match r#type {
        HaRuleType::NodeAffinity if settings.nodes.is_none() => {
            return Err(ToolError::invalid("nodes", "is required for a node-affinity rule, e.g. pve1:2,pve2:1"));
        }
        HaRuleType::ResourceAffinity if settings.affinity.is_none() => {
            return Err(ToolError::invalid(
                "affinity",
                "is required for a resource-affinity rule: positive (together) or negative (apart)",
            ));
        }
        _ => {}
    }
    let mut params = to_params(&settings)?;
    params["rule"] = json!(rule);
    params["type"] = json!(r#type);
    params["resources"] = json!(resources);
    let _: Value = api.send(&params).await.map_err(rules_error)?;
    let text = Block::new(format!("✅ HA rule {rule} created"))
        .line("Type", r#type.as_str())
        .line("Resources", &resources)
        .opt("Nodes", settings.nodes.as_ref())
        .opt("Affinity", settings.affinity.map(|a| format::value(&json!(a))))
        .finish();
    Ok(ToolOutput::new(text, json!({ "rule": rule, "settings": params })))
}

/// Change an HA rule (Proxmox VE 9); `type` must be the rule's own. Its resources, nodes, affinity, strictness,
/// state or comment.
#[pve_tool(
    path = "/cluster/ha/rules/<rule>",
    method = PUT,
    elevated,
    category = "Cluster Management",
    title = "Update HA rule"
)]
async fn proxmox_update_ha_rule(
    api: Api,
    /// The HA rule id.
    rule: ConfigId,
    /// The rule's type (Proxmox requires it; it cannot be changed): node-affinity or resource-affinity.
    r#type: HaRuleType,
    /// New HA resources, e.g. vm:100,ct:101.
    resources: Option<HaResourceList>,
    /// Settings to reset to their defaults, comma-separated, e.g. comment,strict.
    delete: Option<SettingList>,
    /// Only change if the rules still have this digest (from a read), against concurrent edits.
    digest: Option<Digest>,
    #[flatten] settings: HaRuleSettings,
) -> ToolResult {
    settings.check(r#type)?;
    if settings.is_empty() && resources.is_none() && delete.is_none() {
        return Err(ToolError::invalid("resources", "nothing to change: give at least one setting or `delete`"));
    }
    let mut params = to_params(&settings)?;
    params["type"] = json!(r#type);
    params["resources"] = json!(resources);
    params["delete"] = json!(delete);
    params["digest"] = json!(digest);
    let _: Value = api.send(&params).await.map_err(rules_error)?;
    let changed = set_keys(&params, &["type", "digest"]);
    Ok(ToolOutput::new(
        format!("✅ HA rule {rule} updated ({})", changed.join(", ")),
        json!({ "rule": rule, "settings": params }),
    ))
}

/// Delete an HA rule (Proxmox VE 9). Its resources stay HA-managed, without its placement.
#[pve_tool(
    path = "/cluster/ha/rules/<rule>",
    method = DELETE,
    elevated,
    category = "Cluster Management",
    title = "Delete HA rule"
)]
async fn proxmox_delete_ha_rule(
    api: Api,
    /// The HA rule id.
    rule: ConfigId,
) -> ToolResult {
    let _: Value = api.send(()).await.map_err(rules_error)?;
    Ok(ToolOutput::new(format!("✅ HA rule {rule} deleted"), json!({ "rule": rule })))
}

/// Show the HA manager's live status. Quorum, the master, each node's LRM and every managed resource's state.
#[pve_tool(method = GET, category = "Cluster Management", title = "Get HA status")]
async fn proxmox_get_ha_status(api: Api) -> ToolResult {
    let current: Vec<Value> = api.get(&ApiPath::lit("/cluster/ha/status/current"), ()).await?;
    // The full manager state is extra detail: its failure does not hide the summary.
    let (manager, manager_error) = match api.get::<Value>(&ApiPath::lit("/cluster/ha/status/manager_status"), ()).await
    {
        Ok(m) => (m, None),
        Err(e) => (Value::Null, Some(e.to_string())),
    };
    let of_type = |t: &'static str| current.iter().filter(move |e| str_field(e, "type") == Some(t));
    let mut block = Block::new("🛡️ **HA status**");
    for e in of_type("quorum") {
        let ok = format::truthy(e.get("quorate")).unwrap_or(str_field(e, "status") == Some("OK"));
        block = block.line(
            "Quorum",
            format!(
                "{} {}",
                if ok { "🟢" } else { "🔴" },
                str_field(e, "status").unwrap_or(if ok { "OK" } else { "no quorum" })
            ),
        );
    }
    for e in of_type("master") {
        let mut line = str_field(e, "status").unwrap_or("?").to_string();
        if let Some(armed) = str_field(e, "armed-state") {
            line.push_str(&format!(", HA {armed}"));
        }
        if let Some(mode) = str_field(e, "resource_mode") {
            line.push_str(&format!(", resources {mode}"));
        }
        block = block.line("Master", line);
    }
    for e in of_type("lrm") {
        block =
            block.line(&format!("LRM {}", str_field(e, "node").unwrap_or("?")), str_field(e, "status").unwrap_or("?"));
    }
    for e in of_type("fencing") {
        block = block.line("Fencing", str_field(e, "status").unwrap_or("?"));
    }
    let services: Vec<&Value> = of_type("service").collect();
    if services.is_empty() {
        block = block.raw("").raw("No HA-managed resources.");
    } else {
        block = block.raw("").raw(format!("Resources ({}):", services.len()));
        for s in &services {
            let sid = str_field(s, "sid").or(str_field(s, "id")).unwrap_or("?");
            let state = str_field(s, "state").unwrap_or("?");
            let mut line =
                format!("• {} **{sid}** on {} — {state}", ha_dot(state), str_field(s, "node").unwrap_or("?"));
            if let Some(req) = str_field(s, "request_state").filter(|r| *r != state) {
                line.push_str(&format!(" (requested {req})"));
            }
            block = block.raw(line);
        }
    }
    if let Some(err) = &manager_error {
        block = block.raw("").raw(format!("⚠️ Full manager status unavailable: {err}"));
    }
    Ok(ToolOutput::new(
        block.finish(),
        json!({ "current": current, "manager_status": manager, "manager_status_error": manager_error }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ha_resource_lists() {
        for ok in ["vm:100", "vm:100,ct:101", "ct:999999999,vm:101"] {
            assert!(HaResourceList::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "100", "vm:100,101", "vm:99", "qemu:100", "vm:100,", "vm:100, ct:101", "vm:100;ct:101", "ct:"] {
            assert!(HaResourceList::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ha_node_lists() {
        let longest = format!("{}:999999999", "n".repeat(63));
        for ok in ["pve1", "pve1:2,pve2:1", "a,b:0", &longest] {
            assert!(HaNodeList::new(ok).is_ok(), "{ok}");
        }
        for bad in ["pve1:", "pve1:1234567890", &"n".repeat(64), "-a", "a-", "pve1,,pve2", "pve1:x", "pve1 ,pve2"] {
            assert!(HaNodeList::new(bad).is_err(), "{bad}");
        }
    }
}
