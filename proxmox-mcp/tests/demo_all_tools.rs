//! Every built-in tool against `proxmox-mcp --demo`, over MCP stdio: with valid arguments each
//! gives an answer, not an error (the few whose sensible demo answer is Proxmox's own refusal are
//! listed with the reason). The table covers every tool of the registry, so a new tool without a
//! demo answer fails here.

mod common;

use common::calls::{calls, fill};
use common::mcp::{Session, text};
use serde_json::json;
use std::collections::BTreeSet;

/// Tools whose sensible answer in the demo, for the valid call above, is an error by Proxmox's
/// own rules, and why. (None: every call above succeeds.)
const EXPECTED_ERRORS: &[(&str, &str)] = &[];

fn upload_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("proxmox-mcp-demo-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tiny.iso"), vec![0u8; 64 * 1024]).unwrap();
    dir
}

#[tokio::test]
async fn every_tool_answers_in_the_demo() {
    let table = calls();
    let names: Vec<&str> = table.iter().map(|(t, _)| *t).collect();
    let in_table: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(in_table.len(), names.len(), "each tool once in the table");
    let registry = proxmox_mcp::Registry::builtin();
    let builtin: BTreeSet<&str> = registry.iter().map(|t| t.name).collect();
    assert_eq!(in_table, builtin, "the table must call every built-in tool, and only those");
    assert!(in_table.len() > 143, "the 143 of the old server and ours");

    let dir = upload_dir();
    let mut s = Session::spawn_with_args(
        &["--demo"],
        &[
            ("PROXMOX_ALLOW_ELEVATED", "true".into()),
            ("PROXMOX_DEMO_TASK_SECONDS", "0".into()),
            ("PROXMOX_UPLOAD_DIR", dir.display().to_string()),
            ("PROXMOX_LOG_LEVEL", "warn".into()),
        ],
    );
    s.initialize().await;
    let (mut upid, mut pid) = (None::<String>, None::<u64>);
    let mut failures = Vec::new();
    // DEMO_TRANSCRIPT=file: write every call and its text there, to read what the demo answers.
    let mut transcript = String::new();
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    for (tool, mut args) in table {
        fill(&mut args, &upid, &pid);
        let result = s.call(tool, args.clone()).await;
        let is_error = result["isError"] == true;
        let expected = EXPECTED_ERRORS.iter().find(|(t, _)| *t == tool);
        match (is_error, expected) {
            (false, None) | (true, Some(_)) => {}
            (true, None) => failures.push(format!("{tool} {args}: {}", text(&result))),
            (false, Some((_, why))) => failures.push(format!("{tool} succeeded, but is listed as failing ({why})")),
        }
        transcript.push_str(&format!("## {tool} {args}\n\n{}\n\n", text(&result)));
        let data = &result["structuredContent"];
        if let Some(u) = data["upid"].as_str().filter(|u| u.starts_with("UPID:pve1:")) {
            upid = Some(u.to_string());
        }
        if let Some(p) = data["pid"].as_u64() {
            pid = Some(p);
        }
    }
    // Every task the walk started ended well (the demo's history, from before the walk, has a
    // failed backup on purpose).
    for node in ["pve1", "pve2"] {
        let failed = s.call("proxmox_get_node_tasks", json!({ "node": node, "errors": true, "since": started })).await;
        let tasks = failed["structuredContent"]["items"].as_array().cloned().unwrap_or_default();
        if !tasks.is_empty() {
            failures.push(format!("failed tasks on {node}: {}", text(&failed)));
        }
    }
    if let Ok(path) = std::env::var("DEMO_TRANSCRIPT") {
        std::fs::write(path, transcript).unwrap();
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(s.close().await.success());
    assert!(failures.is_empty(), "{} tools failed in the demo:\n{}", failures.len(), failures.join("\n\n"));
}

#[tokio::test]
async fn elevated_tools_are_refused_in_the_demo_without_permission() {
    let mut s = Session::spawn_with_args(
        &["--demo"],
        &[("PROXMOX_DEMO_TASK_SECONDS", "0".into()), ("PROXMOX_LOG_LEVEL", "warn".into())],
    );
    let init = s.initialize().await;
    assert!(init["instructions"].as_str().unwrap().contains("DEMO MODE"), "{init}");
    let refused = s.call("proxmox_start_vm", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(text(&refused).contains("🚫"), "{}", text(&refused));
    // Nothing happened: VM 101 is still stopped.
    let status = s.call("proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 101 })).await;
    assert_eq!(status["structuredContent"]["status"], "stopped", "{status}");
    assert!(s.close().await.success());
}
