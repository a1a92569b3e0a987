//! The Proxmox VE API client: one request function over a pluggable transport.
//!
//! [`Client::request`] paces requests (rate limit), hands them to a [`Transport`] — HTTPS to a
//! real Proxmox ([`HttpTransport`]), or anything else that answers like Proxmox — retries the
//! failures that are safe to retry (see [`Retry`]), and turns the answer into the `data` value
//! or an [`ApiError`].
//!
//! [`HttpTransport`] follows no redirect (a 3xx is [`ApiError::Redirect`]) and reads at most
//! [`HttpSettings::max_response`] bytes of an answer, chunk by chunk.

mod error;
mod ratelimit;
pub mod tls;

pub use error::ApiError;
pub use ratelimit::RateLimiter;
pub use tls::{SslMode, TlsSettings};

/// Request methods of the Proxmox API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use crate::path::ApiPath;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Request parameters as Proxmox takes them: `name=value` pairs, booleans as `0`/`1`, arrays
/// as repeated names. They go in the query string for GET/DELETE and form-encoded for POST/PUT.
/// `Debug` shows the values but those of secret parameters ([`is_secret_param`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown =
            |(k, v): &(String, String)| (k.clone(), if is_secret_param(k) { REDACTED.into() } else { v.clone() });
        f.debug_tuple("Params").field(&self.0.iter().map(shown).collect::<Vec<_>>()).finish()
    }
}

/// Whether a Proxmox parameter of this name carries a secret (a password, a keyring, a key, a
/// token, a one-time code): its value is never shown by `Debug`.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "passphrase", "secret", "keyring", "encryption-key", "totp", "otp"].iter().any(|s| name.ends_with(s))
}

