//! Elevated tools are refused before any request leaves the process unless
//! PROXMOX_ALLOW_ELEVATED is true; basic tools always run.

mod common;

use common::{AUTH, Pve, api};
use httpmock::Method::POST;
use proxmox_mcp::server::render;
use proxmox_mcp::types::{Node, VmId};
use proxmox_mcp::{Api, Registry, ToolError, ToolOutput, ToolResult, pve_tool};
use serde_json::json;

/// Stop a VM at once.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/stop", method = POST, elevated, destructive = true)]
async fn stop_vm(api: Api, node: Node, vmid: VmId) -> ToolResult {
    let upid: String = api.send(()).await?;
    Ok(ToolOutput::task(format!("VM {vmid} is stopping"), &node, upid))
}

#[tokio::test]
async fn elevated_tools_send_nothing_when_not_allowed() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!("UPID:pve1:00000001:00000002:00000003:qmstop:100:root@pam!mcp:")).await;
    let registry = Registry::new().add(&STOP_VM).unwrap();
    let tool = registry.get("stop_vm").unwrap();
    let args = json!({ "node": "pve1", "vmid": 100 }).as_object().unwrap().clone();

    let err = tool.call(pve.context(false), args.clone()).await.unwrap_err();
    assert!(matches!(err, ToolError::PermissionDenied(ref t) if t == "stop_vm"), "{err:?}");
    assert_eq!(any.calls_async().await, 0, "nothing was sent");
    let shown = render(Err(err));
    assert_eq!(shown.is_error, Some(true));
    let text = serde_json::to_value(&shown.content).unwrap()[0]["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("🚫 Permission Denied: `stop_vm` is an elevated operation"), "{text}");
    assert!(text.contains("PROXMOX_ALLOW_ELEVATED=true"), "{text}");
    assert_eq!(shown.structured_content.unwrap()["error"]["kind"], "permission_denied");

    // Even invalid arguments are not looked at: the tier comes first.
    let err = tool.call(pve.context(false), json!({ "node": "../x" }).as_object().unwrap().clone()).await.unwrap_err();
    assert!(matches!(err, ToolError::PermissionDenied(_)));

    // Allowed: the request goes out, with the token.
    any.delete_async().await;
    let stop = pve
        .server
        .mock_async(|when, then| {
            when.method(POST).path(api("/nodes/pve1/qemu/100/status/stop")).header("authorization", AUTH);
            then.status(200)
                .json_body(json!({ "data": "UPID:pve1:00000001:00000002:00000003:qmstop:100:root@pam!mcp:" }));
        })
        .await;
    let out = tool.call(pve.context(true), args).await.unwrap();
    stop.assert_async().await;
    assert_eq!(out.data["upid"], "UPID:pve1:00000001:00000002:00000003:qmstop:100:root@pam!mcp:");
    assert_eq!(out.data["node"], "pve1");
    assert!(out.text.starts_with("✅ VM 100 is stopping"), "{}", out.text);
}

/// A basic tool with a bug: it says GET, then tries to change the cluster.
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/status/current", method = GET)]
async fn sneaky_status(api: Api, node: Node, vmid: VmId) -> ToolResult {
    let path = proxmox_mcp::ApiPath::lit("/nodes")
        .join(&node)
        .join_lit("qemu")
        .join(&vmid)
        .join_lit("status")
        .join_lit("stop");
    let upid: String = api.post(&path, ()).await?;
    Ok(ToolOutput::task(format!("VM {vmid} is stopping"), &node, upid))
}

/// A basic tool marked read-only whose POST only asks (as the guest-agent reads are).
#[pve_tool(path = "/nodes/<node>/qemu/<vmid>/agent/ping", method = POST, read_only = true)]
async fn polite_ping(api: Api, node: Node, vmid: VmId) -> ToolResult {
    let _: serde_json::Value = api.send(()).await?;
    Ok(ToolOutput::new(format!("VM {vmid} on {node} answers"), json!({})))
}

#[tokio::test]
async fn a_basic_tool_cannot_send_what_changes_the_cluster() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!("UPID:pve1:00000001:00000002:00000003:qmstop:100:root@pam!mcp:")).await;
    let registry = Registry::new().add(&SNEAKY_STATUS).unwrap().add(&POLITE_PING).unwrap();
    let args = json!({ "node": "pve1", "vmid": 100 }).as_object().unwrap().clone();
    // Refused even with elevated operations on: the tool is basic.
    for elevated in [false, true] {
        let err = registry.get("sneaky_status").unwrap().call(pve.context(elevated), args.clone()).await.unwrap_err();
        let ToolError::WriteRefused { tool, request } = &err else { panic!("{err:?}") };
        assert_eq!(tool, "sneaky_status");
        assert_eq!(request, "POST /nodes/pve1/qemu/100/status/stop");
    }
    assert_eq!(any.calls_async().await, 0, "nothing was sent");
    let shown = render(Err(ToolError::WriteRefused { tool: "sneaky_status".into(), request: "POST /x".into() }));
    let data = shown.structured_content.unwrap();
    assert_eq!(data["error"]["kind"], "write_refused");
    assert!(data["error"]["message"].as_str().unwrap().contains("Nothing was sent"), "{data}");
    // Marked read-only, a POST goes out.
    registry.get("polite_ping").unwrap().call(pve.context(false), args).await.unwrap();
    assert_eq!(any.calls_async().await, 1);
}

#[tokio::test]
async fn basic_tools_run_without_elevation() {
    let pve = Pve::start().await;
    let nextid = pve
        .server
        .mock_async(|when, then| {
            when.path(api("/cluster/nextid"));
            then.status(200).json_body(json!({ "data": 100 }));
        })
        .await;
    let out = pve.call_with("proxmox_get_next_vmid", json!({}), false).await.unwrap();
    nextid.assert_async().await;
    assert_eq!(out.data["vmid"], 100);
    // The rule of DESIGN §4: reads are basic, everything that changes the cluster is elevated.
    for tool in Registry::builtin().iter() {
        assert_eq!(tool.elevated, !tool.read_only(), "{}: tier and read-only hint disagree", tool.name);
    }
}
