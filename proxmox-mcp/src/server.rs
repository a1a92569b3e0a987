//! The MCP server: rmcp's `ServerHandler`, written by hand over a [`Registry`].
//!
//! Tool failures (bad arguments, permission, Proxmox errors) are results with `isError: true`
//! that the agent can read and act on; only an unknown tool is a JSON-RPC error.
//!
//! `tools/list` lists what can run: with elevated operations off, the elevated tools are left
//! out (the instructions say how many and how to enable them), and calling one answers the
//! usual permission-denied result. A tool not in the registry (e.g. left out by
//! `PROXMOX_TOOLS`) is unknown. The list is made once and keeps the registry's order.

use crate::audit::AuditLog;
use crate::client::Client;
use crate::config::Config;
use crate::listing::SchemaDetail;
use crate::registry::{Registry, SharedRegistry};
use crate::tokens::Grant;
use crate::tool::{Context, ToolError, ToolResult};
use futures_util::FutureExt;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, DiscoverResult, Implementation,
    InitializeRequestParams, InitializeResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

/// Said in the instructions: how to read the (compact) parameter schemas.
pub const PARAMETERS_NOTE: &str = "Parameters are the Proxmox API's own, with its names and value \
     formats (e.g. schedule \"sun 01:00\", prune-backups \"keep-last=3\", size \"+10G\"); a tool takes only the \
     parameters it lists, and a wrong argument is answered with an error naming it and the rule.";

/// Said in the instructions: how tools that start Proxmox tasks behave.
pub const TASKS_NOTE: &str = "Tools that start a Proxmox task (start, stop, create, clone, migrate, backup, \
     snapshot, delete, …) wait for it and report how it ended: OK, its warnings, or its error with the last log lines. \
     Their `wait` argument sets how long (seconds; 0 returns the UPID at once); a task still running then goes on, \
     and proxmox_wait_task follows it.";

/// Said in the instructions: how list tools page.
pub const LISTS_NOTE: &str = "List tools show `limit` items (default 100) from `offset`; their result gives \
     `total` and, while more are left, `next_offset`.";

/// Said in the instructions: the elevated tools of `registry` and whether they run. With
/// elevated operations off they are not listed; this says how many there are and how to enable them.
pub fn elevated_note(registry: &Registry, allow_elevated: bool) -> String {
    let elevated = registry.iter().filter(|t| t.elevated).count();
    match (elevated, allow_elevated) {
        (0, _) => "This server offers no tools that change the cluster.".to_string(),
        (_, true) => {
            "Elevated tools, which change the cluster (the tools without readOnlyHint), are enabled.".to_string()
        }
        (n, false) => format!(
            "{n} elevated tools, which change the cluster (start, stop, create, delete, …), are disabled and not \
             listed: the operator enables them with PROXMOX_ALLOW_ELEVATED=true."
        ),
    }
}

/// Said in the instructions of a scoped server.
pub fn scope_note(scope: &crate::scope::Scope) -> String {
    format!(
        "This server is scoped to {scope}: lists show only those, and a call addressing another guest or node is refused; \
         create guests with ids from proxmox_get_next_vmid."
    )
}

/// Said in the instructions to the holder of a token of `PROXMOX_MCP_TOKENS_FILE`, after the
/// server's own: what its grant leaves out of what the server offers (`None`: nothing).
pub fn token_note(grant: &Grant, listed: &Registry, server_scope: &crate::scope::Scope) -> Option<String> {
    let mut notes = Vec::new();
    let denied_elevated = listed.iter().filter(|t| t.elevated && !grant.elevated).count();
    if denied_elevated > 0 {
        notes.push(format!(
            "its token ({}) is not granted the {denied_elevated} elevated tools: they are not listed and are refused",
            grant.name
        ));
    }
    if grant.tools.is_some() {
        let granted = listed.iter().filter(|t| grant.allows(t)).count();
        notes.push(format!("it may call {granted} of the server's {} tools, the ones listed", listed.len()));
    }
    let scope = server_scope.intersect(&grant.scope);
    if &scope != server_scope {
        notes.push(format!(
            "it is scoped to {scope}: lists show only those, and a call addressing another guest or node is refused"
        ));
    }
    (!notes.is_empty()).then(|| format!("For this client: {}.", notes.join("; ")))
}

