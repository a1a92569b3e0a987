//! What a tool is: its descriptor, the context it runs in, and what it returns.

use crate::client::{ApiError, Client, Params, RawBody, Upload};
use crate::path::ApiPath;
use crate::scope::{Scope, ScopeReport};
use crate::task::{ProgressSink, TaskReport, WaitError};
use crate::types::Upid;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A JSON object: a tool's arguments, or its input schema.
pub type JsonObject = serde_json::Map<String, Value>;
/// The future a tool's call returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

pub use crate::client::Method;

/// Where a tool was defined, for messages such as a duplicate name.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub module: &'static str,
    pub file: &'static str,
    pub line: u32,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}:{})", self.module, self.file, self.line)
    }
}

/// A tool, as `#[pve_tool]` describes it. Register it with [`crate::Registry::add`].
pub struct ToolDescriptor {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub method: Method,
    /// The request path template (`/nodes/{node}/status`), if the tool has one fixed path.
    pub path: Option<&'static str>,
    pub elevated: bool,
    /// Starts a Proxmox task and waits for it (`#[pve_tool(task)]`): the tool takes `wait`.
    pub task: bool,
    /// Overrides of the hints the method implies.
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub read_only: Option<bool>,
    /// Reaches beyond the cluster (e.g. makes a node download from a URL); most tools stay inside.
    pub open_world: bool,
    pub origin: Origin,
    #[doc(hidden)]
    pub schema: fn() -> JsonObject,
    #[doc(hidden)]
    pub call: fn(Context, JsonObject) -> BoxFuture<ToolResult>,
}

impl ToolDescriptor {
    /// Reads only: `GET` tools unless overridden (a `POST` that only asks, like a guest-agent ping).
    pub fn read_only(&self) -> bool {
        self.read_only.unwrap_or(self.method == Method::Get)
    }
    /// May destroy data: `DELETE` tools unless overridden.
    pub fn destructive(&self) -> bool {
        self.destructive.unwrap_or(self.method == Method::Delete) && !self.read_only()
    }
    /// Calling twice has the effect of calling once: reads, `PUT`, `DELETE` unless overridden.
    pub fn idempotent(&self) -> bool {
        self.idempotent.unwrap_or(self.method != Method::Post || self.read_only())
    }
    /// The JSON schema of the tool's arguments: its parameters, and `wait` for a task tool.
    /// A tool that addresses a guest by `node` and `vmid` may leave `node` out (see
    /// [`crate::guests`]).
    pub fn input_schema(&self) -> JsonObject {
        let mut schema = (self.schema)();
        if finds_guest(self, &schema) {
            if let Some(Value::Array(required)) = schema.get_mut("required") {
                required.retain(|r| r != "node");
            }
            if let Some(Value::Object(node)) = schema.get_mut("properties").and_then(|p| p.get_mut("node")) {
                node.insert(
                    "description".into(),
                    "The node the guest is on (default: found from the vmid; given, it is used as given).".into(),
                );
            }
        }
        if self.task
            && let Some(Value::Object(props)) = schema.get_mut("properties")
        {
            props.insert(
                WAIT.into(),
                serde_json::json!({
                    "type": "integer",
                    "minimum": 0,
                    "maximum": crate::task::MAX_WAIT_SECS,
                    "description": "Seconds to wait for the task to end (default: the server's PROXMOX_TASK_WAIT, \
                        45 s); 0 returns at once with the UPID. Past it the task goes on: proxmox_wait_task follows it.",
                }),
            );
        }
        schema
    }

