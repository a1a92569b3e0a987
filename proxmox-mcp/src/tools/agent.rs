//! The QEMU guest agent: ask a running VM about itself (OS, filesystems, network, time, vCPUs,
//! memory blocks) and run programs in it. Containers have no agent, and Proxmox has no API to
//! run commands in a container.

use crate::format::{self, Block, str_field, u64_field};
use crate::types::{GuestType, Node, VmId};
use crate::{Api, ApiPath, ToolDescriptor, ToolError, ToolOutput, ToolResult, pve_tool};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::time::Duration;

pub static TOOLS: &[&ToolDescriptor] = &[
    &PROXMOX_EXECUTE_VM_COMMAND,
    &PROXMOX_AGENT_PING,
    &PROXMOX_AGENT_GET_OSINFO,
    &PROXMOX_AGENT_GET_FSINFO,
    &PROXMOX_AGENT_GET_MEMORY_BLOCKS,
    &PROXMOX_AGENT_GET_NETWORK_INTERFACES,
    &PROXMOX_AGENT_GET_TIME,
    &PROXMOX_AGENT_GET_TIMEZONE,
    &PROXMOX_AGENT_GET_VCPUS,
    &PROXMOX_AGENT_EXEC,
    &PROXMOX_AGENT_EXEC_STATUS,
];

/// Characters that mean shell syntax: a command line holding them needs a shell, which a plain
/// string command does not get.
const SHELL_SYNTAX: &[char] = &['|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '\n', '*', '?', '~'];

/// A program and its arguments (argv), run without a shell. As a JSON array each element is one
/// argument, as is; a single string is split on whitespace (no quoting, no shell).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Argv(Vec<String>);

impl Argv {
    pub fn new(argv: Vec<String>) -> Result<Self, String> {
        match argv.first() {
            None => return Err("must not be empty: give the program and its arguments".into()),
            Some(program) if program.trim().is_empty() => return Err("must start with the program to run".into()),
            _ => {}
        }
        if argv.iter().any(|a| a.contains('\0')) {
            return Err("must not contain NUL characters".into());
        }
        Ok(Argv(argv))
    }

    /// A string command: split on whitespace, refused if it holds shell syntax.
    pub fn from_line(line: &str) -> Result<Self, String> {
        if let Some(c) = line.chars().find(|c| SHELL_SYNTAX.contains(c)) {
            return Err(format!(
                "contains {c:?}, which needs a shell, and a string command runs without one (it is only split \
                 on whitespace): pass an array instead, e.g. [\"sh\", \"-c\", \"<command line>\"] to use a shell, \
                 or [\"program\", \"arg with spaces\"]"
            ));
        }
        Argv::new(line.split_whitespace().map(str::to_string).collect())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The command for people: arguments with spaces or nothing in them quoted.
    pub fn shown(&self) -> String {
        self.0
            .iter()
            .map(|a| if a.is_empty() || a.contains(char::is_whitespace) { format!("{a:?}") } else { a.clone() })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl<'de> Deserialize<'de> for Argv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Line(String),
            List(Vec<String>),
            Other(Value),
        }
        match Raw::deserialize(d)? {
            Raw::Line(line) => Argv::from_line(&line),
            Raw::List(list) => Argv::new(list),
            Raw::Other(v) => Err(format!("must be an array of strings (program and arguments), not {v}")),
        }
        .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Argv {
    fn schema_name() -> Cow<'static, str> {
        "Argv".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "array", "items": { "type": "string" }, "minItems": 1 },
                { "type": "string", "minLength": 1 }
            ],
            "description": "The program and its arguments, e.g. [\"ls\", \"-l\", \"/var/log\"]. No shell is involved: \
                use [\"sh\", \"-c\", \"...\"] for pipes or redirections. A single string is split on whitespace \
                (no quotes, no shell syntax).",
        })
    }
}

/// The agent's answer: Proxmox wraps it as `{"result": ...}`.
async fn agent_result(api: &Api) -> Result<Value, ToolError> {
    let answer: Value = api.send(()).await?;
    Ok(match answer {
        Value::Object(mut obj) if obj.contains_key("result") => obj.remove("result").unwrap_or(Value::Null),
        other => other,
    })
}