/// An MCP server for a registry of tools and a Proxmox client.
#[derive(Clone)]
pub struct ProxmoxServer {
    /// The tools that can be called.
    registry: SharedRegistry,
    /// The tools listed: the registry's, less the elevated ones when they are off.
    listed: SharedRegistry,
    detail: SchemaDetail,
    /// The `tools/list` answer, made at the first request.
    tools: Arc<OnceLock<Vec<Tool>>>,
    ctx: Context,
    instructions: String,
    /// Adds what to change in the server's own configuration to a Proxmox error (see
    /// [`crate::config::env_hint`]); the client's messages know no configuration.
    error_hint: Option<fn(&crate::ApiError) -> Option<String>>,
    /// Where each tool call is recorded (`PROXMOX_AUDIT_LOG`).
    audit: Option<AuditLog>,
}

/// Who is calling: the stdio client, an HTTP client on loopback without tokens, or the holder of
/// a token of `PROXMOX_MCP_TOKENS_FILE` (whose grant narrows what it may list and call).
#[derive(Clone, Debug, Default)]
pub enum Caller {
    #[default]
    Stdio,
    Anonymous,
    Token(Arc<Grant>),
}

impl Caller {
    /// As the audit log names it.
    pub fn name(&self) -> &str {
        match self {
            Caller::Stdio => "stdio",
            Caller::Anonymous => "anonymous",
            Caller::Token(grant) => &grant.name,
        }
    }

    /// The grant of a token caller.
    pub fn grant(&self) -> Option<&Grant> {
        match self {
            Caller::Token(grant) => Some(grant),
            _ => None,
        }
    }

    /// The caller of a request: the HTTP transport puts it in the request's extensions.
    fn of(cx: &RequestContext<RoleServer>) -> Caller {
        cx.extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .cloned()
            .unwrap_or_default()
    }
}

impl ProxmoxServer {
    /// Serve `registry` (already narrowed to what the operator chose, e.g. with
    /// [`crate::config::ToolSelection::apply`]); with `allow_elevated` false its elevated tools are
    /// not listed and refuse to run.
    pub fn new(registry: Registry, client: Client, allow_elevated: bool) -> Self {
        let instructions = format!(
            "Tools for the Proxmox VE cluster at {}. Read tools (list, get, status) always work. {} Guests are \
             addressed by vmid (`node` may be left out: it is looked up); proxmox_get_vms finds them by name, tag or status. {LISTS_NOTE} {TASKS_NOTE} {PARAMETERS_NOTE}",
            client.describe(),
            elevated_note(&registry, allow_elevated)
        );
        let listed = registry.clone().filter(|t| allow_elevated || !t.elevated);
        ProxmoxServer {
            listed: Arc::new(listed),
            registry: Arc::new(registry),
            detail: SchemaDetail::default(),
            tools: Arc::default(),
            ctx: Context::new(client, allow_elevated),
            instructions,
            error_hint: None,
            audit: None,
        }
    }

    /// The server of a configuration: `registry` narrowed by `PROXMOX_TOOLS` /
    /// `PROXMOX_EXCLUDE_TOOLS`, the client, and every setting of `config`.
    pub fn from_config(registry: Registry, config: &Config) -> Result<ProxmoxServer, crate::ConfigError> {
        let registry = config.tools.apply(registry)?;
        let client = config.client()?;
        Ok(ProxmoxServer::new(registry, client, config.allow_elevated)
            .with_error_hints(crate::config::env_hint)
            .with_task_wait(config.task_wait)
            .with_max_result(config.max_result)
            .with_upload_dir(config.upload_dir.clone())
            .with_schema_detail(config.tool_schema)
            .with_scope(config.scope.clone()))
    }

    /// Record every tool call here (see [`crate::audit`]).
    pub fn with_audit(mut self, audit: Option<AuditLog>) -> Self {
        self.audit = audit;
        self
    }

    /// The Proxmox client (e.g. for its [`crate::client::Health`]).
    pub fn client(&self) -> &Client {
        &self.ctx.client
    }

    /// List the tools in full or compact (the default); see [`SchemaDetail`].
    pub fn with_schema_detail(mut self, detail: SchemaDetail) -> Self {
        self.detail = detail;
        self.tools = Arc::default();
        self
    }

    /// The tool definitions `tools/list` answers with: those of [`ProxmoxServer::listed`].
    pub fn tools(&self) -> &[Tool] {
        self.tools.get_or_init(|| self.listed.tools(self.detail))
    }