    /// Run the tool: check its tier, check the arguments against its input schema (see
    /// [`crate::arguments`]), then read them and make the requests.
    pub async fn call(&'static self, mut ctx: Context, mut args: JsonObject) -> ToolResult {
        ctx.require(self)?;
        let facts = crate::arguments::check(self, &mut args)?;
        ctx.scope.check_arguments(self, &args)?;
        ctx.tool = Some(self);
        ctx.scope_report = crate::scope::ScopeReport::new();
        if self.task
            && let Some(wait) = args.remove(WAIT).and_then(|w| w.as_u64())
        {
            ctx.task_wait = std::time::Duration::from_secs(wait);
        }
        let given_node = args.get("node").and_then(Value::as_str).map(str::to_string);
        if facts.finds_guest {
            self.place_guest(&ctx, &mut args, facts.guest_type_arg).await?;
        }
        let guests = ctx.guests.clone();
        let client = ctx.client.clone();
        let vmid = args.get("vmid").and_then(Value::as_u64);
        // A guest found by its id alone: it may be on a node outside the scope.
        if given_node.is_none()
            && let (Some(vmid), Some(node)) = (vmid, args.get("node").and_then(Value::as_str))
            && !ctx.scope.allows_node(node)
        {
            return Err(ToolError::OutOfScope {
                argument: "vmid".into(),
                message: format!("guest {vmid} on node {node}"),
                scope: ctx.scope.to_string(),
            });
        }
        let called_with = args.clone();
        let max_result = ctx.max_result;
        let (scope, report) = (ctx.scope.clone(), ctx.scope_report.clone());
        let result = (self.call)(ctx, args).await.map(|out| {
            let mut out = match report.hidden() {
                Some(hidden) => out.scoped(&scope, hidden),
                None => out,
            };
            crate::bound::bound(&mut out.text, &mut out.data, max_result);
            out
        });
        if !self.read_only() && result.is_ok() {
            // A create, delete or migration may have moved guests.
            guests.invalidate();
        }
        match (result, facts.finds_guest, given_node, vmid) {
            // Not on the node given: say where it is.
            (Err(ToolError::Api(ApiError::NotFound(m))), true, Some(node), Some(vmid)) => {
                guests.invalidate();
                let hint = match guests.find(&client, vmid).await {
                    Ok(Some(g)) if self.guest_kind().is_some_and(|k| k != g.kind) => {
                        let instead = self.other_kind_tool().map(|t| format!(": use {t}")).unwrap_or_default();
                        Some(format!(
                            "{} is a {}, on {}{instead}.",
                            vmid,
                            if g.kind == "lxc" { "container" } else { "VM" },
                            g.node
                        ))
                    }
                    Ok(Some(g)) if g.node != node => Some(format!(
                        "{} is on {}, not {node}: call again with node {} (or leave node out).",
                        capitalise(&g.subject()),
                        g.node,
                        g.node
                    )),
                    Ok(None) => Some(format!("No guest {vmid} is in the cluster: proxmox_get_vms lists them.")),
                    _ => None,
                };
                let error = ToolError::Api(ApiError::NotFound(m));
                Err(match hint {
                    Some(hint) => ToolError::Hinted(Box::new(error), hint),
                    None => error,
                })
            }
            (Err(error), ..) => match crate::hints::explain(self, &client, &called_with, &error).await {
                Some(hint) => Err(ToolError::Hinted(Box::new(error), hint)),
                None => Err(error),
            },
            (result, ..) => result,
        }
    }

    /// Fill in the `node` (and `type`) of the guest a call names by `vmid` alone, and refuse a
    /// VM tool called with a container's id (or the reverse), naming the tool to use.
    async fn place_guest(&'static self, ctx: &Context, args: &mut JsonObject, type_arg: bool) -> Result<(), ToolError> {
        let Some(vmid) = args.get("vmid").and_then(Value::as_u64) else { return Ok(()) };
        let needs_node = !args.contains_key("node");
        let needs_type = type_arg && !args.contains_key("type");
        // A node given is used as given (a wrong one is explained if Proxmox says not found).
        if !needs_node && !needs_type {
            return Ok(());
        }
        let expected = self.guest_kind();
        let found = match ctx.guests.find(&ctx.client, vmid).await {
            Ok(found) => found,
            // Without the node nothing can be done; a type has its default.
            Err(e) if needs_node => return Err(e.into()),
            Err(_) => return Ok(()),
        };
        let Some(guest) = found else {
            if needs_node {
                return Err(ToolError::invalid(
                    "vmid",
                    format!("no VM or container {vmid} is in the cluster (proxmox_get_vms lists them)"),
                ));
            }
            return Ok(());
        };
        if let Some(kind) = expected
            && kind != guest.kind
        {
            let other = self.other_kind_tool();
            let what = if guest.kind == "lxc" { "a container" } else { "a VM" };
            let instead = other.map(|t| format!(": use {t}")).unwrap_or_default();
            return Err(ToolError::invalid("vmid", format!("{vmid} is {what} (on {}){instead}", guest.node)));
        }
        if needs_node {
            args.insert("node".into(), guest.node.clone().into());
        }
        if needs_type {
            args.insert("type".into(), guest.kind.clone().into());
        }
        Ok(())
    }