/// The items of an agent answer that is a list.
fn items(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

/// Check that a VM's guest agent answers.
#[pve_tool(
    path = "/nodes/<node>/qemu/<vmid>/agent/ping",
    method = POST,
    read_only = true,
    category = "VM/LXC Advanced"
)]
async fn proxmox_agent_ping(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let result = agent_result(&api).await?;
    Ok(ToolOutput::new(format!("🟢 The guest agent of VM {vmid} on {node} answers."), result))
}

/// Get a VM's OS and kernel (guest agent).
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/get-osinfo", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_agent_get_osinfo(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let os = agent_result(&api).await?;
    let text = Block::new(format!("💿 **VM {vmid} operating system** (node {node})"))
        .opt("Name", str_field(&os, "pretty-name").or_else(|| str_field(&os, "name")))
        .opt("Version", str_field(&os, "version"))
        .opt("Id", str_field(&os, "id"))
        .opt("Kernel", str_field(&os, "kernel-release"))
        .opt("Kernel version", str_field(&os, "kernel-version"))
        .opt("Machine", str_field(&os, "machine"))
        .finish();
    Ok(ToolOutput::new(text, os))
}

/// Get a VM's mounted filesystems (agent). Mount point, type, device, usage.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/get-fsinfo", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_agent_get_fsinfo(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let fs = agent_result(&api).await?;
    let list = items(&fs);
    let mut text = format!("🗂️ **VM {vmid} filesystems** (node {node}): {}\n", list.len());
    for f in list {
        let disks: Vec<String> = items(f.get("disk").unwrap_or(&Value::Null))
            .iter()
            .filter_map(|d| str_field(d, "serial").or_else(|| str_field(d, "dev")).map(str::to_string))
            .collect();
        text.push_str(&format!(
            "\n• {} ({}) on {}: {}{}",
            str_field(f, "mountpoint").unwrap_or("?"),
            str_field(f, "type").unwrap_or("?"),
            str_field(f, "name").unwrap_or("?"),
            format::usage(u64_field(f, "used-bytes"), u64_field(f, "total-bytes")),
            if disks.is_empty() { String::new() } else { format!(", disk {}", disks.join(", ")) },
        ));
    }
    Ok(ToolOutput::new(text, fs))
}

/// Get a VM's memory blocks (guest agent). How many, online, and removable.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/get-memory-blocks", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_agent_get_memory_blocks(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let blocks = agent_result(&api).await?;
    let list = items(&blocks);
    let online = list.iter().filter(|b| flag(b, "online")).count();
    let removable = list.iter().filter(|b| flag(b, "can-offline")).count();
    let offline: Vec<String> = list
        .iter()
        .filter(|b| !flag(b, "online"))
        .filter_map(|b| u64_field(b, "phys-index").map(|i| i.to_string()))
        .take(50)
        .collect();
    let text = Block::new(format!("🧠 **VM {vmid} memory blocks** (node {node})"))
        .line("Blocks", list.len())
        .line("Online", online)
        .line("Can go offline", removable)
        .opt("Offline (index)", (!offline.is_empty()).then(|| offline.join(", ")))
        .finish();
    Ok(ToolOutput::new(text, blocks))
}

/// Get a VM's NICs and IPs (guest agent). MAC and IP addresses, as the guest sees them.
#[pve_tool(
    path = "/nodes/<node>/qemu/<vmid>/agent/network-get-interfaces",
    method = GET,
    category = "VM/LXC Advanced"
)]
async fn proxmox_agent_get_network_interfaces(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let ifaces = agent_result(&api).await?;
    let list = items(&ifaces);
    let mut text = format!("🌐 **VM {vmid} network interfaces** (node {node}): {}\n", list.len());
    for i in list {
        let addrs: Vec<String> = items(i.get("ip-addresses").unwrap_or(&Value::Null))
            .iter()
            .filter_map(|a| {
                let ip = str_field(a, "ip-address")?;
                Some(match u64_field(a, "prefix") {
                    Some(p) => format!("{ip}/{p}"),
                    None => ip.to_string(),
                })
            })
            .collect();
        text.push_str(&format!(
            "\n• **{}** ({}): {}",
            str_field(i, "name").unwrap_or("?"),
            str_field(i, "hardware-address").unwrap_or("no MAC"),
            if addrs.is_empty() { "no address".to_string() } else { addrs.join(", ") },
        ));
    }
    Ok(ToolOutput::new(text, ifaces))
}

