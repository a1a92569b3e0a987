//! Bearer tokens for `--http` (`PROXMOX_MCP_TOKENS_FILE`): who may call, and what each may do.
//!
//! The file is TOML, one `[[token]]` table per token; only the SHA-256 of each token is stored:
//!
//! ```toml
//! [[token]]
//! name = "ci"                       # in the audit log
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! elevated = false                  # true: may call elevated tools (PROXMOX_ALLOW_ELEVATED=true too)
//! tools = "@read,proxmox_start_vm"  # optional: as PROXMOX_TOOLS (a string or a list)
//! vmids = "100-199"                 # optional: as PROXMOX_ALLOWED_VMIDS, within the server's scope
//! nodes = ["pve1"]                  # optional: as PROXMOX_ALLOWED_NODES
//! ```
//!
//! A presented token is hashed and its digest compared with every stored one in constant time.

use crate::registry::{Registry, Selection};
use crate::scope::Scope;
use crate::tool::ToolDescriptor;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// What one token may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The token's name (never its value).
    pub name: String,
    /// May call elevated tools (when the server allows them at all).
    pub elevated: bool,
    /// The only tools it may call; `None`: every tool the server offers.
    pub tools: Option<Selection>,
    /// The guests and nodes it may address, within the server's scope.
    pub scope: Scope,
}

impl Grant {
    /// Whether this token may call `tool` (the server's own rules apply on top).
    pub fn allows(&self, tool: &ToolDescriptor) -> bool {
        (self.elevated || !tool.elevated) && self.tools.as_ref().is_none_or(|s| s.matches(tool))
    }
}

/// The tokens of a tokens file.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    entries: Vec<([u8; 32], Arc<Grant>)>,
}

impl Tokens {
    /// The grant of the token presented, if it is one of these. Every stored digest is compared
    /// (in constant time), whichever matches.
    pub fn authenticate(&self, presented: &str) -> Option<Arc<Grant>> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (stored, grant) in &self.entries {
            if bool::from(stored.ct_eq(&digest)) {
                found = Some(grant.clone());
            }
        }
        found
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Read a tokens file; the error says the file, the line and what is wrong (never a token).
    pub fn load(path: &std::path::Path, registry: &Registry) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read \"{}\": {e}", path.display()))?;
        Tokens::parse(&text, registry).map_err(|e| format!("\"{}\" {e}", path.display()))
    }

    /// Read a tokens file's text, checking tool names against `registry` (and the built-in tools).
    pub fn parse(text: &str, registry: &Registry) -> Result<Tokens, String> {
        let line =
            |offset: usize| text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1;
        let file: File = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => format!("line {}: {}", line(span.start), e.message().trim()),
            None => e.message().trim().to_string(),
        })?;
        let mut entries: Vec<([u8; 32], Arc<Grant>)> = Vec::new();
        for entry in file.token {
            let at = line(entry.name.span().start);
            let name = entry.name.into_inner();
            let fail = |what: String| format!("line {at}: token \"{name}\": {what}");
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                return Err(format!("line {at}: a token's name must be a non-empty line of text"));
            }
            let digest = parse_digest(&entry.sha256).ok_or_else(|| {
                fail("sha256 must be 64 hex digits, the SHA-256 of the token (printf %s \"$TOKEN\" | sha256sum)".into())
            })?;
            if entries.iter().any(|(_, g)| g.name == name) {
                return Err(fail("a second token with this name".into()));
            }
            if entries.iter().any(|(d, _)| *d == digest) {
                return Err(fail("the same sha256 as an earlier token".into()));
            }
            let tools = match entry.tools {
                None => None,
                Some(list) => {
                    let selection = Selection::parse(&list.joined());
                    selection.check(registry).map_err(|e| fail(format!("tools: {e}")))?;
                    Some(selection)
                }
            };
            let mut scope = Scope::default();
            if let Some(vmids) = entry.vmids {
                scope = scope.with_vmids(&vmids.joined()).map_err(|e| fail(format!("vmids: {e}")))?;
            }
            if let Some(nodes) = entry.nodes {
                scope = scope.with_nodes(&nodes.joined()).map_err(|e| fail(format!("nodes: {e}")))?;
            }
            entries.push((digest, Arc::new(Grant { name, elevated: entry.elevated, tools, scope })));
        }
        Ok(Tokens { entries })
    }
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    token: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: toml::Spanned<String>,
    sha256: String,
    #[serde(default)]
    elevated: bool,
    tools: Option<List>,
    vmids: Option<List>,
    nodes: Option<List>,
}

/// `"a,b"` or `["a", "b"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum List {
    One(String),
    Many(Vec<String>),
}

impl List {
    fn joined(&self) -> String {
        match self {
            List::One(s) => s.clone(),
            List::Many(v) => v.join(","),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(token: &str) -> String {
        Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn authenticates_by_digest_and_names_the_line_of_an_error() {
        let text = format!(
            "[[token]]\nname = \"ci\"\nsha256 = \"{}\"\ntools = [\"@read\"]\nvmids = \"100-199\"\n\n[[token]]\nname = \"ops\"\nsha256 = \"{}\"\nelevated = true\n",
            hash("alpha"),
            hash("beta")
        );
        let tokens = Tokens::parse(&text, &Registry::builtin()).unwrap();
        assert_eq!(tokens.len(), 2);
        let ci = tokens.authenticate("alpha").unwrap();
        assert_eq!(ci.name, "ci");
        assert!(!ci.elevated && ci.scope.allows_vmid(150) && !ci.scope.allows_vmid(200));
        assert!(tokens.authenticate("beta").unwrap().elevated);
        assert!(tokens.authenticate("gamma").is_none() && tokens.authenticate("").is_none());

        let bad = Tokens::parse("[[token]]\nname = \"x\"\nsha256 = 12\n", &Registry::builtin()).unwrap_err();
        assert!(bad.starts_with("line 3:"), "{bad}");
        let bad = Tokens::parse("[[token]]\nname = \"x\"\nsha256 = \"abc\"\n", &Registry::builtin()).unwrap_err();
        assert!(bad.starts_with("line 2: token \"x\": sha256"), "{bad}");
        let bad = Tokens::parse(
            &format!("[[token]]\nname = \"x\"\nsha256 = \"{}\"\ntools = \"@nope\"\n", hash("a")),
            &Registry::builtin(),
        )
        .unwrap_err();
        assert!(bad.contains("tools:"), "{bad}");
        let bad = Tokens::parse("[[token]]\nname = \"x\"\nsha = 1\n", &Registry::builtin()).unwrap_err();
        assert!(bad.starts_with("line "), "{bad}");
        assert!(!bad.contains('\n'), "one line: {bad}");
    }
}
