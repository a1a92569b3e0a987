//! Hostile values for every kind of path parameter are refused before any request, with an
//! error naming the argument (Proxmox decodes `%2F` and `..` before routing, so encoding alone
//! would not be enough).

mod common;

use common::Pve;
use proxmox_mcp::types::{GuestType, Iface, Node, SnapshotName, StorageId, Upid, VmId, Volume};
use proxmox_mcp::{Api, Registry, ToolError, ToolOutput, ToolResult, pve_tool};
use serde_json::{Value, json};

/// Reaches one path built from every kind of path parameter.
#[pve_tool(path = "/t/<node>/<vmid>/<guest>/<storage>/<iface>/<snapshot>/<upid>/<volume>", method = GET)]
async fn every_kind(
    api: Api,
    node: Node,
    vmid: VmId,
    guest: GuestType,
    storage: StorageId,
    iface: Iface,
    snapshot: SnapshotName,
    upid: Upid,
    volume: Volume,
) -> ToolResult {
    let _ = (node, vmid, guest, storage, iface, snapshot, upid, volume);
    let v: Value = api.send(()).await?;
    Ok(ToolOutput::new(api.path().map(|p| p.to_string()).unwrap_or_default(), v))
}

fn valid() -> Value {
    json!({
        "node": "pve1", "vmid": 100, "guest": "qemu", "storage": "local-lvm", "iface": "vmbr0",
        "snapshot": "before-upgrade", "upid": "UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:",
        "volume": "local:iso/debian-12.iso"
    })
}

const HOSTILE_STRINGS: &[&str] = &[
    "..",
    ".",
    "/",
    "a/b",
    "%2F",
    "a%2Fb",
    "%2e%2e",
    "..%2F..",
    "a\nb",
    "a\u{0}b",
    "a\tb",
    "",
    " ",
    "a b",
    "a?b=1",
    "a#b",
    "\u{202e}x",
    "../../etc/passwd",
];

#[tokio::test]
async fn hostile_values_never_reach_proxmox() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!({})).await;
    let registry = Registry::new().add(&EVERY_KIND).unwrap();
    let tool = registry.get("every_kind").unwrap();
    let long = "a".repeat(600);
    let mut refused = 0;
    for param in ["node", "vmid", "guest", "storage", "iface", "snapshot", "upid", "volume"] {
        // `""` and `null` are "not given": for `node`, that means "find it from the vmid" (addressing.rs).
        let mut values: Vec<Value> =
            HOSTILE_STRINGS.iter().filter(|s| param != "node" || !s.is_empty()).map(|s| json!(s)).collect();
        values.push(json!(long));
        if param != "node" {
            values.push(json!(null));
        }
        values.push(json!([{ "x": 1 }]));
        values.push(json!({ "x": 1 }));
        values.push(json!(-1));
        values.push(json!(1e20));
        for hostile in values {
            let mut args = valid();
            args[param] = hostile.clone();
            let Value::Object(args) = args else { unreachable!() };
            match tool.call(pve.context(false), args).await {
                Err(ToolError::InvalidArguments(list)) => {
                    assert_eq!(list.len(), 1, "{param}={hostile}: {list:?}");
                    assert_eq!(list[0].0, param, "{param}={hostile}: the error names the argument");
                    assert!(!list[0].1.is_empty());
                    refused += 1;
                }
                other => panic!("{param}={hostile} was not refused: {other:?}"),
            }
        }
    }
    assert_eq!(any.calls_async().await, 0, "no request was sent");
    assert_eq!(refused, 8 * (HOSTILE_STRINGS.len() + 6) - 2);

    // The valid values go through, percent-encoded where needed.
    let Value::Object(args) = valid() else { unreachable!() };
    let out = tool.call(pve.context(false), args).await.unwrap();
    assert_eq!(
        out.text,
        "/t/pve1/100/qemu/local-lvm/vmbr0/before-upgrade/UPID:pve1:0000ABCD:00001234:65F0A1B2:qmstart:100:root@pam!mcp:/local:iso/debian-12.iso"
    );
    assert_eq!(any.calls_async().await, 1);
}

#[tokio::test]
async fn a_volume_keeps_its_slashes_but_no_dot_segments() {
    for ok in [
        "local:iso/debian-12.iso",
        "pbs:backup/vm/100/2025-01-01T00:00:00Z",
        "local:backup/vzdump-qemu-100-2025_01_01-00_00_00.vma.zst",
    ] {
        assert!(Volume::new(ok).is_ok(), "{ok}");
    }
    for bad in [
        "local:iso/../../../etc/shadow",
        "local:./x",
        "local:iso/./x",
        "local:iso//x",
        "local:/abs",
        "local:iso/x/..",
        "LOCAL:x",
        ":x",
    ] {
        assert!(Volume::new(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn built_in_tools_refuse_hostile_nodes_too() {
    let pve = Pve::start().await;
    let any = pve.answer_any(json!([])).await;
    for tool in Registry::builtin().iter() {
        let schema = tool.input_schema();
        if schema["properties"].get("node").is_none() {
            continue;
        }
        for hostile in ["..", "a/b", "%2F", "pve1\n"] {
            let mut args = json!({ "node": hostile, "vmid": 100, "iface": "vmbr0" });
            args.as_object_mut().unwrap().retain(|k, _| schema["properties"].get(k).is_some());
            let err = pve.call(tool.name, args).await.unwrap_err();
            assert!(err.to_string().contains("`node`"), "{}: {err}", tool.name);
        }
    }
    assert_eq!(any.calls_async().await, 0);
}
