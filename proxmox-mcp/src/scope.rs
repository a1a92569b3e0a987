//! Scoping an agent to some guests and nodes (`PROXMOX_ALLOWED_VMIDS`, `PROXMOX_ALLOWED_NODES`,
//! or [`crate::Context::with_scope`]).
//!
//! A [`Scope`] is enforced in two places, for every tool, built in or downstream:
//! - [`crate::ToolDescriptor::call`] refuses, before any request, a call whose arguments address a
//!   guest or node outside it ([`Scope::check_arguments`]): `vmid`, `newid` and lists of ids
//!   (`"100,101"`), `node`, a `target` node, `nodes` lists, HA `sid`s, replication job ids, UPIDs,
//!   and a guest selection by `all` or `pool` (backup jobs) while ids are scoped. A guest found by
//!   its id alone is refused too if it lives on a node outside the scope.
//! - [`crate::Api`] filters the answers of the known list endpoints ([`Scope::filter_answer`]):
//!   `/cluster/resources`, `/cluster/status`, `/nodes`, the guest lists of a node, task lists,
//!   storage content, storage definitions (by their `nodes`), HA resources and status,
//!   replication jobs. The call's result then says it
//!   was scoped, and how many entries were hidden (`structuredContent.scope`).
//!
//! Both unset (the default) is no scope at all.

use crate::tool::{JsonObject, ToolDescriptor, ToolError};
use crate::types::{Node, VmId};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The guests and nodes an agent may see and address. The default allows everything.
///
/// ```
/// use proxmox_mcp::scope::Scope;
/// let scope = Scope::default().with_vmids("100-199, 300").unwrap().with_nodes("pve1").unwrap();
/// assert!(scope.allows_vmid(150) && scope.allows_vmid(300) && !scope.allows_vmid(200));
/// assert!(scope.allows_node("pve1") && !scope.allows_node("pve2"));
/// assert_eq!(scope.to_string(), "guests 100-199,300 on nodes pve1");
/// assert!(Scope::default().with_vmids("199-100").is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Sorted, merged ranges of allowed guest ids; `None`: every id.
    vmids: Option<Vec<RangeInclusive<u64>>>,
    /// Allowed node names, sorted; `None`: every node.
    nodes: Option<Vec<String>>,
}

impl Scope {
    /// Only these guest ids: ids and ranges, comma-separated (`100-199,300`).
    pub fn with_vmids(mut self, spec: &str) -> Result<Self, String> {
        self.vmids = Some(parse_vmids(spec)?);
        Ok(self)
    }

    /// Only these nodes: names, comma-separated (`pve1,pve2`).
    pub fn with_nodes(mut self, spec: &str) -> Result<Self, String> {
        self.nodes = Some(parse_nodes(spec)?);
        Ok(self)
    }

    /// What both scopes allow (a token's scope within the server's).
    ///
    /// ```
    /// use proxmox_mcp::scope::Scope;
    /// let server = Scope::default().with_vmids("100-199").unwrap();
    /// let token = Scope::default().with_vmids("150-250").unwrap().with_nodes("pve1").unwrap();
    /// let both = server.intersect(&token);
    /// assert!(both.allows_vmid(150) && !both.allows_vmid(120) && !both.allows_vmid(220));
    /// assert!(both.allows_node("pve1") && !both.allows_node("pve2"));
    /// assert_eq!(Scope::default().intersect(&Scope::default()), Scope::default());
    /// ```
    pub fn intersect(&self, other: &Scope) -> Scope {
        let vmids = match (&self.vmids, &other.vmids) {
            (None, v) | (v, None) => v.clone(),
            (Some(a), Some(b)) => Some(
                a.iter()
                    .flat_map(|x| {
                        b.iter().filter_map(move |y| {
                            let (lo, hi) = ((*x.start()).max(*y.start()), (*x.end()).min(*y.end()));
                            (lo <= hi).then_some(lo..=hi)
                        })
                    })
                    .collect(),
            ),
        };
        let nodes = match (&self.nodes, &other.nodes) {
            (None, n) | (n, None) => n.clone(),
            (Some(a), Some(b)) => Some(a.iter().filter(|n| b.contains(n)).cloned().collect()),
        };
        Scope { vmids, nodes }
    }

