//! `proxmox-mcp`: the MCP stdio server with every built-in tool.
//!
//! stdout carries the MCP protocol only; logs go to stderr.
#![deny(clippy::print_stdout)]

use proxmox_mcp::audit::AuditLog;
use proxmox_mcp::config::{HttpConfig, VARIABLES};
use proxmox_mcp::tokens::Tokens;
use proxmox_mcp::{Config, Registry};
use std::io::Write;
use std::process::ExitCode;

fn usage() -> String {
    let mut s = format!(
        "proxmox-mcp {} — Proxmox VE tools for AI agents over the Model Context Protocol (stdio or HTTP)\n\n\
         Usage: proxmox-mcp [--demo] [--http ADDR] | --list-tools | --help | --version\n\n\
         Configuration (environment variables):\n",
        env!("CARGO_PKG_VERSION")
    );
    for (name, default, meaning) in VARIABLES {
        s.push_str(&format!(
            "  {name:<26} {meaning}{}\n",
            if default.is_empty() { String::new() } else { format!(" [default: {default}]") }
        ));
    }
    s.push_str(
        "\nOptions:\n  --demo         serve a simulated cluster (no Proxmox needed; reads only PROXMOX_ALLOW_ELEVATED,\n                 PROXMOX_TOOLS, PROXMOX_EXCLUDE_TOOLS, PROXMOX_TOOL_SCHEMA, PROXMOX_TASK_WAIT,\n                 PROXMOX_DEMO_TASK_SECONDS, PROXMOX_UPLOAD_DIR, PROXMOX_ALLOWED_VMIDS and\n                 PROXMOX_ALLOWED_NODES, and the PROXMOX_MCP_* and PROXMOX_AUDIT_LOG of --http)\n  \
         --http ADDR    serve MCP over Streamable HTTP at http://ADDR/mcp (e.g. 127.0.0.1:8080; port 0: any\n                 free port), GET /healthz for load balancers; off loopback PROXMOX_MCP_TOKENS_FILE is\n                 required. SIGHUP re-reads the tokens, SIGTERM stops after the calls in flight\n  \
         --list-tools   print the tools reference (Markdown) of the tools PROXMOX_TOOLS and\n                 PROXMOX_EXCLUDE_TOOLS select, and exit\n  --help         this text\n  --version      the version\n",
    );
    s
}

/// Write to stdout outside the MCP session (help, version, tool list).
fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// How many log lines may wait for stderr; past that, lines are dropped (and counted).
const LOG_QUEUE_LINES: usize = 4096;

/// The log writer: a bounded queue to a thread that writes stderr. A client that never reads
/// our stderr fills the pipe; then lines are dropped and counted instead of blocking the
/// protocol (a blocked write to stderr would stall every tool call).
struct Logging {
    guard: Option<tracing_appender::non_blocking::WorkerGuard>,
    dropped: tracing_appender::non_blocking::ErrorCounter,
}

impl Drop for Logging {
    fn drop(&mut self) {
        let dropped = self.dropped.dropped_lines();
        if dropped > 0 {
            tracing::warn!(dropped, "{dropped} log lines were dropped because stderr was not read");
        }
        match self.guard.take() {
            // Flush what is queued (the guard waits up to a second).
            Some(guard) if self.dropped.dropped_lines() == 0 => drop(guard),
            // stderr is stuck: waiting would only delay the exit, and on a timeout the guard
            // reports to stdout, which carries the protocol. Lose the queue instead.
            Some(guard) => std::mem::forget(guard),
            None => {}
        }
    }
}

/// The most a crate that sees whole MCP messages may log: rmcp logs each request (tool
/// arguments, which may hold passwords), each answer and each unparsable line at debug and
/// trace. A cap on the target, not a directive: whatever the filter says (`trace`,
/// `rmcp=trace`, a span directive such as `[serve_inner]=trace`, which enables every event in
/// that span whatever its target, or a field one like `[{name}]=trace`), these targets are
/// never logged below info.
const CAPPED_TARGETS: &[&str] = &["rmcp"];

fn log_cap() -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    CAPPED_TARGETS
        .iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |t, target| t.with_target(*target, LevelFilter::INFO))
}