impl Params {
    /// From any `Serialize` value that is an object (or `()`/`None`, for no parameters).
    /// `null` fields are left out.
    /// This is where [`Secret`]s serialise to their values, and nowhere else.
    pub fn from_serialize(value: &impl Serialize) -> Result<Params, String> {
        let value = exposing(|| serde_json::to_value(value)).map_err(|e| format!("cannot encode parameters: {e}"))?;
        let map = match value {
            Value::Null => return Ok(Params::default()),
            Value::Object(map) => map,
            other => return Err(format!("parameters must be an object, not {other}")),
        };
        let mut out = Vec::with_capacity(map.len());
        for (key, value) in map {
            match value {
                Value::Null => {}
                Value::Array(items) => {
                    for item in items {
                        out.push((key.clone(), scalar(&key, item)?));
                    }
                }
                other => out.push((key.clone(), scalar(&key, other)?)),
            }
        }
        Ok(Params(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of a parameter, if present (the first, for repeated ones).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn scalar(key: &str, value: Value) -> Result<String, String> {
    Ok(match value {
        Value::Bool(b) => if b { "1" } else { "0" }.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s,
        Value::Null => String::new(),
        other => return Err(format!("parameter `{key}` cannot be sent as {other}")),
    })
}

/// One request to the Proxmox API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub path: ApiPath,
    pub params: Params,
    /// A local file to send: the request is then a `multipart/form-data` POST whose text
    /// fields are `params`, followed by this file.
    pub upload: Option<Upload>,
    /// Read at most this many bytes of the answer, plus one so the caller can tell a longer
    /// answer was cut (`None`: read it all).
    pub max_body: Option<usize>,
}

impl Request {
    /// A plain request: parameters only, the whole answer read.
    pub fn new(method: Method, path: ApiPath, params: Params) -> Self {
        Request { method, path, params, upload: None, max_body: None }
    }
}

/// The file part of an upload: a file already opened. The caller decides which file may be
/// sent and opens it (see the upload tool: only regular files under its upload directory, no
/// symlinks); the transport streams that same open file from its start, never reading it whole
/// and never opening a path again.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The form field of the file part (Proxmox's upload calls take it as `filename`).
    pub field: String,
    /// The file name given in the part's `Content-Disposition`.
    pub filename: String,
    /// Where the file was opened, for messages.
    path: PathBuf,
    file: Arc<std::fs::File>,
    len: u64,
}

impl Upload {
    /// Send `file`, opened from `path` (the path is only shown in messages).
    pub fn new(
        field: impl Into<String>,
        filename: impl Into<String>,
        path: impl Into<PathBuf>,
        file: std::fs::File,
    ) -> Result<Upload, ApiError> {
        let path = path.into();
        let len = file.metadata().map_err(|e| ApiError::LocalFile(format!("{}: {e}", path.display())))?.len();
        Ok(Upload { field: field.into(), filename: filename.into(), path, file: Arc::new(file), len })
    }

    /// Open `path` (following symlinks, as any program would) and send it. Tools that must
    /// keep to a directory open the file themselves and use [`Upload::new`].
    pub fn open(
        field: impl Into<String>,
        filename: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Result<Upload, ApiError> {
        let path = path.into();
        let file = std::fs::File::open(&path).map_err(|e| ApiError::LocalFile(format!("{}: {e}", path.display())))?;
        Upload::new(field, filename, path, file)
    }

    /// The local file's path, as opened.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The file's size when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The open file, from its start (a retry sends it again).
    fn rewound(&self) -> Result<std::fs::File, ApiError> {
        use std::io::{Seek, SeekFrom};
        let local = |e: std::io::Error| ApiError::LocalFile(format!("{}: {e}", self.path.display()));
        let mut file = self.file.try_clone().map_err(local)?;
        file.seek(SeekFrom::Start(0)).map_err(local)?;
        Ok(file)
    }
}

impl PartialEq for Upload {
    fn eq(&self, other: &Self) -> bool {
        (&self.field, &self.filename, &self.path, self.len) == (&other.field, &other.filename, &other.path, other.len)
    }
}

impl Eq for Upload {}

/// An answer that is not JSON (a file download), at most as long as was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawBody {
    pub bytes: Vec<u8>,
    /// The answer was longer than the bound; `bytes` holds its start.
    pub truncated: bool,
}

/// What came back, before interpretation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    /// The HTTP reason phrase: Proxmox puts its error message there.
    pub reason: Option<String>,
    pub body: Vec<u8>,
}

pub type TransportFuture<'a> = Pin<Box<dyn Future<Output = Result<RawResponse, ApiError>> + Send + 'a>>;

/// Carries requests to something that answers like Proxmox.
pub trait Transport: Send + Sync + 'static {
    fn send(&self, request: Request) -> TransportFuture<'_>;
    /// What this transport talks to, for logs and messages (never a secret).
    fn describe(&self) -> String;
}

/// Which failed requests are sent again, how often, and how long to wait in between.
///
/// A request is retried only when that cannot do twice what was asked once:
/// - any request that failed before anything was sent: the connection was refused or could not
///   be made, or the TLS handshake broke off ([`ApiError::is_unsent`]), and
/// - a GET (which changes nothing) that timed out, lost its connection midway, or was answered
///   502, 503 or 504 by Proxmox or a proxy in front of it.
///
/// A POST, PUT or DELETE that may have reached Proxmox is never sent again: it may have started
/// a task. Each attempt waits for the rate limiter; the waits double from `backoff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Attempts after the first.
    pub retries: u32,
    /// The wait before the first retry.
    pub backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { retries: 2, backoff: Duration::from_millis(250) }
    }
}

impl Retry {
    /// No retries.
    pub const NONE: Retry = Retry { retries: 0, backoff: Duration::ZERO };

    /// Whether a request of `method` that ended in `outcome` may be sent again.
    pub fn allows(method: Method, outcome: &Result<RawResponse, ApiError>) -> bool {
        match outcome {
            Err(e) if e.is_unsent() => true,
            _ if method != Method::Get => false,
            Err(ApiError::Timeout(_) | ApiError::Interrupted(_)) => true,
            Ok(response) => matches!(response.status, 502..=504),
            Err(_) => false,
        }
    }
}

/// The Proxmox API client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn Transport>,
    limiter: Option<Arc<RateLimiter>>,
    retry: Retry,
    /// How the last request went (shared by the clones), for `GET /healthz`.
    health: Arc<Health>,
}

