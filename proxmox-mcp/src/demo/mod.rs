//! A simulated Proxmox VE cluster in process: try every tool without a Proxmox host, or use it as
//! a test double for tools of your own.
//!
//! [`DemoCluster`] is a [`Transport`]: the tools run their normal code (argument validation,
//! permission check, request building, rendering) and only the transport differs. It answers
//! like Proxmox: `{"data": ...}`, 400 with a per-parameter `errors` map for a parameter the
//! endpoint does not take, 501 for a method or path it does not have, 595 for an offline node,
//! and UPIDs for long operations, whose tasks run for a short, configurable time and then change
//! the cluster (a started VM runs, a clone appears, a deleted disk is gone). It never touches the
//! network.
//!
//! As a test double it injects faults: [`DemoCluster::fail_next`] (the next requests fail with a
//! status and message), [`DemoCluster::set_node_online`] (a node's requests get 595) and
//! [`DemoCluster::set_latency`] (every answer is late); [`DemoCluster::with_state`] reads or
//! changes the simulated state directly.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use proxmox_mcp::demo::DemoCluster;
//! use proxmox_mcp::{Client, Context, Registry};
//! use std::time::Duration;
//!
//! let cluster = DemoCluster::with_task_duration(Duration::ZERO); // tasks end at once
//! let ctx = Context::new(Client::with_transport(cluster.clone()), false);
//! let nodes = Registry::builtin().get("proxmox_get_nodes").unwrap();
//! assert!(nodes.call(ctx.clone(), Default::default()).await.is_ok());
//!
//! cluster.fail_next(1, 500, "simulated failure"); // the next request fails
//! assert!(nodes.call(ctx.clone(), Default::default()).await.is_err());
//! assert!(nodes.call(ctx.clone(), Default::default()).await.is_ok());
//!
//! cluster.set_node_online("pve2", false); // its requests now get 595
//! cluster.set_latency(Duration::from_millis(20)); // and every answer takes 20 ms
//! let running = cluster.with_state(|s| s.guests.iter().filter(|g| g.status == "running").count());
//! assert_eq!(running, 2);
//! # }
//! ```

mod cluster;
mod guests;
mod nodes;
mod routes;
mod state;
mod volumes;

use crate::client::{RawResponse, Request, Transport, TransportFuture};
use crate::tool::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use state::State;

/// An error as Proxmox answers it.
#[derive(Clone, Debug)]
pub struct DemoError {
    pub status: u16,
    pub message: String,
    pub errors: BTreeMap<String, String>,
}

impl DemoError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        DemoError { status, message: message.into(), errors: BTreeMap::new() }
    }
    /// 400 "Parameter verification failed." with one parameter's message.
    pub fn param(name: &str, message: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(name.to_string(), message.into());
        DemoError { status: 400, message: "Parameter verification failed.".into(), errors }
    }
}

/// One endpoint the demo simulates: for tests that hold the demo to the Proxmox API schema.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct SimulatedEndpoint {
    pub method: Method,
    /// The path, `{name}` segments for values: `{kind}` stands for `qemu` and `lxc`, a last
    /// `{name+}` for the rest of the path (a volume id).
    pub path: &'static str,
    /// The parameters it takes.
    pub params: &'static [&'static str],
    /// Whether it takes this parameter (name, value) beyond `params`: configuration keys such
    /// as `scsi1` or `mp0`.
    pub takes_also: Option<fn(&str, &str) -> bool>,
}

/// Every endpoint the demo simulates, in the order it matches them.
#[doc(hidden)]
pub fn simulated_endpoints() -> Vec<SimulatedEndpoint> {
    routes::table()
        .map(|r| SimulatedEndpoint { method: r.method, path: r.path, params: r.params, takes_also: r.also })
        .collect()
}

#[derive(Default)]
struct Faults {
    /// Fail this many next requests with (status, message).
    fail: Option<(u32, u16, String)>,
    latency: Duration,
}