fn init_logging() -> Logging {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let requested = std::env::var("PROXMOX_LOG_LEVEL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&requested).unwrap_or_else(|_| {
        eprintln!("proxmox-mcp: PROXMOX_LOG_LEVEL: \"{requested}\" is not a level (error, warn, info, debug, trace); using info");
        tracing_subscriber::EnvFilter::new("info")
    });
    // Both must let an event through: the filter asked for, and the cap on the targets above.
    let filter = tracing_subscriber::filter::FilterExt::and(filter, log_cap());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .thread_name("proxmox-mcp-log")
        .finish(std::io::stderr());
    let dropped = writer.error_counter();
    let logs = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false);
    let format = std::env::var("PROXMOX_LOG_FORMAT").unwrap_or_default().trim().to_ascii_lowercase();
    let layer = match format.as_str() {
        "json" => logs.json().with_filter(filter).boxed(),
        _ => logs.with_filter(filter).boxed(),
    };
    tracing_subscriber::registry().with(layer).init();
    if !matches!(format.as_str(), "" | "text" | "json") {
        tracing::warn!("PROXMOX_LOG_FORMAT: \"{format}\" is not text or json; using text");
    }
    // Say now and then that lines were lost (this line too waits in the queue).
    let counter = dropped.clone();
    let _ = std::thread::Builder::new().name("proxmox-mcp-log-drops".into()).spawn(move || {
        let mut reported = 0;
        loop {
            std::thread::sleep(std::time::Duration::from_secs(10));
            let now = counter.dropped_lines();
            if now > reported {
                tracing::warn!(dropped = now, "{} log lines dropped so far: stderr is not being read", now);
                reported = now;
            }
        }
    });
    Logging { guard: Some(guard), dropped }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("proxmox-mcp: cannot start the async runtime: {e}");
            None
        }
    }
}

