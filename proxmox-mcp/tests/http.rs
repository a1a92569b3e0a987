//! What the HTTP client does with what comes back: no redirect is followed, no answer is read
//! past the cap (and a huge one is never buffered), and only requests that cannot run twice are
//! retried. Against TLS servers on 127.0.0.1 (rcgen, tokio-rustls) and scripted transports.

use proxmox_mcp::client::tls::{TlsSettings, format_fingerprint, sha256};
use proxmox_mcp::client::{RawResponse, Request, Retry, Transport, TransportFuture};
use proxmox_mcp::{ApiError, ApiPath, Client, Config, Method, SslMode};
use rcgen::{CertificateParams, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::server::TlsStream;

type Conn = TlsStream<tokio::net::TcpStream>;
type Handler = Arc<dyn Fn(Conn) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

struct Server {
    port: u16,
    fingerprint: String,
    /// TCP connections accepted.
    accepted: Arc<AtomicUsize>,
}

/// A TLS server for 127.0.0.1 whose every connection `handler` serves (after the handshake).
async fn serve(handler: Handler) -> Server {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    let fingerprint = format_fingerprint(&sha256(cert.der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let (acceptor, handler) = (acceptor.clone(), handler.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    handler(tls).await;
                }
            });
        }
    });
    Server { port, fingerprint, accepted }
}

/// Read the request head (and whatever body came with it).
async fn read_head(tls: &mut Conn) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// A client of the server, its certificate pinned, answers capped at `max_response`.
fn client(server: &Server, max_response: u64) -> Client {
    let config = Config {
        port: server.port,
        tls: TlsSettings {
            mode: SslMode::Verify,
            ca_pem: None,
            fingerprint: proxmox_mcp::client::tls::parse_fingerprint(&server.fingerprint),
        },
        timeout: Duration::from_secs(10),
        rate_limit: 0.0,
        max_response,
        ..Config::new("127.0.0.1", "mcp", "not-used-here")
    };
    config.client().unwrap().with_retry(Retry { retries: 2, backoff: Duration::from_millis(10) })
}

async fn get(client: &Client, path: &'static str) -> Result<serde_json::Value, ApiError> {
    client.request(Method::Get, &ApiPath::lit(path), Default::default()).await
}

async fn post(client: &Client, path: &'static str) -> Result<serde_json::Value, ApiError> {
    client.request(Method::Post, &ApiPath::lit(path), Default::default()).await
}

fn answer(head: &'static str) -> Handler {
    Arc::new(move |mut tls| {
        Box::pin(async move {
            if read_head(&mut tls).await.is_some() {
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.shutdown().await;
            }
        })
    })
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_names_its_target() {
    let target =
        serve(answer("HTTP/1.1 200 OK\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{\"data\":\"hi\"}\n")).await;
    let head: &'static str = Box::leak(
        format!(
            "HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:{}/api2/json/version\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            target.port
        )
        .into_boxed_str(),
    );
    let redirecting = serve(answer(head)).await;
    let err = get(&client(&redirecting, 1 << 20), "/version").await.unwrap_err();
    let ApiError::Redirect { status, location } = &err else { panic!("expected a redirect error, got {err:?}") };
    assert_eq!(*status, 302);
    assert_eq!(location.as_deref(), Some(format!("https://127.0.0.1:{}/api2/json/version", target.port).as_str()));
    let text = err.to_string();
    assert!(text.contains("redirect") && text.contains(&format!(":{}/api2/json/version", target.port)), "{text}");
    assert!(text.contains("not followed"), "{text}");
    assert_eq!(target.accepted.load(Ordering::SeqCst), 0, "the token never went to the redirect's target");
    // Not retried: a redirect is an answer.
    assert_eq!(redirecting.accepted.load(Ordering::SeqCst), 1);
    assert!(proxmox_mcp::config::env_hint(&err).unwrap().contains("PROXMOX_HOST"));
}