    /// `qemu` or `lxc` for a tool that addresses one kind of guest (by its path or its name).
    fn guest_kind(&self) -> Option<&'static str> {
        match self.path {
            Some(p) if p.contains("/qemu/") => return Some("qemu"),
            Some(p) if p.contains("/lxc/") => return Some("lxc"),
            Some(_) => return None,
            None => {}
        }
        if self.name.ends_with("_lxc") || self.name.contains("_lxc_") {
            Some("lxc")
        } else if self.name.ends_with("_vm") || self.name.contains("_vm_") {
            Some("qemu")
        } else {
            None
        }
    }

    /// The built-in tool that does the same for the other kind of guest, if there is one.
    fn other_kind_tool(&self) -> Option<&'static str> {
        let swapped = if self.name.contains("_lxc") {
            self.name.replacen("_lxc", "_vm", 1)
        } else {
            self.name.replacen("_vm", "_lxc", 1)
        };
        crate::Registry::builtin().get(&swapped).map(|t| t.name)
    }
}

impl fmt::Debug for ToolDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolDescriptor")
            .field("name", &self.name)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("elevated", &self.elevated)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Whether a tool addresses an existing guest by `node` and `vmid` (so `node` can be found from
/// the vmid): both required, and the tool is not a create (`POST /nodes/{node}/qemu|lxc`, whose
/// vmid names the guest to make).
pub(crate) fn finds_guest(d: &ToolDescriptor, schema: &JsonObject) -> bool {
    let required =
        |name: &str| schema.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|v| v == name));
    let vmid_is_one = schema
        .get("properties")
        .and_then(|p| p.get("vmid"))
        .and_then(|v| v.get("type"))
        .is_some_and(|t| t == "integer");
    let creates = d.method == Method::Post && matches!(d.path, Some("/nodes/{node}/qemu" | "/nodes/{node}/lxc"));
    required("node") && required("vmid") && vmid_is_one && !creates
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The argument every task tool takes: how long to wait for its task.
pub const WAIT: &str = "wait";

/// What every tool call runs with: the Proxmox client and the permission setting.
#[derive(Clone)]
pub struct Context {
    pub client: Client,
    pub allow_elevated: bool,
    /// The only directory whose files may be uploaded to Proxmox (`PROXMOX_UPLOAD_DIR`);
    /// `None`: uploads are refused.
    pub upload_dir: Option<std::path::PathBuf>,
    /// How long a tool waits for the task it started (`PROXMOX_TASK_WAIT`, a call's `wait`).
    pub task_wait: std::time::Duration,
    /// Where progress goes while a task is waited for (the client asked for progress).
    pub progress: Option<ProgressSink>,
    /// Where the cluster's guests are (shared by the clones of a context).
    pub guests: crate::guests::GuestIndex,
    /// The most bytes a result's text, and its data, may take each (`PROXMOX_MAX_RESULT_KB`;
    /// see [`crate::bound`]).
    pub max_result: usize,
    /// The guests and nodes tools may see and address (default: all; see [`crate::scope`]).
    pub scope: Scope,
    /// The tool being called (set by [`ToolDescriptor::call`]): what its requests may do.
    pub(crate) tool: Option<&'static ToolDescriptor>,
    /// What the scope hid from this call's lists.
    pub(crate) scope_report: std::sync::Arc<ScopeReport>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("client", &self.client)
            .field("allow_elevated", &self.allow_elevated)
            .field("upload_dir", &self.upload_dir)
            .field("task_wait", &self.task_wait)
            .field("progress", &self.progress.is_some())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub fn new(client: Client, allow_elevated: bool) -> Self {
        Context {
            client,
            allow_elevated,
            upload_dir: None,
            task_wait: crate::task::DEFAULT_WAIT,
            progress: None,
            guests: Default::default(),
            max_result: crate::bound::DEFAULT_MAX_RESULT,
            scope: Scope::default(),
            tool: None,
            scope_report: ScopeReport::new(),
        }
    }

