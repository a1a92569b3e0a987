//! The QEMU guest agent tools and command execution against a mock Proxmox: exact requests,
//! polling, rendered results; then end to end against fakepve.

mod common;

use common::{AUTH, Pve, api, assert_refused, invalid_args};
use httpmock::Method::{GET, POST};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A GET agent endpoint of VM 100 on pve1 answering `{"result": result}`.
async fn agent_get<'a>(pve: &'a Pve, command: &str, result: Value) -> httpmock::Mock<'a> {
    pve.mock_get(&format!("/nodes/pve1/qemu/100/agent/{command}"), json!({ "result": result })).await
}

#[tokio::test]
async fn ping_is_a_basic_post_that_only_reads() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/100/agent/ping")).header("authorization", AUTH).body("");
            then.status(200).json_body(json!({ "data": { "result": {} } }));
        })
        .await;
    // Basic: runs without elevation.
    let out = pve.call_with("proxmox_agent_ping", json!({ "node": "pve1", "vmid": 100 }), false).await.unwrap();
    m.assert_async().await;
    assert_eq!(out.text, "🟢 The guest agent of VM 100 on pve1 answers.");
    let registry = proxmox_mcp::Registry::builtin();
    let ping = registry.get("proxmox_agent_ping").unwrap();
    assert!(!ping.elevated && ping.read_only() && ping.idempotent() && !ping.destructive());
}