    /// No scope: every guest and node.
    pub fn is_unrestricted(&self) -> bool {
        self.vmids.is_none() && self.nodes.is_none()
    }

    /// Whether guest ids are scoped.
    pub fn limits_vmids(&self) -> bool {
        self.vmids.is_some()
    }

    /// Whether nodes are scoped.
    pub fn limits_nodes(&self) -> bool {
        self.nodes.is_some()
    }

    pub fn allows_vmid(&self, vmid: u64) -> bool {
        self.vmids.as_ref().is_none_or(|ranges| ranges.iter().any(|r| r.contains(&vmid)))
    }

    pub fn allows_node(&self, node: &str) -> bool {
        self.nodes.as_ref().is_none_or(|nodes| nodes.iter().any(|n| n == node))
    }

    /// The allowed ids as they are written (`100-199,300`), if ids are scoped.
    pub fn vmids_spec(&self) -> Option<String> {
        self.vmids.as_ref().map(|ranges| {
            ranges
                .iter()
                .map(
                    |r| if r.start() == r.end() { r.start().to_string() } else { format!("{}-{}", r.start(), r.end()) },
                )
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// The allowed nodes, if nodes are scoped.
    pub fn node_names(&self) -> Option<&[String]> {
        self.nodes.as_deref()
    }

    /// The lowest allowed guest id not in `used`, if any is left.
    pub fn first_free_vmid(&self, used: &BTreeSet<u64>) -> Option<u64> {
        let all = [VmId::MIN as u64..=VmId::MAX as u64];
        let ranges = self.vmids.as_deref().unwrap_or(&all);
        ranges.iter().find_map(|r| {
            // Each used id skips one: at most `used.len() + 1` steps per range.
            let mut id = *r.start();
            while used.contains(&id) {
                id += 1;
            }
            (id <= *r.end()).then_some(id)
        })
    }

    /// The scope as data, for `structuredContent.scope`.
    pub fn to_json(&self) -> Value {
        json!({ "vmids": self.vmids_spec(), "nodes": self.nodes })
    }

    fn refuse(&self, argument: &str, what: String) -> ToolError {
        ToolError::OutOfScope { argument: argument.to_string(), message: what, scope: self.to_string() }
    }

    fn check_vmid(&self, argument: &str, vmid: u64) -> Result<(), ToolError> {
        if self.allows_vmid(vmid) {
            return Ok(());
        }
        Err(self.refuse(argument, format!("guest {vmid}")))
    }

    fn check_node(&self, argument: &str, node: &str) -> Result<(), ToolError> {
        if self.allows_node(node) {
            return Ok(());
        }
        Err(self.refuse(argument, format!("node {node}")))
    }

    /// Refuse arguments that address a guest or node outside the scope (see the module
    /// documentation). `args` are already checked against the tool's schema.
    pub fn check_arguments(&self, tool: &'static ToolDescriptor, args: &JsonObject) -> Result<(), ToolError> {
        if self.is_unrestricted() {
            return Ok(());
        }
        for (key, value) in args {
            match key.as_str() {
                "vmid" | "newid" => {
                    for id in ids(value) {
                        self.check_vmid(key, id)?;
                    }
                }
                "node" => {
                    if let Some(node) = value.as_str() {
                        self.check_node(key, node)?;
                    }
                }
                // A node only where it is a node name (a storage's `target` is an iSCSI target).
                "target" if is_node_arg(tool, key) => {
                    if let Some(node) = value.as_str() {
                        self.check_node(key, node)?;
                    }
                }
                // `pve1,pve2` (storage) or `pve1:2,pve2:1` (HA group priorities).
                "nodes" => {
                    for node in value.as_str().unwrap_or_default().split(',') {
                        let node = node.split(':').next().unwrap_or_default().trim();
                        if !node.is_empty() {
                            self.check_node(key, node)?;
                        }
                    }
                }
                // An HA resource: `vm:100`, `ct:200` or `100`.
                "sid" => {
                    if let Some(id) = value.as_str().and_then(|s| s.rsplit(':').next()).and_then(|s| s.parse().ok()) {
                        self.check_vmid(key, id)?;
                    }
                }
                // A replication job: `<vmid>-<n>`.
                "id" if tool.path.is_some_and(|p| p.contains("/replication")) => {
                    if let Some(id) = value.as_str().and_then(|s| s.split('-').next()).and_then(|s| s.parse().ok()) {
                        self.check_vmid(key, id)?;
                    }
                }
                // `UPID:node:pid:pstart:starttime:type:id:user:`: the node, and the guest if any.
                "upid" => {
                    let fields: Vec<&str> = value.as_str().unwrap_or_default().split(':').collect();
                    if let Some(node) = fields.get(1) {
                        self.check_node(key, node)?;
                    }
                    if let Some(id) = fields.get(6).and_then(|s| s.parse().ok()) {
                        self.check_vmid(key, id)?;
                    }
                }
                _ => {}
            }
        }
        // A backup job's selection of guests by `all` or `pool` reaches beyond a scope of ids.
        if self.limits_vmids() && takes(tool, "exclude") && takes(tool, "all") {
            if args.get("all").is_some_and(|a| a == &Value::Bool(true) || a == 1) {
                return Err(self.refuse("all", "every guest".into()));
            }
            if let Some(pool) = args.get("pool").and_then(Value::as_str) {
                return Err(self.refuse("pool", format!("the guests of pool {pool}")));
            }
        }
        Ok(())
    }

    /// Drop the entries of a known list endpoint's answer that are outside the scope. `None` if
    /// `path` is not one of them (nothing changed), else how many entries were dropped.
    pub fn filter_answer(&self, path: &str, answer: &mut Value) -> Option<usize> {
        if self.is_unrestricted() {
            return None;
        }
        let kind = ListKind::of(path)?;
        let Value::Array(items) = answer else { return None };
        let before = items.len();
        items.retain(|item| self.allows_item(kind, item));
        Some(before - items.len())
    }

    fn allows_item(&self, kind: ListKind, item: &Value) -> bool {
        let text = |k: &str| item.get(k).and_then(Value::as_str);
        if kind == ListKind::BackupJobs {
            return self.allows_backup_job(item);
        }
        if kind == ListKind::StorageConfig {
            // No `nodes`: the storage is on every node.
            return text("nodes").is_none_or(|nodes| nodes.split(',').any(|n| self.allows_node(n.trim())));
        }
        let number = |k: &str| match item.get(k) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        let vmid = match kind {
            // A task's `id` is its guest's where it is a number (`qmstart` of 100).
            ListKind::Tasks => number("vmid").or_else(|| number("id")),
            ListKind::Replication => number("guest").or_else(|| number("vmid")),
            ListKind::Ha => {
                number("vmid").or_else(|| text("sid").and_then(|s| s.rsplit(':').next()).and_then(|s| s.parse().ok()))
            }
            _ => number("vmid"),
        };
        let node = match kind {
            ListKind::Status => (text("type") == Some("node")).then(|| text("name")).flatten(),
            _ => text("node"),
        };
        vmid.is_none_or(|id| self.allows_vmid(id)) && node.is_none_or(|n| self.allows_node(n))
    }
}

impl Scope {
    /// A backup job is in scope when it is not tied to a node outside the scope and backs up
    /// listed guests that are all allowed: one that takes every guest or a pool's is not, while
    /// ids are scoped.
    fn allows_backup_job(&self, job: &Value) -> bool {
        let node_ok = job.get("node").and_then(Value::as_str).is_none_or(|node| self.allows_node(node));
        if !node_ok {
            return false;
        }
        if self.vmids_spec().is_none() {
            return true;
        }
        let all = job.get("all").is_some_and(|a| a == &Value::Bool(true) || a == 1 || a == "1");
        if all || job.get("pool").is_some_and(|p| !p.is_null()) {
            return false;
        }
        let listed = job.get("vmid").map(ids).unwrap_or_default();
        !listed.is_empty() && listed.iter().all(|id| self.allows_vmid(*id))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.vmids_spec().map(|ids| if ids.is_empty() { "(none)".to_string() } else { ids }), &self.nodes) {
            (None, None) => f.write_str("every guest and node"),
            (Some(ids), None) => write!(f, "guests {ids}"),
            (None, Some(nodes)) => write!(f, "nodes {}", nodes.join(",")),
            (Some(ids), Some(nodes)) => write!(f, "guests {ids} on nodes {}", nodes.join(",")),
        }
    }
}

/// The list endpoints whose answers are filtered, by the fields their entries carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListKind {
    /// `vmid` and `node` fields: `/cluster/resources`, `/nodes`, a node's guests, storage content.
    Plain,
    /// `/cluster/status`: node entries by `name`.
    Status,
    Tasks,
    Ha,
    Replication,
    /// `/cluster/backup`: a job is shown only if every guest it may back up is in scope.
    BackupJobs,
    /// `/storage`: a storage limited to some `nodes` is shown if one of them is in scope.
    StorageConfig,
}

impl ListKind {
    fn of(path: &str) -> Option<ListKind> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        Some(match segments.as_slice() {
            ["cluster", "resources"] | ["nodes"] | ["nodes", _, "qemu" | "lxc"] => ListKind::Plain,
            ["nodes", _, "storage", _, "content"] => ListKind::Plain,
            ["cluster", "status"] => ListKind::Status,
            ["cluster", "tasks"] | ["nodes", _, "tasks"] => ListKind::Tasks,
            ["cluster", "ha", "resources"] | ["cluster", "ha", "status", "current"] => ListKind::Ha,
            ["cluster", "replication"] | ["nodes", _, "replication"] => ListKind::Replication,
            ["cluster", "backup"] => ListKind::BackupJobs,
            ["storage"] => ListKind::StorageConfig,
            _ => return None,
        })
    }
}