/// Get a VM's clock (guest agent). And how far it is from this server's clock.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/get-time", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_agent_get_time(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let result = agent_result(&api).await?;
    // Nanoseconds since the epoch.
    let Some(nanos) = result.as_i64().or_else(|| result.as_f64().map(|f| f as i64)) else {
        return Err(ToolError::Other(format!("the guest agent answered get-time with {result}, not a time")));
    };
    let secs = nanos.div_euclid(1_000_000_000);
    let mut block = Block::new(format!("🕒 **VM {vmid} clock** (node {node})")).line("Guest time", format::utc(secs));
    let mut data = json!({ "result": nanos, "utc": format::utc(secs) });
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        let skew = nanos as f64 / 1e9 - now.as_secs_f64();
        let skew = if skew.abs() < 0.05 { 0.0 } else { skew };
        block = block.line("Difference from this server", format!("{skew:+.1} s"));
        data["skew_seconds"] = json!((skew * 10.0).round() / 10.0);
    }
    Ok(ToolOutput::new(block.finish(), data))
}

/// Get a VM's time zone (guest agent). And its UTC offset.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/get-timezone", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_agent_get_timezone(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let tz = agent_result(&api).await?;
    let offset = tz.get("offset").and_then(Value::as_i64).map(|o| {
        let sign = if o < 0 { '-' } else { '+' };
        format!("UTC{sign}{:02}:{:02}", o.abs() / 3600, o.abs() % 3600 / 60)
    });
    let text = Block::new(format!("🌍 **VM {vmid} time zone** (node {node})"))
        .opt("Zone", str_field(&tz, "zone"))
        .opt("Offset", offset)
        .finish();
    Ok(ToolOutput::new(text, tz))
}

/// Get a VM's virtual CPUs (guest agent). How many, which are online.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/get-vcpus", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_agent_get_vcpus(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
) -> ToolResult {
    let vcpus = agent_result(&api).await?;
    let list = items(&vcpus);
    let online = list.iter().filter(|c| flag(c, "online")).count();
    let offline: Vec<String> = list
        .iter()
        .filter(|c| !flag(c, "online"))
        .filter_map(|c| u64_field(c, "logical-id").map(|i| i.to_string()))
        .collect();
    let text = Block::new(format!("🧮 **VM {vmid} vCPUs** (node {node})"))
        .line("vCPUs", list.len())
        .line("Online", online)
        .opt("Offline (logical id)", (!offline.is_empty()).then(|| offline.join(", ")))
        .finish();
    Ok(ToolOutput::new(text, vcpus))
}

/// How much of stdout and of stderr a result carries.
const MAX_STREAM: usize = 24 * 1024;
/// `execute_vm_command`'s wait for the command, by default and at most.
const DEFAULT_WAIT: u32 = 30;
const MAX_WAIT: u32 = 300;

/// A flag from Proxmox: `true`, `1` or `"1"`.
fn flag(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_u64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => s == "1",
        _ => false,
    }
}

