//! The SSL modes against real TLS servers on 127.0.0.1 (rcgen certificates, tokio-rustls).

use proxmox_mcp::client::tls::{TlsSettings, format_fingerprint, sha256};
use proxmox_mcp::{ApiError, ApiPath, Client, Config, Method, SslMode};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Server {
    port: u16,
    /// The leaf certificate's SHA-256, as Proxmox shows it.
    fingerprint: String,
    /// The CA that signed it (PEM), or the leaf itself when self-signed.
    ca_pem: String,
}

/// Serve `{"data":{"version":"9.1"}}` over TLS with a certificate for `names`.
async fn serve(names: &[&str], self_signed: bool, expired: bool) -> Server {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Proxmox Virtual Environment test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf = if self_signed {
        params.self_signed(&leaf_key).unwrap()
    } else {
        params.signed_by(&leaf_key, &issuer).unwrap()
    };
    let ca_pem = if self_signed { leaf.pem() } else { ca_cert.pem() };
    let fingerprint = format_fingerprint(&sha256(leaf.der()));

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(leaf.der().to_vec())], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = r#"{"data":{"version":"9.1"}}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Server { port, fingerprint, ca_pem }
}

fn client(port: u16, mode: SslMode, ca_pem: Option<&str>, fingerprint: Option<&str>) -> Client {
    let config = Config {
        port,
        tls: TlsSettings {
            mode,
            ca_pem: ca_pem.map(|p| p.as_bytes().to_vec()),
            fingerprint: fingerprint.map(|f| proxmox_mcp::client::tls::parse_fingerprint(f).unwrap()),
        },
        timeout: Duration::from_secs(5),
        ..Config::new("127.0.0.1", "mcp", "not-used-here")
    };
    config.client().unwrap()
}

async fn version(client: &Client) -> Result<serde_json::Value, ApiError> {
    client.request(Method::Get, &ApiPath::lit("/version"), Default::default()).await
}

#[tokio::test]
async fn strict_rejects_an_unknown_ca_and_names_the_fingerprint() {
    let s = serve(&["127.0.0.1"], true, false).await;
    let err = version(&client(s.port, SslMode::Strict, None, None)).await.unwrap_err();
    let ApiError::Tls { fingerprint, .. } = &err else { panic!("expected a TLS error, got {err:?}") };
    assert_eq!(fingerprint.as_deref(), Some(s.fingerprint.as_str()));
    let text = err.to_string();
    assert!(text.contains(&s.fingerprint) && !text.contains("PROXMOX_"), "{text}");
    let hint = proxmox_mcp::config::env_hint(&err).unwrap();
    assert!(hint.contains(&format!("PROXMOX_SSL_FINGERPRINT={}", s.fingerprint)), "{hint}");
}

#[tokio::test]
async fn strict_and_verify_accept_the_ca_file() {
    let s = serve(&["127.0.0.1"], false, false).await;
    for mode in [SslMode::Strict, SslMode::Verify] {
        let v = version(&client(s.port, mode, Some(&s.ca_pem), None)).await.unwrap();
        assert_eq!(v["version"], "9.1", "{mode:?}");
    }
}

#[tokio::test]
async fn the_ca_file_still_checks_the_name() {
    let s = serve(&["pve.example.invalid"], false, false).await;
    let err = version(&client(s.port, SslMode::Verify, Some(&s.ca_pem), None)).await.unwrap_err();
    assert!(matches!(err, ApiError::Tls { .. }), "{err:?}");
}

#[tokio::test]
async fn a_pinned_fingerprint_decides() {
    let s = serve(&["pve.example.invalid"], false, false).await;
    // The right pin is accepted even though the name does not match (as Proxmox's tools do).
    let ok = version(&client(s.port, SslMode::Verify, None, Some(&s.fingerprint))).await.unwrap();
    assert_eq!(ok["version"], "9.1");
    let plain_hex = s.fingerprint.replace(':', "").to_lowercase();
    assert!(version(&client(s.port, SslMode::Strict, None, Some(&plain_hex))).await.is_ok());
    // A wrong pin is refused, and the message shows the fingerprint seen.
    let wrong = format_fingerprint(&[0xAB; 32]);
    let err = version(&client(s.port, SslMode::Verify, Some(&s.ca_pem), Some(&wrong))).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("fingerprint mismatch"), "{text}");
    assert!(text.contains(&s.fingerprint), "{text}");
}

