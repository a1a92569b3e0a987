//! Configuration from the environment: the variables of the TypeScript server this replaces,
//! plus a few of our own. A bad value stops start-up with one line naming the variable.

use crate::client::tls::{parse_fingerprint, parse_pem_certs};
use crate::client::{ApiError, Client, HttpSettings, Setting, SetupError};
pub use crate::client::{Secret, SslMode, TlsSettings};
use crate::listing::SchemaDetail;
use crate::registry::{Registry, Selection};
use crate::scope::Scope;
use std::fmt;
use std::time::Duration;

/// Everything the server needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub token_name: String,
    pub token_value: Secret,
    pub tls: TlsSettings,
    pub allow_elevated: bool,
    pub timeout: Duration,
    /// Requests per second to Proxmox (0 = unlimited) and the burst allowed.
    pub rate_limit: f64,
    pub rate_burst: u32,
    /// The only directory whose files the upload tool may send (canonical); `None`: no uploads.
    pub upload_dir: Option<std::path::PathBuf>,
    /// How much of each tool's schema `tools/list` sends (`PROXMOX_TOOL_SCHEMA`).
    pub tool_schema: SchemaDetail,
    /// How long a task tool waits for its task (`PROXMOX_TASK_WAIT`; zero: not at all).
    pub task_wait: Duration,
    /// The most bytes of a result's text, and of its data, each (`PROXMOX_MAX_RESULT_KB`).
    pub max_result: usize,
    /// Which tools the server offers (`PROXMOX_TOOLS`, `PROXMOX_EXCLUDE_TOOLS`).
    pub tools: ToolSelection,
    /// The most of one answer read from Proxmox, in bytes (`PROXMOX_MAX_RESPONSE_MB`).
    pub max_response: u64,
    /// Where `verify` mode without CA or pin remembers the certificate first seen per
    /// `host:port` (`PROXMOX_KNOWN_HOSTS`); `None`: for the process only.
    pub known_hosts: Option<std::path::PathBuf>,
    /// The guests and nodes tools may see and address (`PROXMOX_ALLOWED_VMIDS`,
    /// `PROXMOX_ALLOWED_NODES`); the default: all.
    pub scope: Scope,
}

/// A configuration variable with a bad or missing value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { variable: variable.into(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The variables, for `--help` and the README: (name, default, meaning).
pub const VARIABLES: &[(&str, &str, &str)] = &[
    ("PROXMOX_HOST", "(required)", "Proxmox host name or IP address"),
    ("PROXMOX_USER", "root@pam", "user the API token belongs to, with realm"),
    ("PROXMOX_TOKEN_NAME", "(required)", "API token name (the part after `!`)"),
    ("PROXMOX_TOKEN_VALUE", "(required)", "API token secret"),
    ("PROXMOX_SSL_MODE", "strict", "strict | verify | insecure"),
    ("PROXMOX_ALLOW_ELEVATED", "false", "allow tools that change the cluster"),
    ("PROXMOX_PORT", "8006", "Proxmox API port"),
    ("PROXMOX_SSL_CA_CERT", "", "PEM file of a CA to trust (strict and verify modes)"),
    ("PROXMOX_SSL_FINGERPRINT", "", "SHA-256 fingerprint of the host certificate to pin (AA:BB:… or hex)"),
    (
        "PROXMOX_KNOWN_HOSTS",
        "$XDG_STATE_HOME/proxmox-mcp/known_hosts",
        "verify mode without CA or fingerprint: where the certificate first seen per host:port is remembered (else ~/.local/state/proxmox-mcp/known_hosts)",
    ),
    ("PROXMOX_TIMEOUT", "30", "seconds to wait for Proxmox per request (0.1 to 3600)"),
    ("PROXMOX_RATE_LIMIT", "20", "requests per second to Proxmox (0.01 to 10000), 0 for no limit"),
    ("PROXMOX_MAX_RESPONSE_MB", "32", "the largest answer read from Proxmox, in MiB (1 to 4096)"),
    ("PROXMOX_LOG_LEVEL", "info", "error | warn | info | debug | trace (or RUST_LOG)"),
    ("PROXMOX_UPLOAD_DIR", "", "the only directory whose files may be uploaded to a storage (unset: no uploads)"),
    ("PROXMOX_LOG_FORMAT", "text", "text | json (one JSON object per line on stderr)"),
    ("PROXMOX_MAX_RESULT_KB", "32", "the most KiB of a result's text, and of its data, each (4 to 1024)"),
    (
        "PROXMOX_TASK_WAIT",
        "45",
        "seconds a tool waits for the Proxmox task it started (0 to 3600; 0: return the UPID at once)",
    ),
    (
        "PROXMOX_TOOLS",
        "(all)",
        "the only tools to offer: names, globs (* ?) and toolsets (@ha, @read…), comma-separated",
    ),
    ("PROXMOX_EXCLUDE_TOOLS", "", "tools not to offer, same syntax, e.g. proxmox_execute_vm_command,proxmox_agent_*"),
    (
        "PROXMOX_ALLOWED_VMIDS",
        "(all)",
        "the only guests tools may see and address: ids and ranges, e.g. 100-199,300 (creates and next id stay inside)",
    ),
    (
        "PROXMOX_ALLOWED_NODES",
        "(all)",
        "the only nodes tools may see and address: names, comma-separated, e.g. pve1,pve2",
    ),
    ("PROXMOX_TOOL_SCHEMA", "compact", "compact | full: how much of each tool's schema tools/list sends (see README)"),
    ("PROXMOX_DEMO_TASK_SECONDS", "2", "with --demo: how long simulated tasks run"),
    ("PROXMOX_AUDIT_LOG", "", "a file to append one JSON line per tool call to (secrets redacted), or stderr"),
    ("PROXMOX_MCP_HTTP", "", "serve MCP over Streamable HTTP at this address (as --http), e.g. 127.0.0.1:8080"),
    (
        "PROXMOX_MCP_TOKENS_FILE",
        "",
        "HTTP: TOML file of bearer tokens (sha256, elevated, tools, vmids, nodes); required off loopback; SIGHUP re-reads it",
    ),
    (
        "PROXMOX_MCP_ALLOWED_HOSTS",
        "localhost,127.0.0.1,::1",
        "HTTP: Host header values accepted (names, or name:port), comma-separated",
    ),
    (
        "PROXMOX_MCP_ALLOWED_ORIGINS",
        "http://localhost:*,…",
        "HTTP: browser Origin values accepted (scheme://host:port, :* any port), comma-separated",
    ),
];

