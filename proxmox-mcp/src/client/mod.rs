//! The Proxmox VE API client: one request function over a pluggable transport.
//!
//! [`Client::request`] paces requests (rate limit), hands them to a [`Transport`] — HTTPS to a
//! real Proxmox ([`HttpTransport`]), or anything else that answers like Proxmox — and turns the
//! answer into the `data` value or an [`ApiError`].

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// From any `Serialize` value that is an object (or `()`/`None`, for no parameters).
    /// `null` fields are left out.
    pub fn from_serialize(value: &impl Serialize) -> Result<Params, String> {
        let value = serde_json::to_value(value).map_err(|e| format!("cannot encode parameters: {e}"))?;
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

/// The file part of an upload. The caller decides which file may be sent (see the upload tool:
/// only files under its upload directory); the transport streams it, never reading it whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The form field of the file part (Proxmox's upload calls take it as `filename`).
    pub field: String,
    /// The local file.
    pub path: PathBuf,
    /// The file name given in the part's `Content-Disposition`.
    pub filename: String,
}

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

/// The Proxmox API client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn Transport>,
    limiter: Option<Arc<RateLimiter>>,
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
        Client { transport: Arc::new(transport), limiter: None }
    }

    /// Pace this client's requests.
    pub fn with_rate_limit(mut self, per_second: f64, burst: u32) -> Client {
        self.limiter = (per_second > 0.0).then(|| Arc::new(RateLimiter::new(per_second, burst)));
        self
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
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

    /// Pace, send, log.
    async fn exchange(&self, request: Request) -> Result<RawResponse, ApiError> {
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        let (method, path) = (request.method, request.path.clone());
        tracing::debug!(%method, %path, upload = request.upload.is_some(), "proxmox request");
        let started = std::time::Instant::now();
        let response = self.transport.send(request).await;
        match &response {
            Ok(r) => {
                tracing::debug!(%method, %path, status = r.status, ms = started.elapsed().as_millis() as u64, "proxmox answered")
            }
            Err(e) => tracing::debug!(%method, %path, error = %e, "proxmox request failed"),
        }
        response
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

/// A secret that never shows in `Debug` or `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
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
}

impl HttpSettings {
    /// `https://HOST:PORT/api2/json`
    pub fn base_url(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("https://[{}]:{}/api2/json", self.host, self.port)
        } else {
            format!("https://{}:{}/api2/json", self.host, self.port)
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
}

impl HttpTransport {
    pub fn new(settings: &HttpSettings) -> Result<Self, SetupError> {
        let (tls, seen) = tls::client_config(&settings.tls).map_err(|e| SetupError::new(Setting::Tls, e))?;
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
            .no_proxy()
            .build()
            .map_err(|e| SetupError::new(Setting::Host, format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpTransport { http, base: settings.base_url(), seen, timeout: settings.timeout })
    }

    fn error(&self, e: reqwest::Error) -> ApiError {
        self.error_after(e, self.timeout)
    }

    fn error_after(&self, e: reqwest::Error, timeout: Duration) -> ApiError {
        if e.is_timeout() {
            return ApiError::Timeout(timeout);
        }
        let chain = error_chain(&e);
        let tls = chain.iter().any(|m| {
            let m = m.to_lowercase();
            m.contains("certificate") || m.contains("tls") || m.contains("handshake") || m.contains("fingerprint")
        });
        if tls {
            let message = chain.last().cloned().unwrap_or_else(|| e.to_string());
            return ApiError::Tls { message, fingerprint: self.seen.get() };
        }
        if e.is_connect() || e.is_request() {
            let detail = chain.last().cloned().unwrap_or_else(|| e.to_string());
            return ApiError::Connect(format!("{} ({detail})", self.base));
        }
        ApiError::Connect(chain.join(": "))
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

/// A multipart form of text fields and one streamed file, and the file's size.
async fn multipart_form(params: &Params, upload: &Upload) -> Result<(reqwest::multipart::Form, u64), ApiError> {
    let local = |e: std::io::Error| ApiError::LocalFile(format!("{}: {e}", upload.path.display()));
    let file = tokio::fs::File::open(&upload.path).await.map_err(local)?;
    let len = file.metadata().await.map_err(local)?.len();
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
                    let (form, len) = multipart_form(&request.params, upload).await?;
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
            let body = match request.max_body {
                None => response.bytes().await.map_err(|e| self.error(e))?.to_vec(),
                Some(max) => {
                    // Read no more than asked (plus one byte, to know there was more).
                    let mut body = Vec::new();
                    while let Some(chunk) = response.chunk().await.map_err(|e| self.error(e))? {
                        let room = (max + 1).saturating_sub(body.len());
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if body.len() > max {
                            break;
                        }
                    }
                    body
                }
            };
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
