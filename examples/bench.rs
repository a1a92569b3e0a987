//! Measures the built `proxmox-mcp` binary against a local mock Proxmox (HTTPS on 127.0.0.1):
//! start-up, `tools/list` latency and size, memory, per-call overhead against the same request
//! made directly with reqwest, 1,000 concurrent calls (over stdio, and over `--http` from 50
//! clients), the cost of one task poll; and, against
//! `--demo`, an admin scenario's calls when the agent polls tasks and when the tools wait.
//!
//! ```text
//! cargo build --release -p proxmox-mcp
//! cargo run --release -p examples --example bench
//! ```
//! The binary is `target/release/proxmox-mcp` unless `PROXMOX_MCP_BIN` names another.

use httpmock::MockServer;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Server {
    fn spawn(bin: &str, env: &[(&str, String)]) -> Server {
        Server::spawn_with(bin, &[], env)
    }
    fn spawn_with(bin: &str, args: &[&str], env: &[(&str, String)]) -> Server {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        cmd.env_clear().stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn the binary (build it with cargo build --release -p proxmox-mcp)");
        let stdin = child.stdin.take().expect("stdin");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Server { child, stdin, lines }
    }
    async fn send(&mut self, v: &Value) {
        self.stdin.write_all(format!("{v}\n").as_bytes()).await.expect("write");
    }
    async fn recv(&mut self) -> Value {
        let line = self.lines.next_line().await.expect("read").expect("a line");
        serde_json::from_str(&line).expect("JSON-RPC")
    }
    async fn initialize(&mut self) {
        self.send(&json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}})).await;
        self.recv().await;
        self.send(&json!({"jsonrpc":"2.0","method":"notifications/initialized"})).await;
    }
    /// A field of the server's `/proc/<pid>/status`, in KiB (`VmRSS`, `RssAnon`, `RssFile`).
    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
    }
    fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }
}

fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!("median {:.3} ms, p90 {:.3} ms, min {:.3} ms", ms(v[v.len() / 2]), ms(v[v.len() * 9 / 10]), ms(v[0]))
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("PROXMOX_MCP_BIN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/proxmox-mcp").into());
    let mock = MockServer::start_async().await;
    let upid = "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:";
    mock.mock_async(|when, then| {
        when.method("POST").path("/api2/json/nodes/pve1/qemu/100/status/start");
        then.status(200).json_body(json!({ "data": upid }));
    })
    .await;
    let polls = mock
        .mock_async(|when, then| {
            when.path_includes("/tasks/").path_includes("/status");
            then.status(200).json_body(json!({ "data": { "status": "stopped", "exitstatus": "OK", "upid": upid } }));
        })
        .await;
    mock.mock_async(|when, then| {
        when.path_includes("/tasks/").path_includes("/log");
        then.status(200).json_body(json!({ "data": [{ "n": 1, "t": "start VM 100" }, { "n": 2, "t": "TASK OK" }] }));
    })
    .await;
    mock.mock_async(|when, then| {
        when.path("/api2/json/nodes/pve1/dns");
        then.status(200).json_body(json!({"data": {"search": "example.com", "dns1": "192.0.2.53"}}));
    })
    .await;
    let ca = std::env::temp_dir().join(format!("proxmox-mcp-bench-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, httpmock::server::DEFAULT_CA_CERTIFICATE).expect("write CA");
    let env = vec![
        ("PROXMOX_HOST", "127.0.0.1".to_string()),
        ("PROXMOX_PORT", mock.port().to_string()),
        ("PROXMOX_TOKEN_NAME", "mcp".into()),
        ("PROXMOX_TOKEN_VALUE", "bench-secret".into()),
        ("PROXMOX_SSL_MODE", "verify".into()),
        ("PROXMOX_SSL_CA_CERT", ca.display().to_string()),
        ("PROXMOX_RATE_LIMIT", "0".into()),
        ("PROXMOX_LOG_LEVEL", "error".into()),
        // Every tool listed, as in the TypeScript server's figure (elevated tools are listed only
        // when allowed; the listing without them is measured below); the task tools run.
        ("PROXMOX_ALLOW_ELEVATED", "true".into()),
    ];

    // 1. Process spawn → initialize answer.
    let mut startup = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        let mut s = Server::spawn(&bin, &env);
        s.send(&json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}})).await;
        s.recv().await;
        startup.push(started.elapsed());
    }
    println!("start-up (spawn → initialize answer, 30 runs): {}", stats(startup));

    // 2. tools/list latency and size; memory after it.
    let mut s = Server::spawn(&bin, &env);
    s.initialize().await;
    let mut list = Vec::new();
    let mut size = 0;
    let mut count = 0;
    for i in 0..50 {
        let started = Instant::now();
        s.send(&json!({"jsonrpc":"2.0","id": 1000 + i,"method":"tools/list"})).await;
        let answer = s.recv().await;
        list.push(started.elapsed());
        size = serde_json::to_string(&answer["result"]).map(|t| t.len()).unwrap_or(0);
        count = answer["result"]["tools"].as_array().map_or(0, Vec::len);
    }
    println!("tools/list ({count} tools, 50 runs): {}; result JSON {size} bytes", stats(list));
    // Resident memory is mostly the binary's own code pages (file-backed, shared); what the
    // process itself allocated (heap, stacks) is the anonymous part.
    println!(
        "resident memory after tools/list: {} KiB ({} KiB anonymous: heap and stacks; {} KiB file-backed: the binary's code)",
        s.rss_kib().unwrap_or(0),
        s.status_kib("RssAnon:").unwrap_or(0),
        s.status_kib("RssFile:").unwrap_or(0)
    );
    let mut full_env = env.clone();
    full_env.push(("PROXMOX_TOOL_SCHEMA", "full".into()));
    let mut full = Server::spawn(&bin, &full_env);
    full.initialize().await;
    full.send(&json!({"jsonrpc":"2.0","id": 1,"method":"tools/list"})).await;
    let answer = full.recv().await;
    let full_size = serde_json::to_string(&answer["result"]).map(|t| t.len()).unwrap_or(0);
    println!("tools/list with PROXMOX_TOOL_SCHEMA=full: result JSON {full_size} bytes");
    let basic_env: Vec<_> = env.iter().filter(|(k, _)| *k != "PROXMOX_ALLOW_ELEVATED").cloned().collect();
    let mut basic = Server::spawn(&bin, &basic_env);
    basic.initialize().await;
    basic.send(&json!({"jsonrpc":"2.0","id": 1,"method":"tools/list"})).await;
    let answer = basic.recv().await;
    let basic_size = serde_json::to_string(&answer["result"]).map(|t| t.len()).unwrap_or(0);
    let basic_count = answer["result"]["tools"].as_array().map_or(0, Vec::len);
    println!("tools/list with elevated operations off: {basic_count} tools, result JSON {basic_size} bytes");

    // 3. Per-call overhead: one read tool through MCP vs the same request with reqwest.
    let call = |id: u64| json!({"jsonrpc":"2.0","id": id,"method":"tools/call","params":{"name":"proxmox_get_node_dns","arguments":{"node":"pve1"}}});
    let runs = 500;
    for i in 0..20 {
        s.send(&call(i)).await;
        s.recv().await;
    }
    let mut via_mcp = Vec::new();
    for i in 0..runs {
        let started = Instant::now();
        s.send(&call(10_000 + i)).await;
        let answer = s.recv().await;
        assert_eq!(answer["result"]["isError"], false, "{answer}");
        via_mcp.push(started.elapsed());
    }
    let direct_client = reqwest::Client::builder()
        .tls_certs_only(
            reqwest::Certificate::from_pem_bundle(httpmock::server::DEFAULT_CA_CERTIFICATE.as_bytes()).expect("CA"),
        )
        .build()
        .expect("client");
    let url = format!("https://127.0.0.1:{}/api2/json/nodes/pve1/dns", mock.port());
    let mut direct = Vec::new();
    for i in 0..runs + 20 {
        let started = Instant::now();
        let body: Value = direct_client
            .get(&url)
            .header("Authorization", "PVEAPIToken=root@pam!mcp=bench-secret")
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert!(body["data"].is_object());
        if i >= 20 {
            direct.push(started.elapsed());
        }
    }
    let mean = |v: &[Duration]| v.iter().sum::<Duration>().as_secs_f64() * 1000.0 / v.len() as f64;
    println!(
        "one read call, {runs} sequential: via MCP mean {:.3} ms ({}); direct reqwest mean {:.3} ms ({}); server overhead {:.3} ms per call",
        mean(&via_mcp),
        stats(via_mcp.clone()),
        mean(&direct),
        stats(direct.clone()),
        mean(&via_mcp) - mean(&direct)
    );

    // 4. 1,000 concurrent read calls: all sent before any answer is read.
    let started = Instant::now();
    let writer = {
        let requests: String = (0..1000u64).map(|i| format!("{}\n", call(100_000 + i))).collect();
        let mut stdin = s.stdin;
        tokio::spawn(async move {
            stdin.write_all(requests.as_bytes()).await.expect("write");
            stdin
        })
    };
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..1000 {
        let line = s.lines.next_line().await.expect("read").expect("line");
        let answer: Value = serde_json::from_str(&line).expect("json");
        if answer["result"]["isError"] == false { ok += 1 } else { failed += 1 }
    }
    let _stdin = writer.await.expect("writer");
    println!(
        "1000 concurrent read calls: {ok} answered ok, {failed} failed, in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );

    // 4b. The same over HTTP (`--http`, 2026-07-28 stateless requests): 1,000 calls from 50
    // concurrent clients, each with its own connection; latency per call and peak memory.
    {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let addr = format!("127.0.0.1:{port}");
        let http_server = Server::spawn_with(&bin, &["--http", &addr], &env);
        let url = format!("http://{addr}/mcp");
        let probe = reqwest::Client::new();
        for _ in 0..200 {
            if probe.get(format!("http://{addr}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let started = Instant::now();
        let clients: Vec<_> = (0..50)
            .map(|_| {
                let (http, url) = (reqwest::Client::new(), url.clone());
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    let mut ok = 0;
                    for _ in 0..20 {
                        let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"proxmox_get_node_dns","arguments":{"node":"pve1"},
                            "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}});
                        let call = Instant::now();
                        let answer = http
                            .post(&url)
                            .header("content-type", "application/json")
                            .header("accept", "application/json, text/event-stream")
                            .header("MCP-Protocol-Version", "2026-07-28")
                            .header("Mcp-Method", "tools/call")
                            .header("Mcp-Name", "proxmox_get_node_dns")
                            .json(&body)
                            .send()
                            .await;
                        if let Ok(answer) = answer
                            && answer.status() == 200
                            && answer.text().await.is_ok_and(|t| t.contains("\"isError\":false"))
                        {
                            ok += 1;
                        }
                        times.push(call.elapsed());
                    }
                    (ok, times)
                })
            })
            .collect();
        let (mut ok, mut times) = (0, Vec::new());
        for client in clients {
            let (n, t) = client.await.expect("client");
            ok += n;
            times.extend(t);
        }
        let elapsed = started.elapsed();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let peak = std::fs::read_to_string(format!("/proc/{}/status", http_server.child.id().unwrap_or(0)))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .unwrap_or(0);
        println!(
            "HTTP: 1000 calls from 50 concurrent clients: {ok} answered ok in {:.1} ms; p50 {:.3} ms, p99 {:.3} ms; peak resident memory {peak} KiB",
            ms(elapsed),
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100]),
        );
    }

    // 5. The cost of one task poll: a task tool with `wait: 0` (no poll) and with waiting, on a
    // task that has already ended (one status poll, one log read).
    let mut s = Server::spawn(&bin, &env);
    s.initialize().await;
    let start = |id: u64, wait: Option<u64>| {
        let mut args = json!({ "node": "pve1", "vmid": 100 });
        if let Some(w) = wait {
            args["wait"] = json!(w);
        }
        json!({"jsonrpc":"2.0","id": id,"method":"tools/call","params":{"name":"proxmox_start_vm","arguments": args}})
    };
    let (mut no_wait, mut waited) = (Vec::new(), Vec::new());
    for i in 0..200u64 {
        let t = Instant::now();
        s.send(&start(200_000 + i, Some(0))).await;
        s.recv().await;
        no_wait.push(t.elapsed());
        let t = Instant::now();
        s.send(&start(300_000 + i, None)).await;
        let answer = s.recv().await;
        assert_eq!(answer["result"]["structuredContent"]["task"]["exitstatus"], "OK", "{answer}");
        waited.push(t.elapsed());
    }
    let median = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1000.0
    };
    println!(
        "a task tool, 200 runs: wait 0 {}; waiting for a task that has ended {}; one poll (status + log) costs {:.3} ms (difference of the medians); {} status polls for 200 waits",
        stats(no_wait.clone()),
        stats(waited.clone()),
        median(&waited) - median(&no_wait),
        polls.calls_async().await
    );

    // 6. An admin scenario against --demo (tasks of PROXMOX_DEMO_TASK_SECONDS=2): the calls an
    // agent makes when it polls proxmox_get_node_task once a second (wait 0, as the tools were),
    // and when the tools wait.
    let steps = [
        ("proxmox_create_vm", json!({ "node": "pve1", "vmid": 700, "name": "bench", "disk_size": 4 })),
        ("proxmox_start_vm", json!({ "node": "pve1", "vmid": 700 })),
        ("proxmox_create_snapshot_vm", json!({ "node": "pve1", "vmid": 700, "snapname": "first" })),
        ("proxmox_clone_vm", json!({ "node": "pve1", "vmid": 700, "newid": 701, "name": "bench-copy" })),
        ("proxmox_start_vm", json!({ "node": "pve1", "vmid": 701 })),
        ("proxmox_migrate_vm", json!({ "node": "pve1", "vmid": 701, "target": "pve2", "online": true })),
        ("proxmox_stop_vm", json!({ "node": "pve1", "vmid": 700 })),
        ("proxmox_delete_vm", json!({ "node": "pve1", "vmid": 700 })),
    ];
    for polling in [true, false] {
        let mut demo = Server::spawn_with(&bin, &["--demo"], &[("PROXMOX_ALLOW_ELEVATED", "true".into())]);
        demo.initialize().await;
        let (mut calls, mut id) = (0, 500_000u64);
        let started = Instant::now();
        for (tool, args) in &steps {
            let mut args = args.clone();
            if polling {
                args["wait"] = json!(0);
            }
            id += 1;
            calls += 1;
            demo.send(
                &json!({"jsonrpc":"2.0","id": id,"method":"tools/call","params":{"name": tool,"arguments": args}}),
            )
            .await;
            let answer = demo.recv().await;
            assert_eq!(answer["result"]["isError"], false, "{tool}: {answer}");
            let data = &answer["result"]["structuredContent"];
            if polling {
                let (upid, node) = (data["upid"].clone(), data["node"].clone());
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    id += 1;
                    calls += 1;
                    demo.send(&json!({"jsonrpc":"2.0","id": id,"method":"tools/call","params":{"name":"proxmox_get_node_task","arguments":{"node": node,"upid": upid}}})).await;
                    let task = demo.recv().await;
                    if task["result"]["structuredContent"]["status"]["status"] == "stopped" {
                        break;
                    }
                }
            } else {
                assert_eq!(data["task"]["exitstatus"], "OK", "{tool}: {data}");
            }
        }
        println!(
            "scenario create → start → snapshot → clone → start clone → migrate → stop → delete ({} steps), {}: {calls} calls in {:.1} s",
            steps.len(),
            if polling { "agent polls proxmox_get_node_task each second" } else { "tools wait" },
            started.elapsed().as_secs_f64()
        );
    }
    let _ = std::fs::remove_file(ca);
}