/// How `--http` serves (`PROXMOX_MCP_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Where to listen (port 0: any free port).
    pub addr: std::net::SocketAddr,
    /// `PROXMOX_MCP_TOKENS_FILE`; `None`: no authentication (loopback only).
    pub tokens_file: Option<std::path::PathBuf>,
    /// Accepted `Host` values.
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin` values (requests without `Origin` pass: they are not from a browser).
    pub allowed_origins: Vec<String>,
}

/// The `Host` values accepted by default: loopback names, any port.
pub const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];
/// The `Origin` values accepted by default: pages served from loopback, any port.
pub const LOOPBACK_ORIGINS: &[&str] = &[
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];

impl HttpConfig {
    /// `Some` when `--http ADDR` (`cli`) or `PROXMOX_MCP_HTTP` asks for HTTP. Listening off
    /// loopback needs a tokens file.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        cli: Option<&str>,
    ) -> Result<Option<HttpConfig>, ConfigError> {
        let get = |name: &str| set(lookup(name));
        let (variable, addr) = match (cli, get("PROXMOX_MCP_HTTP")) {
            (Some(a), _) => ("--http", a.to_string()),
            (None, Some(a)) => ("PROXMOX_MCP_HTTP", a),
            (None, None) => return Ok(None),
        };
        let addr: std::net::SocketAddr = addr.trim().parse().map_err(|_| {
            ConfigError::new(
                variable,
                format!("must be an IP address and port, e.g. 127.0.0.1:8080 or [::1]:8080 (got \"{addr}\")"),
            )
        })?;
        let tokens_file = get("PROXMOX_MCP_TOKENS_FILE").map(std::path::PathBuf::from);
        if tokens_file.is_none() && !addr.ip().is_loopback() {
            return Err(ConfigError::new(
                "PROXMOX_MCP_TOKENS_FILE",
                format!(
                    "is required to listen on {addr}, which is not a loopback address: anyone who reaches it could \
                     call the tools (see the README's HTTP section)"
                ),
            ));
        }
        let list = |name: &str, default: &[&str]| -> Vec<String> {
            match get(name) {
                Some(v) => v.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_string).collect(),
                None => default.iter().map(|e| e.to_string()).collect(),
            }
        };
        let allowed_hosts = list("PROXMOX_MCP_ALLOWED_HOSTS", LOOPBACK_HOSTS);
        if allowed_hosts.is_empty() {
            return Err(ConfigError::new("PROXMOX_MCP_ALLOWED_HOSTS", "names no host"));
        }
        let allowed_origins = list("PROXMOX_MCP_ALLOWED_ORIGINS", LOOPBACK_ORIGINS);
        if let Some(bad) = allowed_origins.iter().find(|o| *o != "null" && !o.contains("://")) {
            return Err(ConfigError::new(
                "PROXMOX_MCP_ALLOWED_ORIGINS",
                format!("entries are scheme://host[:port] (got \"{bad}\")"),
            ));
        }
        Ok(Some(HttpConfig { addr, tokens_file, allowed_hosts, allowed_origins }))
    }
}

/// `PROXMOX_AUDIT_LOG`, opened: `None` when unset.
pub fn audit_log(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<crate::audit::AuditLog>, ConfigError> {
    match set(lookup("PROXMOX_AUDIT_LOG")) {
        None => Ok(None),
        Some(target) => crate::audit::AuditLog::open(&target)
            .map(Some)
            .map_err(|e| ConfigError::new("PROXMOX_AUDIT_LOG", format!("cannot open \"{target}\" for appending: {e}"))),
    }
}

impl Config {
    /// A configuration in code, with the defaults of the environment variables (strict TLS,
    /// elevated operations off, 30 s timeout, 20 requests a second, answers up to 32 MiB), except
    /// that no known-hosts file is kept: set [`Config::known_hosts`] to remember certificates
    /// first seen in `verify` mode across restarts.
    pub fn new(host: impl Into<String>, token_name: impl Into<String>, token_value: impl Into<String>) -> Config {
        Config {
            host: host.into(),
            port: 8006,
            user: "root@pam".into(),
            token_name: token_name.into(),
            token_value: Secret::new(token_value),
            tls: TlsSettings::default(),
            allow_elevated: false,
            timeout: Duration::from_secs(30),
            rate_limit: 20.0,
            rate_burst: 40,
            upload_dir: None,
            tool_schema: SchemaDetail::Compact,
            task_wait: crate::task::DEFAULT_WAIT,
            max_result: crate::bound::DEFAULT_MAX_RESULT,
            tools: ToolSelection::default(),
            max_response: DEFAULT_MAX_RESPONSE_MB << 20,
            known_hosts: None,
            scope: Scope::default(),
        }
    }

    /// Read the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read variables through `lookup` (tests, or a config source of your own).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| set(lookup(name));
        let required =
            |name: &str, what: &str| get(name).ok_or_else(|| ConfigError::new(name, format!("is required: {what}")));

        let host = required("PROXMOX_HOST", "the Proxmox host name or IP address, e.g. pve.example.com")?;
        if host.contains("://") || host.contains('/') || host.contains(char::is_whitespace) {
            return Err(ConfigError::new(
                "PROXMOX_HOST",
                format!("takes a host name or IP address, not a URL (got \"{host}\"); the port goes in PROXMOX_PORT"),
            ));
        }
        let port = match get("PROXMOX_PORT") {
            None => 8006,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                ConfigError::new("PROXMOX_PORT", format!("must be a port number from 1 to 65535 (got \"{p}\")"))
            })?,
        };
        let user = get("PROXMOX_USER").unwrap_or_else(|| "root@pam".to_string());
        let valid_user = user.split_once('@').is_some_and(|(u, realm)| {
            !u.is_empty()
                && !realm.is_empty()
                && !user.contains(['!', '=', ' ', ':'])
                && !user.contains(char::is_control)
        });
        if !valid_user {
            return Err(ConfigError::new(
                "PROXMOX_USER",
                format!("must be user@realm, e.g. root@pam (got \"{user}\")"),
            ));
        }
        let token_name =
            required("PROXMOX_TOKEN_NAME", "the API token's name, e.g. mcp (Datacenter → Permissions → API Tokens)")?;
        let valid_token = token_name.starts_with(|c: char| c.is_ascii_alphabetic())
            && token_name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !valid_token {
            return Err(ConfigError::new(
                "PROXMOX_TOKEN_NAME",
                format!(
                    "must start with a letter and use letters, digits, `.`, `_` and `-` only (got \"{token_name}\"); give the name only, not user!name"
                ),
            ));
        }
        // Never echo the secret, not even in an error.
        let token_value = required("PROXMOX_TOKEN_VALUE", "the API token's secret")?;
        if token_value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ConfigError::new("PROXMOX_TOKEN_VALUE", "contains spaces or control characters"));
        }

        let mode = match get("PROXMOX_SSL_MODE").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("strict") => SslMode::Strict,
            Some("verify") => SslMode::Verify,
            Some("insecure") => SslMode::Insecure,
            Some(other) => {
                return Err(ConfigError::new(
                    "PROXMOX_SSL_MODE",
                    format!("must be one of strict, verify, insecure (got \"{other}\")"),
                ));
            }
        };
        let ca_pem = match get("PROXMOX_SSL_CA_CERT") {
            None => None,
            Some(path) => {
                let pem = std::fs::read(&path)
                    .map_err(|e| ConfigError::new("PROXMOX_SSL_CA_CERT", format!("cannot read \"{path}\": {e}")))?;
                parse_pem_certs(&pem)
                    .map_err(|e| ConfigError::new("PROXMOX_SSL_CA_CERT", format!("\"{path}\": {e}")))?;
                Some(pem)
            }
        };
        let fingerprint = match get("PROXMOX_SSL_FINGERPRINT") {
            None => None,
            Some(fp) => Some(parse_fingerprint(&fp).ok_or_else(|| {
                ConfigError::new(
                    "PROXMOX_SSL_FINGERPRINT",
                    "must be a SHA-256 fingerprint: 32 bytes as AA:BB:… or 64 hex digits (Node → System → Certificates)",
                )
            })?),
        };
        let allow_elevated = boolean(get("PROXMOX_ALLOW_ELEVATED"), "PROXMOX_ALLOW_ELEVATED", false)?;
        let timeout = Duration::from_secs_f64(number(
            "PROXMOX_TIMEOUT",
            get("PROXMOX_TIMEOUT"),
            30.0,
            |t| (0.1..=3600.0).contains(&t),
            "must be seconds from 0.1 to 3600",
        )?);
        let rate_limit = number(
            "PROXMOX_RATE_LIMIT",
            get("PROXMOX_RATE_LIMIT"),
            20.0,
            |r| r == 0.0 || (MIN_RATE..=MAX_RATE).contains(&r),
            "must be requests per second from 0.01 to 10000, or 0 for no limit",
        )?;
        let max_response = match get("PROXMOX_MAX_RESPONSE_MB") {
            None => DEFAULT_MAX_RESPONSE_MB,
            Some(v) => v.parse::<u64>().ok().filter(|m| (1..=MAX_RESPONSE_MB).contains(m)).ok_or_else(|| {
                ConfigError::new(
                    "PROXMOX_MAX_RESPONSE_MB",
                    format!("must be whole MiB from 1 to {MAX_RESPONSE_MB} (got \"{v}\")"),
                )
            })?,
        } << 20;
        let known_hosts = match get("PROXMOX_KNOWN_HOSTS") {
            Some(path) => Some(std::path::PathBuf::from(path)),
            None => default_known_hosts(get("XDG_STATE_HOME"), get("HOME")),
        };
        let upload_dir = upload_dir(get("PROXMOX_UPLOAD_DIR"))?;
        let tool_schema = tool_schema(get("PROXMOX_TOOL_SCHEMA"))?;
        let task_wait = task_wait(get("PROXMOX_TASK_WAIT"))?;
        let max_result = max_result(get("PROXMOX_MAX_RESULT_KB"))?;
        let tools = ToolSelection::from_lookup(&lookup)?;
        let scope = scope(&lookup)?;
        Ok(Config {
            max_result,
            scope,
            max_response,
            known_hosts,
            task_wait,
            tools,
            upload_dir,
            tool_schema,
            host,
            port,
            user,
            token_name,
            token_value: Secret::new(token_value),
            tls: TlsSettings { mode, ca_pem, fingerprint },
            allow_elevated,
            timeout,
            rate_limit,
            rate_burst: (rate_limit * 2.0).clamp(1.0, 1000.0) as u32,
        })
    }

    /// `https://HOST:PORT/api2/json`
    pub fn base_url(&self) -> String {
        self.http_settings().base_url()
    }

    /// What the HTTP client needs of this configuration.
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            host: self.host.clone(),
            port: self.port,
            user: self.user.clone(),
            token_name: self.token_name.clone(),
            token_value: self.token_value.clone(),
            tls: self.tls.clone(),
            timeout: self.timeout,
            max_response: self.max_response,
            known_hosts: self.known_hosts.clone(),
        }
    }

    /// The Proxmox client of this configuration, paced at its rate limit. A set-up problem
    /// names the variable to fix.
    pub fn client(&self) -> Result<Client, ConfigError> {
        let client = Client::new(&self.http_settings()).map_err(|e| self.setup_error(e))?;
        Ok(client.with_rate_limit(self.rate_limit, self.rate_burst))
    }

    fn setup_error(&self, e: SetupError) -> ConfigError {
        let variable = match e.setting {
            Setting::Tls => self.tls_variable(),
            Setting::Token => "PROXMOX_TOKEN_VALUE",
            Setting::Host => "PROXMOX_HOST",
        };
        ConfigError::new(variable, e.message)
    }

    /// The variable to blame for a TLS set-up problem.
    pub(crate) fn tls_variable(&self) -> &'static str {
        if self.tls.ca_pem.is_some() { "PROXMOX_SSL_CA_CERT" } else { "PROXMOX_SSL_MODE" }
    }
}

