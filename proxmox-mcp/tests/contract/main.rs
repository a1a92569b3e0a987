//! Our tools against the Proxmox VE API itself: the contract scenarios against fakepve (PyPI
//! `fakepve[crypto]==0.5.0`, a fake Proxmox that checks every request against the real API
//! schema), a check that together they had fakepve accept a call of every tool of the registry, and the
//! checks of our paths and of the demo against the API schema (`PVE_API_SCHEMA`, else the one
//! fakepve ships).
//!
//! A test harness of its own (`harness = false`, libtest-mimic) so that what cannot run here is
//! shown as such: without fakepve (or the schema) these tests are listed as *ignored*, with the
//! reason; with `CI=true` they fail instead. And so that the coverage check runs after every
//! scenario has.

#[path = "../common/mod.rs"]
mod common;

mod agent;
mod backups;
mod cluster_jobs;
mod core;
mod creation;
mod disks;
mod firewall;
mod guest_advanced;
mod guest_network;
mod ha;
mod lifecycle;
mod node_disks;
mod nodes;
mod schema;
mod snapshots;
mod storage;

use common::pve_api::Schema;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

type Scenario = fn() -> Pin<Box<dyn Future<Output = ()>>>;
type SchemaCheck = fn(&Schema) -> schema::Checked;

/// The scenarios against fakepve, each with a fresh fake cluster of its own.
macro_rules! scenarios {
    ($($module:ident::$name:ident),* $(,)?) => {
        [$((stringify!($name), (|| Box::pin($module::$name())) as Scenario)),*]
    };
}

const SCENARIOS: [(&str, Scenario); 16] = scenarios![
    core::core_tools_are_accepted_by_fakepve,
    core::a_wrong_token_is_a_clear_401,
    agent::agent_tools_are_accepted_by_fakepve,
    backups::backup_scenario_against_fakepve,
    cluster_jobs::job_tools_are_accepted_by_fakepve,
    creation::creation_tools_are_accepted_by_fakepve,
    disks::disk_tools_are_accepted_by_fakepve,
    firewall::firewall_tools_are_accepted_and_keep_state_in_fakepve,
    guest_advanced::guest_advanced_tools_are_accepted_by_fakepve,
    guest_network::network_tools_are_accepted_by_fakepve,
    ha::ha_tools_are_accepted_by_fakepve,
    lifecycle::lifecycle_scenario_against_fakepve,
    node_disks::node_disk_tools_are_accepted_by_fakepve,
    nodes::node_management_tools_are_accepted_by_fakepve,
    snapshots::snapshot_scenario_against_fakepve,
    storage::storage_tools_are_accepted_by_fakepve,
];

/// The checks against the API schema.
const SCHEMA_CHECKS: [(&str, SchemaCheck); 3] = [
    ("fixed_paths_exist_in_the_api", schema::fixed_paths_exist_in_the_api),
    ("the_demo_simulates_only_what_the_proxmox_api_has", schema::the_demo_simulates_only_what_the_proxmox_api_has),
    ("the_demo_answers_in_the_shapes_the_api_returns", schema::the_demo_answers_in_the_shapes_the_api_returns),
];

/// A missing piece (`reason`, `why`): ignored with the short reason on a developer's machine (the
/// note printed first says why and how to install it), a failure in CI.
fn missing(reason: &str, why: String) -> Result<Completion, Failed> {
    if std::env::var("CI").as_deref() == Ok("true") {
        Err(format!("{why} — required in CI (CI=true)").into())
    } else {
        Ok(Completion::ignored_with(reason))
    }
}

const NO_FAKEPVE: &str = "needs fakepve";
const NO_SCHEMA: &str = "needs the PVE API schema";

fn schema() -> Result<&'static Schema, String> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA.get_or_init(Schema::load).as_ref().map_err(Clone::clone)
}

/// How many scenarios have ended (passed or failed), for the coverage check to wait on.
#[derive(Default)]
struct Ended {
    count: Mutex<usize>,
    changed: Condvar,
}

/// Counts a scenario as ended when dropped, also when it panicked.
struct EndGuard(Arc<Ended>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        *self.0.count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.changed.notify_all();
    }
}

fn main() {
    let args = Arguments::from_args();
    if let Some(why) = common::fakepve::missing() {
        println!("note: the tests ignored as \"{NO_FAKEPVE}\": {why}");
    }
    if let Err(why) = schema() {
        println!("note: the tests ignored as \"{NO_SCHEMA}\": {why}");
    }
    let mut trials = Vec::new();
    for (name, check) in SCHEMA_CHECKS {
        trials.push(Trial::ignorable_test(name, move || {
            let schema = match schema() {
                Ok(schema) => schema,
                Err(why) => return missing(NO_SCHEMA, why),
            };
            let schema::Checked(what, known) = check(schema);
            println!("{name}: checked {what} against {}", schema.source);
            for difference in known {
                println!("{name}: passed, as a known difference of a schema newer than PVE 9.1: {difference}");
            }
            Ok(Completion::Completed)
        }));
    }

    let ended = Arc::new(Ended::default());
    let mut selected = 0;
    for (name, scenario) in SCENARIOS {
        let ended = ended.clone();
        let trial = Trial::ignorable_test(name, move || {
            let _ended = EndGuard(ended);
            if let Some(why) = common::fakepve::missing() {
                return missing(NO_FAKEPVE, why);
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(scenario());
            Ok(Completion::Completed)
        });
        if !args.is_filtered_out(&trial) && !args.is_ignored(&trial) {
            selected += 1;
        }
        trials.push(trial);
    }
    // Last: libtest-mimic hands out trials in order, so when this one starts every scenario has
    // been started (by another thread, or before it on this one) and waiting cannot deadlock.
    trials.push(Trial::ignorable_test("every_tool_was_accepted_by_fakepve", move || {
        if let Some(why) = common::fakepve::missing() {
            return missing(NO_FAKEPVE, why);
        }
        if selected < SCENARIOS.len() {
            return Ok(Completion::ignored_with(format!(
                "needs every fakepve scenario to run; {selected} of {} were selected",
                SCENARIOS.len()
            )));
        }
        let count = ended.count.lock().unwrap_or_else(|e| e.into_inner());
        let (count, timeout) = ended
            .changed
            .wait_timeout_while(count, Duration::from_secs(30 * 60), |n| *n < SCENARIOS.len())
            .unwrap_or_else(|e| e.into_inner());
        if timeout.timed_out() {
            return Err(format!("only {} of {} scenarios ended within 30 minutes", *count, SCENARIOS.len()).into());
        }
        let accepted = common::fakepve::accepted_tools();
        let registry = proxmox_mcp::Registry::builtin();
        let never: Vec<&str> = registry.iter().map(|t| t.name).filter(|name| !accepted.contains(*name)).collect();
        if never.is_empty() {
            Ok(Completion::Completed)
        } else {
            Err(format!(
                "{} of {} tools were never accepted by fakepve in a scenario (a failed scenario above may be why; \
                 else add a call to a scenario in tests/contract/): {never:?}",
                never.len(),
                registry.len()
            )
            .into())
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}
