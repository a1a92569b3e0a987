//! Node Management: a node's services, logs, tasks, appliance catalog and guest traffic counters.

use crate::format::{self, Block, str_field, u64_field};
use crate::page::Page;
use crate::path::PathSegment;
use crate::types::{Node, ServiceName, Upid, VmId};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::borrow::Cow;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_GET_NODE_SERVICES,
    &PROXMOX_CONTROL_NODE_SERVICE,
    &PROXMOX_GET_NODE_SYSLOG,
    &PROXMOX_GET_NODE_JOURNAL,
    &PROXMOX_GET_NODE_TASKS,
    &PROXMOX_LIST_CLUSTER_TASKS,
    &PROXMOX_GET_NODE_TASK,
    &PROXMOX_WAIT_TASK,
    &PROXMOX_STOP_TASK,
    &PROXMOX_GET_NODE_APLINFO,
    &PROXMOX_GET_NODE_NETSTAT,
];

/// The most log lines one call asks for.
const MAX_LINES: u32 = 2_000;

/// `YYYY-MM-DD[ HH:MM[:SS]]`, the date-time form of the syslog filters (Proxmox's pattern).
const DATETIME: &str = r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$";

/// Some text without control characters (C0, DEL, C1: what `char::is_control` means).
const PRINTABLE: &str = r"^[^\x00-\x1f\x7f-\x9f]+$";

/// List a node's system services. pveproxy, pvedaemon, corosync, sshd… and their state.
#[pve_tool(path = "/nodes/<node>/services", method = GET, category = "Node Management")]
async fn proxmox_get_node_services(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
) -> ToolResult {
    let mut services: Vec<Value> = api.send(()).await?;
    services.sort_by(|a, b| str_field(a, "service").cmp(&str_field(b, "service")));
    if services.is_empty() {
        return Ok(ToolOutput::new(format!("No services found on {node}."), services));
    }
    let mut text = format!("⚙️ **Services on {node}** ({})\n", services.len());
    for s in &services {
        let active = str_field(s, "active-state").unwrap_or("unknown");
        let dot = match active {
            "active" => "🟢",
            "inactive" | "failed" => "🔴",
            _ => "🟡",
        };
        let name = str_field(s, "service").or(str_field(s, "name")).unwrap_or("?");
        text.push_str(&format!("\n• {dot} **{name}** — {active}"));
        if let Some(state) = str_field(s, "state") {
            text.push_str(&format!(" ({state})"));
        }
        if let Some(unit) = str_field(s, "unit-state") {
            text.push_str(&format!(", {unit}"));
        }
        if let Some(desc) = str_field(s, "desc").filter(|d| !d.is_empty()) {
            text.push_str(&format!(": {desc}"));
        }
    }
    Ok(ToolOutput::new(text, services))
}

/// What to do with a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceCommand {
    Start,
    Stop,
    Restart,
    Reload,
}

impl ServiceCommand {
    fn as_str(self) -> &'static str {
        match self {
            ServiceCommand::Start => "start",
            ServiceCommand::Stop => "stop",
            ServiceCommand::Restart => "restart",
            ServiceCommand::Reload => "reload",
        }
    }
}

impl PathSegment for ServiceCommand {
    fn segment(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }
}

/// Start, stop, restart or reload a node's service. Stopping pveproxy or corosync can cut the API or the cluster
/// off.
#[pve_tool(
    path = "/nodes/<node>/services/<service>/<command>",
    method = POST,
    elevated, task,
    destructive = true,
    category = "Node Management"
)]
async fn proxmox_control_node_service(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The service, e.g. pveproxy, pvedaemon, sshd, chrony.
    service: ServiceName,
    /// What to do: start, stop, restart, or reload (re-read its configuration without a restart).
    command: ServiceCommand,
) -> ToolResult {
    let upid: String = api.send(()).await?;
    api.follow_task(upid, &node, format!("Service {service}: {} requested", command.as_str())).await
}

/// The `total` Proxmox sends beside `data` for a paged list at `path` with `params` (asked
/// for with a page of one entry): `None` if it sends none.
async fn proxmox_total(api: &Api, path: &ApiPath, params: impl Serialize) -> Result<Option<u64>, ToolError> {
    let raw = api.get_raw(path, params, 1 << 20).await?;
    Ok(serde_json::from_slice::<Value>(&raw.bytes).ok().and_then(|v| u64_field(&v, "total")))
}