    /// Hold each result's text and data to this many bytes each (at least 4 KiB).
    pub fn with_max_result(mut self, bytes: usize) -> Self {
        self.max_result = bytes.max(crate::bound::MIN_MAX_RESULT);
        self
    }

    /// Let tools see and address only the guests and nodes of `scope` (see [`crate::scope`]).
    ///
    /// ```
    /// use proxmox_mcp::{Context, Scope};
    /// # let client = proxmox_mcp::Config::new("pve.example.com", "mcp", "secret").client().unwrap();
    /// let scope = Scope::default().with_vmids("100-199").unwrap().with_nodes("pve1").unwrap();
    /// let ctx = Context::new(client, true).with_scope(scope);
    /// assert!(!ctx.scope.allows_vmid(200));
    /// ```
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Wait this long for the tasks tools start (zero: return at once with the UPID).
    pub fn with_task_wait(mut self, wait: std::time::Duration) -> Self {
        self.task_wait = wait;
        self
    }

    /// Report progress here while waiting for a task.
    pub fn with_progress(mut self, sink: Option<ProgressSink>) -> Self {
        self.progress = sink;
        self
    }

    /// Allow uploads of the files under this directory.
    pub fn with_upload_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.upload_dir = dir;
        self
    }

    /// Refuse an elevated tool unless elevated operations are allowed.
    pub fn require(&self, tool: &ToolDescriptor) -> Result<(), ToolError> {
        if tool.elevated && !self.allow_elevated {
            return Err(ToolError::PermissionDenied(tool.name.to_string()));
        }
        Ok(())
    }
}

/// The request context a tool function receives: the client, plus the tool's own method and
/// path, already built from validated arguments.
pub struct Api {
    ctx: Context,
    method: Method,
    path: Option<ApiPath>,
}

impl Api {
    pub fn new(ctx: Context, method: Method, path: Option<ApiPath>) -> Self {
        Api { ctx, method, path }
    }

    /// Send the tool's own request with these parameters (`()` for none; any `Serialize`
    /// struct or map; `None` fields are left out, booleans go as `0`/`1`).
    pub async fn send<T: DeserializeOwned>(&self, params: impl Serialize) -> Result<T, ToolError> {
        let Some(path) = &self.path else {
            return Err(ToolError::Other(
                "this tool has no `path` of its own: use api.get(path, ..) and friends".into(),
            ));
        };
        self.request(self.method, path, params).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &ApiPath, params: impl Serialize) -> Result<T, ToolError> {
        self.request(Method::Get, path, params).await
    }
    pub async fn post<T: DeserializeOwned>(&self, path: &ApiPath, params: impl Serialize) -> Result<T, ToolError> {
        self.request(Method::Post, path, params).await
    }
    pub async fn put<T: DeserializeOwned>(&self, path: &ApiPath, params: impl Serialize) -> Result<T, ToolError> {
        self.request(Method::Put, path, params).await
    }
    pub async fn delete<T: DeserializeOwned>(&self, path: &ApiPath, params: impl Serialize) -> Result<T, ToolError> {
        self.request(Method::Delete, path, params).await
    }