#[tokio::test]
async fn osinfo_fsinfo_and_network() {
    let pve = Pve::start().await;
    let os = agent_get(
        &pve,
        "get-osinfo",
        json!({ "name": "Debian GNU/Linux", "pretty-name": "Debian GNU/Linux 13 (trixie)", "version": "13 (trixie)",
                "id": "debian", "kernel-release": "6.12.0-1-amd64", "kernel-version": "#1 SMP", "machine": "x86_64" }),
    )
    .await;
    let out = pve.ok("proxmox_agent_get_osinfo", json!({ "node": "pve1", "vmid": 100 })).await;
    os.assert_async().await;
    assert!(out.text.starts_with("💿 **VM 100 operating system** (node pve1)"), "{}", out.text);
    assert!(out.text.contains("• Name: Debian GNU/Linux 13 (trixie)\n• Version: 13 (trixie)"), "{}", out.text);
    assert!(out.text.contains("• Kernel: 6.12.0-1-amd64"), "{}", out.text);
    assert_eq!(out.data["id"], "debian");

    let fs = agent_get(
        &pve,
        "get-fsinfo",
        json!([{ "name": "sda1", "mountpoint": "/", "type": "ext4", "used-bytes": 2147483648u64, "total-bytes": 10737418240u64,
                 "disk": [{ "bus-type": "scsi", "serial": "drive-scsi0" }] },
               { "name": "sda2", "mountpoint": "/boot/efi", "type": "vfat" }]),
    )
    .await;
    let out = pve.ok("proxmox_agent_get_fsinfo", json!({ "node": "pve1", "vmid": 100 })).await;
    fs.assert_async().await;
    assert!(out.text.contains("• / (ext4) on sda1: 2.00 GiB / 10.00 GiB (20.0%), disk drive-scsi0"), "{}", out.text);
    assert!(out.text.contains("• /boot/efi (vfat) on sda2: N/A"), "{}", out.text);
    assert_eq!(out.data["total"], 2);

    let net = agent_get(
        &pve,
        "network-get-interfaces",
        json!([{ "name": "lo", "hardware-address": "00:00:00:00:00:00",
                 "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8 }] },
               { "name": "eth0", "hardware-address": "bc:24:11:00:00:01",
                 "ip-addresses": [{ "ip-address": "192.0.2.10", "ip-address-type": "ipv4", "prefix": 24 },
                                  { "ip-address": "fe80::1", "ip-address-type": "ipv6", "prefix": 64 }] },
               { "name": "eth1" }]),
    )
    .await;
    let out = pve.ok("proxmox_agent_get_network_interfaces", json!({ "node": "pve1", "vmid": 100 })).await;
    net.assert_async().await;
    assert!(out.text.contains("• **eth0** (bc:24:11:00:00:01): 192.0.2.10/24, fe80::1/64"), "{}", out.text);
    assert!(out.text.contains("• **eth1** (no MAC): no address"), "{}", out.text);
    assert_eq!(out.data["items"][1]["name"], "eth0");
}

#[tokio::test]
async fn time_timezone_vcpus_and_memory_blocks() {
    let pve = Pve::start().await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    // The guest is 90 s ahead.
    let guest = (now.as_secs() + 90) as i64 * 1_000_000_000;
    let time = agent_get(&pve, "get-time", json!(guest)).await;
    let out = pve.ok("proxmox_agent_get_time", json!({ "node": "pve1", "vmid": 100 })).await;
    time.assert_async().await;
    assert!(out.text.contains("• Guest time: 20"), "{}", out.text);
    assert!(out.text.contains("UTC"), "{}", out.text);
    let skew = out.data["skew_seconds"].as_f64().unwrap();
    assert!((85.0..=95.0).contains(&skew), "{skew}");
    assert_eq!(out.data["result"], guest);

    let tz = agent_get(&pve, "get-timezone", json!({ "zone": "CET", "offset": 3600 })).await;
    let out = pve.ok("proxmox_agent_get_timezone", json!({ "node": "pve1", "vmid": 100 })).await;
    tz.assert_async().await;
    assert!(out.text.contains("• Zone: CET\n• Offset: UTC+01:00"), "{}", out.text);

    let cpus = agent_get(
        &pve,
        "get-vcpus",
        json!([{ "logical-id": 0, "online": true, "can-offline": false },
               { "logical-id": 1, "online": false, "can-offline": true }]),
    )
    .await;
    let out = pve.ok("proxmox_agent_get_vcpus", json!({ "node": "pve1", "vmid": 100 })).await;
    cpus.assert_async().await;
    assert!(out.text.contains("• vCPUs: 2\n• Online: 1\n• Offline (logical id): 1"), "{}", out.text);

    let blocks: Vec<Value> =
        (0..8).map(|i| json!({ "phys-index": i, "online": i != 5, "can-offline": i > 3 })).collect();
    let mem = agent_get(&pve, "get-memory-blocks", json!(blocks)).await;
    let out = pve.ok("proxmox_agent_get_memory_blocks", json!({ "node": "pve1", "vmid": 100 })).await;
    mem.assert_async().await;
    assert!(out.text.contains("• Blocks: 8\n• Online: 7\n• Can go offline: 4\n• Offline (index): 5"), "{}", out.text);
    assert_eq!(out.data["total"], 8);
}

#[tokio::test]
async fn agent_exec_sends_the_argv_as_an_array() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/qemu/100/agent/exec"))
                .header("authorization", AUTH)
                .body("command=grep&command=-c&command=a+b&command=%2Fetc%2Fhosts&input-data=line+1%0A");
            then.status(200).json_body(json!({ "data": { "pid": 4242 } }));
        })
        .await;
    let out = pve
        .ok(
            "proxmox_agent_exec",
            json!({ "node": "pve1", "vmid": 100, "command": ["grep", "-c"], "args": ["a b", "/etc/hosts"], "input-data": "line 1\n" }),
        )
        .await;
    m.assert_async().await;
    assert!(out.text.starts_with("✅ Started in VM 100 (node pve1): process 4242"), "{}", out.text);
    assert!(out.text.contains("• Command: grep -c \"a b\" /etc/hosts"), "{}", out.text);
    assert!(out.text.contains("proxmox_agent_exec_status (node pve1, vmid 100, pid 4242)"), "{}", out.text);
    assert_eq!(out.data, json!({ "pid": 4242, "command": ["grep", "-c", "a b", "/etc/hosts"] }));

    // A string is split on whitespace only, one argv element per word.
    let split = pve
        .server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/100/agent/exec")).body("command=uptime&command=-p");
            then.status(200).json_body(json!({ "data": { "pid": 7 } }));
        })
        .await;
    pve.ok("proxmox_agent_exec", json!({ "node": "pve1", "vmid": 100, "command": "  uptime   -p " })).await;
    split.assert_async().await;
}