/// Fetch `{n, t}` lines from `path`: at `start` if given, else the last `limit` lines. The
/// tail needs the total count, which Proxmox sends beside `data`; if it does not, the first
/// lines are returned. Gives the lines and the total, if known.
async fn log_lines(
    api: &Api,
    path: &ApiPath,
    filters: &Value,
    start: Option<u32>,
    limit: u32,
) -> Result<(Vec<Value>, Option<u64>), ToolError> {
    let with = |start: u64, limit: u64| {
        let mut p = filters.clone();
        p["start"] = json!(start);
        p["limit"] = json!(limit);
        p
    };
    let total = proxmox_total(api, path, with(0, 1)).await;
    if let Some(start) = start {
        // The lines asked for; their count is a bonus, where it could be read.
        let lines: Vec<Value> = api.get(path, with(start.into(), limit.into())).await?;
        return Ok((lines, total.ok().flatten()));
    }
    let total = total?;
    let first = total.map_or(0, |t| t.saturating_sub(limit.into()));
    let lines: Vec<Value> = api.get(path, with(first, limit.into())).await?;
    Ok((lines, total))
}

/// `{n, t}` lines as text, with where they are in the log.
fn render_lines(title: String, lines: &[Value], total: Option<u64>, empty: &str) -> String {
    if lines.is_empty() {
        return empty.to_string();
    }
    let first = lines.first().and_then(|l| u64_field(l, "n")).unwrap_or(1);
    let last = lines.last().and_then(|l| u64_field(l, "n")).unwrap_or(first);
    let of = total.map_or(String::new(), |t| format!(" of {t}"));
    let mut text = format!("{title} (lines {first}–{last}{of})\n```\n");
    for l in lines {
        text.push_str(str_field(l, "t").unwrap_or(""));
        text.push('\n');
    }
    text.push_str("```");
    if first > 1 {
        text.push_str(&format!(
            "\n▶️ Earlier lines: call again with start={} (lines count from 0 there)",
            first.saturating_sub(1 + lines.len() as u64)
        ));
    }
    text
}

/// Read a node's syslog. Through the journal; by default its last 50 lines.
#[pve_tool(path = "/nodes/<node>/syslog", method = GET, category = "Node Management")]
async fn proxmox_get_node_syslog(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// How many lines (default 50, at most 2000).
    #[schemars(range(min = 1, max = MAX_LINES))]
    limit: Option<u32>,
    /// The line to start at, counted from 0 (default: the last `limit` lines).
    start: Option<u32>,
    /// Only lines since this time: YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS.
    #[schemars(regex(pattern = DATETIME))]
    since: Option<String>,
    /// Only lines until this time, same form as `since`.
    #[schemars(regex(pattern = DATETIME))]
    until: Option<String>,
    /// Only lines of this systemd unit, e.g. pveproxy or corosync.
    #[schemars(length(max = 128), regex(pattern = r"^[A-Za-z0-9@._-]+$"))]
    service: Option<String>,
) -> ToolResult {
    let limit = limit.unwrap_or(50);
    let path = ApiPath::lit("/nodes").join(&node).join_lit("syslog");
    let filters = json!({ "since": since, "until": until, "service": service });
    let (lines, total) = log_lines(&api, &path, &filters, start, limit).await?;
    let text = render_lines(format!("📜 **Syslog of {node}**"), &lines, total, "No syslog entries found.");
    Ok(ToolOutput::new(text, json!({ "lines": lines, "total": total })))
}

/// A journal cursor line, as the journal reader writes first and last.
fn is_cursor(line: &str) -> bool {
    line.starts_with("s=") && line.contains(";i=") && !line.contains(' ')
}

