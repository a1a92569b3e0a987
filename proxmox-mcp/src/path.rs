//! Request paths built from validated values.
//!
//! Proxmox's web server percent-decodes the whole path before it routes, so encoding alone does
//! not stop `%2F` or `..` from changing which endpoint is hit. Values reach a path only through
//! [`PathSegment`], implemented by the validated types of [`crate::types`]; on top of that every
//! segment is percent-encoded.

use std::borrow::Cow;
use std::fmt;

/// A value that can fill a `<param>` segment of a tool's path.
///
/// Implement it only for types whose every value is a safe segment: no `/` (unless
/// [`PathSegment::TAIL`]), no `.`/`..`, no control characters.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot fill a path segment",
    label = "path parameters must be validated identifiers",
    note = "use a type of `proxmox_mcp::types` (`Node`, `VmId`, `StorageId`, ...), or implement `proxmox_mcp::PathSegment` for a type that validates its values"
)]
pub trait PathSegment {
    /// May hold `/`: the value is the rest of the path (a volume id).
    const TAIL: bool = false;
    /// The raw, already validated value.
    fn segment(&self) -> Cow<'_, str>;
}

impl<T: PathSegment + ?Sized> PathSegment for &T {
    const TAIL: bool = T::TAIL;
    fn segment(&self) -> Cow<'_, str> {
        (**self).segment()
    }
}

/// An API path below `/api2/json`, e.g. `/nodes/pve1/qemu/100/status/start`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ApiPath(String);

impl ApiPath {
    /// `/`
    pub fn root() -> Self {
        ApiPath(String::new())
    }

    /// A path of literal segments only, e.g. `ApiPath::lit("/cluster/nextid")`.
    ///
    /// # Panics
    /// On a segment with characters other than letters, digits, `-`, `_` or `.`: literals are
    /// written by programmers, never taken from input.
    pub fn lit(path: &'static str) -> Self {
        let mut p = ApiPath::root();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            p.push_lit(seg);
        }
        p
    }

    /// Append a literal segment (see [`ApiPath::lit`]).
    pub fn push_lit(&mut self, seg: &'static str) -> &mut Self {
        assert!(
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "invalid literal path segment {seg:?}"
        );
        self.0.push('/');
        self.0.push_str(seg);
        self
    }

    /// Append a validated value, percent-encoded.
    pub fn push<S: PathSegment + ?Sized>(&mut self, value: &S) -> &mut Self {
        self.0.push('/');
        encode_into(&mut self.0, &value.segment(), S::TAIL);
        self
    }

    /// Builder form of [`ApiPath::push_lit`].
    pub fn join_lit(mut self, seg: &'static str) -> Self {
        self.push_lit(seg);
        self
    }

    /// Builder form of [`ApiPath::push`].
    pub fn join<S: PathSegment + ?Sized>(mut self, value: &S) -> Self {
        self.push(value);
        self
    }

    pub fn as_str(&self) -> &str {
        if self.0.is_empty() { "/" } else { &self.0 }
    }
}

impl fmt::Display for ApiPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Percent-encode everything but unreserved characters and the sub-delimiters Proxmox ids use.
fn encode_into(out: &mut String, value: &str, keep_slash: bool) {
    for b in value.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~:@!=+,".contains(&b) || (keep_slash && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Node, Upid, VmId, Volume};

    #[test]
    fn builds_and_encodes() {
        let node: Node = "pve1".parse().unwrap();
        let vmid = VmId::new(100).unwrap();
        let p = ApiPath::lit("/nodes").join(&node).join_lit("qemu").join(&vmid).join_lit("status");
        assert_eq!(p.as_str(), "/nodes/pve1/qemu/100/status");
        let upid: Upid = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:".parse().unwrap();
        assert_eq!(
            ApiPath::root().join(&upid).as_str(),
            "/UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:"
        );
        let vol: Volume =
            "local:iso/debian 12.iso".parse().unwrap_or_else(|_| "local:iso/debian-12.iso".parse().unwrap());
        assert!(ApiPath::root().join(&vol).as_str().starts_with("/local:iso/debian"));
        assert_eq!(ApiPath::root().as_str(), "/");
    }

    #[test]
    #[should_panic]
    fn literal_must_be_plain() {
        ApiPath::root().push_lit("..");
    }
}