/// `PROXMOX_TOOLS` and `PROXMOX_EXCLUDE_TOOLS`: which tools a server offers (see
/// [`crate::registry`] for the syntax). Unset (or blank), all of them.
///
/// ```
/// use proxmox_mcp::Registry;
/// use proxmox_mcp::config::ToolSelection;
/// let vars = |name: &str| match name {
///     "PROXMOX_EXCLUDE_TOOLS" => Some("proxmox_execute_vm_command,proxmox_agent_*".to_string()),
///     _ => None,
/// };
/// let registry = ToolSelection::from_lookup(vars).unwrap().apply(Registry::builtin()).unwrap();
/// assert!(registry.get("proxmox_agent_exec").is_none() && registry.get("proxmox_start_vm").is_some());
/// let bad = ToolSelection::from_lookup(|_| Some("@vms".to_string())).unwrap_err();
/// assert_eq!(bad.variable, "PROXMOX_TOOLS");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolSelection {
    /// `PROXMOX_TOOLS`: offer only these; `None`: every tool.
    pub only: Option<Selection>,
    /// `PROXMOX_EXCLUDE_TOOLS`: then leave these out.
    pub exclude: Option<Selection>,
}

impl ToolSelection {
    /// Read the process environment.
    pub fn from_env() -> Result<ToolSelection, ConfigError> {
        ToolSelection::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read the two variables through `lookup`. Every entry must name a toolset or built-in
    /// tools: anything else is an error naming the variable, the entry and the valid ones.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ToolSelection, ConfigError> {
        let builtin = Registry::builtin();
        let read = |name: &str| -> Result<Option<Selection>, ConfigError> {
            let Some(selection) = set(lookup(name)).map(|v| Selection::parse(&v)).filter(|s| !s.is_empty()) else {
                return Ok(None);
            };
            selection.check(&builtin).map_err(|e| ConfigError::new(name, e.to_string()))?;
            Ok(Some(selection))
        };
        Ok(ToolSelection { only: read("PROXMOX_TOOLS")?, exclude: read("PROXMOX_EXCLUDE_TOOLS")? })
    }