/// Read a node's systemd journal. By default its last 50 entries; page with the cursors it returns.
#[pve_tool(path = "/nodes/<node>/journal", method = GET, category = "Node Management")]
async fn proxmox_get_node_journal(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    /// The last this many entries (default 50 when no range is given; not with a range).
    #[schemars(range(min = 1, max = MAX_LINES))]
    lastentries: Option<u32>,
    /// Entries since this Unix time (seconds); not with `startcursor`.
    since: Option<u64>,
    /// Entries until this Unix time (seconds); not with `endcursor`.
    until: Option<u64>,
    /// Entries after this cursor (the last line of an earlier answer, for newer entries).
    #[schemars(length(max = 512), regex(pattern = PRINTABLE))]
    startcursor: Option<String>,
    /// Entries before this cursor (the first line of an earlier answer, for older entries).
    #[schemars(length(max = 512), regex(pattern = PRINTABLE))]
    endcursor: Option<String>,
) -> ToolResult {
    let ranged = since.is_some() || until.is_some() || startcursor.is_some() || endcursor.is_some();
    if lastentries.is_some() && ranged {
        return Err(ToolError::invalid("lastentries", "cannot be combined with since, until or a cursor"));
    }
    if since.is_some() && startcursor.is_some() {
        return Err(ToolError::invalid("startcursor", "cannot be combined with since"));
    }
    if until.is_some() && endcursor.is_some() {
        return Err(ToolError::invalid("endcursor", "cannot be combined with until"));
    }
    let lastentries = lastentries.or((!ranged).then_some(50));
    let params = json!({
        "lastentries": lastentries, "since": since, "until": until,
        "startcursor": startcursor, "endcursor": endcursor,
    });
    let mut lines: Vec<String> = api.send(params).await?;
    // The journal reader frames the entries with the cursors before and after them.
    let last_cursor = lines.last().filter(|l| is_cursor(l)).cloned();
    if last_cursor.is_some() {
        lines.pop();
    }
    let first_cursor = lines.first().filter(|l| is_cursor(l)).cloned();
    if first_cursor.is_some() {
        lines.remove(0);
    }
    let mut text = if lines.is_empty() {
        format!("No journal entries found on {node}.")
    } else {
        format!("📜 **Journal of {node}** ({} entries)\n```\n{}\n```", lines.len(), lines.join("\n"))
    };
    if let Some(c) = &first_cursor {
        text.push_str(&format!("\nOlder entries: endcursor={c}"));
    }
    if let Some(c) = &last_cursor {
        text.push_str(&format!("\nNewer entries: startcursor={c}"));
    }
    Ok(ToolOutput::new(text, json!({ "lines": lines, "first_cursor": first_cursor, "last_cursor": last_cursor })))
}

/// Which tasks to list.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskSource {
    Archive,
    Active,
    All,
}

/// Filters of the task list, as Proxmox names them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskFilters {
    /// How many tasks (default 50, at most 2000).
    #[schemars(range(min = 1, max = MAX_LINES))]
    limit: Option<u32>,
    /// Skip this many tasks first (paging).
    start: Option<u32>,
    /// Only tasks that failed.
    errors: Option<bool>,
    /// Only tasks of this guest.
    vmid: Option<VmId>,
    /// Only tasks of this type, e.g. qmstart, vzdump, qmigrate.
    #[schemars(length(max = 64), regex(pattern = PRINTABLE))]
    typefilter: Option<String>,
    /// Only tasks of this user, e.g. root@pam.
    #[schemars(length(max = 128), regex(pattern = PRINTABLE))]
    userfilter: Option<String>,
    /// Finished tasks (archive, the default), running ones (active) or all.
    source: Option<TaskSource>,
    /// Only tasks since this Unix time (seconds).
    since: Option<u64>,
    /// Only tasks until this Unix time (seconds).
    until: Option<u64>,
}

/// `🟢`/`🟡`/`🔴`/`🔄` and the words for a task's outcome.
fn task_outcome(t: &Value) -> (&'static str, String) {
    match str_field(t, "exitstatus").or(str_field(t, "status")) {
        None | Some("running") => ("🔄", "running".into()),
        Some("OK") => ("🟢", "OK".into()),
        Some(s) if s.starts_with("WARNINGS") => ("🟡", s.into()),
        Some(s) => ("🔴", s.into()),
    }
}

