//! Proxmox errors, turned into messages that tell the user what to do.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A failed Proxmox request. The `Display` text is what the agent reads.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// 400: Proxmox rejected parameters; `errors` names each one.
    BadRequest { message: String, errors: BTreeMap<String, String> },
    /// 401: the API token was not accepted.
    Unauthorized(String),
    /// 403: the token lacks a privilege; the message names it when Proxmox does.
    Forbidden(String),
    /// 404, or a 500 saying something "does not exist".
    NotFound(String),
    /// 501: Proxmox has no such method on that path.
    NotImplemented(String),
    /// 595: the node that should handle the request could not be reached.
    NodeUnreachable(String),
    /// 596: the cluster could not verify the certificate of the node it proxies to.
    NodeCertificate(String),
    /// Any other error status.
    Status { status: u16, message: String },
    /// No answer within the configured timeout.
    Timeout(Duration),
    /// The connection could not be made: nothing was sent.
    Connect(String),
    /// The connection broke after the request may have been sent.
    Interrupted(String),
    /// The TLS handshake failed; `fingerprint` is the SHA-256 of the certificate seen, if any.
    Tls { message: String, fingerprint: Option<String> },
    /// `verify` mode trusted a certificate on first use, and the host now presents another.
    CertificateChanged(Box<super::tls::CertificateChange>),
    /// Proxmox (or something in front of it) answered with a redirect, which is not followed.
    Redirect { status: u16, location: Option<String> },
    /// The answer was longer than the most this client reads (`limit` bytes).
    TooLarge { limit: u64 },
    /// The answer was not what the Proxmox API returns.
    Decode(String),
    /// A local file to upload could not be read.
    LocalFile(String),
}

impl ApiError {
    /// Map an error status and Proxmox's message (reason phrase or body) to an error.
    pub fn from_status(status: u16, message: String, errors: BTreeMap<String, String>) -> Self {
        let message = message.trim().to_string();
        match status {
            400 => ApiError::BadRequest { message, errors },
            401 => ApiError::Unauthorized(message),
            403 => ApiError::Forbidden(message),
            404 => ApiError::NotFound(message),
            500 if message.contains("does not exist") || message.contains("no such") => ApiError::NotFound(message),
            501 => ApiError::NotImplemented(message),
            595 => ApiError::NodeUnreachable(message),
            596 => ApiError::NodeCertificate(message),
            _ => ApiError::Status { status, message },
        }
    }

    /// The request failed before anything was sent: sending it again cannot do anything twice.
    /// A certificate that is refused is not such a failure (it would be refused again).
    pub fn is_unsent(&self) -> bool {
        match self {
            ApiError::Connect(_) => true,
            ApiError::Tls { message, .. } => {
                let m = message.to_lowercase();
                !(m.contains("certificate") || m.contains("fingerprint"))
            }
            _ => false,
        }
    }

    /// The HTTP status Proxmox answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            ApiError::BadRequest { .. } => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::NotImplemented(_) => 501,
            ApiError::NodeUnreachable(_) => 595,
            ApiError::NodeCertificate(_) => 596,
            ApiError::Status { status, .. } | ApiError::Redirect { status, .. } => *status,
            _ => return None,
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest { message, errors } => {
                write!(f, "Proxmox rejected the request (400): {}", or(message, "parameter verification failed"))?;
                for (param, msg) in errors {
                    write!(f, "\n• `{param}`: {}", msg.trim())?;
                }
                Ok(())
            }
            ApiError::Unauthorized(m) => write!(
                f,
                "Proxmox did not accept the API token (401{}). Check the token's user (user@realm), name and secret: \
                 the token id is USER!TOKENNAME, and the token must exist and not be expired.",
                paren(m)
            ),
            ApiError::Forbidden(m) => write!(
                f,
                "Proxmox refused the operation for lack of a privilege (403): {}. Grant the token's user that privilege \
                 on the path (Datacenter → Permissions). A token with privilege separation has only the permissions \
                 given to the token itself.",
                or(m, "permission check failed")
            ),
            ApiError::NotFound(m) => write!(
                f,
                "Not found: {}. Check the node name, the guest id and that the object exists (the list tools show what is there).",
                or(m, "Proxmox has no such object")
            ),
            ApiError::NotImplemented(m) => {
                write!(
                    f,
                    "Proxmox has no such API method (501): {}. This Proxmox version may not support it.",
                    or(m, "not implemented")
                )
            }
            ApiError::NodeUnreachable(m) => write!(
                f,
                "The node could not be reached from the cluster (595{}). Check that it is online and in quorum.",
                paren(m)
            ),
            ApiError::NodeCertificate(m) => write!(
                f,
                "The cluster could not verify the target node's certificate (596{}). Run `pvecm updatecerts` on the cluster.",
                paren(m)
            ),
            ApiError::Status { status, message } => {
                write!(f, "Proxmox answered {status}: {}", or(message, "no message"))
            }
            ApiError::Timeout(d) => write!(
                f,
                "Proxmox did not answer within {} s. The host may be overloaded or unreachable; a longer timeout may help.",
                d.as_secs_f64()
            ),
            ApiError::Connect(m) => write!(
                f,
                "Cannot connect to Proxmox: {m}. Check the host and port (default 8006) and that the API is reachable from here."
            ),
            ApiError::Tls { message, fingerprint } => {
                write!(f, "TLS failed: {message}.")?;
                if let Some(fp) = fingerprint {
                    write!(
                        f,
                        " The server presented a certificate with SHA-256 fingerprint {fp}. If that is your Proxmox \
                         host's certificate (Node → System → Certificates), pin that fingerprint or trust its CA."
                    )?;
                }
                Ok(())
            }
            ApiError::Interrupted(m) => write!(
                f,
                "The connection to Proxmox broke during the request: {m}. The request may have been carried out: \
                 check its effect before repeating it."
            ),
            ApiError::CertificateChanged(change) => write!(f, "{change}"),
            ApiError::Redirect { status, location } => write!(
                f,
                "Proxmox answered {status}, a redirect to {}, which is not followed (it would send the API token \
                 there). Check that the host and port are those of the Proxmox API itself (port 8006), not of a proxy \
                 or web page.",
                location.as_deref().map_or("an unnamed place".to_string(), |l| format!("\"{l}\""))
            ),
            ApiError::TooLarge { limit } => write!(
                f,
                "Proxmox's answer is larger than the {} this server reads; nothing of it was used. Ask for less \
                 (filters, a narrower call) or raise the limit.",
                if limit % (1 << 20) == 0 { format!("{} MiB", limit >> 20) } else { format!("{limit} bytes") }
            ),
            ApiError::Decode(m) => write!(f, "Unexpected answer from Proxmox: {m}"),
            ApiError::LocalFile(m) => write!(f, "Cannot read the local file to upload: {m}"),
        }
    }
}

impl std::error::Error for ApiError {}

fn or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() { default } else { s }
}

fn paren(s: &str) -> String {
    if s.is_empty() { String::new() } else { format!(": {s}") }
}
