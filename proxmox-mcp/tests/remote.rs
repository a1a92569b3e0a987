//! `proxmox-mcp --demo --http ADDR`, driven over HTTP with reqwest: both protocol eras, bearer
//! tokens and their grants, Host/Origin allowlists, the audit log, SIGHUP and SIGTERM, and a
//! small load.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_proxmox-mcp");
const READER: &str = "reader-token-Planted-7f3a";
const OPS: &str = "ops-token-Planted-91be";

struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("proxmox-mcp-remote-{}-{name}", std::process::id()))
}

fn sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn tokens_file(name: &str) -> PathBuf {
    let path = temp(name);
    std::fs::write(
        &path,
        format!(
            "# who may call\n[[token]]\nname = \"reader\"\nsha256 = \"{}\"\ntools = [\"@vm_query\", \"@cluster\", \"proxmox_start_vm\"]\nvmids = \"100\"\n\n\
             [[token]]\nname = \"ops\"\nsha256 = \"{}\"\nelevated = true\n",
            sha256(READER),
            sha256(OPS)
        ),
    )
    .unwrap();
    path
}

fn command(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl Server {
    /// `--demo --http 127.0.0.1:<free port>`, once `/healthz` answers.
    async fn start(env: &[(&str, String)]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = command(&["--demo", "--http", &addr], env).spawn().expect("spawn proxmox-mcp");
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
                return Server { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not answer /healthz");
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        assert!(std::process::Command::new("kill").args(["-s", name, &pid]).status().unwrap().success());
    }

    async fn exit(self) -> (std::process::ExitStatus, String) {
        self.signal("TERM");
        let out = tokio::time::timeout(Duration::from_secs(40), self.child.wait_with_output()).await.unwrap().unwrap();
        assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
        (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// One MCP client over HTTP: with `session`, the 2025-11-25 era (initialize, Mcp-Session-Id);
/// without, 2026-07-28 stateless requests.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    session: Option<String>,
    modern: bool,
}

impl Client {
    fn new(server: &Server, token: Option<&str>) -> Client {
        Client {
            http: reqwest::Client::new(),
            url: format!("{}/mcp", server.base),
            token: token.map(str::to_string),
            session: None,
            modern: true,
        }
    }

    fn post(&self, method: &str, params: Value) -> reqwest::RequestBuilder {
        let mut params = params;
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if self.modern {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}
            });
            request = request.header("MCP-Protocol-Version", "2026-07-28").header("Mcp-Method", method);
            if let Some(name) = params.get("name").and_then(Value::as_str) {
                request = request.header("Mcp-Name", name);
            }
        } else {
            request = request.header("MCP-Protocol-Version", "2025-11-25");
            if let Some(session) = &self.session {
                request = request.header("Mcp-Session-Id", session);
            }
        }
        request.json(&json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }))
    }

    /// A request's JSON-RPC answer (from JSON or an SSE stream).
    async fn request(&self, method: &str, params: Value) -> Value {
        let response = self.post(method, params).send().await.expect("an answer");
        assert_eq!(response.status(), 200, "{method}: {:?}", response.text().await);
        answer(&response.text().await.unwrap())
    }

    async fn initialize(&mut self) -> Value {
        self.modern = false;
        let response = self
            .post(
                "initialize",
                json!({ "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        self.session = Some(response.headers()["mcp-session-id"].to_str().unwrap().to_string());
        let init = answer(&response.text().await.unwrap());
        let note = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2025-11-25")
            .header("Mcp-Session-Id", self.session.as_deref().unwrap());
        let note = match &self.token {
            Some(t) => note.bearer_auth(t),
            None => note,
        };
        let status = note
            .json(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 202);
        init
    }

    async fn tools(&self) -> Vec<String> {
        let list = self.request("tools/list", json!({})).await;
        list["result"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }

    async fn call(&self, tool: &str, arguments: Value) -> Value {
        let answer = self.request("tools/call", json!({ "name": tool, "arguments": arguments })).await;
        assert!(answer.get("error").is_none(), "{tool}: {answer}");
        answer["result"].clone()
    }
}

fn answer(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return v;
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("result").is_some() || v.get("error").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC answer in {body}"))
}

fn error_kind(result: &Value) -> &str {
    result["structuredContent"]["error"]["kind"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocol_eras_over_http() {
    let server = Server::start(&[]).await;
    // 2025-11-25: initialize, a session, then requests in it.
    let mut old = Client::new(&server, None);
    let init = old.initialize().await;
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "{init}");
    assert!(old.session.as_deref().is_some_and(|s| !s.is_empty()));
    let tools = old.tools().await;
    assert!(tools.contains(&"proxmox_get_nodes".to_string()) && !tools.contains(&"proxmox_start_vm".to_string()));
    let nodes = old.call("proxmox_get_nodes", json!({})).await;
    assert_ne!(nodes["isError"], true, "{nodes}");
    assert!(nodes["content"][0]["text"].as_str().unwrap().contains("pve1"));
    // 2026-07-28: stateless, no initialize, no session.
    let new = Client::new(&server, None);
    assert_eq!(new.tools().await, tools);
    let status = new.call("proxmox_get_vm_status", json!({ "vmid": 100 })).await;
    assert_ne!(status["isError"], true, "{status}");
    // Health: serving, and the demo cluster answered the last request.
    let health: Value = reqwest::get(format!("{}/healthz", server.base)).await.unwrap().json().await.unwrap();
    assert_eq!(health, json!({ "status": "ok", "proxmox": "answered" }));
    let (status, _) = server.exit().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_authenticate_and_narrow_what_each_may_do() {
    let tokens = tokens_file("tokens.toml");
    let audit = temp("audit.log");
    let _ = std::fs::remove_file(&audit);
    let server = Server::start(&[
        ("PROXMOX_ALLOW_ELEVATED", "true".into()),
        ("PROXMOX_DEMO_TASK_SECONDS", "0".into()),
        ("PROXMOX_MCP_TOKENS_FILE", tokens.display().to_string()),
        ("PROXMOX_AUDIT_LOG", audit.display().to_string()),
    ])
    .await;
    // No token, a wrong one, another scheme: 401 with a Bearer challenge.
    for token in [None, Some("wrong"), Some("")] {
        let response = Client::new(&server, token).post("tools/list", json!({})).send().await.unwrap();
        assert_eq!(response.status(), 401, "{token:?}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
    let basic = reqwest::Client::new()
        .post(format!("{}/mcp", server.base))
        .basic_auth("reader", Some(READER))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    // The reader lists its tools only, and the elevated one it names is not granted.
    let reader = Client::new(&server, Some(READER));
    let listed = reader.tools().await;
    assert!(listed.contains(&"proxmox_get_vm_status".to_string()) && listed.contains(&"proxmox_get_nodes".to_string()));
    assert!(!listed.contains(&"proxmox_start_vm".to_string()), "not elevated: {listed:?}");
    assert!(!listed.contains(&"proxmox_list_storage_content".to_string()), "{listed:?}");
    let refused = reader.call("proxmox_start_vm", json!({ "vmid": 100 })).await;
    assert_eq!(refused["isError"], true);
    assert_eq!(error_kind(&refused), "not_granted", "{refused}");
    let refused = reader.call("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local" })).await;
    assert_eq!(error_kind(&refused), "not_granted", "{refused}");
    // Its scope: guest 100 only.
    let ok = reader.call("proxmox_get_vm_status", json!({ "vmid": 100 })).await;
    assert_ne!(ok["isError"], true, "{ok}");
    let out = reader.call("proxmox_get_vm_status", json!({ "vmid": 101 })).await;
    assert_eq!(error_kind(&out), "out_of_scope", "{out}");
    let vms = reader.call("proxmox_get_vms", json!({})).await;
    assert!(!vms.to_string().contains("\"db\""), "guest 101 is hidden: {vms}");

    // The elevated token sees and runs everything, in a 2025 session too.
    let mut ops = Client::new(&server, Some(OPS));
    ops.initialize().await;
    let all = ops.tools().await;
    assert!(all.contains(&"proxmox_start_vm".to_string()) && all.len() > listed.len());
    let started = ops.call("proxmox_start_vm", json!({ "vmid": 101 })).await;
    assert_ne!(started["isError"], true, "{started}");

    // A 2025 session serves only the token that opened it.
    let mut thief = Client::new(&server, Some(READER));
    thief.modern = false;
    thief.session = ops.session.clone();
    let stolen = thief.post("tools/list", json!({})).send().await.unwrap();
    assert_eq!(stolen.status(), 403, "another token's session");
    assert_eq!(ops.tools().await.len(), all.len(), "its owner still uses it");

    // Each token is told what its grant leaves out; the elevated one is told nothing more.
    let mut reader_session = Client::new(&server, Some(READER));
    let init = reader_session.initialize().await;
    let said = init["result"]["instructions"].as_str().unwrap();
    assert!(said.contains("its token (reader) is not granted the"), "{said}");
    assert!(said.contains("the ones listed") && said.contains("scoped to guests 100"), "{said}");
    let init = Client::new(&server, Some(OPS)).initialize().await;
    assert!(!init["result"]["instructions"].as_str().unwrap().contains("For this client"), "{init}");
    let discovered = reader.request("server/discover", json!({})).await;
    assert!(discovered["result"]["instructions"].as_str().unwrap().contains("(reader) is not granted"), "{discovered}");

    // Ending a session: 200, as the SDK clients expect; then it is gone.
    let end = reqwest::Client::new()
        .delete(format!("{}/mcp", server.base))
        .bearer_auth(OPS)
        .header("MCP-Protocol-Version", "2025-11-25")
        .header("Mcp-Session-Id", ops.session.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(end.status(), 200);
    let after = ops.post("tools/list", json!({})).send().await.unwrap();
    assert_eq!(after.status(), 404, "the session ended");

    // SIGHUP: a bad file keeps the tokens; a good one replaces them.
    std::fs::write(&tokens, "[[token]]\nname = \"broken\"\nsha256 = 1\n").unwrap();
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        reader.request("tools/list", json!({})).await["result"]["tools"].as_array().unwrap().len(),
        listed.len()
    );
    std::fs::write(&tokens, format!("[[token]]\nname = \"new\"\nsha256 = \"{}\"\n", sha256("fresh-token"))).unwrap();
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reader.post("tools/list", json!({})).send().await.unwrap().status(), 401);
    let fresh = Client::new(&server, Some("fresh-token"));
    assert!(!fresh.tools().await.is_empty());

    let (status, stderr) = server.exit().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("the tokens read before stay in use"), "{stderr}");
    let audit_text = std::fs::read_to_string(&audit).unwrap();
    for secret in [READER, OPS, "fresh-token"] {
        assert!(!stderr.contains(secret) && !audit_text.contains(secret), "{secret} leaked");
    }
    let lines: Vec<Value> = audit_text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by = |token: &str, tool: &str| lines.iter().find(|l| l["token"] == token && l["tool"] == tool).cloned();
    assert_eq!(by("reader", "proxmox_start_vm").unwrap()["outcome"], "refused");
    assert_eq!(by("reader", "proxmox_get_vm_status").unwrap()["outcome"], "ok");
    let start = by("ops", "proxmox_start_vm").unwrap();
    assert_eq!(start["outcome"], "ok");
    assert!(start["upid"].as_str().is_some_and(|u| u.starts_with("UPID:")), "{start}");
    assert_eq!(start["arguments"], json!({ "vmid": 101 }));
    let _ = std::fs::remove_file(&tokens);
    let _ = std::fs::remove_file(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_origin_are_checked() {
    let server = Server::start(&[]).await;
    let client = Client::new(&server, None);
    let evil_host = client.post("tools/list", json!({})).header("host", "evil.example:80").send().await.unwrap();
    assert_eq!(evil_host.status(), 403);
    let evil_origin =
        client.post("tools/list", json!({})).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(evil_origin.status(), 403);
    let local_origin =
        client.post("tools/list", json!({})).header("origin", "http://localhost:3000").send().await.unwrap();
    assert_eq!(local_origin.status(), 200);
    let localhost = client.post("tools/list", json!({})).header("host", "localhost:1234").send().await.unwrap();
    assert_eq!(localhost.status(), 200);
    // A body over 1 MiB.
    let huge = client
        .http
        .post(&client.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(vec![b' '; 2 << 20])
        .send()
        .await;
    assert!(huge.is_err() || huge.unwrap().status() == 413);
    drop(server);

    // Configured names replace the loopback ones.
    let server = Server::start(&[
        ("PROXMOX_MCP_ALLOWED_HOSTS", "mcp.example.com".into()),
        ("PROXMOX_MCP_ALLOWED_ORIGINS", "https://app.example.com".into()),
    ])
    .await;
    let client = Client::new(&server, None);
    assert_eq!(
        client.post("tools/list", json!({})).send().await.unwrap().status(),
        403,
        "127.0.0.1 is not allowed now"
    );
    let ok = client
        .post("tools/list", json!({}))
        .header("host", "mcp.example.com")
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_or_bad_settings_stop_start_up() {
    let port = free_port().to_string();
    let out = command(&["--demo", "--http", &format!("0.0.0.0:{port}")], &[]).output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PROXMOX_MCP_TOKENS_FILE") && stderr.lines().count() == 1, "{stderr}");

    let bad = temp("bad-tokens.toml");
    std::fs::write(&bad, format!("[[token]]\nname = \"a\"\nsha256 = \"{}\"\nelevated = \"yes\"\n", sha256("x")))
        .unwrap();
    let out = command(&["--demo", "--http", "127.0.0.1:0"], &[("PROXMOX_MCP_TOKENS_FILE", bad.display().to_string())])
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_file(&bad);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PROXMOX_MCP_TOKENS_FILE") && stderr.contains("line 4"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let out = command(&["--demo", "--http", "localhost"], &[]).output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_call_in_flight_finish_and_exits_0() {
    let server =
        Server::start(&[("PROXMOX_ALLOW_ELEVATED", "true".into()), ("PROXMOX_DEMO_TASK_SECONDS", "2".into())]).await;
    let client = Client::new(&server, None);
    let call = tokio::spawn(async move { client.call("proxmox_start_vm", json!({ "vmid": 101 })).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let base = server.base.clone();
    let (status, stderr) = server.exit().await;
    let result = call.await.unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert_ne!(result["isError"], true, "{result}");
    assert!(result["content"][0]["text"].as_str().unwrap().contains("OK"), "the task finished: {result}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err(), "no longer listening");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_from_twenty_clients() {
    let server = Server::start(&[]).await;
    let client = Client::new(&server, None);
    let mut tasks = Vec::new();
    for c in 0..20 {
        let mut client = client.clone();
        client.http = reqwest::Client::new();
        tasks.push(tokio::spawn(async move {
            if c % 2 == 1 {
                client.initialize().await;
            }
            let mut ok = 0;
            for i in 0..10 {
                let tool = if i % 2 == 0 { "proxmox_get_nodes" } else { "proxmox_get_vms" };
                let result = client.call(tool, json!({})).await;
                if result["isError"] != true {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.unwrap();
    }
    assert_eq!(answered, 200);
    let (status, _) = server.exit().await;
    assert!(status.success());
}