/// List a node's recent tasks. Newest first: type, guest, user, start time, outcome and UPID.
#[pve_tool(path = "/nodes/<node>/tasks", method = GET, category = "Node Management")]
async fn proxmox_get_node_tasks(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
    #[flatten] filters: TaskFilters,
) -> ToolResult {
    let tasks: Vec<Value> = api.send(&filters).await?;
    // Proxmox pages this list itself (`start`, `limit`) and counts the matches beside `data`;
    // the count is asked for apart (one task), and not at all under a scope, where it would
    // count hidden tasks.
    let total = match api.path() {
        Some(path) if api.scope().is_unrestricted() => {
            proxmox_total(&api, path, TaskFilters { limit: Some(1), start: Some(0), ..filters.clone() }).await?
        }
        _ => None,
    };
    let start = u64::from(filters.start.unwrap_or(0));
    let end = start + tasks.len() as u64;
    // Without the count, a full page may have more after it.
    let full_page = tasks.len() as u64 >= u64::from(filters.limit.unwrap_or(50));
    let next_start = match total {
        Some(total) => (end < total).then_some(end),
        None => (full_page && !tasks.is_empty()).then_some(end),
    };
    let mut text = if tasks.is_empty() {
        format!("No tasks found on {node}.")
    } else {
        match total {
            Some(total) => format!("📋 **Tasks on {node}** ({} to {end} of {total})", start + 1),
            None => format!("📋 **Tasks on {node}** ({})", tasks.len()),
        }
    };
    for t in &tasks {
        text.push_str(&format!("\n{}", task_line(t, false)));
    }
    match (next_start, total) {
        (Some(next), Some(total)) => {
            text.push_str(&format!("\n\n▶️ {} more: call again with start {next}.", total - next))
        }
        (Some(next), None) => text.push_str(&format!("\n\n▶️ There may be more: call again with start {next}.")),
        _ => {}
    }
    Ok(ToolOutput::new(text, json!({ "items": tasks, "total": total, "start": start, "next_start": next_start })))
}

/// One task of a task list: its outcome, type and guest (and node), user, start and duration,
/// and its UPID on a line of its own.
fn task_line(t: &Value, with_node: bool) -> String {
    let (dot, outcome) = task_outcome(t);
    let kind = str_field(t, "type").unwrap_or("?");
    let id = str_field(t, "id").filter(|i| !i.is_empty()).map(|i| format!(" {i}")).unwrap_or_default();
    let node = if with_node { format!(" on {}", str_field(t, "node").unwrap_or("?")) } else { String::new() };
    let mut line = format!("• {dot} **{kind}{id}**{node} — {outcome}");
    if let Some(user) = str_field(t, "user") {
        line.push_str(&format!(", {user}"));
    }
    if let Some(start) = u64_field(t, "starttime") {
        line.push_str(&format!(", started {}", format::timestamp(start)));
        if let Some(end) = u64_field(t, "endtime") {
            line.push_str(&format!(" ({}s)", end.saturating_sub(start)));
        }
    }
    if let Some(upid) = str_field(t, "upid") {
        line.push_str(&format!("\n  {upid}"));
    }
    line
}

/// Whether a task ended in failure: finished, and neither OK nor only with warnings.
fn task_failed(t: &Value) -> bool {
    match str_field(t, "exitstatus").or(str_field(t, "status")) {
        None | Some("running" | "OK") => false,
        Some(s) => !s.starts_with("WARNINGS"),
    }
}

/// List recent tasks of the whole cluster, newest first, filtered by type, failure, guest, node or start time.
/// Every node's tasks in one call (the cluster's task index); for a node's full history use proxmox_get_node_tasks.
#[pve_tool(path = "/cluster/tasks", method = GET, category = "Node Management")]
async fn proxmox_list_cluster_tasks(
    api: Api,
    /// Only tasks of this type, e.g. vzdump, qmstart, qmigrate.
    #[schemars(length(max = 64), regex(pattern = r"^[A-Za-z0-9_.-]+$"))]
    r#type: Option<String>,
    /// Only tasks that failed (ended with an error; warnings are not failures).
    errors: Option<bool>,
    /// Only tasks of this guest.
    vmid: Option<VmId>,
    /// Only tasks that ran on this node.
    node: Option<Node>,
    /// Only tasks started at or after this Unix time (seconds).
    since: Option<u64>,
    #[flatten] page: Page,
) -> ToolResult {
    // /cluster/tasks takes no filters: it answers the cluster's recent task index, filtered here.
    let mut tasks: Vec<Value> = api.send(()).await?;
    let total = tasks.len();
    let vmid = vmid.map(|v| v.to_string());
    tasks.retain(|t| {
        r#type.as_deref().is_none_or(|k| str_field(t, "type") == Some(k))
            && (errors != Some(true) || task_failed(t))
            && vmid.as_deref().is_none_or(|v| str_field(t, "id") == Some(v))
            && node.as_ref().is_none_or(|n| str_field(t, "node") == Some(n.as_str()))
            && since.is_none_or(|s| u64_field(t, "starttime").is_some_and(|st| st >= s))
    });
    tasks.sort_by_key(|t| std::cmp::Reverse(u64_field(t, "starttime").unwrap_or(0)));
    let matched = tasks.len();
    let mut text = if tasks.is_empty() {
        format!("No matching tasks in the cluster ({total} in its task list).")
    } else {
        format!("📋 **Cluster tasks** ({matched} matching, {total} in all)")
    };
    let page = page.cut(tasks);
    text.push_str(&page.lines(|t| task_line(t, true)));
    let mut data = page.data("tasks");
    data.insert("matched".into(), matched.into());
    data.insert("total".into(), total.into());
    Ok(ToolOutput::new(text, data))
}