    /// The tools of `registry` this selection offers, in the registry's order.
    pub fn apply(&self, registry: Registry) -> Result<Registry, ConfigError> {
        let registry = match &self.only {
            Some(only) => registry.select(only).map_err(|e| ConfigError::new("PROXMOX_TOOLS", e.to_string()))?,
            None => registry,
        };
        match &self.exclude {
            Some(exclude) => {
                registry.exclude(exclude).map_err(|e| ConfigError::new("PROXMOX_EXCLUDE_TOOLS", e.to_string()))
            }
            None => Ok(registry),
        }
    }
}

/// What `proxmox-mcp --demo` reads: the variables that mean something without a Proxmox host,
/// checked as [`Config`] checks them, and how long simulated tasks run.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    pub allow_elevated: bool,
    pub tool_schema: SchemaDetail,
    pub upload_dir: Option<std::path::PathBuf>,
    pub task_duration: Duration,
    pub task_wait: Duration,
    pub max_result: usize,
    pub tools: ToolSelection,
    pub scope: Scope,
}

impl DemoConfig {
    /// Read the process environment.
    pub fn from_env() -> Result<DemoConfig, ConfigError> {
        DemoConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<DemoConfig, ConfigError> {
        let get = |name: &str| set(lookup(name));
        let task_duration = Duration::from_secs_f64(number(
            "PROXMOX_DEMO_TASK_SECONDS",
            get("PROXMOX_DEMO_TASK_SECONDS"),
            2.0,
            |s| s == 0.0 || (0.001..=3600.0).contains(&s),
            "must be seconds from 0.001 to 3600, or 0",
        )?);
        Ok(DemoConfig {
            allow_elevated: boolean(get("PROXMOX_ALLOW_ELEVATED"), "PROXMOX_ALLOW_ELEVATED", false)?,
            tool_schema: tool_schema(get("PROXMOX_TOOL_SCHEMA"))?,
            upload_dir: upload_dir(get("PROXMOX_UPLOAD_DIR"))?,
            task_duration,
            task_wait: task_wait(get("PROXMOX_TASK_WAIT"))?,
            max_result: max_result(get("PROXMOX_MAX_RESULT_KB"))?,
            tools: ToolSelection::from_lookup(&lookup)?,
            scope: scope(&lookup)?,
        })
    }
}

/// The bounds of `PROXMOX_RATE_LIMIT` (requests per second) other than 0: below 0.01 a
/// request would wait more than 100 s for its turn, and 1e-300 would wait longer than time holds.
const MIN_RATE: f64 = 0.01;
const MAX_RATE: f64 = 10_000.0;
/// `PROXMOX_MAX_RESPONSE_MB`: the default and the largest allowed.
const DEFAULT_MAX_RESPONSE_MB: u64 = 32;
const MAX_RESPONSE_MB: u64 = 4096;

/// A number of `name`, `default` when unset; anything not a finite number, or outside what
/// `valid` accepts, is an error saying `rule`.
fn number(
    name: &str,
    value: Option<String>,
    default: f64,
    valid: impl Fn(f64) -> bool,
    rule: &str,
) -> Result<f64, ConfigError> {
    let Some(v) = value else { return Ok(default) };
    v.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && valid(*n))
        .ok_or_else(|| ConfigError::new(name, format!("{rule} (got \"{v}\")")))
}