/// Whether Proxmox answered the last request a [`Client`] (or a clone of it) sent: any HTTP
/// status counts as an answer; a refused connection, a timeout or a TLS failure does not.
#[derive(Debug, Default)]
pub struct Health {
    /// 0: no request yet; 1: answered; 2: not answered.
    last: std::sync::atomic::AtomicU8,
}

impl Health {
    fn record(&self, answered: bool) {
        self.last.store(if answered { 1 } else { 2 }, std::sync::atomic::Ordering::Relaxed);
    }

    /// `None` before the first request, else whether Proxmox answered the last one.
    pub fn last_answered(&self) -> Option<bool> {
        match self.last.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            n => Some(n == 1),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("transport", &self.transport.describe()).finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a Proxmox host over HTTPS (no rate limit: see [`Client::with_rate_limit`]).
    pub fn new(settings: &HttpSettings) -> Result<Client, SetupError> {
        Ok(Client::with_transport(HttpTransport::new(settings)?))
    }

    /// A client over any transport, e.g. a test double.
    pub fn with_transport(transport: impl Transport) -> Client {
        Client { transport: Arc::new(transport), limiter: None, retry: Retry::default(), health: Arc::default() }
    }

    /// Retry safe requests thus (default: [`Retry::default`], two retries; [`Retry::NONE`]: none).
    pub fn with_retry(mut self, retry: Retry) -> Client {
        self.retry = retry;
        self
    }

    /// Pace this client's requests.
    pub fn with_rate_limit(mut self, per_second: f64, burst: u32) -> Client {
        self.limiter = (per_second > 0.0).then(|| Arc::new(RateLimiter::new(per_second, burst)));
        self
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    /// How the last request went (see [`Health`]).
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Make one request and return its `data`.
    pub async fn request(&self, method: Method, path: &ApiPath, params: Params) -> Result<Value, ApiError> {
        interpret(self.exchange(Request::new(method, path.clone(), params)).await?)
    }

    /// POST a local file as `multipart/form-data` (text fields `params`, then the file), streamed;
    /// return the answer's `data`.
    pub async fn upload(&self, path: &ApiPath, params: Params, upload: Upload) -> Result<Value, ApiError> {
        let request = Request { upload: Some(upload), ..Request::new(Method::Post, path.clone(), params) };
        interpret(self.exchange(request).await?)
    }

    /// Make one request whose answer is not JSON (a file): its first `max_bytes` bytes, and
    /// whether there was more. Error statuses are interpreted as for [`Client::request`].
    pub async fn request_raw(
        &self,
        method: Method,
        path: &ApiPath,
        params: Params,
        max_bytes: usize,
    ) -> Result<RawBody, ApiError> {
        let request = Request { max_body: Some(max_bytes), ..Request::new(method, path.clone(), params) };
        let response = self.exchange(request).await?;
        if !(200..300).contains(&response.status) {
            return Err(interpret(response).err().unwrap_or_else(|| ApiError::Decode("error status".into())));
        }
        let mut bytes = response.body;
        let truncated = bytes.len() > max_bytes;
        bytes.truncate(max_bytes);
        Ok(RawBody { bytes, truncated })
    }

    /// Pace, send, log; send again what [`Retry`] allows.
    async fn exchange(&self, request: Request) -> Result<RawResponse, ApiError> {
        let (method, path) = (request.method, request.path.clone());
        let mut attempt = 0;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.acquire().await;
            }
            tracing::debug!(%method, %path, attempt, upload = request.upload.is_some(), "proxmox request");
            let started = std::time::Instant::now();
            let response = self.transport.send(request.clone()).await;
            self.health.record(response.is_ok());
            match &response {
                Ok(r) => {
                    tracing::debug!(%method, %path, status = r.status, ms = started.elapsed().as_millis() as u64, "proxmox answered")
                }
                Err(e) => tracing::debug!(%method, %path, error = %e, "proxmox request failed"),
            }
            if attempt >= self.retry.retries || !Retry::allows(method, &response) {
                return response;
            }
            let wait = self.retry.backoff.saturating_mul(1 << attempt.min(16));
            attempt += 1;
            tracing::info!(%method, %path, attempt, wait_ms = wait.as_millis() as u64, "retrying a Proxmox request that is safe to send again");
            tokio::time::sleep(wait).await;
        }
    }
}