/// Show a task's status and log. The end of its log by default, or the lines asked for.
#[pve_tool(method = GET, category = "Node Management")]
async fn proxmox_get_node_task(
    api: Api,
    /// The node the task runs on (default: the one the UPID names, its second field).
    node: Option<Node>,
    /// The task id, e.g. UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:
    upid: Upid,
    /// How many log lines (default 50, at most 2000).
    #[schemars(range(min = 1, max = MAX_LINES))]
    limit: Option<u32>,
    /// The log line to start at, counted from 0 (default: the last `limit` lines).
    start: Option<u32>,
) -> ToolResult {
    let limit = limit.unwrap_or(50);
    let owner = upid.as_str().split(':').nth(1).and_then(|n| Node::new(n).ok());
    let node = match (node, owner) {
        (Some(node), Some(owner)) if node != owner => {
            return Err(ToolError::invalid("upid", format!("is a task of node {owner}, not {node}: ask node {owner}")));
        }
        (Some(node), _) | (None, Some(node)) => node,
        (None, None) => return Err(ToolError::invalid("node", "is required: the UPID names no node")),
    };
    let base = ApiPath::lit("/nodes").join(&node).join_lit("tasks").join(&upid);
    let status: Value = api.get(&base.clone().join_lit("status"), ()).await?;
    let (lines, total) = log_lines(&api, &base.join_lit("log"), &json!({}), start, limit).await?;
    let (dot, outcome) = task_outcome(&status);
    let mut block = Block::new(format!(
        "📋 **Task {}{}** on {node}",
        str_field(&status, "type").unwrap_or("?"),
        str_field(&status, "id").filter(|i| !i.is_empty()).map(|i| format!(" {i}")).unwrap_or_default()
    ))
    .line("Status", format!("{dot} {outcome}"))
    .opt("User", str_field(&status, "user"))
    .opt("Started", u64_field(&status, "starttime").map(format::timestamp))
    .opt("PID", u64_field(&status, "pid"))
    .line("UPID", &upid);
    let log = render_lines("Log".into(), &lines, total, "Log: (empty)");
    block = block.raw("").raw(log);
    Ok(ToolOutput::new(block.finish(), json!({ "status": status, "log": lines, "log_total": total })))
}

/// The node a task runs on: the one given, which must be the UPID's own, or the UPID's.
fn task_node(upid: &Upid, node: Option<Node>) -> Result<Node, ToolError> {
    let owner = crate::task::node_of(upid).ok_or_else(|| ToolError::invalid("upid", "names no node"))?;
    match node {
        Some(node) if node != owner => Err(ToolError::invalid(
            "node",
            format!("is {node}, but the task runs on {owner} (the UPID's second field)"),
        )),
        _ => Ok(owner),
    }
}

/// Wait for a task to end and report how it ended: OK, its warnings, or its error with the last log lines. Works for
/// any task, whoever started it (a UPID from a tool or from proxmox_get_node_tasks). Past `timeout` it reports the
/// task as still running, with its newest log line; the task goes on, and this tool can be called again.
#[pve_tool(method = GET, category = "Node Management")]
async fn proxmox_wait_task(
    api: Api,
    /// The task id, e.g. UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:
    upid: Upid,
    /// The node the task runs on (default: the node the UPID names).
    node: Option<Node>,
    /// Seconds to wait at most (default: the server's PROXMOX_TASK_WAIT, 45); 0 reports the state at once.
    #[schemars(range(max = 3600))]
    timeout: Option<u32>,
) -> ToolResult {
    let node = task_node(&upid, node)?;
    let deadline = timeout.map_or(api.task_wait(), |t| std::time::Duration::from_secs(t.into()));
    // A zero timeout still asks once: the agent wants the state now.
    let deadline = deadline.max(std::time::Duration::from_millis(1));
    let what = match upid.as_str().split(':').collect::<Vec<_>>().as_slice() {
        [_, _, _, _, _, kind, id, ..] if !id.is_empty() => format!("Task {kind} {id}"),
        [_, _, _, _, _, kind, ..] => format!("Task {kind}"),
        _ => "Task".to_string(),
    };
    api.wait_task(upid.to_string(), &node, what, deadline).await
}

