//! What `tools/list` lists, end to end over stdio against `--demo`: only what can run (no
//! elevated tool while elevated operations are off, within GitHub Copilot's 128 tools), what
//! `PROXMOX_TOOLS` and `PROXMOX_EXCLUDE_TOOLS` select, start-up refused for a name that names
//! nothing, and `--list-tools` honouring the same two variables.

mod common;

use common::mcp::{BIN, Session, text};
use proxmox_mcp::{Registry, SchemaDetail, Selection};
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

fn demo(env: &[(&str, &str)]) -> Session {
    let mut vars: Vec<(&str, String)> =
        vec![("PROXMOX_DEMO_TASK_SECONDS", "0".into()), ("PROXMOX_LOG_LEVEL", "warn".into())];
    vars.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    Session::spawn_with_args(&["--demo"], &vars)
}

/// The instructions and the names `tools/list` answers with, in order.
async fn listing(s: &mut Session) -> (String, Vec<String>) {
    let init = s.initialize().await;
    let list = s.request(2, "tools/list", json!({})).await;
    let names =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().into()).collect();
    (init["instructions"].as_str().unwrap().to_string(), names)
}

fn names(registry: &Registry) -> Vec<String> {
    registry.iter().map(|t| t.name.to_string()).collect()
}

/// A `tools/call` answered with a JSON-RPC error, not a result.
async fn unknown(s: &mut Session, id: u64, tool: &str) {
    let answer = s.request(id, "tools/call", json!({ "name": tool, "arguments": {} })).await;
    assert!(answer["error"]["code"].is_i64(), "{tool}: {answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains(tool), "{answer}");
}

#[tokio::test]
async fn with_elevation_off_only_basic_tools_are_listed_and_the_rest_are_refused() {
    let mut s = demo(&[]);
    let (instructions, listed) = listing(&mut s).await;
    let all = Registry::builtin();
    let elevated = all.iter().filter(|t| t.elevated).count();
    assert_eq!(listed, names(&all.clone().filter(|t| !t.elevated)));
    assert!(listed.len() <= 128, "GitHub Copilot takes at most 128 tools: {}", listed.len());
    assert!(
        instructions.contains(&format!("{elevated} elevated tools"))
            && instructions.contains("not listed")
            && instructions.contains("PROXMOX_ALLOW_ELEVATED=true"),
        "{instructions}"
    );
    // An elevated tool is not listed, but known: it answers the refusal that says how to enable it.
    let refused = s.call("proxmox_start_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(refused["structuredContent"]["error"]["kind"], "permission_denied");
    assert!(text(&refused).contains("PROXMOX_ALLOW_ELEVATED=true"), "{}", text(&refused));
    unknown(&mut s, 3, "proxmox_no_such_tool").await;
    assert!(s.close().await.success());

    // With elevation on, everything is listed, in the registry's order.
    let mut s = demo(&[("PROXMOX_ALLOW_ELEVATED", "true")]);
    let (instructions, listed) = listing(&mut s).await;
    assert_eq!(listed, names(&all));
    assert!(
        instructions.contains("change the cluster (the tools without readOnlyHint), are enabled"),
        "{instructions}"
    );
    assert!(s.close().await.success());
}

#[tokio::test]
async fn proxmox_tools_lists_only_what_it_names() {
    let mut s = demo(&[("PROXMOX_TOOLS", "@ha, proxmox_get_vms,proxmox_get_node_*"), ("PROXMOX_TOOL_SCHEMA", "full")]);
    let init = s.initialize().await;
    let list = s.request(2, "tools/list", json!({})).await;
    let selected = Registry::builtin()
        .select(&Selection::parse("@ha,proxmox_get_vms,proxmox_get_node_*"))
        .unwrap()
        .filter(|t| !t.elevated);
    assert_eq!(list["result"]["tools"], json!(selected.tools(SchemaDetail::Full)));
    let listed: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(listed.contains(&"proxmox_get_ha_status") && listed.contains(&"proxmox_get_node_status"), "{listed:?}");
    // The hidden elevated tools counted are those selected: the nine of @ha.
    assert!(init["instructions"].as_str().unwrap().contains("9 elevated tools"), "{init}");
    // A tool left out is unknown, even one that would run.
    unknown(&mut s, 3, "proxmox_get_nodes").await;
    let ha = s.call("proxmox_get_ha_status", json!({})).await;
    assert_eq!(ha["isError"], false, "{ha}");
    let vms = s.call("proxmox_get_vms", json!({})).await;
    assert_eq!(vms["isError"], false, "{vms}");
    assert!(s.close().await.success());
}

#[tokio::test]
async fn proxmox_exclude_tools_drops_commands_for_an_operator_who_allows_changes() {
    let mut s = demo(&[
        ("PROXMOX_ALLOW_ELEVATED", "true"),
        ("PROXMOX_EXCLUDE_TOOLS", "proxmox_execute_vm_command,proxmox_agent_*"),
    ]);
    let (_, listed) = listing(&mut s).await;
    let all = Registry::builtin();
    let expected: Vec<String> = names(&all)
        .into_iter()
        .filter(|n| n != "proxmox_execute_vm_command" && !n.starts_with("proxmox_agent_"))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(listed.len(), all.len() - 11);
    assert!(listed.iter().any(|n| n == "proxmox_start_vm"), "changes stay");
    unknown(&mut s, 3, "proxmox_execute_vm_command").await;
    unknown(&mut s, 4, "proxmox_agent_exec").await;
    let started = s.call("proxmox_start_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(started["isError"], false, "{started}");
    assert!(s.close().await.success());

    // Both together: select, then exclude.
    let mut s = demo(&[("PROXMOX_TOOLS", "@read"), ("PROXMOX_EXCLUDE_TOOLS", "@agent,@firewall")]);
    let (_, listed) = listing(&mut s).await;
    let expected = Registry::builtin()
        .select(&Selection::parse("@read"))
        .unwrap()
        .exclude(&Selection::parse("@agent,@firewall"))
        .unwrap();
    assert_eq!(listed, names(&expected));
    assert!(!listed.iter().any(|n| n.contains("agent") || n.contains("firewall")), "{listed:?}");
    assert!(s.close().await.success());
}

async fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear().stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(10), cmd.output()).await.unwrap().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn a_name_that_names_nothing_stops_start_up_with_one_line() {
    let server = [("PROXMOX_HOST", "pve.example.com"), ("PROXMOX_TOKEN_NAME", "mcp"), ("PROXMOX_TOKEN_VALUE", "x")];
    let cases: &[(&str, &str, &str)] = &[
        (
            "PROXMOX_TOOLS",
            "proxmox_get_vms,proxmox_get_vm",
            "unknown tool \"proxmox_get_vm\" (did you mean proxmox_get_vms?)",
        ),
        ("PROXMOX_TOOLS", "@vms", "unknown toolset \"@vms\""),
        ("PROXMOX_EXCLUDE_TOOLS", "proxmox_agnet_*", "\"proxmox_agnet_*\" matches no tool"),
        ("PROXMOX_EXCLUDE_TOOLS", "@snapshot", "unknown toolset \"@snapshot\" (did you mean @snapshots?)"),
    ];
    for (var, value, expected) in cases {
        for args in [&[][..], &["--demo"], &["--list-tools"]] {
            let mut env: Vec<(&str, &str)> = if args.is_empty() { server.to_vec() } else { Vec::new() };
            env.push((var, value));
            let (code, stdout, stderr) = run(args, &env).await;
            let case = format!("{args:?} {var}={value}");
            assert_eq!(code, Some(2), "{case}: {stderr}");
            assert!(stdout.is_empty(), "{case}: stdout stays clean: {stdout}");
            assert_eq!(stderr.lines().count(), 1, "{case}: one line: {stderr}");
            assert!(
                stderr.starts_with(&format!("proxmox-mcp: configuration error: {var}: {expected}")),
                "{case}: {stderr}"
            );
            // The valid ones are listed.
            assert!(stderr.contains("@ha, ") && stderr.contains("@read"), "{case}: {stderr}");
            if !expected.contains("toolset") {
                assert!(stderr.contains("proxmox_get_nodes, "), "{case}: {stderr}");
            }
        }
    }
}

#[tokio::test]
async fn list_tools_honours_both_variables() {
    let (code, all, _) = run(&["--list-tools"], &[]).await;
    assert_eq!(code, Some(0));
    assert_eq!(all, proxmox_mcp::tools::reference(&Registry::builtin()));
    let (code, snapshots, _) = run(&["--list-tools"], &[("PROXMOX_TOOLS", "@snapshots")]).await;
    assert_eq!(code, Some(0));
    assert!(snapshots.starts_with("8 tools."), "{snapshots}");
    assert!(snapshots.contains("`proxmox_create_snapshot_vm`") && !snapshots.contains("`proxmox_get_vms`"));
    let (code, rest, _) =
        run(&["--list-tools"], &[("PROXMOX_EXCLUDE_TOOLS", "proxmox_execute_vm_command,proxmox_agent_*")]).await;
    assert_eq!(code, Some(0));
    let expected =
        Registry::builtin().exclude(&Selection::parse("proxmox_execute_vm_command,proxmox_agent_*")).unwrap();
    assert_eq!(rest, proxmox_mcp::tools::reference(&expected));
    assert!(!rest.contains("`proxmox_agent_") && rest.contains("`proxmox_start_vm`"));
}
