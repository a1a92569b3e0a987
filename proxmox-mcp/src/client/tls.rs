//! Certificate checking for the three [`SslMode`]s, a pinned fingerprint and a CA file, and
//! trust on first use.
//!
//! One rustls verifier serves every mode, so that whatever happens the SHA-256 fingerprint of
//! the certificate the server presented is known and can be put in the error message.
//!
//! What each mode trusts:
//! - a pinned fingerprint ([`TlsSettings::fingerprint`]), in any mode, `insecure` included:
//!   the certificate with that SHA-256, and nothing else (name and dates are not checked, as
//!   Proxmox's own tools do with pinned fingerprints);
//! - `strict`: a chain to the system's roots or the CA file;
//! - `verify` with a CA file: a chain to that CA;
//! - `verify` alone: trust on first use. The first certificate seen for `host:port` must carry
//!   the right name and dates (self-signed, or from a CA not sent); its fingerprint is then pinned
//!   for the process and written to the known-hosts file ([`FirstUse`]), and any other
//!   certificate is refused, now or after a restart, until its line is removed;
//! - `insecure` without a pin: anything.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The fingerprint of the last certificate a server presented (`AA:BB:…`), and whether it
/// was refused for not being the one trusted on first use.
#[derive(Clone, Debug, Default)]
pub struct SeenCert(Arc<Mutex<(Option<String>, Option<CertificateChange>)>>);

impl SeenCert {
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.0.clone())
    }
    /// The last certificate refused as a change from the one trusted on first use, if the last
    /// one seen was.
    pub fn changed(&self) -> Option<CertificateChange> {
        self.0.lock().ok().and_then(|g| g.1.clone())
    }
    fn set(&self, fp: String, change: Option<CertificateChange>) {
        if let Ok(mut g) = self.0.lock() {
            *g = (Some(fp), change);
        }
    }
}

/// Where trust on first use keeps what it trusted: the host's key and the known-hosts file.
#[derive(Clone, Debug, Default)]
pub struct FirstUse {
    /// `host:port` (`[v6]:port`), as the known-hosts file names the host.
    pub key: String,
    /// The file; `None`: remember for the process only.
    pub known_hosts: Option<PathBuf>,
}

/// A host whose certificate is not the one trusted on first use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateChange {
    /// `host:port`.
    pub host: String,
    /// The fingerprint trusted on first use.
    pub known: String,
    /// The fingerprint presented now.
    pub seen: String,
    /// The known-hosts file that holds `known`; `None`: it was trusted earlier in this process only.
    pub known_hosts: Option<PathBuf>,
}

impl std::fmt::Display for CertificateChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let CertificateChange { host, known, seen, known_hosts } = self;
        write!(
            f,
            "The TLS certificate of {host} changed: refused. The certificate trusted on first use has SHA-256 fingerprint {known}"
        )?;
        match known_hosts {
            Some(file) => write!(f, " (remembered in {})", file.display())?,
            None => write!(f, " (seen earlier by this process)")?,
        }
        write!(
            f,
            "; the host now presents {seen}. If you did not renew or replace the Proxmox certificate, someone may be \
             intercepting the connection. If the new certificate is expected, accept it: "
        )?;
        match known_hosts {
            Some(file) => {
                write!(f, "remove the line for {host} from {} (it is then trusted on next use), or ", file.display())?
            }
            None => write!(f, "restart the server, or ")?,
        }
        write!(f, "pin the new fingerprint {seen}.")
    }
}

/// How the Proxmox certificate is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SslMode {
    /// The system's trusted CAs (plus [`TlsSettings::ca_pem`]).
    #[default]
    Strict,
    /// Proxmox's own certificates: a CA and/or a pinned fingerprint; with neither, trust on
    /// first use: the first certificate seen (with the right name and dates) and only it.
    Verify,
    /// Nothing checked, unless a fingerprint is pinned: then only that certificate. For a lab only.
    Insecure,
}

/// What to trust.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// PEM certificates of CAs to trust (strict and verify modes).
    pub ca_pem: Option<Vec<u8>>,
    /// The SHA-256 fingerprint of the host certificate: when set, it decides, in every mode
    /// (`insecure` too: only that certificate is then accepted).
    pub fingerprint: Option<[u8; 32]>,
}