struct Inner {
    state: Mutex<State>,
    faults: Mutex<Faults>,
}

/// The simulated cluster. Cheap to clone; clones share the cluster.
#[derive(Clone)]
pub struct DemoCluster {
    inner: Arc<Inner>,
}

impl Default for DemoCluster {
    fn default() -> Self {
        DemoCluster::new()
    }
}

impl DemoCluster {
    /// Three nodes (`pve3` offline), a few VMs and containers, storage, HA, firewall and jobs.
    /// Tasks take 2 seconds.
    pub fn new() -> Self {
        DemoCluster::with_task_duration(Duration::from_secs(2))
    }

    /// The same cluster with tasks that take `duration` (zero: finished at once).
    pub fn with_task_duration(duration: Duration) -> Self {
        DemoCluster {
            inner: Arc::new(Inner {
                state: Mutex::new(State::seeded(duration)),
                faults: Mutex::new(Faults::default()),
            }),
        }
    }

    /// Make the next `count` requests fail with this HTTP status and message.
    pub fn fail_next(&self, count: u32, status: u16, message: impl Into<String>) {
        lock(&self.inner.faults).fail = Some((count, status, message.into()));
    }

    /// Add this delay to every answer.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.inner.faults).latency = latency;
    }

    /// Take a node offline (its requests get 595) or bring it back.
    pub fn set_node_online(&self, node: &str, online: bool) {
        self.with_state(|s| s.set_node_online(node, online));
    }

    /// Read or change the simulated state directly.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = lock(&self.inner.state);
        state.advance();
        f(&mut state)
    }

    /// Answer one request as Proxmox would: the `data` of its answer, or its error. For a file
    /// download (a request with `max_body`) the data is the file: a string, or an array of bytes.
    pub fn handle(&self, request: &Request) -> Result<Value, DemoError> {
        self.answer(request).0
    }

    /// The answer to `request`, and the `total` of the list it is a page of, if it is one.
    fn answer(&self, request: &Request) -> (Result<Value, DemoError>, Option<u64>) {
        {
            let mut faults = lock(&self.inner.faults);
            if let Some((count, status, message)) = &mut faults.fail {
                let error = DemoError::new(*status, message.clone());
                *count -= 1;
                if *count == 0 {
                    faults.fail = None;
                }
                return (Err(error), None);
            }
        }
        let mut state = lock(&self.inner.state);
        state.advance();
        state.total = None;
        let answer = routes::dispatch(&mut state, request);
        (answer, state.total.take())
    }
}

/// The body of a raw answer: a handler gives a file as text or as an array of bytes.
fn raw_body(data: Value) -> Vec<u8> {
    match data {
        Value::String(s) => s.into_bytes(),
        Value::Array(bytes) => bytes.iter().filter_map(Value::as_u64).map(|b| b as u8).collect(),
        other => other.to_string().into_bytes(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves usable data here: recover it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Transport for DemoCluster {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        Box::pin(async move {
            let latency = lock(&self.inner.faults).latency;
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let (answer, total) = self.answer(&request);
            Ok(match answer {
                // A file download (read raw): the body is the file itself.
                Ok(data) if request.max_body.is_some() && total.is_none() => {
                    RawResponse { status: 200, reason: None, body: raw_body(data) }
                }
                Ok(data) => {
                    let body = match total {
                        Some(total) => json!({ "data": data, "total": total }),
                        None => json!({ "data": data }),
                    };
                    RawResponse { status: 200, reason: None, body: body.to_string().into_bytes() }
                }
                Err(e) => RawResponse {
                    status: e.status,
                    reason: Some(e.message.clone()),
                    body: json!({ "data": null, "errors": e.errors, "message": e.message }).to_string().into_bytes(),
                },
            })
        })
    }

    fn describe(&self) -> String {
        "the built-in demo cluster (simulated, no network)".into()
    }
}