    /// Allow uploads of the files under this directory (`PROXMOX_UPLOAD_DIR`).
    pub fn with_upload_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.ctx = self.ctx.with_upload_dir(dir);
        self
    }

    /// How long task tools wait for their task by default (`PROXMOX_TASK_WAIT`).
    pub fn with_task_wait(mut self, wait: std::time::Duration) -> Self {
        self.ctx = self.ctx.with_task_wait(wait);
        self
    }

    /// Hold each result's text and data to this many bytes each (see [`crate::bound`]).
    pub fn with_max_result(mut self, bytes: usize) -> Self {
        self.ctx = self.ctx.with_max_result(bytes);
        self
    }

    /// Let tools see and address only the guests and nodes of `scope` (`PROXMOX_ALLOWED_VMIDS`,
    /// `PROXMOX_ALLOWED_NODES`; see [`crate::scope`]). The instructions say so (call it after
    /// [`ProxmoxServer::with_instructions`]).
    pub fn with_scope(mut self, scope: crate::scope::Scope) -> Self {
        if !scope.is_unrestricted() {
            self.instructions.push_str(&format!(" {}", scope_note(&scope)));
        }
        self.ctx = self.ctx.with_scope(scope);
        self
    }

    /// Add a hint to Proxmox errors, e.g. which environment variable decides what failed.
    pub fn with_error_hints(mut self, hint: fn(&crate::ApiError) -> Option<String>) -> Self {
        self.error_hint = Some(hint);
        self
    }

    /// Replace the instructions sent to the client at initialisation.
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// The tools that can be called (an elevated one answers permission denied while elevated
    /// operations are off).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The tools `tools/list` lists: the elevated ones only while elevated operations are on.
    pub fn listed(&self) -> &Registry {
        &self.listed
    }

    /// Call a tool by name, as `tools/call` does. `None` if there is no such tool; an elevated
    /// tool that is not listed answers permission denied.
    pub async fn call(&self, name: &str, arguments: serde_json::Map<String, Value>) -> Option<CallToolResult> {
        self.call_reporting(name, arguments, None, &Caller::Stdio).await
    }

    /// Whether `caller` sees `tool` in `tools/list` (it is listed, and granted to its token).
    pub fn lists_for(&self, caller: &Caller, tool: &str) -> bool {
        self.listed.get(tool).is_some_and(|d| caller.grant().is_none_or(|g| g.allows(d)))
    }

    /// [`ProxmoxServer::call`] for `caller` (a token's grant narrows what it may call and
    /// address), reporting progress to `progress` while a task is waited for. Every call, known
    /// tool or not, is written to the audit log here.
    pub async fn call_reporting(
        &self,
        name: &str,
        arguments: serde_json::Map<String, Value>,
        progress: Option<crate::task::ProgressSink>,
        caller: &Caller,
    ) -> Option<CallToolResult> {
        let started = std::time::Instant::now();
        let Some(descriptor) = self.registry.get(name) else {
            if let Some(audit) = &self.audit {
                let arguments = crate::audit::redact(&Default::default(), &arguments);
                let tool = crate::format::truncate(name, 128);
                audit.record(&crate::audit::CallRecord {
                    caller: caller.name(),
                    tool: &tool,
                    arguments,
                    outcome: "unknown_tool",
                    upid: None,
                    duration: started.elapsed(),
                });
            }
            return None;
        };
        let audited = self.audit.as_ref().map(|_| crate::audit::redact(&descriptor.input_schema(), &arguments));
        let mut ctx = self.ctx.clone().with_progress(progress);
        let refused = match caller.grant() {
            Some(grant) if !grant.allows(descriptor) => {
                Some(ToolError::NotGranted { tool: name.to_string(), token: grant.name.clone() })
            }
            Some(grant) => {
                ctx.scope = ctx.scope.intersect(&grant.scope);
                None
            }
            None => None,
        };
        let result = match refused {
            Some(refusal) => Err(refusal),
            // A bug in one tool must not leave its call unanswered (or take the server down): the
            // panic is logged (by the panic hook) and becomes this call's error.
            None => std::panic::AssertUnwindSafe(descriptor.call(ctx, arguments)).catch_unwind().await.unwrap_or_else(
                |_| {
                    tracing::error!(tool = name, "tool call panicked");
                    Err(ToolError::Other(format!(
                        "`{name}` stopped on an internal error of this server (a bug: please report it). \
                         If it was a change, read the guest's or task's state before trying again."
                    )))
                },
            ),
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match &result {
            Ok(_) => tracing::info!(tool = name, caller = caller.name(), ms, "tool call ok"),
            Err(e) => tracing::info!(tool = name, caller = caller.name(), ms, error = %e, "tool call failed"),
        }
        let hint = match (&result, self.error_hint) {
            (Err(ToolError::Api(e)), Some(f)) => f(e),
            (Err(ToolError::Hinted(inner, _)), Some(f)) => match &**inner {
                ToolError::Api(e) => f(e),
                _ => None,
            },
            _ => None,
        };
        let rendered = render_with_hint(result, hint);
        if let (Some(audit), Some(arguments)) = (&self.audit, audited) {
            let upid = rendered.structured_content.as_ref().and_then(|d| d.get("upid")).and_then(Value::as_str);
            audit.record(&crate::audit::CallRecord {
                caller: caller.name(),
                tool: name,
                arguments,
                outcome: &crate::audit::outcome(&rendered),
                upid,
                duration: started.elapsed(),
            });
        }
        Some(rendered)
    }
}