/// `AA:BB:...` (upper-case hex, colon separated), as Proxmox shows fingerprints.
pub fn format_fingerprint(fp: &[u8]) -> String {
    fp.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// Parse `AA:BB:…` or plain hex (64 digits) into a SHA-256 fingerprint.
pub fn parse_fingerprint(s: &str) -> Option<[u8; 32]> {
    let hex: String = s.trim().chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

pub fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Read PEM certificates; an error names what is wrong.
pub fn parse_pem_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> =
        CertificateDer::pem_slice_iter(pem).collect::<Result<_, _>>().map_err(|e| format!("not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate found (expected PEM, `-----BEGIN CERTIFICATE-----`)".into());
    }
    Ok(certs)
}

enum Trust {
    /// A chain to these roots (system roots, a CA file, or both).
    Chain(Arc<dyn ServerCertVerifier>),
    /// `verify` mode with neither CA nor pin: the first certificate seen, which may be
    /// self-signed but must have the right name and dates, and only it from then on.
    FirstUse(KnownHost),
    /// `insecure`: nothing is checked.
    Nothing,
}

struct Verifier {
    trust: Trust,
    pin: Option<[u8; 32]>,
    seen: SeenCert,
    provider: Arc<CryptoProvider>,
    warned: AtomicBool,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("pinned", &self.pin.is_some()).finish_non_exhaustive()
    }
}

/// The certificate trusted on first use for one host: in memory, and in the known-hosts file.
struct KnownHost {
    place: FirstUse,
    /// The fingerprint trusted, once known (from the file or the first handshake), and whether
    /// the file holds it.
    pinned: Mutex<Option<([u8; 32], bool)>>,
}

/// The fingerprint the known-hosts `file` holds for `key` (the first line naming it).
/// Lines are `host:port AA:BB:…`; blank lines and `#` comments are skipped.
pub fn known_host(file: &Path, key: &str) -> std::io::Result<Option<[u8; 32]>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .find(|(host, _)| *host == key)
        .and_then(|(_, fp)| parse_fingerprint(fp)))
}

/// Add `key fingerprint` to the known-hosts file, creating it (mode 0600, its directory 0700).
pub fn remember_host(file: &Path, key: &str, fp: &[u8; 32]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(file)?;
    // One write: lines appended by two processes at once do not interleave.
    out.write_all(format!("{key} {}\n", format_fingerprint(fp)).as_bytes())?;
    out.sync_all()
}

impl KnownHost {
    /// Check `fp` against what was trusted first; trust it (`check` passing) if nothing was.
    fn verify(&self, fp: [u8; 32], seen: &SeenCert, check: impl FnOnce() -> Result<(), Error>) -> Result<(), Error> {
        let shown = format_fingerprint(&fp);
        let FirstUse { key, known_hosts } = &self.place;
        let mut pinned = self.pinned.lock().map_err(|_| Error::General("certificate store poisoned".into()))?;
        if pinned.is_none()
            && let Some(file) = known_hosts
        {
            match known_host(file, key) {
                Ok(found) => *pinned = found.map(|fp| (fp, true)),
                Err(e) => tracing::warn!(file = %file.display(), error = %e, "cannot read the known-hosts file"),
            }
        }
        match *pinned {
            Some((known, _)) if known == fp => {
                seen.set(shown, None);
                Ok(())
            }
            Some((known, in_file)) => {
                let change = CertificateChange {
                    host: key.clone(),
                    known: format_fingerprint(&known),
                    seen: shown.clone(),
                    known_hosts: known_hosts.clone().filter(|_| in_file),
                };
                let message = change.to_string();
                seen.set(shown, Some(change));
                Err(Error::General(message))
            }
            None => {
                seen.set(shown.clone(), None);
                check()?;
                let written = known_hosts.as_deref().map(|file| (file, remember_host(file, key, &fp)));
                *pinned = Some((fp, matches!(written, Some((_, Ok(()))))));
                match written {
                    Some((file, Ok(()))) => tracing::info!(
                        host = %key,
                        fingerprint = %shown,
                        known_hosts = %file.display(),
                        "trusting the certificate of {key} on first use (SHA-256 {shown}), remembered in {}: another certificate will be refused",
                        file.display()
                    ),
                    Some((file, Err(e))) => tracing::warn!(
                        host = %key,
                        fingerprint = %shown,
                        known_hosts = %file.display(),
                        error = %e,
                        "trusting the certificate of {key} on first use (SHA-256 {shown}) for this process only: cannot write the known-hosts file {}: {e}; after a restart the first certificate seen is trusted again",
                        file.display()
                    ),
                    None => tracing::warn!(
                        host = %key,
                        fingerprint = %shown,
                        "trusting the certificate of {key} on first use (SHA-256 {shown}) for this process only (no known-hosts file); pin the fingerprint to keep it"
                    ),
                }
                Ok(())
            }
        }
    }
}