    async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &ApiPath,
        params: impl Serialize,
    ) -> Result<T, ToolError> {
        self.may_send(method, path)?;
        let params = Params::from_serialize(&params).map_err(ToolError::Other)?;
        let mut value = self.ctx.client.request(method, path, params).await?;
        if method == Method::Get
            && let Some(hidden) = self.ctx.scope.filter_answer(path.as_str(), &mut value)
        {
            self.ctx.scope_report.record(hidden);
        }
        serde_json::from_value(value).map_err(|e| {
            ToolError::Api(ApiError::Decode(format!("unexpected response shape from {method} {path}: {e}")))
        })
    }

    /// Defence in depth: a basic tool (not elevated) sends only `GET`, unless it is marked
    /// `read_only = true` (a `POST` that only asks, like a guest-agent read). So a basic tool
    /// cannot change the cluster even by a bug, whatever `PROXMOX_ALLOW_ELEVATED` says.
    fn may_send(&self, method: Method, path: &ApiPath) -> Result<(), ToolError> {
        match self.ctx.tool {
            Some(tool) if method != Method::Get && !tool.elevated && tool.read_only != Some(true) => {
                Err(ToolError::WriteRefused { tool: tool.name.to_string(), request: format!("{method} {path}") })
            }
            _ => Ok(()),
        }
    }

    /// The guests and nodes this call may see and address.
    pub fn scope(&self) -> &Scope {
        &self.ctx.scope
    }

    /// POST a local file to `path` as `multipart/form-data`: `params` as text fields, then the
    /// file (see [`Client::upload`]). The caller checks that the file may be sent.
    pub async fn upload<T: DeserializeOwned>(
        &self,
        path: &ApiPath,
        params: impl Serialize,
        upload: Upload,
    ) -> Result<T, ToolError> {
        self.may_send(Method::Post, path)?;
        let params = Params::from_serialize(&params).map_err(ToolError::Other)?;
        let value = self.ctx.client.upload(path, params, upload).await?;
        serde_json::from_value(value).map_err(|e| {
            ToolError::Api(ApiError::Decode(format!("unexpected response shape from upload to {path}: {e}")))
        })
    }

    /// GET an answer that is not JSON (a file), at most `max_bytes` of it.
    pub async fn get_raw(
        &self,
        path: &ApiPath,
        params: impl Serialize,
        max_bytes: usize,
    ) -> Result<RawBody, ToolError> {
        let params = Params::from_serialize(&params).map_err(ToolError::Other)?;
        Ok(self.ctx.client.request_raw(Method::Get, path, params, max_bytes).await?)
    }

    /// The directory uploads may read from (`PROXMOX_UPLOAD_DIR`), if set.
    pub fn upload_dir(&self) -> Option<&std::path::Path> {
        self.ctx.upload_dir.as_deref()
    }

    /// Send the tool's own request, which starts a Proxmox task, and follow the task to its end
    /// (see [`Api::follow_task`]). An answer without a UPID (Proxmox did the work at once) is
    /// reported as done.
    pub async fn start_task(
        &self,
        params: impl Serialize,
        node: impl fmt::Display,
        what: impl fmt::Display,
    ) -> ToolResult {
        let answer: Value = self.send(params).await?;
        match answer {
            Value::String(upid) => self.follow_task(upid, node, what).await,
            _ => Ok(ToolOutput::new(
                format!("✅ {what}\n\n• Node: {node}"),
                serde_json::json!({ "upid": null, "node": node.to_string() }),
            )),
        }
    }

    /// Wait for the task `upid` (up to the call's deadline, with progress) and report it: `what`,
    /// the node and UPID in the text, then how it ended; `upid`, `node` and `task` (see
    /// [`TaskReport::to_json`]) in the data. A task that failed is an error
    /// ([`ToolError::TaskFailed`]) with its exit status and the last lines of its log; one still
    /// running at the deadline is not: the result says so and how to wait on.
    pub async fn follow_task(&self, upid: String, node: impl fmt::Display, what: impl fmt::Display) -> ToolResult {
        self.wait_task(upid, node, what, self.ctx.task_wait).await
    }

    /// [`Api::follow_task`] with a deadline of its own.
    pub async fn wait_task(
        &self,
        upid: String,
        node: impl fmt::Display,
        what: impl fmt::Display,
        deadline: std::time::Duration,
    ) -> ToolResult {
        let out = ToolOutput::task(&what, &node, upid.clone());
        let Ok(valid) = Upid::new(upid.clone()) else {
            // Not a UPID this server can follow: said as started, as Proxmox answered.
            return Ok(out);
        };
        let report = crate::task::wait(&self.ctx.client, &valid, deadline, self.ctx.progress.as_ref())
            .await
            .map_err(ToolError::from)?;
        if deadline.is_zero() {
            return Ok(out.with(None, "task", report.to_json()));
        }
        if report.failed() {
            return Err(ToolError::TaskFailed(Box::new(TaskFailure { what: what.to_string(), report })));
        }
        // Ended well: the headline says it in the past ("was cloned"), not as it runs.
        let out = match report.status {
            crate::task::Status::Stopped => ToolOutput::task(crate::task::ended(&what.to_string()), &node, upid),
            crate::task::Status::Running => out,
        };
        Ok(out.with(Some(report.summary()), "task", report.to_json()))
    }

    /// The node guest `vmid` is on, from the cluster's resource list (kept briefly: see
    /// [`crate::guests`]); `None` if no such guest is in the cluster. For tools that take a
    /// guest's `node` as optional where the automatic lookup does not apply.
    pub async fn guest_node(&self, vmid: crate::types::VmId) -> Result<Option<crate::types::Node>, ToolError> {
        let found = self.ctx.guests.find(&self.ctx.client, u64::from(vmid.get())).await?;
        Ok(found.and_then(|g| crate::types::Node::new(g.node).ok()))
    }

    /// How long this call waits for a task it starts.
    pub fn task_wait(&self) -> std::time::Duration {
        self.ctx.task_wait
    }

    /// The tool's own path, if it has one.
    pub fn path(&self) -> Option<&ApiPath> {
        self.path.as_ref()
    }
    /// The raw client, for the library's own reads. Not public: a tool sending through it would
    /// skip the scope filter and the basic tier's write guard, which [`Api::get`] and its
    /// siblings apply.
    pub(crate) fn client(&self) -> &Client {
        &self.ctx.client
    }
    pub fn allow_elevated(&self) -> bool {
        self.ctx.allow_elevated
    }
}