/// Turn a raw answer into `data` or an error.
pub fn interpret(response: RawResponse) -> Result<Value, ApiError> {
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    if (200..300).contains(&response.status) {
        return match body {
            Some(Value::Object(mut map)) => Ok(map.remove("data").unwrap_or(Value::Null)),
            Some(_) | None if response.body.is_empty() => Ok(Value::Null),
            _ => Err(ApiError::Decode(format!("the answer is not JSON ({} bytes)", response.body.len()))),
        };
    }
    let mut errors = BTreeMap::new();
    let mut message = String::new();
    if let Some(Value::Object(map)) = &body {
        if let Some(Value::Object(errs)) = map.get("errors") {
            for (k, v) in errs {
                errors.insert(k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string));
            }
        }
        if let Some(Value::String(m)) = map.get("message") {
            message = m.clone();
        }
    }
    if message.is_empty() {
        message = response.reason.clone().unwrap_or_default();
    }
    if message.is_empty() && body.is_none() {
        // A plain-text error body (some proxies), kept short.
        message = String::from_utf8_lossy(&response.body).chars().take(300).collect();
    }
    Err(ApiError::from_status(response.status, message, errors))
}

/// A secret: the API token, a password, a keyring, an encryption key. `Debug` and `Display`
/// print `[redacted]`, and so does serialising it, except while request parameters are encoded
/// for Proxmox ([`Params::from_serialize`]): a secret that ends up in a result, an error or a
/// log line by mistake shows as `[redacted]`. As a tool argument it must be a string; a value
/// of another type is refused without echoing it, and its schema is marked `writeOnly`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

/// What a secret shows instead of its value.
pub const REDACTED: &str = "[redacted]";

thread_local! {
    /// Set while [`Params::from_serialize`] encodes a request: only then do secrets serialise
    /// to their value.
    static EXPOSE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with secrets serialising to their values (restored even if `f` panics).
fn exposing<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            EXPOSE.with(|e| e.set(self.0));
        }
    }
    let _restore = Restore(EXPOSE.with(|e| e.replace(true)));
    f()
}

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// The number of characters (for length rules; the value stays hidden).
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if EXPOSE.with(std::cell::Cell::get) { s.serialize_str(&self.0) } else { s.serialize_str(REDACTED) }
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    /// A string; anything else is refused with a message that does not contain the value.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d) {
            Ok(Value::String(s)) => Ok(Secret(s)),
            _ => Err(D::Error::custom("must be a string (the value is not shown)")),
        }
    }
}

impl schemars::JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "writeOnly": true })
    }
}

/// Where and how to reach a Proxmox host: address, API token, certificate trust, timeout.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// The user the token belongs to, with realm (`root@pam`).
    pub user: String,
    pub token_name: String,
    pub token_value: Secret,
    pub tls: TlsSettings,
    /// How long one request may take.
    pub timeout: Duration,
    /// The most of one answer read, in bytes: a longer answer is an error
    /// ([`ApiError::TooLarge`]), and no more than this is ever held in memory.
    pub max_response: u64,
    /// `verify` mode without CA or pin trusts the certificate first seen for `host:port` and
    /// remembers it in this file (one `host:port fingerprint` line each); `None`, or a file that
    /// cannot be written: for the process only.
    pub known_hosts: Option<PathBuf>,
}

impl HttpSettings {
    /// `https://HOST:PORT/api2/json`
    pub fn base_url(&self) -> String {
        format!("https://{}/api2/json", self.authority())
    }

    /// `HOST:PORT` (`[v6]:PORT`): the key of the host's certificate in the known-hosts file.
    pub fn authority(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Which of the [`HttpSettings`] a set-up problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Host,
    Token,
    Tls,
}

/// A client that cannot be set up with these settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupError {
    pub setting: Setting,
    pub message: String,
}

