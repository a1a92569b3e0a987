//! `proxmox-mcp --http ADDR`: MCP over Streamable HTTP at `/mcp`, with rmcp's server transport.
//!
//! - Both protocol eras rmcp serves: 2025-11-25 and earlier with sessions (`Mcp-Session-Id`),
//!   2026-07-28 stateless (any replica can answer any request). Each session, and each
//!   stateless request, gets its own clone of the [`ProxmoxServer`].
//! - `GET /healthz`: 200 with `{"status":"ok","proxmox":…}`, whether Proxmox answered the
//!   last request (`"answered"`, `"unreachable"`, or `"unknown"` before the first).
//! - With `PROXMOX_MCP_TOKENS_FILE`, every request to `/mcp` carries `Authorization: Bearer …`
//!   (401 with `WWW-Authenticate: Bearer` otherwise); the token's grant narrows what it lists,
//!   calls and addresses ([`crate::tokens`]), and a 2025 session serves only the token that
//!   opened it (403 for another). SIGHUP re-reads the file (a bad file keeps the
//!   tokens in use, and says why in the log).
//! - `Host` and `Origin` are checked against allowlists (DNS-rebinding protection; 403), request
//!   bodies are capped at 1 MiB (413) and must arrive within 30 s (408), request headers within 10 s.
//! - SIGTERM or ctrl-c: stop accepting, let the calls in flight finish (at most 30 s), exit.

use crate::config::HttpConfig;
use crate::server::{Caller, ProxmoxServer};
use crate::tokens::Tokens;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// How long a client may take to send a request's headers, and its body.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long calls in flight may take to finish at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

type Body = BoxBody<Bytes, Infallible>;
type Error = Box<dyn std::error::Error + Send + Sync>;

struct State {
    mcp: StreamableHttpService<ProxmoxServer, LocalSessionManager>,
    /// rmcp's sessions (2025 era), to forget the owners of the ones that ended.
    sessions: Arc<LocalSessionManager>,
    /// Which token opened each session: only that token may use it.
    owners: Mutex<HashMap<String, String>>,
    /// `None`: no authentication (loopback only).
    tokens: Option<RwLock<Arc<Tokens>>>,
    server: ProxmoxServer,
    /// Requests whose answer is not yet sent, but GET streams (they only wait for messages).
    in_flight: AtomicUsize,
}

/// Counts a request in flight until its answer's body is dropped (sent, or the client gone).
struct InFlight(Arc<State>);

impl InFlight {
    fn new(state: &Arc<State>) -> InFlight {
        state.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Read the tokens file of `config`, if any, naming tools of `registry` (or built-in ones).
pub fn load_tokens(config: &HttpConfig, registry: &crate::Registry) -> Result<Option<Tokens>, crate::ConfigError> {
    match &config.tokens_file {
        None => Ok(None),
        Some(path) => {
            Tokens::load(path, registry).map(Some).map_err(|e| crate::ConfigError::new("PROXMOX_MCP_TOKENS_FILE", e))
        }
    }
}

/// Serve `server` over HTTP until SIGTERM or ctrl-c. `tokens`: from [`load_tokens`].
pub async fn serve_http(server: ProxmoxServer, config: HttpConfig, tokens: Option<Tokens>) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(config.allowed_hosts.clone())
        .with_allowed_origins(config.allowed_origins.clone())
        .enforce_origin_validation();
    mcp_config.max_request_body_bytes = MAX_BODY;
    let sessions_end = mcp_config.cancellation_token.clone();
    let factory = server.clone();
    let sessions = Arc::new(LocalSessionManager::default());
    let mcp = StreamableHttpService::new(move || Ok(factory.clone()), sessions.clone(), mcp_config);
    let authenticated = tokens.is_some();
    let state = Arc::new(State {
        mcp,
        sessions,
        owners: Mutex::default(),
        tokens: tokens.map(|t| RwLock::new(Arc::new(t))),
        server,
        in_flight: AtomicUsize::new(0),
    });
    let local = listener.local_addr().unwrap_or(config.addr);
    tracing::info!(
        address = %local,
        tokens = state.tokens.as_ref().map(|t| t.read().map(|t| t.len()).unwrap_or(0)),
        tools = state.server.registry().len(),
        "serving MCP over Streamable HTTP at http://{local}/mcp"
    );
    if !authenticated {
        tracing::info!("no PROXMOX_MCP_TOKENS_FILE: requests are not authenticated (loopback only)");
    }
    if !local.ip().is_loopback()
        && config.allowed_hosts.iter().all(|h| crate::config::LOOPBACK_HOSTS.contains(&h.as_str()))
    {
        tracing::warn!(
            "listening on {local} but only loopback Host names are accepted: set PROXMOX_MCP_ALLOWED_HOSTS to the names clients use"
        );
    }

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors, say: wait a little rather than spin.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let state = state.clone();
                let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "HTTP connection ended with an error");
                    }
                });
            }
            signal = signals.next() => match signal {
                Signal::Reload => reload(&state, &config),
                Signal::Stop(name) => {
                    tracing::info!("{name}: no new connections; letting the calls in flight finish");
                    break;
                }
            },
        }
    }
    drop(listener);
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while state.in_flight.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = state.in_flight.load(Ordering::SeqCst);
    if left > 0 {
        tracing::warn!(left, "shutdown: {left} requests still running after {}s are cut", SHUTDOWN_GRACE.as_secs());
    }
    // Ends the sessions and their GET streams, then the connections close.
    sessions_end.cancel();
    if tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await.is_err() {
        tracing::debug!("shutdown: some connections did not close in time");
    }
    tracing::info!("HTTP server stopped");
    Ok(())
}