/// What an exec-status answer says, for people and as data: exit code, signal, stdout and
/// stderr (each bounded; `*-truncated` is set when the guest agent or we cut it).
/// `waited`: how long `execute_vm_command` waited, for a process still running.
fn exec_report(
    vmid: VmId,
    node: &Node,
    pid: u64,
    argv: Option<&Argv>,
    waited: Option<u32>,
    status: &Value,
) -> ToolOutput {
    let mut data = json!({ "pid": pid, "exited": flag(status, "exited") });
    if let Some(argv) = argv {
        data["command"] = json!(argv);
    }
    if !flag(status, "exited") {
        let after = waited.map_or(String::new(), |w| format!(" after {w} s"));
        let mut text = Block::new(format!("⏳ Process {pid} in VM {vmid} (node {node}) is still running{after}"))
            .opt("Command", argv.map(Argv::shown))
            .finish();
        text.push_str(&format!(
            "\n\nAsk again with proxmox_agent_exec_status (node {node}, vmid {vmid}, pid {pid}) for its exit code and output."
        ));
        if waited.is_some() {
            data["timed_out"] = json!(true);
        }
        return ToolOutput::new(text, data);
    }
    let exitcode = status.get("exitcode").and_then(Value::as_i64);
    let signal = status.get("signal").and_then(Value::as_i64);
    let failed = exitcode.is_some_and(|c| c != 0) || signal.is_some();
    let outcome = match (exitcode, signal) {
        (_, Some(s)) => format!("killed by signal {s}"),
        (Some(c), None) => format!("exit code {c}"),
        (None, None) => "no exit code reported".to_string(),
    };
    let mut text = Block::new(format!(
        "{} Process {pid} in VM {vmid} (node {node}) {}: {outcome}",
        if failed { "⚠️" } else { "✅" },
        if failed { "failed" } else { "finished" }
    ))
    .opt("Command", argv.map(Argv::shown))
    .finish();
    data["exitcode"] = json!(exitcode);
    data["signal"] = json!(signal);
    for (key, label) in [("out", "stdout"), ("err", "stderr")] {
        let full = str_field(status, &format!("{key}-data")).unwrap_or("");
        let shown = crate::format::cut(full, MAX_STREAM);
        let by_agent = flag(status, &format!("{key}-truncated"));
        let mut notes = Vec::new();
        if by_agent {
            notes.push("truncated by the guest agent".to_string());
        }
        if shown.len() < full.len() {
            notes.push(format!(
                "first {} of {} shown",
                format::bytes(shown.len() as f64),
                format::bytes(full.len() as f64)
            ));
        }
        let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
        if full.is_empty() {
            text.push_str(&format!("\n\n{label}: (empty){notes}"));
        } else {
            text.push_str(&format!("\n\n{label}{notes}:\n```\n{}\n```", shown.trim_end_matches('\n')));
        }
        data[format!("{key}-data")] = json!(shown);
        data[format!("{key}-truncated")] = json!(by_agent || shown.len() < full.len());
        data[format!("{key}-bytes")] = json!(full.len());
    }
    ToolOutput::new(text, data)
}

/// `/nodes/{node}/qemu/{vmid}/agent/<command>`
fn agent_path(node: &Node, vmid: VmId, command: &'static str) -> ApiPath {
    ApiPath::lit("/nodes").join(node).join_lit("qemu").join(&vmid).join_lit("agent").join_lit(command)
}

/// The body of an agent exec: the argv as repeated `command` keys, and stdin.
#[derive(Serialize)]
struct ExecRequest<'a> {
    command: &'a Argv,
    #[serde(rename = "input-data")]
    input_data: Option<&'a str>,
}

/// The pid in an exec answer.
fn exec_pid(answer: &Value) -> Result<u64, ToolError> {
    u64_field(answer, "pid")
        .ok_or_else(|| ToolError::Other(format!("the guest agent started the command but gave no pid: {answer}")))
}

