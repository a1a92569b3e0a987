//! Certificate checking for the three [`SslMode`]s, a pinned fingerprint and a CA file.
//!
//! One rustls verifier serves every mode, so that whatever happens the SHA-256 fingerprint of
//! the certificate the server presented is known and can be put in the error message.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The fingerprint of the last certificate a server presented (`AA:BB:…`).
#[derive(Clone, Debug, Default)]
pub struct SeenCert(Arc<Mutex<Option<String>>>);

impl SeenCert {
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
    fn set(&self, fp: String) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(fp);
        }
    }
}

/// How the Proxmox certificate is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SslMode {
    /// The system's trusted CAs (plus [`TlsSettings::ca_pem`]).
    #[default]
    Strict,
    /// Proxmox's own certificates: a CA and/or a pinned fingerprint; with neither, a
    /// self-signed certificate whose name and dates are right.
    Verify,
    /// Nothing checked. For a lab only.
    Insecure,
}

/// What to trust.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// PEM certificates of CAs to trust (strict and verify modes).
    pub ca_pem: Option<Vec<u8>>,
    /// The SHA-256 fingerprint of the host certificate: when set, it decides (strict and verify modes).
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
    /// `verify` mode with neither CA nor pin: the certificate may be self-signed, but its
    /// name and dates are still checked.
    SelfSigned,
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

/// The rustls configuration for these settings, and where the seen certificate is recorded.
pub fn client_config(settings: &TlsSettings) -> Result<(ClientConfig, SeenCert), String> {
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
        SslMode::Verify => Trust::SelfSigned,
    };
    let pin = if settings.mode == SslMode::Insecure { None } else { settings.fingerprint };
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
        self.seen.set(shown.clone());
        if let Some(pin) = &self.pin {
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
            Trust::Nothing => Ok(ServerCertVerified::assertion()),
            Trust::Chain(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            Trust::SelfSigned => {
                // Trust what the server sent as its own anchors: a self-signed certificate then
                // gets its signature, dates and name checked.
                let mut roots = RootCertStore::empty();
                for cert in std::iter::once(end_entity).chain(intermediates) {
                    let _ = roots.add(cert.clone().into_owned());
                }
                let own =
                    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                        .build()
                        .map_err(|e| Error::General(e.to_string()))?;
                match own.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                    Ok(v) => {
                        if !self.warned.swap(true, Ordering::Relaxed) {
                            tracing::warn!(
                                fingerprint = %shown,
                                "verify mode accepted a self-signed certificate; pin its fingerprint {shown} to accept only this one"
                            );
                        }
                        Ok(v)
                    }
                    // Signed by a CA the server does not send (Proxmox's cluster CA): the name is
                    // all that can be checked without the CA.
                    Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
                        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                        rustls::client::verify_server_name(&parsed, server_name)?;
                        if !self.warned.swap(true, Ordering::Relaxed) {
                            tracing::warn!(
                                fingerprint = %shown,
                                "verify mode accepted a certificate from an unknown CA after checking its name only; trust the cluster CA (/etc/pve/pve-root-ca.pem) or pin the fingerprint {shown}"
                            );
                        }
                        Ok(ServerCertVerified::assertion())
                    }
                    Err(e) => Err(e),
                }
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
