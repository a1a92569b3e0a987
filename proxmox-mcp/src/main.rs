//! `proxmox-mcp`: the MCP stdio server with every built-in tool.
//!
//! stdout carries the MCP protocol only; logs go to stderr.
#![deny(clippy::print_stdout)]

use proxmox_mcp::config::VARIABLES;
use proxmox_mcp::{Config, Registry};
use std::io::Write;
use std::process::ExitCode;

fn usage() -> String {
    let mut s = format!(
        "proxmox-mcp {} — Proxmox VE tools for AI agents over the Model Context Protocol (stdio)\n\n\
         Usage: proxmox-mcp [--list-tools | --help | --version]\n\n\
         Configuration (environment variables):\n",
        env!("CARGO_PKG_VERSION")
    );
    for (name, default, meaning) in VARIABLES {
        s.push_str(&format!(
            "  {name:<26} {meaning}{}\n",
            if default.is_empty() { String::new() } else { format!(" [default: {default}]") }
        ));
    }
    s.push_str("\nOptions:\n  --list-tools   print the tools reference (Markdown) and exit\n  --help         this text\n  --version      the version\n");
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

fn init_logging() {
    let filter = std::env::var("PROXMOX_LOG_LEVEL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| {
        eprintln!(
            "proxmox-mcp: PROXMOX_LOG_LEVEL: \"{filter}\" is not a level (error, warn, info, debug, trace); using info"
        );
        tracing_subscriber::EnvFilter::new("info")
    });
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).with_env_filter(filter);
    match std::env::var("PROXMOX_LOG_FORMAT").unwrap_or_default().trim().to_ascii_lowercase().as_str() {
        "json" => logs.json().init(),
        "" | "text" => logs.init(),
        other => {
            logs.init();
            tracing::warn!("PROXMOX_LOG_FORMAT: \"{other}\" is not text or json; using text");
        }
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if let Some(arg) = args.next() {
        return match arg.as_str() {
            "--help" | "-h" => print(&usage()),
            "--version" | "-V" => print(&format!("proxmox-mcp {}\n", env!("CARGO_PKG_VERSION"))),
            "--list-tools" => print(&proxmox_mcp::tools::reference(&Registry::builtin())),
            other => {
                eprintln!("proxmox-mcp: unknown argument \"{other}\"; see proxmox-mcp --help");
                ExitCode::from(2)
            }
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("proxmox-mcp: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("proxmox-mcp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        host = %config.host,
        port = config.port,
        user = %config.user,
        ssl_mode = ?config.tls.mode,
        allow_elevated = config.allow_elevated,
        "starting proxmox-mcp"
    );
    if config.tls.mode == proxmox_mcp::SslMode::Insecure {
        tracing::warn!(
            "PROXMOX_SSL_MODE=insecure: the Proxmox certificate is not checked; anyone on the path can read the API token"
        );
    }
    match runtime.block_on(proxmox_mcp::server::serve_stdio(Registry::builtin(), &config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("proxmox-mcp: {e}");
            ExitCode::FAILURE
        }
    }
}
