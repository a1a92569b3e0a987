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

/// 250 entries that every list endpoint can read as its own (a volume, a rule, a task, a job…).
fn long_list() -> Value {
    (0..250)
        .map(|i| {
            json!({
                "vmid": 100 + i, "name": format!("entry-{i:03}"), "node": "pve1", "status": "running", "type": "qemu",
                "storage": format!("store{i:03}"), "content": "backup", "volid": format!("local:backup/vzdump-qemu-{}-2025_01_01-00_00_00.vma.zst", 100 + i),
                "sid": format!("vm:{}", 100 + i), "rule": format!("rule{i:03}"), "id": format!("{}-0", 100 + i), "guest": 100 + i,
                "jobnum": 0, "pos": i, "action": "ACCEPT", "enable": 1, "text": format!("file{i:03}"), "leaf": 1,
                "upid": format!("UPID:pve1:{i:08X}:00000001:65F0A1B2:qmstart:{}:root@pam:", 100 + i), "starttime": 1_710_000_000 + i,
                "snaptime": 1_710_000_000 + i, "ctime": 1_710_000_000 + i, "state": "started", "schedule": "daily"
            })
        })
        .collect()
}

/// The one array of a result's data that holds the page (not the bound's `cut` notes, nor the
/// places a list was read from).
fn page_items(name: &str, data: &Value) -> usize {
    if let Some(items) = data.get("items").and_then(Value::as_array) {
        return items.len();
    }
    let arrays: Vec<usize> = data
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "cut")
        .filter_map(|(_, v)| v.as_array())
        .filter(|a| !a.is_empty())
        .map(Vec::len)
        .collect();
    assert_eq!(arrays.len(), 1, "{name}: one list of items in the data");
    arrays[0]
}

#[tokio::test]
async fn every_list_tool_with_offset_pages_and_gives_the_total() {
    let paged: Vec<&'static str> = Registry::builtin()
        .iter()
        .filter(|t| t.input_schema().get("properties").and_then(|p| p.get("offset")).is_some())
        .map(|t| t.name)
        .collect();
    // The list tools of issue 12 page; this is not a check of an empty set.
    for name in [
        "proxmox_list_storage_content",
        "proxmox_list_backups",
        "proxmox_list_cluster_firewall_rules",
        "proxmox_get_ha_resources",
        "proxmox_list_cluster_tasks",
    ] {
        assert!(paged.contains(&name), "{name} takes offset");
    }
    let calls = common::calls::calls();
    for name in &paged {
        let pve = Pve::start().await;
        pve.answer_any(long_list()).await;
        let (_, call) = calls.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} has a valid call"));
        // What the tool needs (and its node): no filter narrows the list.
        let tool = Registry::builtin().iter().find(|t| t.name == *name).unwrap().input_schema();
        let required: Vec<Value> = tool.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut call = call.clone();
        call.as_object_mut().unwrap().retain(|k, _| required.contains(&json!(k)));
        if tool["properties"].get("node").is_some() {
            call["node"] = json!("pve1");
        }

        // The default page is the first 100 (the result bound may cut a page of long entries,
        // and says so).
        let first = pve.ok(name, call.clone()).await;
        let total = first.data["matched"].as_u64().or(first.data["total"].as_u64()).unwrap_or(0) as usize;
        assert!(total > 200, "{name}: {total} entries");
        assert_eq!((first.data["offset"].as_u64(), first.data["next_offset"].as_u64()), (Some(0), Some(100)), "{name}");

        let page = pve.ok(name, common::with(&call, json!({ "limit": 20, "offset": 40 }))).await;
        assert_eq!(page_items(name, &page.data), 20, "{name}: a page of 20");
        assert_eq!(page.data["next_offset"], 60, "{name}");
        assert!(page.text.contains(&format!("Showing 41 to 60 of {total}.")), "{name}: {}", page.text);
        assert!(page.text.contains("more: call again with offset 60."), "{name}: {}", page.text);

        let last = pve.ok(name, common::with(&call, json!({ "offset": total - 10, "limit": 50 }))).await;
        assert_eq!(page_items(name, &last.data), 10, "{name}: the last page");
        assert!(last.data["next_offset"].is_null() && !last.text.contains("more: call again"), "{name}: {}", last.text);
        common::assert_refused_arg(name, common::with(&call, json!({ "limit": 0 })), "limit").await;
    }
    eprintln!("{} list tools page: {}", paged.len(), paged.join(", "));
}