/// A tool result as MCP content: README-shaped text plus `structuredContent`.
pub fn render(result: ToolResult) -> CallToolResult {
    render_with_hint(result, None)
}

/// [`render`], with a hint on what to do next added to an error (text and `error.hint`).
pub fn render_with_hint(result: ToolResult, hint: Option<String>) -> CallToolResult {
    if let Err(ToolError::Hinted(inner, first)) = result {
        let hint = match hint {
            Some(more) => format!("{first} {more}"),
            None => first,
        };
        return render_with_hint(Err(*inner), Some(hint));
    }
    match result {
        Ok(out) => {
            let mut data = out.data;
            if let Value::Object(map) = &mut data {
                map.entry("message").or_insert_with(|| Value::String(guidance(&out.text)));
            }
            let mut r = CallToolResult::success(vec![ContentBlock::text(out.text)]);
            r.structured_content = Some(data);
            r
        }
        Err(e) => {
            let (text, data) = match &e {
                ToolError::PermissionDenied(tool) => (
                    format!("🚫 Permission Denied: {e}"),
                    json!({ "error": { "kind": "permission_denied", "tool": tool, "message": e.to_string() } }),
                ),
                ToolError::OutOfScope { argument, scope, .. } => (
                    format!("🚫 Out of Scope: {e}"),
                    json!({ "error": {
                        "kind": "out_of_scope",
                        "argument": argument,
                        "scope": scope,
                        "message": e.to_string(),
                    } }),
                ),
                ToolError::NotGranted { tool, .. } => (
                    format!("🚫 Permission Denied: {e}"),
                    json!({ "error": { "kind": "not_granted", "tool": tool, "message": e.to_string() } }),
                ),
                ToolError::WriteRefused { tool, request } => (
                    format!("🚫 Permission Denied: {e}"),
                    json!({ "error": { "kind": "write_refused", "tool": tool, "request": request, "message": e.to_string() } }),
                ),
                ToolError::InvalidArguments(list) => (
                    format!("❌ Error: {e}"),
                    json!({ "error": {
                        "kind": "invalid_arguments",
                        "message": e.to_string(),
                        "arguments": list.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    } }),
                ),
                ToolError::Api(api) => {
                    let mut err = json!({ "kind": "proxmox", "message": e.to_string() });
                    if let Some(status) = api.status() {
                        err["status"] = status.into();
                    }
                    if let crate::ApiError::BadRequest { errors, .. } = api {
                        err["fields"] = json!(errors);
                    }
                    (format!("❌ Error: {e}"), json!({ "error": err }))
                }
                ToolError::TaskFailed(failure) => {
                    let task = failure.report.to_json();
                    (
                        format!("❌ Error: {e}"),
                        json!({
                            "error": { "kind": "task_failed", "message": e.to_string(), "exitstatus": failure.report.exitstatus },
                            "upid": failure.report.upid,
                            "node": failure.report.node,
                            "task": task,
                        }),
                    )
                }
                // Taken apart above; kept whole if it ever gets here.
                ToolError::Other(_) | ToolError::Hinted(..) => {
                    (format!("❌ Error: {e}"), json!({ "error": { "kind": "other", "message": e.to_string() } }))
                }
            };
            let (mut text, mut data) = (text, data);
            if let Some(hint) = hint {
                text.push_str(&format!("\n{hint}"));
                data["error"]["hint"] = hint.into();
            }
            data["message"] = Value::String(crate::format::truncate(&text, MESSAGE_MAX));
            let mut r = CallToolResult::error(vec![ContentBlock::text(text)]);
            r.structured_content = Some(data);
            r
        }
    }
}

/// How long a client may keep the tool listing: it does not change while the process runs.
pub const LISTING_TTL_MS: u64 = 24 * 60 * 60 * 1000;

/// The longest `structuredContent.message`, in bytes.
const MESSAGE_MAX: usize = 2048;