/// Run a command in a QEMU VM and wait (an argv list, no shell). Through its guest agent, up to `timeout` seconds:
/// returns the exit code, stdout and stderr. The command is a program and its arguments, run without a shell (use
/// ["sh", "-c", "..."] for one). Containers are not supported: Proxmox has no API to run commands in them.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/exec", method = POST, elevated, category = "Command Execution")]
async fn proxmox_execute_vm_command(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id (the VM must run the QEMU guest agent).
    vmid: VmId,
    /// The program and its arguments as an array, e.g. ["ls", "-l", "/var/log"] or
    /// ["sh", "-c", "df -h | head"]. No shell is involved: a single string is only split on
    /// whitespace and may not contain shell syntax.
    command: Argv,
    /// qemu (default). lxc is refused: Proxmox cannot run commands in containers.
    #[serde(default)]
    r#type: GuestType,
    /// Seconds to wait for the command to finish (default 30, at most 300). A command still
    /// running then keeps running; its pid is returned for proxmox_agent_exec_status.
    #[schemars(range(min = 1, max = MAX_WAIT))]
    timeout: Option<u32>,
) -> ToolResult {
    if r#type == GuestType::Lxc {
        return Err(ToolError::invalid(
            "type",
            "lxc is not supported: Proxmox VE has no API to run commands in a container (there is no guest \
             agent; `pct exec` exists only on the node's shell). Commands can run in QEMU VMs with the guest agent.",
        ));
    }
    let wait = timeout.unwrap_or(DEFAULT_WAIT);
    let started: Value = api.send(ExecRequest { command: &command, input_data: None }).await?;
    let pid = exec_pid(&started)?;
    let status_path = agent_path(&node, vmid, "exec-status");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait.into());
    let mut pause = Duration::from_millis(200);
    loop {
        let status: Value = api.get(&status_path, json!({ "pid": pid })).await.map_err(|e| {
            ToolError::Other(format!(
                "the command started in VM {vmid} as process {pid}, but its status could not be read: {e}\n\
                 Ask proxmox_agent_exec_status (node {node}, vmid {vmid}, pid {pid}) later."
            ))
        })?;
        let now = tokio::time::Instant::now();
        if flag(&status, "exited") || now >= deadline {
            return Ok(exec_report(vmid, &node, pid, Some(&command), Some(wait), &status));
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 3 / 2).min(Duration::from_secs(2));
    }
}

/// Standard input for an agent exec.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecInput {
    /// Data passed to the program on standard input (at most 64 KiB).
    #[serde(rename = "input-data")]
    #[schemars(length(max = 65536))]
    pub input_data: Option<String>,
    /// Output is always captured: read it with proxmox_agent_exec_status. (Taken from older callers; changes nothing.)
    #[serde(rename = "capture-output")]
    #[schemars(extend("x-rare" = true))]
    pub capture_output: Option<bool>,
}

/// Start a program in a QEMU VM (no wait). Through its guest agent: returns its pid for proxmox_agent_exec_status.
/// The command is a program and its arguments, run without a shell.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/exec", method = POST, elevated, category = "VM/LXC Advanced")]
async fn proxmox_agent_exec(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id (the VM must run the QEMU guest agent).
    vmid: VmId,
    /// The program and its arguments as an array, e.g. ["systemctl", "restart", "nginx"]. No
    /// shell is involved: a single string is only split on whitespace and may not contain shell syntax.
    command: Argv,
    /// More arguments, appended to `command` as they are.
    args: Option<Vec<String>>,
    #[flatten] input: ExecInput,
) -> ToolResult {
    let input_data = input.input_data.as_deref();
    let command = match args {
        Some(args) => {
            let mut argv = command.as_slice().to_vec();
            argv.extend(args);
            Argv::new(argv).map_err(|e| ToolError::invalid("args", e))?
        }
        None => command,
    };
    let started: Value = api.send(ExecRequest { command: &command, input_data }).await?;
    let pid = exec_pid(&started)?;
    let text = Block::new(format!("✅ Started in VM {vmid} (node {node}): process {pid}"))
        .line("Command", command.shown())
        .raw(format!(
            "\nGet its exit code and output with proxmox_agent_exec_status (node {node}, vmid {vmid}, pid {pid})."
        ))
        .finish();
    Ok(ToolOutput::new(text, json!({ "pid": pid, "command": command })))
}

/// Get the state of an agent_exec program. Running or exited, with exit code, stdout and stderr.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/exec-status", method = GET, category = "VM/LXC Advanced")]
async fn proxmox_agent_exec_status(
    api: Api,
    /// The node the VM is on.
    node: Node,
    /// The VM id.
    vmid: VmId,
    /// The pid proxmox_agent_exec returned.
    #[schemars(range(min = 1))]
    pid: u64,
) -> ToolResult {
    let status: Value = api.send(json!({ "pid": pid })).await?;
    Ok(exec_report(vmid, &node, pid, None, None, &status))
}
