//! Proxmox VE as Model Context Protocol tools.
//!
//! - [`pve_tool`] turns an `async fn` into a tool: schema, permission check, typed request path.
//! - [`Registry`] holds tools: [`Registry::builtin`] has the ready ones; filter it, select from it
//!   by names, globs and toolsets ([`Selection`]), add your own.
//! - [`Client`] talks to Proxmox (API token, TLS modes, rate limit, errors that say what to do).
//! - [`server`] serves a registry over MCP stdio with rmcp.
//!
//! ```no_run
//! use proxmox_mcp::{Config, Registry};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let config = Config::from_env()?;
//! let registry = Registry::builtin().filter(|t| !t.elevated);
//! proxmox_mcp::server::serve_stdio(registry, &config).await?;
//! # Ok(()) }
//! ```

extern crate self as proxmox_mcp;

pub mod arguments;
pub mod audit;
pub mod bound;
pub mod client;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod format;
pub mod guests;
pub mod hints;
pub mod http;
pub mod listing;
pub mod page;
pub mod path;
pub mod registry;
pub mod scope;
pub mod server;
pub mod task;
pub mod tokens;
pub mod tool;
pub mod tools;
pub mod types;

#[doc(hidden)]
pub mod __private;

pub use client::{ApiError, Client};
pub use config::{Config, ConfigError, SslMode};
pub use listing::SchemaDetail;
pub use path::{ApiPath, PathSegment};
pub use registry::{DuplicateTool, Registry, Selection, SelectionError};
pub use scope::Scope;
pub use tool::{Api, Context, Method, Origin, TaskFailure, ToolDescriptor, ToolError, ToolOutput, ToolResult};

/// Turns an `async fn` into an MCP tool for Proxmox VE.
///
/// ```
/// use proxmox_mcp::{pve_tool, Api, ToolResult, ToolOutput};
/// use proxmox_mcp::types::{Node, VmId};
///
/// /// Start a QEMU virtual machine.
/// #[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/start", method = POST, elevated)]
/// async fn start_vm(api: Api, node: Node, vmid: VmId) -> ToolResult {
///     let upid: String = api.send(()).await?;
///     Ok(ToolOutput::task(format!("VM {vmid} is starting on {node}"), &node, upid))
/// }
///
/// // The macro also wrote `START_VM`, the descriptor to register:
/// let registry = proxmox_mcp::Registry::new().add(&START_VM).unwrap();
/// assert!(registry.get("start_vm").is_some());
/// ```
///
/// Keys:
/// - `path = "/nodes/<node>/..."`: the request path; each `<param>` is filled from the argument of
///   that name, whose type must be a validated [`PathSegment`] (see [`types`]). Without `path`, the
///   tool builds its requests itself ([`Api::get`] and friends).
/// - `method = GET | POST | PUT | DELETE`: the request method (also gives the MCP annotations).
/// - `elevated`: refused unless `PROXMOX_ALLOW_ELEVATED=true`, before any request is sent.
/// - `name = "..."` (default: the fn name), `title = "..."`, `category = "..."` (default `Custom`).
/// - `destructive`, `idempotent`, `read_only` (`= true|false`): override the hints derived from the method.
///   A basic tool (not `elevated`) may send only `GET` requests unless it is marked
///   `read_only = true` (a `POST` that only reads, like a guest-agent query): [`Api`] refuses the others.
/// - `open_world = true`: the tool reaches beyond the cluster (the MCP `openWorldHint`; default false).
///
/// The first argument is the request context, [`Api`]. Each further argument is a tool parameter
/// named after the argument, typed by its type (`Option<T>` for optional ones), described by its
/// doc comment. One argument may be `#[flatten]`: a struct whose fields are parameters themselves.
/// `#[schemars(...)]` attributes on an argument are passed to the schema.
pub use proxmox_mcp_macros::pve_tool;