/// What `structuredContent.message` carries of a result's text, for clients that give the model
/// only `structuredContent`: the headline, and each line that says what to do next (names a
/// tool), warns, or says what is still going on. The data itself stays where it is.
pub fn guidance(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines.next().unwrap_or_default().to_string();
    const MARKS: &[&str] = &["✅", "⚠️", "⏳", "▶️", "💡", "🔴", "❗"];
    for line in lines {
        let hint = line.contains("proxmox_")
            || MARKS.iter().any(|m| line.starts_with(m))
            || line.contains("WARN")
            || line.starts_with("• Finished")
            || line.contains(" more ")
            || line.contains("Not listed")
            || line.starts_with("Showing ")
            || line.starts_with("Nothing from offset");
        if hint {
            out.push('\n');
            out.push_str(line);
        }
    }
    crate::format::truncate(&out, MESSAGE_MAX)
}

impl ProxmoxServer {
    /// The instructions `caller` gets: the server's, and for a token what its grant leaves out.
    pub fn instructions_for(&self, caller: &Caller) -> String {
        match caller.grant().and_then(|g| token_note(g, &self.listed, &self.ctx.scope)) {
            Some(note) => format!("{} {note}", self.instructions),
            None => self.instructions.clone(),
        }
    }

    fn info_for(&self, caller: &Caller) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("proxmox-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(self.instructions_for(caller))
    }
}

impl ServerHandler for ProxmoxServer {
    fn get_info(&self) -> ServerConfig {
        self.info_for(&Caller::Stdio)
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        cx.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        result.instructions = Some(self.instructions_for(&Caller::of(&cx)));
        Ok(result)
    }

    async fn discover(&self, cx: RequestContext<RoleServer>) -> Result<DiscoverResult, ErrorData> {
        let info = self.info_for(&Caller::of(&cx));
        Ok(DiscoverResult::from_server_info(self.supported_protocol_versions().into_owned(), info))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        // The listing is made once and never changes while the process runs, in the same order:
        // 2026-07-28 clients may keep it (a day), for this caller. A token sees what it may call.
        let caller = Caller::of(&cx);
        let tools: Vec<Tool> = match caller.grant() {
            None => self.tools().to_vec(),
            Some(_) => self.tools().iter().filter(|t| self.lists_for(&caller, &t.name)).cloned().collect(),
        };
        Ok(ListToolsResult::with_all_items(tools).with_ttl_ms(LISTING_TTL_MS).with_cache_scope(CacheScope::Private))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let caller = Caller::of(&cx);
        // With a progress token, waiting for a task sends `notifications/progress`.
        let progress = cx.meta.get_progress_token().map(|token| {
            let peer = cx.peer.clone();
            let sink: crate::task::ProgressSink = Arc::new(move |p: crate::task::Progress| {
                let (peer, token) = (peer.clone(), token.clone());
                Box::pin(async move {
                    let mut note = ProgressNotificationParam::new(token, p.elapsed_s).with_total(p.deadline_s);
                    if let Some(m) = p.message {
                        note = note.with_message(m);
                    }
                    if let Err(e) = peer.notify_progress(note).await {
                        tracing::debug!(error = %e, "cannot send a progress notification");
                    }
                })
            });
            sink
        });
        // A client's `notifications/cancelled` ends the call, and any wait for a task in it (the
        // task goes on in Proxmox).
        let outcome = tokio::select! {
            outcome = self.call_reporting(&name, request.arguments.unwrap_or_default(), progress, &caller) => outcome,
            () = cx.ct.cancelled() => {
                tracing::info!(tool = %name, "tool call cancelled by the client");
                return Ok(render(Err(ToolError::Other("cancelled by the client".into()))).into());
            }
        };
        match outcome {
            Some(result) => Ok(result.into()),
            None => Err(ErrorData::invalid_params(format!("unknown tool: {name}"), None)),
        }
    }
}

/// Serve the tools of `registry` that `config` selects (`PROXMOX_TOOLS`, `PROXMOX_EXCLUDE_TOOLS`)
/// over stdio (stdin/stdout) until the client closes stdin.
pub async fn serve_stdio(registry: Registry, config: &Config) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    serve(ProxmoxServer::from_config(registry, config)?).await
}

/// Serve a ready server over stdio.
pub async fn serve(server: ProxmoxServer) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing::info!(tools = server.registry.len(), listed = server.listed.len(), "serving MCP over stdio");
    if server.listed.is_empty() {
        tracing::warn!("no tool is listed: see PROXMOX_TOOLS, PROXMOX_EXCLUDE_TOOLS and PROXMOX_ALLOW_ELEVATED");
    }
    let running = server.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    tracing::info!("stdin closed, exiting");
    Ok(())
}