/// Serves `total` bytes of a JSON string, in 64 KiB writes, with or without a Content-Length;
/// counts what it could write before the client went away.
fn huge(total: u64, with_length: bool, written: Arc<AtomicU64>) -> Handler {
    Arc::new(move |mut tls| {
        let written = written.clone();
        Box::pin(async move {
            if read_head(&mut tls).await.is_none() {
                return;
            }
            let head = if with_length {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
                )
            } else {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_string()
            };
            if tls.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b' '; 64 * 1024];
            let mut sent = 0u64;
            while sent < total {
                let n = block.len().min((total - sent) as usize);
                if tls.write_all(&block[..n]).await.is_err() {
                    break;
                }
                sent += n as u64;
                written.store(sent, Ordering::SeqCst);
            }
            let _ = tls.shutdown().await;
        })
    })
}

#[tokio::test]
async fn a_200_mib_answer_is_refused_without_being_buffered() {
    const TOTAL: u64 = 200 << 20;
    for with_length in [true, false] {
        let written = Arc::new(AtomicU64::new(0));
        let server = serve(huge(TOTAL, with_length, written.clone())).await;
        let started = std::time::Instant::now();
        let err = get(&client(&server, 1 << 20), "/cluster/resources").await.unwrap_err();
        assert!(matches!(err, ApiError::TooLarge { limit } if limit == 1 << 20), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("larger than the 1 MiB"), "{text}");
        assert!(proxmox_mcp::config::env_hint(&err).unwrap().contains("PROXMOX_MAX_RESPONSE_MB"));
        // The client stopped reading at the cap: the server could write little more than that
        // (plus what the socket buffers hold) before the connection closed.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = written.load(Ordering::SeqCst);
        assert!(sent < 32 << 20, "with_length={with_length}: the server wrote {sent} bytes");
        assert!(started.elapsed() < Duration::from_secs(10));
        // Not retried: the answer came.
        assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn an_answer_within_the_cap_is_read_whole() {
    let written = Arc::new(AtomicU64::new(0));
    let server = serve(huge(900 * 1024, false, written)).await;
    // 900 KiB of spaces is not JSON: the answer was read to its end, then judged.
    let err = get(&client(&server, 1 << 20), "/version").await.unwrap_err();
    assert!(matches!(&err, ApiError::Decode(m) if m.contains("921600 bytes")), "{err:?}");
}

/// Accepts TCP connections and closes them before the TLS handshake: nothing is ever sent.
async fn closing_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(tcp);
        }
    });
    (port, accepted)
}

#[tokio::test]
async fn a_post_that_never_left_is_retried() {
    let (port, accepted) = closing_listener().await;
    let server = Server { port, fingerprint: format_fingerprint(&[0; 32]), accepted: accepted.clone() };
    let err = post(&client(&server, 1 << 20), "/nodes/pve1/qemu/100/status/start").await.unwrap_err();
    assert!(err.is_unsent(), "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "the first attempt and two retries");
}

#[tokio::test]
async fn a_post_that_may_have_arrived_is_not_retried_and_a_get_is() {
    // Reads the whole request, then hangs up without an answer.
    let hang_up: Handler = Arc::new(|mut tls| {
        Box::pin(async move {
            let _ = read_head(&mut tls).await;
            drop(tls);
        })
    });
    let server = serve(hang_up).await;
    let c = client(&server, 1 << 20);
    let err = post(&c, "/nodes/pve1/qemu/100/status/start").await.unwrap_err();
    assert!(matches!(err, ApiError::Interrupted(_)), "{err:?}");
    assert!(err.to_string().contains("may have been carried out"), "{err}");
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1, "a POST that reached Proxmox is never sent again");
    let err = get(&c, "/version").await.unwrap_err();
    assert!(matches!(err, ApiError::Interrupted(_)), "{err:?}");
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1 + 3, "a GET is retried twice");
}

/// A transport answering from a script, counting attempts.
#[derive(Clone)]
struct Script {
    answers: Arc<Mutex<VecDeque<Result<RawResponse, ApiError>>>>,
    attempts: Arc<AtomicUsize>,
}