/// Whether a tool takes this argument.
fn takes(tool: &'static ToolDescriptor, key: &str) -> bool {
    crate::arguments::property(tool, key).is_some()
}

/// Whether an argument of a tool is a node name (its schema has the node pattern).
fn is_node_arg(tool: &'static ToolDescriptor, key: &str) -> bool {
    crate::arguments::property(tool, key)
        .and_then(|p| p.get("pattern").and_then(Value::as_str).map(|p| p == Node::PATTERN))
        .unwrap_or(false)
}

/// The guest ids in an argument: a number, a list (`"100,101"`, `"100 101"`) or an array.
fn ids(value: &Value) -> Vec<u64> {
    match value {
        Value::Number(n) => n.as_u64().into_iter().collect(),
        Value::String(s) => {
            s.split([',', ';', ' ']).filter(|p| !p.is_empty()).filter_map(|p| p.trim().parse().ok()).collect()
        }
        Value::Array(items) => items.iter().flat_map(ids).collect(),
        _ => Vec::new(),
    }
}

/// `PROXMOX_ALLOWED_VMIDS`: ids and ranges, comma-separated.
pub fn parse_vmids(spec: &str) -> Result<Vec<RangeInclusive<u64>>, String> {
    let id = |s: &str| -> Result<u64, String> {
        let s = s.trim();
        s.parse::<u64>()
            .ok()
            .filter(|n| (VmId::MIN as u64..=VmId::MAX as u64).contains(n))
            .ok_or_else(|| format!("\"{s}\" is not a guest id (100 to 999999999)"))
    };
    let mut ranges = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let range = match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (id(a)?, id(b)?);
                if a > b {
                    return Err(format!("the range \"{part}\" ends before it starts"));
                }
                a..=b
            }
            None => {
                let a = id(part)?;
                a..=a
            }
        };
        ranges.push(range);
    }
    if ranges.is_empty() {
        return Err("names no guest id: give ids and ranges, e.g. 100-199,300".into());
    }
    ranges.sort_by_key(|r| *r.start());
    let mut merged: Vec<RangeInclusive<u64>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if *r.start() <= last.end().saturating_add(1) => {
                *last = *last.start()..=(*last.end()).max(*r.end());
            }
            _ => merged.push(r),
        }
    }
    Ok(merged)
}