#[tokio::test]
async fn verify_alone_accepts_a_self_signed_certificate_with_the_right_name_and_dates() {
    let good = serve(&["127.0.0.1"], true, false).await;
    assert!(version(&client(good.port, SslMode::Verify, None, None)).await.is_ok());
    // Signed by a cluster CA the server does not send: the name is checked.
    let cluster = serve(&["127.0.0.1"], false, false).await;
    assert!(version(&client(cluster.port, SslMode::Verify, None, None)).await.is_ok());

    let wrong_name = serve(&["pve.example.invalid"], true, false).await;
    let err = version(&client(wrong_name.port, SslMode::Verify, None, None)).await.unwrap_err();
    assert!(matches!(err, ApiError::Tls { .. }), "{err:?}");
    let expired = serve(&["127.0.0.1"], true, true).await;
    let err = version(&client(expired.port, SslMode::Verify, None, None)).await.unwrap_err();
    assert!(matches!(err, ApiError::Tls { .. }), "{err:?}");
    let cluster_wrong_name = serve(&["pve.example.invalid"], false, false).await;
    assert!(version(&client(cluster_wrong_name.port, SslMode::Verify, None, None)).await.is_err());
}

#[tokio::test]
async fn insecure_accepts_anything() {
    let s = serve(&["pve.example.invalid"], true, true).await;
    assert!(version(&client(s.port, SslMode::Insecure, None, None)).await.is_ok());
}

#[tokio::test]
async fn refused_connections_say_what_to_check() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = version(&client(port, SslMode::Strict, None, None)).await.unwrap_err();
    assert!(matches!(err, ApiError::Connect(_)), "{err:?}");
    // The client knows no environment variables; the configuration layer names them.
    assert!(err.to_string().contains("Check the host and port") && !err.to_string().contains("PROXMOX_"), "{err}");
    let hint = proxmox_mcp::config::env_hint(&err).unwrap();
    assert!(hint.contains("PROXMOX_HOST and PROXMOX_PORT"), "{hint}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let mut c = Config::from_lookup(|k| match k {
        "PROXMOX_HOST" => Some("127.0.0.1".into()),
        "PROXMOX_PORT" => Some(port.to_string()),
        "PROXMOX_TOKEN_NAME" => Some("mcp".into()),
        "PROXMOX_TOKEN_VALUE" => Some("x".into()),
        "PROXMOX_SSL_MODE" => Some("insecure".into()),
        "PROXMOX_TIMEOUT" => Some("0.5".into()),
        _ => None,
    })
    .unwrap();
    c.rate_limit = 0.0;
    let err = version(&c.client().unwrap()).await.unwrap_err();
    assert!(matches!(err, ApiError::Timeout(_)), "{err:?}");
    assert!(!err.to_string().contains("PROXMOX_"), "{err}");
    assert!(proxmox_mcp::config::env_hint(&err).unwrap().contains("PROXMOX_TIMEOUT"));
}

/// A self-signed certificate for 127.0.0.1 and its fingerprint.
fn certificate() -> (Arc<rustls::ServerConfig>, String) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    (Arc::new(config), format_fingerprint(&sha256(cert.der())))
}

/// A server on one port whose certificate can be swapped: each connection gets the current one.
struct Swappable {
    port: u16,
    current: Arc<std::sync::Mutex<Arc<rustls::ServerConfig>>>,
}