/// Stop a running task, e.g. a backup or a migration that should not go on. Proxmox ends the task's worker; an
/// aborted operation may leave its guest locked (proxmox_get_vm_status shows the lock).
#[pve_tool(method = DELETE, elevated, category = "Node Management")]
async fn proxmox_stop_task(
    api: Api,
    /// The task id, e.g. UPID:pve1:0000ABCD:00001234:65F0A1B2:vzdump:100:root@pam!mcp:
    upid: Upid,
    /// The node the task runs on (default: the node the UPID names).
    node: Option<Node>,
) -> ToolResult {
    let node = task_node(&upid, node)?;
    let path = ApiPath::lit("/nodes").join(&node).join_lit("tasks").join(&upid);
    let _: Value = api.delete(&path, ()).await?;
    let status: Value = api.get(&path.join_lit("status"), ()).await.unwrap_or(Value::Null);
    let state = str_field(&status, "status").unwrap_or("unknown");
    Ok(ToolOutput::new(
        format!("🛑 Stop requested for task {upid} on {node}\n• Status now: {state}"),
        json!({ "upid": upid, "node": node, "status": status }),
    ))
}

/// List downloadable container templates (fetch one with download_url_to_storage). The appliance templates a node
/// can download from the catalog.
#[pve_tool(path = "/nodes/<node>/aplinfo", method = GET, category = "Node Management", title = "Get node appliance info")]
async fn proxmox_get_node_aplinfo(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
) -> ToolResult {
    let mut templates: Vec<Value> = api.send(()).await?;
    templates.sort_by(|a, b| {
        (str_field(a, "section"), str_field(a, "template")).cmp(&(str_field(b, "section"), str_field(b, "template")))
    });
    if templates.is_empty() {
        return Ok(ToolOutput::new(format!("No appliance templates found for {node}."), templates));
    }
    let mut text = format!("📦 **Appliance templates for {node}** ({})\n", templates.len());
    for t in &templates {
        let name = str_field(t, "template").or(str_field(t, "package")).unwrap_or("?");
        let kinds: Vec<&str> = ["section", "os"].iter().filter_map(|k| str_field(t, k)).collect();
        text.push_str(&format!("\n• **{name}**"));
        if !kinds.is_empty() {
            text.push_str(&format!(" ({})", kinds.join(", ")));
        }
        if let Some(v) = str_field(t, "version") {
            text.push_str(&format!(" v{v}"));
        }
        if let Some(h) = str_field(t, "headline").or(str_field(t, "description")) {
            text.push_str(&format!(" — {h}"));
        }
    }
    Ok(ToolOutput::new(text, templates))
}

/// Show guests' network traffic on a node. The counters of the guests' network devices (tap/veth).
#[pve_tool(path = "/nodes/<node>/netstat", method = GET, category = "Node Management")]
async fn proxmox_get_node_netstat(
    api: Api,
    /// The node, e.g. pve1.
    node: Node,
) -> ToolResult {
    let mut devices: Vec<Value> = api.send(()).await?;
    devices
        .sort_by(|a, b| (u64_field(a, "vmid"), str_field(a, "dev")).cmp(&(u64_field(b, "vmid"), str_field(b, "dev"))));
    if devices.is_empty() {
        return Ok(ToolOutput::new(format!("No guest network devices on {node}."), devices));
    }
    let mut text = format!("🌐 **Guest network traffic on {node}** ({} devices)\n", devices.len());
    for d in &devices {
        let counter = |k: &str| u64_field(d, k).map_or("N/A".into(), |n| format::bytes(n as f64));
        text.push_str(&format!(
            "\n• guest {} {}: in {}, out {}",
            d.get("vmid").map_or("?".into(), format::value),
            str_field(d, "dev").unwrap_or("?"),
            counter("in"),
            counter("out")
        ));
    }
    Ok(ToolOutput::new(text, devices))
}