#[tokio::test]
async fn commands_are_never_given_to_a_shell_by_accident() {
    let pve = Pve::start().await;
    let any = pve.fail_any().await;
    for (tool, command) in [
        ("proxmox_agent_exec", json!("cat /etc/passwd | grep root")),
        ("proxmox_agent_exec", json!("echo 'a b'")),
        ("proxmox_execute_vm_command", json!("rm -rf /tmp/x; reboot")),
        ("proxmox_execute_vm_command", json!("ls $HOME")),
        ("proxmox_execute_vm_command", json!([])),
        ("proxmox_execute_vm_command", json!(["", "x"])),
        ("proxmox_execute_vm_command", json!("   ")),
        ("proxmox_execute_vm_command", json!(42)),
    ] {
        let mut args = json!({ "node": "pve1", "vmid": 100, "command": command.clone() });
        if tool == "proxmox_execute_vm_command" {
            args["type"] = json!("qemu");
        }
        let list = invalid_args(pve.call(tool, args).await);
        assert_eq!(list[0].0, "command", "{command}: {list:?}");
    }
    let list = invalid_args(
        pve.call(
            "proxmox_execute_vm_command",
            json!({ "node": "pve1", "vmid": 100, "type": "qemu", "command": "ls | wc" }),
        )
        .await,
    );
    assert!(list[0].1.contains("[\"sh\", \"-c\""), "the error says how: {list:?}");
    // Unknown keys are refused (the old server's `capture-output` is taken: tests/old_argument_shapes.rs), long stdin too.
    let list = invalid_args(
        pve.call(
            "proxmox_agent_exec",
            json!({ "node": "pve1", "vmid": 100, "command": ["ls"], "output-format": "json" }),
        )
        .await,
    );
    assert_eq!(list[0].0, "output-format");
    let list = invalid_args(
        pve.call(
            "proxmox_agent_exec",
            json!({ "node": "pve1", "vmid": 100, "command": ["cat"], "input-data": "x".repeat(65537) }),
        )
        .await,
    );
    assert_eq!(list[0].0, "input-data");
    let list = invalid_args(
        pve.call(
            "proxmox_execute_vm_command",
            json!({ "node": "pve1", "vmid": 100, "type": "qemu", "command": ["ls"], "timeout": 301 }),
        )
        .await,
    );
    assert_eq!(list[0].0, "timeout");
    let list =
        invalid_args(pve.call("proxmox_agent_exec_status", json!({ "node": "pve1", "vmid": 100, "pid": 0 })).await);
    assert_eq!(list[0].0, "pid");
    // (`type` is given: without it the tool would ask the cluster which kind of guest 100 is.)
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn exec_status_reports_exit_code_and_output() {
    let pve = Pve::start().await;
    let m = pve
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(api("/nodes/pve1/qemu/100/agent/exec-status"))
                .header("authorization", AUTH)
                .query_param("pid", "4242");
            then.status(200).json_body(json!({ "data": {
                "exited": 1, "exitcode": 2, "out-data": "partial\n", "err-data": "grep: x: No such file\n", "err-truncated": 1
            }}));
        })
        .await;
    let out = pve.ok("proxmox_agent_exec_status", json!({ "node": "pve1", "vmid": 100, "pid": 4242 })).await;
    m.assert_async().await;
    assert!(out.text.starts_with("⚠️ Process 4242 in VM 100 (node pve1) failed: exit code 2"), "{}", out.text);
    assert!(out.text.contains("stdout:\n```\npartial\n```"), "{}", out.text);
    assert!(
        out.text.contains("stderr (truncated by the guest agent):\n```\ngrep: x: No such file\n```"),
        "{}",
        out.text
    );
    assert_eq!(out.data["exitcode"], 2);
    assert_eq!(out.data["err-truncated"], true);
    assert_eq!(out.data["out-truncated"], false);

    let running = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/qemu/100/agent/exec-status")).query_param("pid", "7");
            then.status(200).json_body(json!({ "data": { "exited": 0 } }));
        })
        .await;
    let out = pve.ok("proxmox_agent_exec_status", json!({ "node": "pve1", "vmid": 100, "pid": 7 })).await;
    running.assert_async().await;
    assert!(out.text.starts_with("⏳ Process 7 in VM 100 (node pve1) is still running"), "{}", out.text);
    assert_eq!(out.data["exited"], false);
}

#[tokio::test]
async fn execute_vm_command_runs_and_polls_until_exited() {
    let pve = Pve::start().await;
    let exec = pve
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(api("/nodes/pve1/qemu/100/agent/exec"))
                .header("authorization", AUTH)
                .body("command=sh&command=-c&command=df+-h+%7C+head+-2");
            then.status(200).json_body(json!({ "data": { "pid": 1001 } }));
        })
        .await;
    let busy = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/qemu/100/agent/exec-status")).query_param("pid", "1001");
            then.status(200).json_body(json!({ "data": { "exited": 0 } }));
        })
        .await;
    let args = json!({ "node": "pve1", "vmid": 100, "command": ["sh", "-c", "df -h | head -2"] });
    let call = pve.call("proxmox_execute_vm_command", args);
    let finish = async {
        // Once it has asked twice, the process exits.
        while busy.calls_async().await < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        busy.delete_async().await;
        pve.server
            .mock_async(|when, then| {
                when.method(GET).path(api("/nodes/pve1/qemu/100/agent/exec-status")).query_param("pid", "1001");
                then.status(200).json_body(json!({ "data": {
                    "exited": 1, "exitcode": 0, "out-data": "Filesystem  Size\n/dev/sda1   10G\n"
                }}));
            })
            .await
    };
    let (result, done) = tokio::join!(call, finish);
    let out = result.unwrap();
    exec.assert_async().await;
    assert_eq!(done.calls_async().await, 1);
    assert!(out.text.starts_with("✅ Process 1001 in VM 100 (node pve1) finished: exit code 0"), "{}", out.text);
    assert!(out.text.contains("• Command: sh -c \"df -h | head -2\""), "{}", out.text);
    assert!(out.text.contains("stdout:\n```\nFilesystem  Size\n/dev/sda1   10G\n```"), "{}", out.text);
    assert!(out.text.contains("stderr: (empty)"), "{}", out.text);
    assert_eq!(out.data["exitcode"], 0);
    assert_eq!(out.data["pid"], 1001);
    assert_eq!(out.data["command"], json!(["sh", "-c", "df -h | head -2"]));
}