/// The rustls configuration for these settings, and where the seen certificate is recorded.
/// `first_use` says where `verify` mode without CA or pin keeps the certificate it trusts.
pub fn client_config(settings: &TlsSettings, first_use: FirstUse) -> Result<(ClientConfig, SeenCert), String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let extra = match &settings.ca_pem {
        Some(pem) => parse_pem_certs(pem)?,
        None => Vec::new(),
    };
    let webpki = |certs: Vec<CertificateDer<'static>>| -> Result<Arc<dyn ServerCertVerifier>, String> {
        let mut roots = RootCertStore::empty();
        for cert in certs {
            roots.add(cert).map_err(|e| format!("cannot use the CA certificate: {e}"))?;
        }
        let v = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("cannot use the CA certificate: {e}"))?;
        Ok(v)
    };
    let trust = match settings.mode {
        SslMode::Insecure => Trust::Nothing,
        SslMode::Strict => Trust::Chain(Arc::new(
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                .map_err(|e| format!("cannot load the system's trusted certificates: {e}"))?,
        )),
        SslMode::Verify if !extra.is_empty() => Trust::Chain(webpki(extra)?),
        SslMode::Verify => Trust::FirstUse(KnownHost { place: first_use, pinned: Mutex::new(None) }),
    };
    // A pin decides in every mode, insecure included.
    let pin = settings.fingerprint;
    let seen = SeenCert::default();
    let verifier =
        Verifier { trust, pin, seen: seen.clone(), provider: provider.clone(), warned: AtomicBool::new(false) };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // reqwest sets no ALPN on a preconfigured config; Proxmox's API speaks HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, seen))
}

impl Verifier {
    /// A certificate trusted on first use must still be right: the server's own certificates
    /// as anchors, so that a self-signed certificate gets its signature, dates and name checked;
    /// one signed by a CA the server does not send (Proxmox's cluster CA) has its name checked.
    fn own_anchors(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<(), Error> {
        let mut roots = RootCertStore::empty();
        for cert in std::iter::once(end_entity).chain(intermediates) {
            let _ = roots.add(cert.clone().into_owned());
        }
        let own = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
            .build()
            .map_err(|e| Error::General(e.to_string()))?;
        match own.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Ok(_) => Ok(()),
            Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        "the certificate is signed by a CA the server does not send: only its name was checked; trust the cluster CA (/etc/pve/pve-root-ca.pem) to check the chain"
                    );
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let fp = sha256(end_entity);
        let shown = format_fingerprint(&fp);
        if let Some(pin) = &self.pin {
            self.seen.set(shown.clone(), None);
            return if &fp == pin {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(Error::General(format!(
                    "certificate fingerprint mismatch: got {shown}, the pinned fingerprint is {}",
                    format_fingerprint(pin)
                )))
            };
        }
        match &self.trust {
            Trust::Nothing => {
                self.seen.set(shown, None);
                Ok(ServerCertVerified::assertion())
            }
            Trust::Chain(v) => {
                self.seen.set(shown, None);
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            }
            Trust::FirstUse(known) => {
                known.verify(fp, &self.seen, || self.own_anchors(end_entity, intermediates, server_name, ocsp, now))?;
                Ok(ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_round_trip() {
        let fp = sha256(b"x");
        let shown = format_fingerprint(&fp);
        assert_eq!(shown.len(), 95);
        assert_eq!(parse_fingerprint(&shown), Some(fp));
        assert_eq!(parse_fingerprint(&shown.replace(':', "").to_lowercase()), Some(fp));
        assert_eq!(parse_fingerprint("AA:BB"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
    }
}
