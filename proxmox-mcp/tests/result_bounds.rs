//! What an agent pays for a result stays bounded as the cluster grows: each result's text and
//! data are held to `PROXMOX_MAX_RESULT_KB` (32 KiB by default), a cut says what was cut and how
//! to get the rest, lists page, large lists lead with counts, and both halves of a result carry
//! its guidance (`structuredContent.message`).

mod common;

use common::Pve;
use common::mcp::Session;
use proxmox_mcp::server::render;
use proxmox_mcp::{Registry, ToolError};
use serde_json::{Value, json};

/// A cluster of 6,000 guests: 1,000 VMs and 1,000 containers on each of three nodes.
async fn big_cluster(pve: &Pve) {
    pve.mock_get("/nodes", json!([{ "node": "pve1", "status": "online" }, { "node": "pve2", "status": "online" }, { "node": "pve3", "status": "online" }])).await;
    for (n, node) in ["pve1", "pve2", "pve3"].iter().enumerate() {
        for (k, kind) in ["qemu", "lxc"].iter().enumerate() {
            let base = 100 + (n * 2 + k) * 1000;
            let guests: Vec<Value> = (0..1000)
                .map(|i| {
                    let running = i % 3 != 0;
                    json!({
                        "vmid": base + i, "name": format!("{kind}-{node}-guest-{i:04}"), "status": if running { "running" } else { "stopped" },
                        "cpu": 0.12, "cpus": 4, "mem": 2_147_483_648u64, "maxmem": 4_294_967_296u64, "maxdisk": 34_359_738_368u64,
                        "uptime": 86_400, "netin": 123_456_789, "netout": 98_765_432, "diskread": 1_234_567, "diskwrite": 7_654_321,
                        "tags": "prod;web"
                    })
                })
                .collect();
            pve.mock_get(&format!("/nodes/{node}/{kind}"), json!(guests)).await;
        }
    }
}

fn wire_len(result: &rmcp::model::CallToolResult) -> usize {
    serde_json::to_vec(result).unwrap().len()
}

#[tokio::test]
async fn get_vms_on_6000_guests_is_small_and_pages() {
    let pve = Pve::start().await;
    big_cluster(&pve).await;
    let out = pve.ok("proxmox_get_vms", json!({})).await;
    let wire = wire_len(&render(Ok(out.clone())));
    eprintln!("proxmox_get_vms on 6,000 guests: {wire} bytes on the wire");
    assert!(wire <= 64 * 1024, "{wire} bytes");
    assert_eq!(out.data["total"], 6000);
    assert_eq!(out.data["matched"], 6000);
    assert_eq!(out.data["guests"].as_array().unwrap().len(), 100);
    assert_eq!(out.data["next_offset"], 100);
    // It leads with the counts of all of them.
    assert_eq!(out.data["summary"]["by_status"], json!({ "running": 3996, "stopped": 2004 }));
    assert_eq!(out.data["summary"]["by_type"], json!({ "lxc": 3000, "qemu": 3000 }));
    assert!(out.text.contains("By status: running 3996, stopped 2004."), "{}", out.text);
    assert!(out.text.contains("Showing 1 to 100 of 6000."), "{}", out.text);
    assert!(out.text.contains("call again with offset 100"), "{}", out.text);

    // The next page, and the last.
    let out = pve.ok("proxmox_get_vms", json!({ "offset": 5950, "limit": 100 })).await;
    assert_eq!(out.data["guests"].as_array().unwrap().len(), 50);
    assert_eq!(out.data["next_offset"], Value::Null);
    assert_eq!(out.data["guests"][0]["vmid"], 100 + 5 * 1000 + 950);

    // The biggest page still fits its bound, and says what it cut.
    let out = pve.ok("proxmox_get_vms", json!({ "limit": 1000 })).await;
    let data_len = serde_json::to_vec(&out.data).unwrap().len();
    assert!(data_len <= 32 * 1024 && out.text.len() <= 32 * 1024, "{data_len} / {}", out.text.len());
    assert_eq!(out.data["cut"][0]["at"], "guests");
    assert_eq!(out.data["cut"][0]["total"], 1000);
    assert!(out.text.contains("✂️ Data cut to fit 32 KiB: guests ("), "{}", out.text);
    assert!(out.text.contains("to see the rest"), "{}", out.text);
}

#[tokio::test]
async fn a_journal_of_any_size_is_bounded_and_the_bound_can_be_set() {
    let pve = Pve::start().await;
    let lines: Vec<String> = (0..20_000)
        .map(|i| {
            format!("Dec 04 10:{:02}:{:02} pve1 systemd[1]: unit-{i} started with a long message", i / 60 % 60, i % 60)
        })
        .collect();
    pve.mock_get("/nodes/pve1/journal", json!(lines)).await;
    let out = pve.ok("proxmox_get_node_journal", json!({ "node": "pve1", "since": 0 })).await;
    let data_len = serde_json::to_vec(&out.data).unwrap().len();
    assert!(data_len <= 32 * 1024 && out.text.len() <= 32 * 1024, "{data_len} / {}", out.text.len());
    assert!(out.text.contains("✂️"), "the cut is said");

    // PROXMOX_MAX_RESULT_KB, as the library takes it.
    let registry = Registry::builtin();
    let tool = registry.get("proxmox_get_node_journal").unwrap();
    let args = json!({ "node": "pve1", "since": 0 }).as_object().unwrap().clone();
    let out = tool.call(pve.context(false).with_max_result(8 * 1024), args).await.unwrap();
    let data_len = serde_json::to_vec(&out.data).unwrap().len();
    assert!(data_len <= 8 * 1024 && out.text.len() <= 8 * 1024, "{data_len} / {}", out.text.len());
}

#[tokio::test]
async fn both_halves_of_a_result_carry_its_guidance() {
    let pve = Pve::start().await;
    big_cluster(&pve).await;
    let out = pve.ok("proxmox_get_vms", json!({ "limit": 5 })).await;
    let shown = render(Ok(out));
    let message = shown.structured_content.as_ref().unwrap()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("💻 **Guests** (6000)"), "{message}");
    assert!(message.contains("call again with offset 5"), "{message}");

    // An error: its whole text, hint included.
    let err = ToolError::invalid("vmid", "must be at least 100");
    let shown = render(Err(err));
    let data = shown.structured_content.unwrap();
    assert!(data["message"].as_str().unwrap().contains("`vmid` must be at least 100"), "{data}");
    assert_eq!(data["error"]["kind"], "invalid_arguments");
}

#[tokio::test]
async fn the_listing_may_be_cached_by_2026_clients() {
    let mut s = Session::spawn_with_args(&["--demo"], &[("PROXMOX_LOG_LEVEL", "warn".into())]);
    let meta = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} });
    let first = s.request(1, "tools/list", json!({ "_meta": meta })).await;
    assert_eq!(first["result"]["ttlMs"], 86_400_000, "{}", first["result"]["ttlMs"]);
    assert_eq!(first["result"]["cacheScope"], "private");
    // The same, in the same order, every time.
    let second = s.request(2, "tools/list", json!({ "_meta": meta })).await;
    assert_eq!(first["result"]["tools"], second["result"]["tools"]);
    assert!(s.close().await.success());
}