fn reload(state: &State, config: &HttpConfig) {
    let (Some(path), Some(tokens)) = (&config.tokens_file, &state.tokens) else {
        tracing::info!("SIGHUP: no PROXMOX_MCP_TOKENS_FILE to re-read");
        return;
    };
    match Tokens::load(path, state.server.registry()) {
        Ok(new) => {
            tracing::info!(tokens = new.len(), "SIGHUP: PROXMOX_MCP_TOKENS_FILE re-read");
            if let Ok(mut current) = tokens.write() {
                *current = Arc::new(new);
            }
        }
        Err(e) => tracing::error!("SIGHUP: PROXMOX_MCP_TOKENS_FILE: {e}; the tokens read before stay in use"),
    }
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(match request.uri().path() {
        "/healthz" => health(&state),
        "/mcp" => mcp(state, request).await,
        _ => plain(StatusCode::NOT_FOUND, "Not Found: MCP is served at /mcp"),
    })
}

fn health(state: &State) -> Response<Body> {
    let proxmox = match state.server.client().health().last_answered() {
        None => "unknown",
        Some(true) => "answered",
        Some(false) => "unreachable",
    };
    let body = serde_json::json!({ "status": "ok", "proxmox": proxmox }).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

async fn mcp(state: Arc<State>, request: Request<Incoming>) -> Response<Body> {
    let caller = match &state.tokens {
        None => Caller::Anonymous,
        Some(tokens) => {
            let presented = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim());
            let Some(presented) = presented else {
                return unauthorized(
                    "Bearer realm=\"proxmox-mcp\"",
                    "Unauthorized: send Authorization: Bearer <token>",
                );
            };
            let tokens = tokens.read().map(|t| t.clone()).unwrap_or_default();
            match tokens.authenticate(presented) {
                Some(grant) => Caller::Token(grant),
                None => {
                    tracing::info!("HTTP request with an unknown bearer token refused");
                    return unauthorized(
                        "Bearer realm=\"proxmox-mcp\", error=\"invalid_token\"",
                        "Unauthorized: the bearer token is not known",
                    );
                }
            }
        }
    };
    // The body is read here, capped and against the clock, so a slow or huge upload holds nothing.
    let streams = request.method() == http::Method::GET;
    let guard = (!streams).then(|| InFlight::new(&state));
    let (mut parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, MAX_BODY).collect()).await {
        Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "Request Timeout: the body took too long"),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large: the limit is 1 MiB");
        }
        Ok(Err(_)) => return plain(StatusCode::BAD_REQUEST, "Bad Request: the body could not be read"),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    // A 2025 session belongs to the token that opened it: another token is refused it.
    let session = parts.headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let token = caller.grant().map(|g| g.name.clone());
    if let (Some(id), Some(token)) = (&session, &token) {
        let owner = state.owners.lock().ok().and_then(|owners| owners.get(id).cloned());
        if owner.is_some_and(|owner| &owner != token) {
            tracing::warn!(token = %token, "a request for a session opened with another token was refused");
            return plain(StatusCode::FORBIDDEN, "Forbidden: this session was opened with another token");
        }
    }
    let ends_session = parts.method == http::Method::DELETE;
    parts.extensions.insert(caller);
    let mut response = state.mcp.handle(Request::from_parts(parts, Full::new(bytes))).await;
    if ends_session && response.status() == StatusCode::ACCEPTED {
        // rmcp answers a session's end with 202; the official SDK clients take 200 or 204 as
        // success and log anything else as a failed termination.
        *response.status_mut() = StatusCode::OK;
    }
    if let Some(token) = token {
        match (&session, response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok())) {
            (None, Some(opened)) => own_session(&state, opened, token).await,
            (Some(id), _) if ends_session => {
                if let Ok(mut owners) = state.owners.lock() {
                    owners.remove(id);
                }
            }
            _ => {}
        }
    }
    match guard {
        // Counted until the answer is sent: its body (a short SSE stream or JSON) is dropped then.
        Some(guard) => response.map(|body| {
            body.map_frame(move |frame| {
                let _ = &guard;
                frame
            })
            .boxed()
        }),
        None => response,
    }
}

/// The header naming a 2025-era session.
const SESSION_HEADER: &str = "mcp-session-id";
/// Past this many owned sessions, the owners of sessions that ended are forgotten.
const OWNERS_PRUNE_AT: usize = 4096;

/// Record that `token` opened session `id`.
async fn own_session(state: &State, id: &str, token: String) {
    let prune = state.owners.lock().map(|owners| owners.len() >= OWNERS_PRUNE_AT).unwrap_or(false);
    // rmcp's own list of the sessions alive (read before the lock on ours, never both at once).
    let alive: Option<std::collections::HashSet<String>> =
        if prune { Some(state.sessions.sessions.read().await.keys().map(|k| k.to_string()).collect()) } else { None };
    if let Ok(mut owners) = state.owners.lock() {
        if let Some(alive) = alive {
            owners.retain(|id, _| alive.contains(id));
        }
        owners.insert(id.to_string(), token);
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *response.status_mut() = status;
    response
}

fn unauthorized(challenge: &'static str, text: &'static str) -> Response<Body> {
    let mut response = plain(StatusCode::UNAUTHORIZED, text);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(challenge));
    response
}

enum Signal {
    Reload,
    Stop(&'static str),
}

/// SIGHUP, SIGTERM and ctrl-c (SIGINT).
struct Signals {
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, Error> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals { hangup: signal(SignalKind::hangup())?, terminate: signal(SignalKind::terminate())? })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.hangup.recv() => Signal::Reload,
                _ = self.terminate.recv() => Signal::Stop("SIGTERM"),
                _ = tokio::signal::ctrl_c() => Signal::Stop("ctrl-c"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Stop("ctrl-c")
        }
    }
}