/// `$XDG_STATE_HOME/proxmox-mcp/known_hosts`, else `~/.local/state/proxmox-mcp/known_hosts`
/// (XDG wants an absolute path; a relative one is ignored). `None` without either.
fn default_known_hosts(xdg_state: Option<String>, home: Option<String>) -> Option<std::path::PathBuf> {
    let base = match xdg_state.map(std::path::PathBuf::from).filter(|p| p.is_absolute()) {
        Some(state) => state,
        None => std::path::PathBuf::from(home?).join(".local/state"),
    };
    Some(base.join("proxmox-mcp").join("known_hosts"))
}

/// A variable's value, trimmed; `None` if unset or blank (blank means "the default").
/// `PROXMOX_ALLOWED_VMIDS` and `PROXMOX_ALLOWED_NODES`: both unset (or blank), no scope.
fn scope(lookup: impl Fn(&str) -> Option<String>) -> Result<Scope, ConfigError> {
    let mut scope = Scope::default();
    if let Some(spec) = set(lookup("PROXMOX_ALLOWED_VMIDS")) {
        scope = scope.with_vmids(&spec).map_err(|e| ConfigError::new("PROXMOX_ALLOWED_VMIDS", e))?;
    }
    if let Some(spec) = set(lookup("PROXMOX_ALLOWED_NODES")) {
        scope = scope.with_nodes(&spec).map_err(|e| ConfigError::new("PROXMOX_ALLOWED_NODES", e))?;
    }
    Ok(scope)
}