impl SetupError {
    fn new(setting: Setting, message: impl Into<String>) -> Self {
        SetupError { setting, message: message.into() }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SetupError {}

/// HTTPS to a Proxmox host, authenticated with an API token.
pub struct HttpTransport {
    http: reqwest::Client,
    base: String,
    seen: tls::SeenCert,
    timeout: Duration,
    max_response: u64,
}

impl HttpTransport {
    pub fn new(settings: &HttpSettings) -> Result<Self, SetupError> {
        let first_use = tls::FirstUse { key: settings.authority(), known_hosts: settings.known_hosts.clone() };
        let (tls, seen) = tls::client_config(&settings.tls, first_use).map_err(|e| SetupError::new(Setting::Tls, e))?;
        let mut auth = reqwest::header::HeaderValue::from_str(&format!(
            "PVEAPIToken={}!{}={}",
            settings.user,
            settings.token_name,
            settings.token_value.expose()
        ))
        .map_err(|_| SetupError::new(Setting::Token, "the token contains characters not allowed in an HTTP header"))?;
        auth.set_sensitive(true);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("proxmox-mcp/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the API token elsewhere: a 3xx is an error naming its target.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| SetupError::new(Setting::Host, format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpTransport {
            http,
            base: settings.base_url(),
            seen,
            timeout: settings.timeout,
            max_response: settings.max_response,
        })
    }

    fn error(&self, e: reqwest::Error) -> ApiError {
        self.error_after(e, self.timeout)
    }

    fn error_after(&self, e: reqwest::Error, timeout: Duration) -> ApiError {
        if e.is_timeout() {
            return ApiError::Timeout(timeout);
        }
        let chain = error_chain(&e);
        // The handshake is part of connecting: a TLS error after it (a connection cut midway)
        // is an interruption, since the request may have gone out.
        let tls = e.is_connect()
            && chain.iter().any(|m| {
                let m = m.to_lowercase();
                m.contains("certificate") || m.contains("tls") || m.contains("handshake") || m.contains("fingerprint")
            });
        if tls {
            if let Some(changed) = self.seen.changed() {
                return ApiError::CertificateChanged(Box::new(changed));
            }
            let message = chain.last().cloned().unwrap_or_else(|| e.to_string());
            return ApiError::Tls { message, fingerprint: self.seen.get() };
        }
        let detail = chain.last().cloned().unwrap_or_else(|| e.to_string());
        if e.is_connect() {
            // No connection: nothing was sent.
            return ApiError::Connect(format!("{} ({detail})", self.base));
        }
        // The request may have gone out before the connection broke.
        ApiError::Interrupted(format!("{} ({detail})", self.base))
    }

    /// Read the answer chunk by chunk: at most `max + 1` bytes when the caller bounds it
    /// (`max_body`), else at most the configured cap, past which it is an error.
    async fn read_body(&self, response: &mut reqwest::Response, max_body: Option<usize>) -> Result<Vec<u8>, ApiError> {
        let (limit, cut) = match max_body {
            Some(max) if (max as u64) < self.max_response => (max as u64 + 1, true),
            _ => (self.max_response, false),
        };
        let too_large = || ApiError::TooLarge { limit: self.max_response };
        if !cut && response.content_length().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.error(e))? {
            let room = (limit as usize).saturating_sub(body.len());
            if chunk.len() > room && !cut {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() as u64 >= limit && cut {
                break;
            }
        }
        Ok(body)
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        out.push(err.to_string());
        cur = err.source();
    }
    out
}

/// A multipart form of text fields and the upload's open file, streamed, and the file's size.
fn multipart_form(params: &Params, upload: &Upload) -> Result<(reqwest::multipart::Form, u64), ApiError> {
    let file = tokio::fs::File::from_std(upload.rewound()?);
    let len = upload.len;
    let part = reqwest::multipart::Part::stream_with_length(file, len)
        .file_name(upload.filename.clone())
        .mime_str("application/octet-stream")
        .map_err(|e| ApiError::LocalFile(e.to_string()))?;
    let form = params
        .0
        .iter()
        .fold(reqwest::multipart::Form::new(), |form, (k, v)| form.text(k.clone(), v.clone()))
        .part(upload.field.clone(), part);
    Ok((form, len))
}

/// How long an upload may take: the request timeout plus one second per MiB (1 MiB/s at least).
fn upload_timeout(timeout: Duration, len: u64) -> Duration {
    timeout + Duration::from_secs(len / (1024 * 1024))
}

impl Transport for HttpTransport {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        Box::pin(async move {
            let url = format!("{}{}", self.base, request.path);
            let mut timeout = self.timeout;
            let builder = match (&request.upload, request.method) {
                (Some(upload), _) => {
                    let (form, len) = multipart_form(&request.params, upload)?;
                    timeout = upload_timeout(self.timeout, len);
                    self.http.post(&url).multipart(form).timeout(timeout)
                }
                (None, Method::Get) => self.http.get(&url).query(&request.params.0),
                (None, Method::Delete) => self.http.delete(&url).query(&request.params.0),
                (None, Method::Post) => self.http.post(&url).form(&request.params.0),
                (None, Method::Put) => self.http.put(&url).form(&request.params.0),
            };
            let mut response = builder.send().await.map_err(|e| self.error_after(e, timeout))?;
            let status = response.status().as_u16();
            let reason = response
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .and_then(|r| std::str::from_utf8(r.as_bytes()).ok().map(str::to_string));
            if (300..400).contains(&status) {
                let location = response.headers().get(reqwest::header::LOCATION).map(|l| {
                    String::from_utf8_lossy(l.as_bytes()).chars().filter(|c| !c.is_control()).take(300).collect()
                });
                return Err(ApiError::Redirect { status, location });
            }
            let body = self.read_body(&mut response, request.max_body).await?;
            Ok(RawResponse { status, reason, body })
        })
    }