/// A tool's result: text for people and models, plus the data as `structuredContent`.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    pub text: String,
    pub data: Value,
}

/// How many list items a result carries at most; the rest is counted, not shown.
pub const MAX_ITEMS: usize = 500;
/// How long a text result may be, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

impl ToolOutput {
    /// A result with this text and this data (anything that serialises; arrays and scalars are
    /// wrapped in an object, long arrays cut to [`MAX_ITEMS`] with the cut said).
    pub fn new(text: impl Into<String>, data: impl Serialize) -> Self {
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        ToolOutput { text: bound_text(text.into()), data: bound_data(data) }
    }

    /// Add a line to the text (if any) and a field to the data.
    pub fn with(mut self, line: Option<String>, key: &str, value: impl Serialize) -> Self {
        if let Some(line) = line {
            self.text.push_str(&format!("\n{line}"));
        }
        if let Some(obj) = self.data.as_object_mut() {
            obj.insert(key.to_string(), serde_json::to_value(value).unwrap_or(Value::Null));
        }
        self
    }

    /// Say that lists in this result were cut to `scope`, `hidden` entries left out (text, and
    /// `scope` in the data).
    pub fn scoped(mut self, scope: &Scope, hidden: usize) -> Self {
        let note = match hidden {
            0 => format!("\n\n🔒 Scoped to {scope}: nothing else is shown or can be addressed."),
            n => format!("\n\n🔒 Scoped to {scope}: {n} entries outside it are not shown."),
        };
        self.text = bound_text(format!("{}{note}", self.text));
        if let Some(obj) = self.data.as_object_mut() {
            let mut info = scope.to_json();
            info["hidden"] = hidden.into();
            obj.insert("scope".into(), info);
        }
        self
    }

    /// A task started by Proxmox: its UPID and node are in the data.
    pub fn task(text: impl fmt::Display, node: impl fmt::Display, upid: impl Into<String>) -> Self {
        let upid = upid.into();
        ToolOutput::new(
            format!("✅ {text}\n\n• Node: {node}\n• Task: {upid}"),
            serde_json::json!({ "upid": upid, "node": node.to_string() }),
        )
    }
}

fn bound_text(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let cut = crate::format::cut(&text, MAX_TEXT).len();
        let total = text.len();
        text.truncate(cut);
        text.push_str(&format!("\n\n… (cut: {total} bytes in all, {cut} shown)"));
    }
    text
}

fn bound_data(data: Value) -> Value {
    match data {
        Value::Object(_) => data,
        Value::Array(mut items) => {
            let total = items.len();
            if total > MAX_ITEMS {
                items.truncate(MAX_ITEMS);
                serde_json::json!({ "items": items, "total": total, "truncated": true })
            } else {
                serde_json::json!({ "items": items, "total": total })
            }
        }
        Value::Null => Value::Object(Default::default()),
        other => serde_json::json!({ "value": other }),
    }
}

