//! Finding guests by id: where a VM or container is, and whether it is one or the other, from
//! one `/cluster/resources` request, kept a few seconds and dropped after this server changes
//! the cluster (a create, delete or migration).
//!
//! [`crate::ToolDescriptor::call`] uses it so that a tool addressing a guest needs only its
//! `vmid`: the node (and, where a tool takes it, the `type`) is filled in; a VM tool given a
//! container's id says which tool to use; a guest not found on the node given is looked for on
//! the others.

use crate::client::{ApiError, Client, Method, Params};
use crate::path::ApiPath;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long a listing of the cluster's guests is used before it is asked again.
pub const TTL: Duration = Duration::from_secs(5);

/// One guest, as `/cluster/resources` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestRef {
    pub vmid: u64,
    pub node: String,
    /// `qemu` or `lxc`.
    pub kind: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub lock: Option<String>,
}

impl GuestRef {
    /// "VM 100" or "container 200".
    pub fn subject(&self) -> String {
        if self.kind == "lxc" { format!("container {}", self.vmid) } else { format!("VM {}", self.vmid) }
    }
}

/// A listing of the cluster's guests, and when it was made.
type Listing = (Instant, Arc<Vec<GuestRef>>);

/// The cluster's guests, cached for [`TTL`]. Cheap to clone; clones share the cache.
#[derive(Clone, Debug, Default)]
pub struct GuestIndex {
    cache: Arc<Mutex<Option<Listing>>>,
}

impl GuestIndex {
    /// Forget what was listed (after a change this server made).
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.cache.lock() {
            *c = None;
        }
    }

    /// The guest `vmid`, if the cluster has it. A listing older than [`TTL`], or one that does
    /// not have the guest, is asked again.
    pub async fn find(&self, client: &Client, vmid: u64) -> Result<Option<GuestRef>, ApiError> {
        let cached = self.cache.lock().ok().and_then(|c| c.clone());
        if let Some((at, list)) = cached
            && at.elapsed() < TTL
            && let Some(g) = list.iter().find(|g| g.vmid == vmid)
        {
            return Ok(Some(g.clone()));
        }
        let list = Arc::new(list_guests(client).await?);
        if let Ok(mut c) = self.cache.lock() {
            *c = Some((Instant::now(), list.clone()));
        }
        Ok(list.iter().find(|g| g.vmid == vmid).cloned())
    }
}

/// Every guest of the cluster: one `GET /cluster/resources?type=vm`.
pub async fn list_guests(client: &Client) -> Result<Vec<GuestRef>, ApiError> {
    let params = Params(vec![("type".into(), "vm".into())]);
    let answer = client.request(Method::Get, &ApiPath::lit("/cluster/resources"), params).await?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Ok(answer
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let kind = text(r, "type").filter(|t| t == "qemu" || t == "lxc")?;
            Some(GuestRef {
                vmid: r.get("vmid").and_then(Value::as_u64)?,
                node: text(r, "node")?,
                kind,
                name: text(r, "name"),
                status: text(r, "status"),
                lock: text(r, "lock"),
            })
        })
        .collect())
}
