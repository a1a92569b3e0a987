//! Measures the built `proxmox-mcp` binary against a local mock Proxmox (HTTPS on 127.0.0.1):
//! start-up, `tools/list` latency and size, memory, per-call overhead against the same request
//! made directly with reqwest, and 1,000 concurrent calls.
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
        let mut cmd = Command::new(bin);
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
    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
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
        // when allowed; the listing without them is measured below).
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
    println!("resident memory after tools/list: {} KiB", s.rss_kib().unwrap_or(0));
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
    let _ = std::fs::remove_file(ca);
}
