//! An MCP client over stdio for the built binary: spawn, send JSON-RPC, read answers, and keep
//! every stdout line so a test can check that nothing but JSON-RPC was written.

use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_proxmox-mcp");

pub struct Session {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    /// Every line the server wrote to stdout.
    pub seen: Vec<String>,
    /// Called with every `tools/call` result (e.g. to record what a fake Proxmox accepted).
    pub on_result: Option<fn(&str, &Value)>,
    next_id: u64,
}

impl Session {
    /// Start the binary with exactly these environment variables.
    pub fn spawn(env: &[(&str, String)]) -> Session {
        let mut cmd = Command::new(BIN);
        cmd.env_clear().stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn proxmox-mcp");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Session { child, stdin, stdout, seen: Vec::new(), on_result: None, next_id: 1000 }
    }

    /// Start the binary with these arguments (e.g. `--demo`) and exactly these environment variables.
    pub fn spawn_with_args(args: &[&str], env: &[(&str, String)]) -> Session {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn proxmox-mcp");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Session { child, stdin, stdout, seen: Vec::new(), on_result: None, next_id: 1000 }
    }

    pub async fn send(&mut self, msg: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(format!("{msg}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Send one line as it is (not necessarily JSON), with its newline.
    pub async fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }

    pub async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), self.stdout.next_line())
            .await
            .expect("an answer within 30 s")
            .unwrap()
            .expect("a line");
        self.seen.push(line.clone());
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carried a non-JSON line {line:?}: {e}"))
    }

    pub async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        let answer = self.recv().await;
        assert_eq!(answer["id"], id, "{answer}");
        answer
    }

    /// `initialize` + `notifications/initialized`; returns the initialize result.
    pub async fn initialize(&mut self) -> Value {
        let init = self
            .request(
                1,
                "initialize",
                json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } }),
            )
            .await;
        self.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await;
        init["result"].clone()
    }

    /// `tools/call`; returns the result (`content`, `structuredContent`, `isError`).
    pub async fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let answer = self.request(id, "tools/call", json!({ "name": tool, "arguments": arguments })).await;
        assert!(answer.get("error").is_none(), "{tool}: JSON-RPC error {answer}");
        if let Some(on_result) = self.on_result {
            on_result(tool, &answer["result"]);
        }
        answer["result"].clone()
    }

    /// Close stdin and wait for a clean exit; then read the rest of stdout.
    pub async fn close(&mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.expect("exits").unwrap();
        while let Ok(Some(line)) = self.stdout.next_line().await {
            self.seen.push(line);
        }
        status
    }
}

/// The text of a tool result.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or("")
}