fn finish(result: Result<(), Box<dyn std::error::Error + Send + Sync>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Through the log queue only: a direct write to a stderr nobody reads would hang the exit.
            tracing::error!("proxmox-mcp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A configuration error: one line on stderr, exit code 2.
fn config_error(e: proxmox_mcp::ConfigError) -> ExitCode {
    eprintln!("proxmox-mcp: configuration error: {e}");
    ExitCode::from(2)
}

/// `--list-tools`: the reference of the tools the two listing variables select.
fn list_tools() -> ExitCode {
    let selected = proxmox_mcp::config::ToolSelection::from_env().and_then(|s| s.apply(Registry::builtin()));
    match selected {
        Ok(registry) => print(&proxmox_mcp::tools::reference(&registry)),
        Err(e) => config_error(e),
    }
}

/// `--demo`: the simulated cluster, same tools, same permission rule, same selection.
#[cfg(feature = "demo")]
fn demo(http: Option<(HttpConfig, Option<Tokens>)>, audit: Option<AuditLog>) -> ExitCode {
    use proxmox_mcp::demo::DemoCluster;
    use proxmox_mcp::server::ProxmoxServer;
    let settings = match proxmox_mcp::config::DemoConfig::from_env() {
        Ok(s) => s,
        Err(e) => return config_error(e),
    };
    let registry = match settings.tools.apply(Registry::builtin()) {
        Ok(r) => r,
        Err(e) => return config_error(e),
    };
    let _logging = init_logging();
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    let allow_elevated = settings.allow_elevated;
    tracing::info!(
        allow_elevated,
        task_seconds = settings.task_duration.as_secs_f64(),
        "starting proxmox-mcp in DEMO mode: a simulated cluster, no Proxmox host is contacted"
    );
    let client = proxmox_mcp::Client::with_transport(DemoCluster::with_task_duration(settings.task_duration));
    let instructions = format!(
        "DEMO MODE: these tools act on a simulated Proxmox VE cluster (nodes pve1, pve2 and the offline pve3; \
         VM 100 'web' runs on pve1), not on real machines. Changes live in memory until the server exits. {} {} {}",
        proxmox_mcp::server::elevated_note(&registry, allow_elevated),
        proxmox_mcp::server::TASKS_NOTE,
        proxmox_mcp::server::PARAMETERS_NOTE
    );
    let server = ProxmoxServer::new(registry, client, allow_elevated)
        .with_upload_dir(settings.upload_dir)
        .with_schema_detail(settings.tool_schema)
        .with_task_wait(settings.task_wait)
        .with_max_result(settings.max_result)
        .with_instructions(instructions)
        .with_scope(settings.scope);
    run(&runtime, server, http, audit)
}

/// Serve over stdio, or HTTP; flush the audit log at the end.
fn run(
    runtime: &tokio::runtime::Runtime,
    server: proxmox_mcp::server::ProxmoxServer,
    http: Option<(HttpConfig, Option<Tokens>)>,
    audit: Option<AuditLog>,
) -> ExitCode {
    let server = server.with_audit(audit.clone());
    let result = match http {
        None => runtime.block_on(proxmox_mcp::server::serve(server)),
        Some((config, tokens)) => runtime.block_on(proxmox_mcp::http::serve_http(server, config, tokens)),
    };
    if let Some(audit) = &audit {
        audit.flush(std::time::Duration::from_secs(2));
        if audit.dropped() > 0 {
            tracing::warn!(dropped = audit.dropped(), "audit lines were dropped: the audit log could not keep up");
        }
    }
    finish(result)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--help" | "-h") => return print(&usage()),
        Some("--version" | "-V") => return print(&format!("proxmox-mcp {}\n", env!("CARGO_PKG_VERSION"))),
        Some("--list-tools") => return list_tools(),
        _ => {}
    }
    #[cfg_attr(not(feature = "demo"), allow(unused_mut, unused_variables))]
    let (mut demo_mode, mut http_addr) = (false, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            #[cfg(feature = "demo")]
            "--demo" => demo_mode = true,
            "--http" => match args.next() {
                Some(addr) => http_addr = Some(addr),
                None => {
                    eprintln!("proxmox-mcp: --http needs an address, e.g. --http 127.0.0.1:8080");
                    return ExitCode::from(2);
                }
            },
            other if other.starts_with("--http=") => http_addr = Some(other["--http=".len()..].to_string()),
            other => {
                eprintln!("proxmox-mcp: unknown argument \"{other}\"; see proxmox-mcp --help");
                return ExitCode::from(2);
            }
        }
    }
    let env = |name: &str| std::env::var(name).ok();
    // The tokens file is read before anything starts: a bad one is one line and exit 2.
    let http = match HttpConfig::from_lookup(env, http_addr.as_deref()).and_then(|h| match h {
        None => Ok(None),
        Some(h) => proxmox_mcp::http::load_tokens(&h, &Registry::builtin()).map(|tokens| Some((h, tokens))),
    }) {
        Ok(h) => h,
        Err(e) => return config_error(e),
    };
    #[cfg(feature = "demo")]
    if demo_mode {
        return match proxmox_mcp::config::audit_log(env) {
            Ok(audit) => demo(http, audit),
            Err(e) => config_error(e),
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return config_error(e),
    };
    let audit = match proxmox_mcp::config::audit_log(env) {
        Ok(a) => a,
        Err(e) => return config_error(e),
    };
    let _logging = init_logging();
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        host = %config.host,
        port = config.port,
        user = %config.user,
        ssl_mode = ?config.tls.mode,
        allow_elevated = config.allow_elevated,
        "starting proxmox-mcp"
    );
    match (config.tls.mode, config.tls.fingerprint.is_some(), config.tls.ca_pem.is_some()) {
        (proxmox_mcp::SslMode::Insecure, true, _) => tracing::info!(
            "PROXMOX_SSL_MODE=insecure with PROXMOX_SSL_FINGERPRINT: only the certificate with that fingerprint is accepted"
        ),
        (proxmox_mcp::SslMode::Insecure, false, _) => tracing::warn!(
            "PROXMOX_SSL_MODE=insecure: the Proxmox certificate is not checked; anyone on the path can read the API token"
        ),
        (proxmox_mcp::SslMode::Verify, false, false) => tracing::info!(
            known_hosts = %config.known_hosts.as_deref().map_or("(none: this process only)".into(), |p| p.display().to_string()),
            "PROXMOX_SSL_MODE=verify without CA or fingerprint: the first certificate seen is trusted and remembered (PROXMOX_KNOWN_HOSTS)"
        ),
        _ => {}
    }
    let server = {
        let _entered = runtime.enter();
        proxmox_mcp::server::ProxmoxServer::from_config(Registry::builtin(), &config)
    };
    match server {
        Ok(server) => run(&runtime, server, http, audit),
        Err(e) => config_error(e),
    }
}