/// Why a tool call failed. Each is shown to the agent as an error result it can act on.
#[derive(Debug)]
pub enum ToolError {
    /// Arguments that break the tool's rules: (argument, what is wrong), never sent to Proxmox.
    InvalidArguments(Vec<(String, String)>),
    /// An elevated tool while `PROXMOX_ALLOW_ELEVATED` is not true (the tool's name).
    PermissionDenied(String),
    /// An argument addresses a guest or node outside the server's scope (see [`crate::scope`]):
    /// the argument, what it addresses, and the scope. Never sent to Proxmox.
    OutOfScope { argument: String, message: String, scope: String },
    /// A basic tool tried to send a request that may change the cluster (`POST`, `PUT`,
    /// `DELETE`) without being marked `read_only`: the tool, and the request (not sent).
    WriteRefused { tool: String, request: String },
    /// The HTTP caller's token may not call this tool (its `tools` or `elevated` in
    /// `PROXMOX_MCP_TOKENS_FILE`): the tool, and the token's name.
    NotGranted { tool: String, token: String },
    /// Proxmox, or the way to it, answered with an error.
    Api(ApiError),
    /// A task the tool started ended with an error (its exit status and log are in the report).
    TaskFailed(Box<TaskFailure>),
    /// An error, and what to do about it (shown after it, and as `error.hint`).
    Hinted(Box<ToolError>, String),
    /// Anything else, said plainly.
    Other(String),
}

impl ToolError {
    /// One invalid argument.
    pub fn invalid(arg: impl Into<String>, rule: impl Into<String>) -> Self {
        ToolError::InvalidArguments(vec![(arg.into(), rule.into())])
    }
}

/// A task that ended with an error: what the tool was doing, and the task.
#[derive(Debug)]
pub struct TaskFailure {
    pub what: String,
    pub report: TaskReport,
}

impl From<WaitError> for ToolError {
    fn from(e: WaitError) -> Self {
        match e {
            WaitError::Api(e) => ToolError::Api(e),
            offline @ WaitError::NodeOffline { .. } => ToolError::Other(offline.to_string()),
        }
    }
}

impl From<ApiError> for ToolError {
    fn from(e: ApiError) -> Self {
        ToolError::Api(e)
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::InvalidArguments(list) => {
                f.write_str("invalid arguments")?;
                for (arg, msg) in list {
                    write!(f, "\n• `{arg}` {msg}")?;
                }
                Ok(())
            }
            ToolError::PermissionDenied(tool) => write!(
                f,
                "`{tool}` is an elevated operation (it changes the cluster) and elevated operations are off. \
                 Set PROXMOX_ALLOW_ELEVATED=true to enable it."
            ),
            ToolError::OutOfScope { argument, message, scope } => write!(
                f,
                "`{argument}` addresses {message}, outside this server's scope ({scope}). \
                 The operator sets the scope with PROXMOX_ALLOWED_VMIDS and PROXMOX_ALLOWED_NODES."
            ),
            ToolError::WriteRefused { tool, request } => write!(
                f,
                "`{tool}` is a basic (read) tool, and basic tools may not send {request}: only elevated tools, or \
                 tools marked `read_only = true` whose POST only reads, may send POST, PUT or DELETE. Nothing was \
                 sent. (A bug in the tool: mark it `elevated`.)"
            ),
            ToolError::NotGranted { tool, token } => write!(
                f,
                "`{tool}` is not granted to the token \"{token}\": the operator grants tools to a token with its \
                 `tools` and `elevated` entries in PROXMOX_MCP_TOKENS_FILE."
            ),
            ToolError::Api(e) => e.fmt(f),
            ToolError::TaskFailed(failure) => {
                write!(
                    f,
                    "{} (task {} on {}).\n{}",
                    failure.what,
                    failure.report.upid,
                    failure.report.node,
                    failure.report.summary()
                )
            }
            ToolError::Hinted(e, hint) => write!(f, "{e}\n{hint}"),
            ToolError::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ToolError {}

pub type ToolResult = Result<ToolOutput, ToolError>;

/// The schema of a parameter struct: draft 2020-12, every subschema inlined, no `$ref`/`$defs`,
/// root `type: object` with `properties` and `additionalProperties: false`, no root title.
pub fn input_schema<T: schemars::JsonSchema>() -> JsonObject {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut obj = match schema.to_value() {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    };
    obj.remove("title");
    obj.remove("description");
    obj.remove("$schema");
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for prop in props.values_mut() {
            simplify(prop);
        }
    }
    obj.insert("type".into(), "object".into());
    obj.entry("properties").or_insert_with(|| Value::Object(JsonObject::new()));
    obj.insert("additionalProperties".into(), false.into());
    obj
}

/// Make a property schema plain for every client: a `oneOf` of string constants becomes an
/// `enum`, and optional values lose their `null` alternative (leaving a parameter out is how it
/// is omitted; `null` is still accepted).
fn simplify(schema: &mut Value) {
    let Value::Object(obj) = schema else { return };
    let alternatives = obj.get("oneOf").or_else(|| obj.get("anyOf")).cloned();
    if let Some(Value::Array(variants)) = alternatives {
        let mut consts = Vec::new();
        if variants.iter().all(|v| string_constants(v, &mut consts)) && !consts.is_empty() {
            obj.remove("oneOf");
            obj.remove("anyOf");
            obj.insert("type".into(), "string".into());
            obj.insert("enum".into(), Value::Array(consts));
        }
    }
    if let Some(Value::Array(types)) = obj.get("type") {
        let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        let single = if non_null.len() == 1 { non_null[0].clone() } else { Value::Array(non_null) };
        obj.insert("type".into(), single);
    }
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    // Doc comments wrap lines; a description is one paragraph.
    if let Some(Value::String(d)) = obj.get_mut("description") {
        *d = d.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    }
    // A pattern already requires a character: `minLength: 1` beside it says nothing more.
    if obj.contains_key("pattern") && obj.get("minLength") == Some(&Value::from(1)) {
        obj.remove("minLength");
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = obj.get_mut(key) {
            simplify(inner);
        }
    }
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for prop in props.values_mut() {
            simplify(prop);
        }
    }
}