    fn describe(&self) -> String {
        self.base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_encode_like_proxmox() {
        #[derive(Serialize)]
        struct P {
            full: bool,
            off: bool,
            vmid: u32,
            name: Option<String>,
            command: Vec<&'static str>,
        }
        let p = Params::from_serialize(&P { full: true, off: false, vmid: 100, name: None, command: vec!["ls", "-l"] })
            .unwrap();
        assert_eq!(
            p.0,
            vec![
                ("command".into(), "ls".into()),
                ("command".into(), "-l".into()),
                ("full".into(), "1".into()),
                ("off".into(), "0".into()),
                ("vmid".into(), "100".into())
            ]
        );
        assert!(Params::from_serialize(&()).unwrap().is_empty());
        assert!(Params::from_serialize(&5).is_err());
    }

    #[test]
    fn interprets_answers() {
        let ok = RawResponse { status: 200, reason: None, body: br#"{"data":[1,2]}"#.to_vec() };
        assert_eq!(interpret(ok).unwrap(), serde_json::json!([1, 2]));
        let bad = RawResponse {
            status: 400,
            reason: Some("Parameter verification failed.".into()),
            body: br#"{"data":null,"errors":{"vmid":"value must be at least 100"}}"#.to_vec(),
        };
        let e = interpret(bad).unwrap_err();
        assert_eq!(e.status(), Some(400));
        assert!(e.to_string().contains("`vmid`: value must be at least 100"), "{e}");
        let gone = RawResponse {
            status: 500,
            reason: Some("Configuration file 'nodes/pve1/qemu-server/103.conf' does not exist".into()),
            body: b"{\"data\":null}".to_vec(),
        };
        assert!(matches!(interpret(gone).unwrap_err(), ApiError::NotFound(_)));
        let forbidden = RawResponse {
            status: 403,
            reason: Some("Permission check failed (/vms/100, VM.PowerMgmt)".into()),
            body: vec![],
        };
        let e = interpret(forbidden).unwrap_err().to_string();
        assert!(e.contains("VM.PowerMgmt") && e.contains("privilege separation"), "{e}");
        let garbage = RawResponse { status: 200, reason: None, body: b"<html>".to_vec() };
        assert!(matches!(interpret(garbage).unwrap_err(), ApiError::Decode(_)));
    }
}
