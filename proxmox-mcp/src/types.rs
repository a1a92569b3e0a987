//! Validated Proxmox identifiers: the argument types of tools.
//!
//! Each type checks its value against the Proxmox format of the same name (`pve-node`,
//! `pve-vmid`, `pve-storage-id`, ...) when it is parsed or deserialised, so an invalid value is
//! refused with a clear message before any request is made, and every value that reaches a path
//! is a safe segment. Their JSON schemas carry the same rules (`pattern`, `maxLength`, limits).

use crate::path::PathSegment;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Why a value is not a valid identifier of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidValue(pub String);

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for InvalidValue {}

/// Shown instead of a value in messages: short, printable, no control characters.
pub(crate) fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(40).flat_map(char::escape_default).collect();
    if value.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// Declares a validated string identifier type (usable by the tool modules for ids of their own).
///
/// The rule is declared once, as the JSON schema's `pattern` and `maxLength`; [`new`] applies
/// the same pattern (so a value built in code is held to the rule a tool call is checked
/// against). `beyond = ...` adds what a pattern cannot say (e.g. no `..` path component).
///
/// [`new`]: Node::new
macro_rules! string_id {
    (
        $(#[$meta:meta])*
        $name:ident, kind = $kind:literal, pattern = $pattern:literal, max = $max:literal,
        rule = $rule:literal $(, beyond = $beyond:expr)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The regular expression the value must match (as in the JSON schema).
            pub const PATTERN: &'static str = $pattern;
            /// The longest value accepted.
            pub const MAX_LEN: usize = $max;

            pub fn new(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                if value.is_empty() {
                    return Err(InvalidValue(format!("must not be empty: a {} is {}", $kind, $rule)));
                }
                if value.chars().count() > $max {
                    return Err(InvalidValue(format!(
                        "is too long ({} characters; a {} has at most {})", value.chars().count(), $kind, $max
                    )));
                }
                static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
                let matches = PATTERN
                    .get_or_init(|| regex::Regex::new($pattern).ok())
                    .as_ref()
                    .is_some_and(|re| re.is_match(&value));
                #[allow(unused_variables)]
                let beyond: fn(&str) -> bool = |_| true;
                $(let beyond: fn(&str) -> bool = $beyond;)?
                if value.chars().any(char::is_control) || !matches || !beyond(&value) {
                    return Err(InvalidValue(format!(
                        "\"{}\" is not a valid {}: {}", shown(&value), $kind, $rule
                    )));
                }
                Ok($name(value))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                Self::new(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let description = concat!("A ", $kind, ": ", $rule, ".");
                json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": $max,
                    "pattern": $pattern,
                    "description": description,
                })
            }
        }
    };
}

#[allow(unused_imports)]
pub(crate) use string_id;