/// `PROXMOX_ALLOWED_NODES`: node names, comma-separated.
pub fn parse_nodes(spec: &str) -> Result<Vec<String>, String> {
    let mut nodes = BTreeSet::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let node = Node::new(part).map_err(|e| e.to_string())?;
        nodes.insert(node.as_str().to_string());
    }
    if nodes.is_empty() {
        return Err("names no node: give node names, e.g. pve1,pve2".into());
    }
    Ok(nodes.into_iter().collect())
}

/// What one call's scope filters hid, shared by the clones of its context.
#[derive(Debug, Default)]
pub(crate) struct ScopeReport {
    filtered: AtomicBool,
    hidden: AtomicUsize,
}

impl ScopeReport {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    pub(crate) fn record(&self, hidden: usize) {
        self.filtered.store(true, Ordering::Relaxed);
        self.hidden.fetch_add(hidden, Ordering::Relaxed);
    }

    /// How many entries were hidden, if any list was filtered.
    pub(crate) fn hidden(&self) -> Option<usize> {
        self.filtered.load(Ordering::Relaxed).then(|| self.hidden.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_ranges_parse_and_merge() {
        let s = Scope::default().with_vmids(" 300, 100-150,151-199 ,120").unwrap();
        assert_eq!(s.vmids_spec().unwrap(), "100-199,300");
        for bad in ["abc", "50", "100-", "200-100", "1000000000", ",", "100-150-200"] {
            assert!(parse_vmids(bad).is_err(), "{bad}");
        }
        assert!(parse_nodes("pve1, pve2").is_ok());
        for bad in ["pve/1", " , ", "-pve"] {
            assert!(parse_nodes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn first_free_id_is_inside_the_ranges() {
        let s = Scope::default().with_vmids("150-152,300").unwrap();
        let used: BTreeSet<u64> = [100, 150, 151].into();
        assert_eq!(s.first_free_vmid(&used), Some(152));
        let used: BTreeSet<u64> = [150, 151, 152].into();
        assert_eq!(s.first_free_vmid(&used), Some(300));
        let used: BTreeSet<u64> = [150, 151, 152, 300].into();
        assert_eq!(s.first_free_vmid(&used), None);
        assert_eq!(Scope::default().first_free_vmid(&[100, 101].into()), Some(102));
    }

    #[test]
    fn list_answers_are_filtered() {
        let s = Scope::default().with_vmids("100-199").unwrap().with_nodes("pve1").unwrap();
        let mut resources = json!([
            { "type": "qemu", "vmid": 100, "node": "pve1" },
            { "type": "qemu", "vmid": 200, "node": "pve1" },
            { "type": "lxc", "vmid": 150, "node": "pve2" },
            { "type": "node", "node": "pve2" },
            { "type": "storage", "node": "pve1", "storage": "local" },
            { "type": "pool", "pool": "p" },
        ]);
        assert_eq!(s.filter_answer("/cluster/resources", &mut resources), Some(3));
        assert_eq!(resources.as_array().unwrap().len(), 3);
        let mut tasks =
            json!([{ "node": "pve1", "id": "100" }, { "node": "pve1", "id": "300" }, { "node": "pve1", "id": "" }]);
        assert_eq!(s.filter_answer("/nodes/pve1/tasks", &mut tasks), Some(1));
        let mut status = json!([{ "type": "cluster", "name": "c" }, { "type": "node", "name": "pve2" }]);
        assert_eq!(s.filter_answer("/cluster/status", &mut status), Some(1));
        let mut other = json!([{ "vmid": 300 }]);
        assert_eq!(s.filter_answer("/cluster/firewall/rules", &mut other), None);
        // Backup jobs: only those whose every guest is in scope.
        let mut jobs = json!([
            { "id": "a", "vmid": "100,101" }, { "id": "b", "vmid": "100,300" }, { "id": "c", "all": 1 },
            { "id": "d", "pool": "prod" }, { "id": "e", "vmid": "100", "node": "pve3" }
        ]);
        let hidden = s.filter_answer("/cluster/backup", &mut jobs);
        let shown: Vec<&str> = jobs.as_array().unwrap().iter().filter_map(|j| j["id"].as_str()).collect();
        assert_eq!((hidden, shown), (Some(4), vec!["a"]));
        assert_eq!(Scope::default().filter_answer("/cluster/resources", &mut resources), None);
    }
}