#[tokio::test]
async fn execute_vm_command_stops_waiting_at_the_timeout_and_bounds_output() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/100/agent/exec")).body("command=sleep&command=600");
            then.status(200).json_body(json!({ "data": { "pid": 5 } }));
        })
        .await;
    let status = pve
        .server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/qemu/100/agent/exec-status")).query_param("pid", "5");
            then.status(200).json_body(json!({ "data": { "exited": false } }));
        })
        .await;
    let started = Instant::now();
    let out = pve
        .ok("proxmox_execute_vm_command", json!({ "node": "pve1", "vmid": 100, "command": "sleep 600", "timeout": 1 }))
        .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(950) && took < Duration::from_secs(3), "{took:?}");
    let polls = status.calls_async().await;
    assert!((2..=8).contains(&polls), "polled {polls} times in 1 s");
    assert!(out.text.starts_with("⏳ Process 5 in VM 100 (node pve1) is still running after 1 s"), "{}", out.text);
    assert!(out.text.contains("proxmox_agent_exec_status (node pve1, vmid 100, pid 5)"), "{}", out.text);
    assert_eq!(out.data["timed_out"], true);
    assert_eq!(out.data["exited"], false);

    // Output beyond 24 KiB per stream is cut, and the result says so.
    pve.server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/100/agent/exec")).body("command=cat&command=%2Fbig");
            then.status(200).json_body(json!({ "data": { "pid": 6 } }));
        })
        .await;
    let big = "é".repeat(20_000);
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/qemu/100/agent/exec-status")).query_param("pid", "6");
            then.status(200).json_body(
                json!({ "data": { "exited": true, "exitcode": 0, "out-data": big, "out-truncated": false } }),
            );
        })
        .await;
    let out =
        pve.ok("proxmox_execute_vm_command", json!({ "node": "pve1", "vmid": 100, "command": ["cat", "/big"] })).await;
    assert!(out.text.contains("stdout (first 24.00 KiB of 39.06 KiB shown):"), "{}", &out.text[..300]);
    assert_eq!(out.data["out-truncated"], true);
    assert_eq!(out.data["out-bytes"], 40_000);
    assert_eq!(out.data["out-data"].as_str().unwrap().len(), 24 * 1024);
}

#[tokio::test]
async fn execute_vm_command_names_the_pid_when_the_status_fails() {
    let pve = Pve::start().await;
    pve.server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/100/agent/exec"));
            then.status(200).json_body(json!({ "data": { "pid": 77 } }));
        })
        .await;
    pve.server
        .mock_async(|when, then| {
            when.method(GET).path(api("/nodes/pve1/qemu/100/agent/exec-status"));
            then.status(500).body("{\"data\":null}");
        })
        .await;
    let err = pve.call("proxmox_execute_vm_command", json!({ "node": "pve1", "vmid": 100, "command": ["true"] })).await;
    let msg = err.unwrap_err().to_string();
    assert!(msg.contains("process 77") && msg.contains("proxmox_agent_exec_status"), "{msg}");
}

#[tokio::test]
async fn execute_vm_command_refuses_containers_without_a_request() {
    let pve = Pve::start().await;
    let any = pve.fail_any().await;
    let list = invalid_args(
        pve.call(
            "proxmox_execute_vm_command",
            json!({ "node": "pve1", "vmid": 200, "type": "lxc", "command": ["hostname"] }),
        )
        .await,
    );
    assert_eq!(list[0].0, "type");
    assert!(list[0].1.contains("no API to run commands in a container"), "{list:?}");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn elevated_tools_are_refused_without_elevation() {
    assert_refused("proxmox_execute_vm_command", json!({ "node": "pve1", "vmid": 100, "command": ["uptime"] })).await;
    assert_refused("proxmox_agent_exec", json!({ "node": "pve1", "vmid": 100, "command": ["uptime"] })).await;
    let registry = proxmox_mcp::Registry::builtin();
    for read in [
        "proxmox_agent_ping",
        "proxmox_agent_get_osinfo",
        "proxmox_agent_get_fsinfo",
        "proxmox_agent_get_memory_blocks",
        "proxmox_agent_get_network_interfaces",
        "proxmox_agent_get_time",
        "proxmox_agent_get_timezone",
        "proxmox_agent_get_vcpus",
        "proxmox_agent_exec_status",
    ] {
        assert!(!registry.get(read).unwrap().elevated, "{read} is a read");
    }
}