impl Swappable {
    async fn start() -> (Swappable, String) {
        let (config, fingerprint) = certificate();
        let current = Arc::new(std::sync::Mutex::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let serving = current.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = tokio_rustls::TlsAcceptor::from(serving.lock().unwrap().clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = r#"{"data":{"version":"9.1"}}"#;
                    let response =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (Swappable { port, current }, fingerprint)
    }

    /// Serve a new certificate from now on; its fingerprint.
    fn swap(&self) -> String {
        let (config, fingerprint) = certificate();
        *self.current.lock().unwrap() = config;
        fingerprint
    }
}

/// A `verify` client with neither CA nor pin, remembering in `known_hosts`.
fn first_use_client(port: u16, known_hosts: Option<std::path::PathBuf>) -> Client {
    let config = Config {
        port,
        tls: TlsSettings { mode: SslMode::Verify, ca_pem: None, fingerprint: None },
        timeout: Duration::from_secs(5),
        rate_limit: 0.0,
        known_hosts,
        ..Config::new("127.0.0.1", "mcp", "not-used-here")
    };
    config.client().unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("proxmox-mcp-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn verify_alone_trusts_the_first_certificate_and_refuses_another() {
    let (server, first) = Swappable::start().await;
    let dir = scratch("tofu");
    // The file and its directory do not exist yet.
    let file = dir.join("state/known_hosts");
    let client = first_use_client(server.port, Some(file.clone()));
    assert_eq!(version(&client).await.unwrap()["version"], "9.1");
    let key = format!("127.0.0.1:{}", server.port);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), format!("{key} {first}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The same certificate again: fine.
    assert!(version(&client).await.is_ok());

    // Another certificate, same process: refused, naming both fingerprints and the way out.
    let second = server.swap();
    let err = version(&client).await.unwrap_err();
    let ApiError::CertificateChanged(change) = &err else { panic!("expected a changed certificate, got {err:?}") };
    assert_eq!(
        (change.known.as_str(), change.seen.as_str(), change.host.as_str()),
        (first.as_str(), second.as_str(), key.as_str())
    );
    let text = err.to_string();
    assert!(text.contains(&first) && text.contains(&second), "{text}");
    assert!(text.contains(&format!("remove the line for {key} from {}", file.display())), "{text}");
    assert!(!text.contains("PROXMOX_"), "the client knows no variables: {text}");
    let hint = proxmox_mcp::config::env_hint(&err).unwrap();
    assert!(
        hint.contains(&format!("PROXMOX_SSL_FINGERPRINT={second}")) && hint.contains("PROXMOX_KNOWN_HOSTS"),
        "{hint}"
    );

    // After a restart (a new client reading the file): still refused.
    let restarted = first_use_client(server.port, Some(file.clone()));
    let err = version(&restarted).await.unwrap_err();
    assert!(matches!(&err, ApiError::CertificateChanged(c) if c.known == first && c.seen == second), "{err:?}");
    // Other hosts' lines are kept apart: a host not in the file is trusted on first use.
    let (other, other_fp) = Swappable::start().await;
    assert!(version(&first_use_client(other.port, Some(file.clone()))).await.is_ok());
    assert!(std::fs::read_to_string(&file).unwrap().contains(&format!("127.0.0.1:{} {other_fp}\n", other.port)));

    // Accepting the new one: remove its line (then it is trusted on next use), or pin it.
    let kept: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(&format!("{key} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, kept).unwrap();
    assert!(version(&first_use_client(server.port, Some(file.clone()))).await.is_ok());
    assert!(std::fs::read_to_string(&file).unwrap().contains(&format!("{key} {second}\n")));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn trust_on_first_use_still_checks_the_first_certificate() {
    let dir = scratch("tofu-name");
    let file = dir.join("known_hosts");
    let wrong_name = serve(&["pve.example.invalid"], true, false).await;
    let err = version(&first_use_client(wrong_name.port, Some(file.clone()))).await.unwrap_err();
    assert!(matches!(err, ApiError::Tls { .. }), "{err:?}");
    assert!(!file.exists(), "a refused certificate is not remembered");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_unwritable_known_hosts_file_pins_for_the_process() {
    let dir = scratch("tofu-unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    // Its "directory" is a file: it cannot be created.
    std::fs::write(dir.join("not-a-dir"), b"").unwrap();
    let file = dir.join("not-a-dir/known_hosts");
    let (server, first) = Swappable::start().await;
    let client = first_use_client(server.port, Some(file.clone()));
    assert!(version(&client).await.is_ok());
    let second = server.swap();
    let err = version(&client).await.unwrap_err();
    let ApiError::CertificateChanged(change) = &err else { panic!("{err:?}") };
    assert_eq!((change.known.as_str(), change.seen.as_str()), (first.as_str(), second.as_str()));
    assert_eq!(change.known_hosts, None);
    assert!(err.to_string().contains("seen earlier by this process"), "{err}");
    // Without a file at all, the same.
    let (server, _) = Swappable::start().await;
    let client = first_use_client(server.port, None);
    assert!(version(&client).await.is_ok());
    server.swap();
    assert!(matches!(version(&client).await.unwrap_err(), ApiError::CertificateChanged(_)));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn insecure_with_a_fingerprint_enforces_the_pin() {
    let s = serve(&["pve.example.invalid"], true, true).await;
    assert!(version(&client(s.port, SslMode::Insecure, None, Some(&s.fingerprint))).await.is_ok());
    let wrong = format_fingerprint(&[0xCD; 32]);
    let err = version(&client(s.port, SslMode::Insecure, None, Some(&wrong))).await.unwrap_err();
    assert!(err.to_string().contains("fingerprint mismatch") && err.to_string().contains(&s.fingerprint), "{err}");
}