impl Script {
    fn new(answers: Vec<Result<RawResponse, ApiError>>) -> Self {
        Script { answers: Arc::new(Mutex::new(answers.into())), attempts: Arc::default() }
    }
    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

impl Transport for Script {
    fn send(&self, _request: Request) -> TransportFuture<'_> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let answer = self.answers.lock().unwrap().pop_front().unwrap_or_else(|| Ok(status(200)));
        Box::pin(async move { answer })
    }
    fn describe(&self) -> String {
        "script".into()
    }
}

fn status(code: u16) -> RawResponse {
    RawResponse { status: code, reason: Some("scripted".into()), body: br#"{"data":"done"}"#.to_vec() }
}

type Answer = Result<RawResponse, ApiError>;

fn refused() -> Answer {
    Err(ApiError::Connect("connection refused".into()))
}

#[tokio::test(start_paused = true)]
async fn only_what_cannot_run_twice_is_retried() {
    let timeout = || Err(ApiError::Timeout(Duration::from_secs(30)));
    let interrupted = || Err(ApiError::Interrupted("connection reset".into()));
    let bad_cert =
        || Err(ApiError::Tls { message: "invalid peer certificate: UnknownIssuer".into(), fingerprint: None });
    let handshake = || Err(ApiError::Tls { message: "tls handshake eof".into(), fingerprint: None });
    // (method, the answers in turn, attempts expected, success)
    let cases: Vec<(Method, Vec<Answer>, usize, bool)> = vec![
        // Nothing sent: any method, until it works or the retries are spent.
        (Method::Post, vec![refused(), refused()], 3, true),
        (Method::Put, vec![refused(), refused(), refused()], 3, false),
        (Method::Delete, vec![handshake()], 2, true),
        // Maybe sent: only a GET.
        (Method::Post, vec![timeout()], 1, false),
        (Method::Post, vec![interrupted()], 1, false),
        (Method::Delete, vec![interrupted()], 1, false),
        (Method::Put, vec![Ok(status(503))], 1, false),
        (Method::Post, vec![Ok(status(502))], 1, false),
        (Method::Get, vec![timeout(), interrupted()], 3, true),
        (Method::Get, vec![Ok(status(503)), Ok(status(504))], 3, true),
        (Method::Get, vec![Ok(status(502)), Ok(status(502)), Ok(status(502))], 3, false),
        // Answers and verdicts are not transient.
        (Method::Get, vec![Ok(status(500))], 1, false),
        (Method::Get, vec![Ok(status(595))], 1, false),
        (Method::Get, vec![bad_cert()], 1, false),
    ];
    for (method, answers, attempts, ok) in cases {
        let what = format!("{method} {answers:?}");
        let script = Script::new(answers);
        let result =
            Client::with_transport(script.clone()).request(method, &ApiPath::lit("/x"), Default::default()).await;
        assert_eq!(script.attempts(), attempts, "{what}");
        assert_eq!(result.is_ok(), ok, "{what}: {result:?}");
    }
    let script = Script::new(vec![refused(), refused()]);
    let none = Client::with_transport(script.clone()).with_retry(Retry::NONE);
    assert!(none.request(Method::Get, &ApiPath::lit("/x"), Default::default()).await.is_err());
    assert_eq!(script.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_back_off_and_wait_for_the_rate_limiter() {
    let script = Script::new(vec![Ok(status(503)), Ok(status(503))]);
    let client = Client::with_transport(script.clone()).with_rate_limit(1.0, 1);
    let started = tokio::time::Instant::now();
    client.request(Method::Get, &ApiPath::lit("/x"), Default::default()).await.unwrap();
    assert_eq!(script.attempts(), 3);
    // One token a second: the two retries wait for theirs (the backoff, 250 + 500 ms, runs meanwhile).
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_millis(2600), "{took:?}");

    let script = Script::new(vec![Ok(status(503)), Ok(status(503))]);
    let started = tokio::time::Instant::now();
    Client::with_transport(script.clone()).request(Method::Get, &ApiPath::lit("/x"), Default::default()).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(250 + 500), "the default backoff doubles");
}