/// Collect the string constants of an enum-like schema (`const`, `enum`, nested `oneOf`/`anyOf`;
/// `null` alternatives skipped). False if the schema is anything else.
fn string_constants(schema: &Value, out: &mut Vec<Value>) -> bool {
    if schema.get("type") == Some(&Value::from("null")) {
        return true;
    }
    if let Some(c) = schema.get("const").filter(|c| c.is_string()) {
        out.push(c.clone());
        return true;
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        let strings: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        if strings.iter().all(|v| v.is_string()) {
            out.extend(strings.into_iter().cloned());
            return true;
        }
        return false;
    }
    match schema.get("oneOf").or_else(|| schema.get("anyOf")) {
        Some(Value::Array(variants)) => variants.iter().all(|v| string_constants(v, out)),
        _ => false,
    }
}

/// serde's messages, made readable for an agent, and without the value given (it may be a
/// secret): `invalid type: string "hunter2", expected u16` becomes `has the wrong type: expected u16`.
pub(crate) fn clean_serde_message(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    if let Some(field) = unknown_field(msg) {
        return format!("`{field}` is not a parameter of this tool");
    }
    let expected =
        |rest: &str| rest.rsplit_once(", expected ").map(|(_, e)| format!(": expected {e}")).unwrap_or_default();
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        return format!("has the wrong type{}", expected(rest));
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        return format!("has an invalid value{}", expected(rest));
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        return format!("is not an accepted value{}", expected(rest));
    }
    msg.to_string()
}

pub(crate) fn unknown_field(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An enum whose variants carry docs.
    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    enum Dir {
        /// Incoming.
        #[serde(rename = "in")]
        In,
        /// Outgoing.
        #[serde(rename = "out")]
        Out,
    }

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct P {
        /// Direction.
        dir: Option<Dir>,
        /// Needed.
        need: Dir,
        /// Count.
        n: Option<u32>,
    }

    #[test]
    fn enums_become_plain_string_enums() {
        let s = Value::Object(input_schema::<P>());
        for key in ["dir", "need"] {
            assert_eq!(s["properties"][key]["enum"], serde_json::json!(["in", "out"]), "{s}");
            assert_eq!(s["properties"][key]["type"], "string");
            assert!(s["properties"][key].get("anyOf").is_none() && s["properties"][key].get("oneOf").is_none());
        }
        assert_eq!(s["properties"]["n"]["type"], "integer");
        assert_eq!(s["required"], serde_json::json!(["need"]));
    }
}