fn set(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The canonical directory uploads may come from, if one is set.
fn upload_dir(value: Option<String>) -> Result<Option<std::path::PathBuf>, ConfigError> {
    let Some(dir) = value else { return Ok(None) };
    let canonical = std::fs::canonicalize(&dir)
        .map_err(|e| ConfigError::new("PROXMOX_UPLOAD_DIR", format!("cannot use \"{dir}\": {e}")))?;
    if !canonical.is_dir() {
        return Err(ConfigError::new("PROXMOX_UPLOAD_DIR", format!("\"{dir}\" is not a directory")));
    }
    Ok(Some(canonical))
}

fn tool_schema(value: Option<String>) -> Result<SchemaDetail, ConfigError> {
    value.map_or(Ok(SchemaDetail::Compact), |v| v.parse().map_err(|e| ConfigError::new("PROXMOX_TOOL_SCHEMA", e)))
}

/// What to change in the environment when a Proxmox request fails for a reason the
/// configuration decides: said after the client's own message (the client knows no variables).
pub fn env_hint(error: &ApiError) -> Option<String> {
    Some(match error {
        ApiError::Unauthorized(_) => {
            "The token comes from PROXMOX_USER (user@realm), PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE.".into()
        }
        ApiError::Timeout(_) => "PROXMOX_TIMEOUT sets how long one request may take.".into(),
        ApiError::Connect(_) => "The server reaches Proxmox at PROXMOX_HOST and PROXMOX_PORT.".into(),
        ApiError::Tls { fingerprint: Some(fp), .. } => format!(
            "To pin that certificate set PROXMOX_SSL_FINGERPRINT={fp} (with PROXMOX_SSL_MODE=verify), or give its CA in PROXMOX_SSL_CA_CERT."
        ),
        ApiError::Tls { fingerprint: None, .. } => "Check PROXMOX_SSL_MODE and PROXMOX_SSL_CA_CERT.".into(),
        ApiError::CertificateChanged(change) => format!(
            "To accept the new certificate, remove the line for {} from the known-hosts file (PROXMOX_KNOWN_HOSTS), \
             or set PROXMOX_SSL_FINGERPRINT={}.",
            change.host, change.seen
        ),
        ApiError::Redirect { .. } => "The server reaches Proxmox at PROXMOX_HOST and PROXMOX_PORT.".into(),
        ApiError::TooLarge { .. } => "PROXMOX_MAX_RESPONSE_MB sets the largest answer read.".into(),
        _ => return None,
    })
}

fn max_result(value: Option<String>) -> Result<usize, ConfigError> {
    let Some(v) = value else { return Ok(crate::bound::DEFAULT_MAX_RESULT) };
    v.trim().parse::<usize>().ok().filter(|k| (4..=1024).contains(k)).map(|k| k * 1024).ok_or_else(|| {
        ConfigError::new("PROXMOX_MAX_RESULT_KB", format!("must be whole KiB from 4 to 1024 (got \"{v}\")"))
    })
}

fn task_wait(value: Option<String>) -> Result<Duration, ConfigError> {
    let Some(v) = value else { return Ok(crate::task::DEFAULT_WAIT) };
    v.parse::<u64>().ok().filter(|s| *s <= crate::task::MAX_WAIT_SECS).map(Duration::from_secs).ok_or_else(|| {
        ConfigError::new("PROXMOX_TASK_WAIT", format!("must be whole seconds from 0 to 3600 (got \"{v}\")"))
    })
}

fn boolean(value: Option<String>, name: &str, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::new(name, format!("must be true or false (got \"{other}\")"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = [
            ("PROXMOX_HOST", "pve.example.com"),
            ("PROXMOX_TOKEN_NAME", "mcp"),
            ("PROXMOX_TOKEN_VALUE", "s3cr3t-token"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in vars {
            map.insert(k.to_string(), v.to_string());
        }
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_typescript_server() {
        let c = config(&[]).unwrap();
        assert_eq!(c.port, 8006);
        assert_eq!(c.user, "root@pam");
        assert_eq!(c.tls.mode, SslMode::Strict);
        assert!(!c.allow_elevated);
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.task_wait, Duration::from_secs(45));
        assert_eq!(config(&[("PROXMOX_TASK_WAIT", "0")]).unwrap().task_wait, Duration::ZERO);
        assert_eq!(c.base_url(), "https://pve.example.com:8006/api2/json");
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("PROXMOX_HOST", ""),
            ("PROXMOX_HOST", "https://pve:8006"),
            ("PROXMOX_PORT", "0"),
            ("PROXMOX_PORT", "http"),
            ("PROXMOX_USER", "root"),
            ("PROXMOX_TOKEN_NAME", "root@pam!mcp"),
            ("PROXMOX_TOKEN_VALUE", ""),
            ("PROXMOX_SSL_MODE", "relaxed"),
            ("PROXMOX_ALLOW_ELEVATED", "maybe"),
            ("PROXMOX_SSL_FINGERPRINT", "AA:BB"),
            ("PROXMOX_SSL_CA_CERT", "/nonexistent/ca.pem"),
            ("PROXMOX_TIMEOUT", "-1"),
            ("PROXMOX_RATE_LIMIT", "fast"),
            ("PROXMOX_UPLOAD_DIR", "/nonexistent/uploads"),
            ("PROXMOX_UPLOAD_DIR", "/etc/hostname"),
            ("PROXMOX_TASK_WAIT", "-1"),
            ("PROXMOX_TASK_WAIT", "3601"),
            ("PROXMOX_TASK_WAIT", "soon"),
            ("PROXMOX_TOOLS", "proxmox_no_such_tool"),
            ("PROXMOX_TOOLS", "@vms"),
            ("PROXMOX_EXCLUDE_TOOLS", "proxmox_agnet_*"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var, "{var}={value}: {err}");
            assert!(!err.to_string().contains("s3cr3t"));
        }
        assert!(config(&[("PROXMOX_SSL_MODE", "VERIFY"), ("PROXMOX_ALLOW_ELEVATED", "TRUE")]).unwrap().allow_elevated);
    }

    #[test]
    fn every_number_has_a_range() {
        // Each value that would panic, hang or disable something is a one-line error naming the
        // variable and the rule, never a panic later.
        for (var, value, rule) in [
            ("PROXMOX_RATE_LIMIT", "1e-300", "from 0.01 to 10000, or 0"),
            ("PROXMOX_RATE_LIMIT", "0.001", "from 0.01 to 10000, or 0"),
            ("PROXMOX_RATE_LIMIT", "1e300", "from 0.01 to 10000, or 0"),
            ("PROXMOX_RATE_LIMIT", "inf", "from 0.01 to 10000, or 0"),
            ("PROXMOX_RATE_LIMIT", "NaN", "from 0.01 to 10000, or 0"),
            ("PROXMOX_RATE_LIMIT", "-1", "from 0.01 to 10000, or 0"),
            ("PROXMOX_TIMEOUT", "1e-300", "from 0.1 to 3600"),
            ("PROXMOX_TIMEOUT", "0", "from 0.1 to 3600"),
            ("PROXMOX_TIMEOUT", "3601", "from 0.1 to 3600"),
            ("PROXMOX_TIMEOUT", "1e309", "from 0.1 to 3600"),
            ("PROXMOX_TIMEOUT", "NaN", "from 0.1 to 3600"),
            ("PROXMOX_TASK_WAIT", "1e-300", "from 0 to 3600"),
            ("PROXMOX_TASK_WAIT", "18446744073709551616", "from 0 to 3600"),
            ("PROXMOX_MAX_RESPONSE_MB", "0", "from 1 to 4096"),
            ("PROXMOX_MAX_RESPONSE_MB", "4097", "from 1 to 4096"),
            ("PROXMOX_MAX_RESPONSE_MB", "18446744073709551615", "from 1 to 4096"),
            ("PROXMOX_MAX_RESPONSE_MB", "1.5", "from 1 to 4096"),
            ("PROXMOX_PORT", "65536", "from 1 to 65535"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var, "{var}={value}: {err}");
            assert!(err.message.contains(rule) && err.message.contains(value), "{var}={value}: {err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
        let c =
            config(&[("PROXMOX_RATE_LIMIT", "0.01"), ("PROXMOX_TIMEOUT", "0.1"), ("PROXMOX_MAX_RESPONSE_MB", "4096")])
                .unwrap();
        assert_eq!((c.rate_limit, c.timeout, c.max_response), (0.01, Duration::from_millis(100), 4096 << 20));
        assert_eq!(config(&[("PROXMOX_RATE_LIMIT", "0")]).unwrap().rate_limit, 0.0);
        assert_eq!(config(&[]).unwrap().max_response, 32 << 20);
    }

    #[test]
    fn the_known_hosts_file_follows_xdg() {
        let c = config(&[("HOME", "/home/u")]).unwrap();
        assert_eq!(
            c.known_hosts.as_deref(),
            Some(std::path::Path::new("/home/u/.local/state/proxmox-mcp/known_hosts"))
        );
        let c = config(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/state")]).unwrap();
        assert_eq!(c.known_hosts.as_deref(), Some(std::path::Path::new("/state/proxmox-mcp/known_hosts")));
        let c =
            config(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "relative"), ("PROXMOX_KNOWN_HOSTS", "/etc/kh")]).unwrap();
        assert_eq!(c.known_hosts.as_deref(), Some(std::path::Path::new("/etc/kh")));
        assert_eq!(config(&[]).unwrap().known_hosts, None);
    }

    #[test]
    fn the_tool_selection_is_read_and_checked() {
        let c = config(&[]).unwrap();
        assert_eq!(c.tools, ToolSelection::default());
        assert_eq!(c.tools.apply(Registry::builtin()).unwrap().len(), Registry::builtin().len());
        // Blank, or only separators: the default.
        assert_eq!(config(&[("PROXMOX_TOOLS", " , ")]).unwrap().tools, ToolSelection::default());
        let c = config(&[
            ("PROXMOX_TOOLS", "@agent,@ha,proxmox_get_vms"),
            ("PROXMOX_EXCLUDE_TOOLS", "proxmox_execute_vm_command,proxmox_agent_*"),
        ])
        .unwrap();
        let names: Vec<_> = c.tools.apply(Registry::builtin()).unwrap().iter().map(|t| t.name).collect();
        assert_eq!(names[0], "proxmox_get_vms");
        assert!(names.contains(&"proxmox_get_ha_status") && !names.iter().any(|n| n.contains("agent")), "{names:?}");
        assert_eq!(names.len(), 1 + 16, "{names:?}");
        // An exclusion may name tools the selection left out.
        let c = config(&[("PROXMOX_TOOLS", "@ha"), ("PROXMOX_EXCLUDE_TOOLS", "@agent")]).unwrap();
        assert_eq!(c.tools.apply(Registry::builtin()).unwrap().len(), 16);

        let e = config(&[("PROXMOX_TOOLS", "proxmox_get_vm")]).unwrap_err();
        assert_eq!(e.variable, "PROXMOX_TOOLS");
        assert!(e.message.starts_with("unknown tool \"proxmox_get_vm\" (did you mean proxmox_get_vms"), "{e}");
        assert!(e.message.contains("@ha") && e.message.contains("proxmox_start_vm"), "{e}");
        let e = config(&[("PROXMOX_EXCLUDE_TOOLS", "proxmox_get_vms @snapshot")]).unwrap_err();
        assert_eq!(e.variable, "PROXMOX_EXCLUDE_TOOLS");
        assert!(e.message.starts_with("unknown toolset \"@snapshot\" (did you mean @snapshots?)"), "{e}");
        assert!(!e.message.contains('\n'), "one line: {e}");
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(config(&[("PROXMOX_HOST", "::1")]).unwrap().base_url(), "https://[::1]:8006/api2/json");
    }

    #[test]
    fn demo_reads_its_variables_as_the_server_does() {
        let demo = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            DemoConfig::from_lookup(|k| map.get(k).cloned())
        };
        let d = demo(&[]).unwrap();
        assert!(!d.allow_elevated && d.upload_dir.is_none());
        assert_eq!((d.tool_schema, d.task_duration), (SchemaDetail::Compact, Duration::from_secs(2)));
        let d = demo(&[
            ("PROXMOX_ALLOW_ELEVATED", "yes"),
            ("PROXMOX_TOOL_SCHEMA", "full"),
            ("PROXMOX_DEMO_TASK_SECONDS", " 0.5 "),
        ])
        .unwrap();
        assert!(d.allow_elevated);
        assert_eq!((d.tool_schema, d.task_duration), (SchemaDetail::Full, Duration::from_millis(500)));
        let d = demo(&[("PROXMOX_TOOLS", "@read"), ("PROXMOX_EXCLUDE_TOOLS", "proxmox_agent_*")]).unwrap();
        assert_eq!(d.tools.only, Some(Selection::parse("@read")));
        assert_eq!(d.tools.exclude, Some(Selection::parse("proxmox_agent_*")));
        for (var, value, expected) in [
            ("PROXMOX_DEMO_TASK_SECONDS", "-1", "must be seconds from 0.001 to 3600, or 0"),
            ("PROXMOX_DEMO_TASK_SECONDS", "soon", "must be seconds from 0.001 to 3600, or 0"),
            ("PROXMOX_DEMO_TASK_SECONDS", "1e-300", "must be seconds from 0.001 to 3600, or 0"),
            ("PROXMOX_DEMO_TASK_SECONDS", "inf", "must be seconds from 0.001 to 3600, or 0"),
            ("PROXMOX_TASK_WAIT", "3601", "from 0 to 3600"),
            ("PROXMOX_ALLOW_ELEVATED", "sure", "must be true or false"),
            ("PROXMOX_TOOL_SCHEMA", "verbose", "must be compact or full"),
            ("PROXMOX_UPLOAD_DIR", "/nonexistent/uploads", "cannot use"),
            ("PROXMOX_TOOLS", "@nope", "unknown toolset \"@nope\""),
            ("PROXMOX_EXCLUDE_TOOLS", "nope", "unknown tool \"nope\""),
        ] {
            let e = demo(&[(var, value)]).unwrap_err();
            assert_eq!(e.variable, var);
            assert!(e.message.contains(expected), "{e}");
        }
    }
}