pub(crate) fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`: a DNS label, as Proxmox node names are.
fn hostname_label(s: &str) -> bool {
    s.chars().all(|c| is_alnum(c) || c == '-') && !s.starts_with('-') && !s.ends_with('-')
}

string_id! {
    /// A cluster node name (Proxmox format `pve-node`), e.g. `pve1`.
    Node, kind = "node name", pattern = "^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$", max = 63,
    rule = "letters, digits and inner `-`, as a host name"
}

string_id! {
    /// A storage id (Proxmox format `pve-storage-id`), e.g. `local-lvm`.
    StorageId, kind = "storage id", pattern = "^[a-z][a-z0-9_.-]*[a-z0-9]$", max = 64,
    rule = "lower-case letters, digits, `-`, `_` and `.`, starting with a letter"
}

string_id! {
    /// A network interface name (Proxmox format `pve-iface`), e.g. `vmbr0`, `eno1.100`.
    Iface, kind = "network interface name", pattern = "^[a-zA-Z][a-zA-Z0-9_]{1,20}([:.][0-9]+)?$", max = 32,
    rule = "a letter, then 1 to 20 letters, digits or `_`, optionally `.VLAN` or `:N`"
}

string_id! {
    /// A snapshot name (Proxmox format `pve-configid`, 40 characters at most), e.g. `before-upgrade`.
    SnapshotName, kind = "snapshot name", pattern = "^[a-zA-Z][a-zA-Z0-9_-]*$", max = 40,
    rule = "a letter, then letters, digits, `-` and `_`"
}

string_id! {
    /// A task id (UPID), e.g. `UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:`.
    Upid, kind = "task id (UPID)", pattern = "^UPID:[a-zA-Z0-9][a-zA-Z0-9-]*:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:[^:/\\s]+:[^:/\\s]*:[^:/\\s]+:$", max = 256,
    rule = "UPID:node:pid:pstart:starttime:type:id:user: as Proxmox returns it"
}

string_id! {
    /// A volume id, `storage:name`, e.g. `local:iso/debian-12.iso`. The one path value that may
    /// hold `/`; no `.`/`..` component.
    Volume, kind = "volume id", pattern = "^[a-z][a-z0-9_.-]*[a-z0-9]:[A-Za-z0-9_.+=@,~:/-]+$", max = 512,
    rule = "storage:name, e.g. local:iso/debian-12.iso (letters, digits and `_.+=@,~:/-`; no `.` or `..` component)",
    beyond = |s| {
        let Some((storage, name)) = s.split_once(':') else { return false };
        StorageId::new(storage).is_ok()
            && !name.is_empty()
            && name.chars().all(|c| is_alnum(c) || "_.+=@,~:/-".contains(c))
            && name.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
    }
}

string_id! {
    /// A configuration id (Proxmox format `pve-configid`), e.g. an HA group name.
    ConfigId, kind = "configuration id", pattern = "^[a-zA-Z][a-zA-Z0-9_-]+$", max = 64,
    rule = "a letter, then at least one letter, digit, `-` or `_`"
}

string_id! {
    /// A firewall security group name, e.g. `webservers`.
    FirewallGroup, kind = "firewall group name", pattern = "^[A-Za-z][A-Za-z0-9_-]+$", max = 18,
    rule = "a letter, then 1 to 17 letters, digits, `-` or `_`"
}

string_id! {
    /// An HA resource id (Proxmox format `pve-ha-resource-or-vm-id`): `vm:100`, `ct:101` or `100`.
    HaResourceId, kind = "HA resource id", pattern = "^((vm|ct):)?[1-9][0-9]{2,8}$", max = 12,
    rule = "vm:VMID, ct:VMID or a plain VMID, e.g. vm:100"
}

string_id! {
    /// A backup job id, e.g. `backup-4f2a9c1e-77d0`.
    BackupJobId, kind = "backup job id", pattern = "^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max = 50,
    rule = "letters, digits, `-`, `_`, `.` and `:`, starting with a letter or digit"
}

string_id! {
    /// A replication job id (Proxmox format `pve-replication-job-id`): `GUEST-JOBNUM`, e.g. `100-0`.
    ReplicationJobId, kind = "replication job id", pattern = "^[1-9][0-9]{2,8}-[0-9]{1,9}$", max = 19,
    rule = "the guest id, `-`, and the job number, e.g. 100-0"
}

/// One label of a DNS name: `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`, at most 63 characters.
fn dns_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && hostname_label(s)
}

string_id! {
    /// A DNS name (Proxmox format `dns-name`): a VM name or a container host name, e.g. `web-01`.
    DnsName, kind = "DNS name", pattern = "^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$", max = 253,
    rule = "letters, digits and inner `-`, labels separated by `.`, e.g. web-01 or web-01.example.com",
    beyond = |s| s.split('.').all(dns_label)
}

string_id! {
    /// A resource pool (Proxmox format `pve-poolid`), e.g. `prod` or `prod/web` (up to 3 levels).
    PoolId, kind = "pool id", pattern = "^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}$", max = 128,
    rule = "letters, digits, `-`, `_` and `.`, up to 3 levels joined by `/`, e.g. prod",
    beyond = |s| {
        let parts: Vec<&str> = s.split('/').collect();
        parts.len() <= 3
            && parts.iter().all(|p| *p != "." && *p != ".." && !p.is_empty() && p.chars().all(|c| is_alnum(c) || "-_.".contains(c)))
    }
}

string_id! {
    /// A configuration digest as Proxmox returns it (SHA-1/SHA-256 hex): a change that carries
    /// it is refused if the configuration changed since it was read.
    Digest, kind = "configuration digest", pattern = "^[0-9a-fA-F]+$", max = 64,
    rule = "the hex `digest` a read of the configuration returned"
}

impl PathSegment for Volume {
    const TAIL: bool = true;
    fn segment(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
}

/// Implements [`PathSegment`] for `string_id!` types (their value is already validated).
macro_rules! path_segment_str {
    ($($t:ty),*) => {$(
        impl PathSegment for $t {
            fn segment(&self) -> Cow<'_, str> {
                Cow::Borrowed(&self.0)
            }
        }
    )*};
}
path_segment_str!(
    Node,
    StorageId,
    Iface,
    SnapshotName,
    Upid,
    ConfigId,
    FirewallGroup,
    HaResourceId,
    BackupJobId,
    ReplicationJobId
);

/// A guest id (Proxmox format `pve-vmid`): 100 to 999999999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct VmId(u32);

impl VmId {
    pub const MIN: u32 = 100;
    pub const MAX: u32 = 999_999_999;

    pub fn new(id: u32) -> Result<Self, InvalidValue> {
        if (Self::MIN..=Self::MAX).contains(&id) {
            Ok(VmId(id))
        } else {
            Err(InvalidValue(format!("{id} is not a guest id: it must be from 100 to 999999999")))
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for VmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for VmId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        let id = s.parse::<u32>().map_err(|_| {
            InvalidValue(format!("\"{}\" is not a guest id: it must be a number from 100 to 999999999", shown(s)))
        })?;
        VmId::new(id)
    }
}

impl<'de> Deserialize<'de> for VmId {
    /// A number, or a string of digits (some clients send numbers as strings).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
            Other(serde_json::Value),
        }
        match Raw::deserialize(d)? {
            Raw::Int(i) => u32::try_from(i)
                .map_err(|_| InvalidValue(format!("{i} is not a guest id: it must be from 100 to 999999999")))
                .and_then(VmId::new),
            Raw::Str(s) => s.parse(),
            Raw::Other(v) => {
                Err(InvalidValue(format!("{v} is not a guest id: it must be a number from 100 to 999999999")))
            }
        }
        .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for VmId {
    fn schema_name() -> Cow<'static, str> {
        "VmId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": 100,
            "maximum": 999_999_999,
            "description": "A guest id (VM or container), 100 to 999999999.",
        })
    }
}

impl PathSegment for VmId {
    fn segment(&self) -> Cow<'_, str> {
        Cow::Owned(self.0.to_string())
    }
}

/// Plain numbers (rule positions, ids) are always safe segments.
macro_rules! path_segment_int {
    ($($t:ty),*) => {$(
        impl PathSegment for $t {
            fn segment(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
path_segment_int!(u8, u16, u32, u64);

/// A system service of a node that Proxmox can start, stop, restart or reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceName {
    Chrony,
    Corosync,
    Cron,
    Ksmtuned,
    Lxcfs,
    Postfix,
    ProxmoxFirewall,
    PveCluster,
    PveFirewall,
    PveHaCrm,
    PveHaLrm,
    PveLxcSyscalld,
    Pvedaemon,
    PvefwLogger,
    Pveproxy,
    Pvescheduler,
    Pvestatd,
    Qmeventd,
    Spiceproxy,
    Sshd,
    Syslog,
    SystemdJournald,
    SystemdTimesyncd,
}

impl PathSegment for ServiceName {
    fn segment(&self) -> Cow<'_, str> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => Cow::Owned(s),
            _ => Cow::Borrowed("unknown"),
        }
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segment())
    }
}

/// The kind of guest: a QEMU virtual machine or an LXC container. Fills the `{type}` segment of
/// `/nodes/{node}/{type}/{vmid}/...`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuestType {
    /// A QEMU virtual machine.
    #[default]
    Qemu,
    /// An LXC container.
    Lxc,
}

impl GuestType {
    pub fn as_str(self) -> &'static str {
        match self {
            GuestType::Qemu => "qemu",
            GuestType::Lxc => "lxc",
        }
    }
    /// "VM" or "container", for messages.
    pub fn noun(self) -> &'static str {
        match self {
            GuestType::Qemu => "VM",
            GuestType::Lxc => "container",
        }
    }
    /// "VM" or "Container", to start a sentence.
    pub fn subject(self) -> &'static str {
        match self {
            GuestType::Qemu => "VM",
            GuestType::Lxc => "Container",
        }
    }
    /// "VM 100" or "container 200", for messages.
    pub fn with_id(self, vmid: VmId) -> String {
        format!("{} {vmid}", self.noun())
    }
}

impl fmt::Display for GuestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PathSegment for GuestType {
    fn segment(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names() {
        for ok in ["pve1", "a", "pve-node-01", "X9"] {
            assert!(Node::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "-a", "a-", "a_b", "a.b", "pve%2F", "a\nb", &"n".repeat(64)] {
            assert!(Node::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn vmids() {
        assert_eq!(serde_json::from_str::<VmId>("100").unwrap().get(), 100);
        assert_eq!(serde_json::from_str::<VmId>("\"101\"").unwrap().get(), 101);
        for bad in ["99", "1000000000", "-1", "\"1e3\"", "1.5", "null", "\"\"", "\"100/..\""] {
            assert!(serde_json::from_str::<VmId>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upids() {
        let ok = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:";
        assert!(Upid::new(ok).is_ok());
        assert!(Upid::new("UPID:pve1:0000ABCD:00001234:65F0A1B2:vzdump::root@pam:").is_ok());
        for bad in ["UPID:pve1:x", "UPID:pve1:0000ABCD:00001234:65F0A1B2:qm/start:100:root@pam:", "../UPID"] {
            assert!(Upid::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn volumes() {
        for ok in ["local:iso/debian-12.iso", "local-lvm:vm-100-disk-0", "pbs:backup/vm/100/2024-01-01T00:00:00Z"] {
            assert!(Volume::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "local:../etc/passwd",
            "local:iso/../../x",
            "local:./x",
            "noco",
            "local:",
            "local:a//b",
            "local:a%2e%2e",
            "local:a b",
        ] {
            assert!(Volume::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn job_and_resource_ids() {
        assert!(
            HaResourceId::new("vm:100").is_ok()
                && HaResourceId::new("ct:101").is_ok()
                && HaResourceId::new("100").is_ok()
        );
        for bad in ["vm:99", "vm:0100", "xx:100", "vm:100/..", "vm:"] {
            assert!(HaResourceId::new(bad).is_err(), "{bad}");
        }
        assert!(ReplicationJobId::new("100-0").is_ok());
        for bad in ["99-0", "100-", "100-x", "100-0/..", "-0"] {
            assert!(ReplicationJobId::new(bad).is_err(), "{bad}");
        }
        assert!(BackupJobId::new("backup-4f2a9c1e-77d0").is_ok());
        for bad in ["..", ".hidden", "a/b", "a b"] {
            assert!(BackupJobId::new(bad).is_err(), "{bad}");
        }
        assert_eq!(ServiceName::PveHaLrm.to_string(), "pve-ha-lrm");
        assert_eq!(serde_json::from_str::<ServiceName>("\"systemd-journald\"").unwrap(), ServiceName::SystemdJournald);
    }

    #[test]
    fn dns_names() {
        let long = vec!["a".repeat(63); 4].join(".");
        for ok in ["web-01", "a", "web.example.com", &"a".repeat(63), &long[..253]] {
            assert!(DnsName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["-web", "web-", "web_01", "web..x", ".web", "a b", "web,x=1", "", &"a".repeat(64), &long[..254]] {
            assert!(DnsName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pool_ids() {
        for ok in ["prod", "prod/web", "a/b/c", "x.y_z-1", &"p".repeat(128)] {
            assert!(PoolId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a/b/c/d", "../x", "a/./b", "a//b", "/a", "a/", "a b", "a,b", &"p".repeat(129)] {
            assert!(PoolId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests() {
        for ok in ["0123abcd", "ABCDEF0123456789", &"f".repeat(64)] {
            assert!(Digest::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "zz", "ab cd", "../x", &"f".repeat(65)] {
            assert!(Digest::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guest_words() {
        let vmid = VmId::new(100).unwrap();
        assert_eq!(
            (GuestType::Qemu.with_id(vmid), GuestType::Lxc.with_id(vmid)),
            ("VM 100".into(), "container 100".into())
        );
        assert_eq!((GuestType::Qemu.subject(), GuestType::Lxc.subject()), ("VM", "Container"));
    }

    #[test]
    fn ifaces() {
        for ok in ["vmbr0", "eno1.100", "bond0", "eth0:1"] {
            assert!(Iface::new(ok).is_ok(), "{ok}");
        }
        for bad in ["e", "0eth", "eth0..1", "eth0.", "a/b", "eth0.1a"] {
            assert!(Iface::new(bad).is_err(), "{bad}");
        }
    }
}
