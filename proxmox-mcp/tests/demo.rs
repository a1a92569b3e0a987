//! The demo cluster answers like Proxmox: state that follows tasks, Proxmox's error shapes for
//! what it does not know, and fault injection for tests of your own tools.

use proxmox_mcp::client::{Params, Request};
use proxmox_mcp::demo::DemoCluster;
use proxmox_mcp::{ApiError, ApiPath, Client, Context, Method, Registry, ToolError};
use serde_json::{Value, json};
use std::time::Duration;

async fn call(
    cluster: &DemoCluster,
    tool: &str,
    args: Value,
    allow_elevated: bool,
) -> Result<proxmox_mcp::ToolOutput, ToolError> {
    let ctx = Context::new(Client::with_transport(cluster.clone()), allow_elevated);
    let registry = Registry::builtin();
    let Value::Object(args) = args else { panic!("object") };
    registry.get(tool).unwrap_or_else(|| panic!("{tool}")).call(ctx, args).await
}

#[tokio::test]
async fn reads_show_a_believable_cluster() {
    let cluster = DemoCluster::new();
    let nodes = call(&cluster, "proxmox_get_nodes", json!({}), false).await.unwrap();
    assert_eq!(nodes.data["total"], 3);
    assert!(nodes.text.contains("🔴 **pve3** (offline)"));
    let vms = call(&cluster, "proxmox_get_vms", json!({}), false).await.unwrap();
    assert!(vms.text.contains("**web** (100) on pve1 — running"), "{}", vms.text);
    assert!(vms.text.contains("template"), "{}", vms.text);
    assert_eq!(vms.data["unreachable_nodes"][0], "pve3");
    let status = call(&cluster, "proxmox_get_vm_status", json!({ "node": "pve1", "vmid": 200, "type": "lxc" }), false)
        .await
        .unwrap();
    assert_eq!(status.data["status"], "running");
}

#[tokio::test]
async fn unknown_paths_methods_and_parameters_get_proxmox_errors() {
    let cluster = DemoCluster::new();
    let client = Client::with_transport(cluster.clone());
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve1/nonsense"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(501), "{err}");
    let err = client.request(Method::Delete, &ApiPath::lit("/version"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(501), "{err}");
    let params = Params(vec![("bogus".into(), "1".into())]);
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve1/dns"), params).await.unwrap_err();
    let ApiError::BadRequest { errors, .. } = &err else { panic!("{err:?}") };
    assert!(errors.contains_key("bogus"), "{errors:?}");
    let err = client.request(Method::Get, &ApiPath::lit("/nodes/pve3/dns"), Params::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(595));
}

#[tokio::test]
async fn tasks_take_their_time_and_the_status_follows() {
    let cluster = DemoCluster::with_task_duration(Duration::from_millis(300));
    let request = |action: &'static str| {
        Request::new(Method::Post, ApiPath::lit("/nodes/pve1/qemu/101/status").join_lit(action), Params::default())
    };
    let upid = cluster.handle(&request("start")).unwrap();
    let upid = upid.as_str().unwrap().to_string();
    assert!(upid.starts_with("UPID:pve1:") && upid.contains(":qmstart:101:"), "{upid}");
    let status = || cluster.with_state(|s| s.guest(101).map(|g| g.status.clone()).unwrap_or_default());
    assert_eq!(status(), "stopped", "not before the task ends");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status(), "running");
    // Starting a running VM: the task ends with Proxmox's error.
    let again = cluster.handle(&request("start")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let task = cluster
        .handle(&Request::new(
            Method::Get,
            ApiPath::lit("/nodes/pve1/tasks")
                .join(&again.as_str().unwrap().parse::<proxmox_mcp::types::Upid>().unwrap())
                .join_lit("status"),
            Params::default(),
        ))
        .unwrap();
    assert_eq!(task["status"], "stopped");
    assert_eq!(task["exitstatus"], "VM 101 already running");
}

#[tokio::test]
async fn faults_can_be_injected() {
    let cluster = DemoCluster::new();
    cluster.fail_next(2, 500, "simulated outage");
    for _ in 0..2 {
        let err = call(&cluster, "proxmox_get_nodes", json!({}), false).await.unwrap_err();
        assert!(err.to_string().contains("simulated outage"), "{err}");
    }
    assert!(call(&cluster, "proxmox_get_nodes", json!({}), false).await.is_ok());

    cluster.set_node_online("pve2", false);
    let err = call(&cluster, "proxmox_get_vms", json!({ "node": "pve2" }), false).await.unwrap_err();
    assert!(err.to_string().contains("595"), "{err}");

    cluster.set_latency(Duration::from_millis(200));
    let started = std::time::Instant::now();
    call(&cluster, "proxmox_get_next_vmid", json!({}), false).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
}

/// The Proxmox VE 9.1 API schema, flattened (AGPL data: read here, never shipped). A checkout
/// elsewhere (a git worktree) can point PVE_API_SCHEMA at it.
const API_SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/pve-api/endpoints.json");

/// `/nodes/{node}/qemu/{vmid}` → `/nodes/{}/qemu/{}`: paths compared without value names.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_demo_simulates_only_what_the_proxmox_api_has() {
    let path = std::env::var("PVE_API_SCHEMA").unwrap_or_else(|_| API_SCHEMA.to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    // (method, path shape) → the parameter names of that endpoint
    let mut api: std::collections::HashMap<(String, String), Vec<String>> = Default::default();
    for e in schema["endpoints"].as_array().unwrap() {
        let params = e["params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
        api.insert((e["method"].as_str().unwrap().to_string(), shape(e["path"].as_str().unwrap())), params);
    }
    // A numbered key (scsi1, mp0) is listed as its family (scsi[n], mp[n]).
    let has = |params: &[String], name: &str| {
        let family = format!("{}[n]", name.trim_end_matches(|c: char| c.is_ascii_digit()));
        params.iter().any(|p| p == name || *p == family)
    };
    // Configuration keys to try on the endpoints that take keys beyond their list.
    let keys = [
        "scsi0",
        "scsi30",
        "virtio1",
        "sata2",
        "ide2",
        "efidisk0",
        "tpmstate0",
        "net0",
        "net31",
        "ipconfig0",
        "unused0",
        "usb1",
        "serial0",
        "hostpci0",
        "name",
        "memory",
        "cores",
        "sockets",
        "cpu",
        "ostype",
        "boot",
        "agent",
        "scsihw",
        "balloon",
        "numa",
        "bios",
        "machine",
        "vga",
        "ciuser",
        "sshkeys",
        "onboot",
        "tags",
        "description",
        "hostname",
        "rootfs",
        "mp0",
        "mp255",
        "dev0",
        "swap",
        "unprivileged",
        "features",
        "arch",
        "timezone",
        "nameserver",
        "searchdomain",
        "startup",
        "protection",
        "cpulimit",
        "cpuunits",
        "bogus",
        "scsi",
        "net",
    ];
    let endpoints = proxmox_mcp::demo::simulated_endpoints();
    assert!(endpoints.len() > 100, "{}", endpoints.len());
    let mut problems = Vec::new();
    for e in &endpoints {
        let kinds: &[&str] = if e.path.contains("{kind}") { &["qemu", "lxc"] } else { &[""] };
        for kind in kinds {
            let path = e.path.replace("{kind}", kind).replace("+}", "}");
            let Some(params) = api.get(&(e.method.to_string(), shape(&path))) else {
                problems.push(format!("{} {path}: not in the API", e.method));
                continue;
            };
            for p in e.params {
                if !has(params, p) {
                    problems.push(format!("{} {path}: takes `{p}`, which the API does not", e.method));
                }
            }
            if let Some(takes) = e.takes_also {
                let accepted: Vec<&str> = keys.iter().copied().filter(|k| takes(k, "1")).collect();
                assert!(accepted.len() > 5, "{} {path} takes almost no configuration keys: {accepted:?}", e.method);
                for k in accepted {
                    if !has(params, k) {
                        problems.push(format!("{} {path}: takes the key `{k}`, which the API does not", e.method));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} mismatches with the API schema:\n{}", problems.len(), problems.join("\n"));
}

/// A value checked against a schema `returns`: types (Proxmox's booleans are 0/1, its numbers
/// may come as numeric strings) and properties that are not optional. Problems go to `out`.
fn check_shape(value: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    let ty = schema["type"].as_str().unwrap_or("any");
    let ok = match (ty, value) {
        ("any" | "null", _) => true,
        ("object", Value::Object(_)) | ("array", Value::Array(_)) | ("string", Value::String(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        ("boolean", Value::Number(n)) => n.as_u64().is_some_and(|n| n <= 1),
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_)) => true,
        ("integer" | "number", Value::String(s)) => s.parse::<f64>().is_ok(),
        // Proxmox's string properties often carry numbers (e.g. a loadavg).
        ("string", Value::Number(_)) => true,
        _ => false,
    };
    if !ok {
        out.push(format!("{at}: {ty} expected, got {value}"));
        return;
    }
    match value {
        Value::Object(map) => {
            for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
                match map.get(name) {
                    Some(v) => check_shape(v, prop, &format!("{at}.{name}"), out),
                    None if prop["optional"] == true || prop["optional"] == 1 => {}
                    None => out.push(format!("{at}.{name}: missing")),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate().take(5) {
                check_shape(item, &schema["items"], &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_demo_answers_in_the_shapes_the_api_returns() {
    let path = std::env::var("PVE_API_SCHEMA").unwrap_or_else(|_| API_SCHEMA.to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    let returns: std::collections::HashMap<(String, String), Value> = schema["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            ((e["method"].as_str().unwrap().to_string(), shape(e["path"].as_str().unwrap())), e["returns"].clone())
        })
        .collect();
    let cluster = DemoCluster::with_task_duration(Duration::ZERO);
    let post = |path: &str, params: &[(&str, &str)]| {
        let params = Params(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let request = Request::new(Method::Post, raw_path(path), params);
        cluster.handle(&request).unwrap_or_else(|e| panic!("POST {path}: {e:?}"))
    };
    // Something for each kind of answer: a task, an agent process.
    let upid = post("/nodes/pve1/qemu/101/status/start", &[]);
    let pid = post("/nodes/pve1/qemu/100/agent/exec", &[("command", "uptime")])["pid"].to_string();
    let mut problems = Vec::new();
    let mut checked = 0;
    for e in proxmox_mcp::demo::simulated_endpoints().into_iter().filter(|e| e.method == Method::Get) {
        for kind in if e.path.contains("{kind}") { vec!["qemu", "lxc"] } else { vec![""] } {
            let vmid = if kind == "lxc" || e.path.starts_with("/nodes/{node}/lxc") { "200" } else { "100" };
            let path = e
                .path
                .replace("{kind}", kind)
                .replace("{node}", "pve1")
                .replace("{vmid}", vmid)
                .replace("{iface}", "vmbr0")
                .replace("{upid}", upid.as_str().unwrap())
                .replace("{sid}", "vm:100")
                .replace("{pos}", "0")
                .replace("{service}", "pveproxy");
            let path = match path.as_str() {
                p if p.contains("/file-restore/") => p.replace("{storage}", "pbs"),
                p => p.replace("{storage}", "local"),
            };
            let path = path
                .replace("/cluster/ha/groups/{group}", "/cluster/ha/groups/prefer-pve1")
                .replace("/cluster/firewall/groups/{group}", "/cluster/firewall/groups/webservers")
                .replace("/cluster/backup/{id}", "/cluster/backup/backup-5f3a2c1e-7d10")
                .replace("/cluster/replication/{id}", "/cluster/replication/100-0");
            let params: Vec<(&str, &str)> = match path.rsplit('/').next().unwrap() {
                "rrddata" => vec![("timeframe", "hour")],
                "smart" => vec![("disk", "/dev/sda")],
                "exec-status" => vec![("pid", pid.as_str())],
                "list" if path.contains("file-restore") => {
                    vec![("volume", "pbs:backup/vm/100/2026-11-24T01:00:00Z"), ("filepath", "/")]
                }
                "download" => continue, // a file, not JSON
                _ => vec![],
            };
            assert!(!path.contains('{'), "no sample value for {path}");
            let params = Params(params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            let answer = cluster
                .handle(&Request::new(Method::Get, raw_path(&path), params))
                .unwrap_or_else(|err| panic!("GET {path}: {err:?}"));
            let schema = &returns[&("GET".to_string(), shape(&e.path.replace("{kind}", kind).replace("+}", "}")))];
            check_shape(&answer, schema, &format!("GET {path}"), &mut problems);
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
    assert!(problems.is_empty(), "{} answers unlike the API's:\n{}", problems.len(), problems.join("\n"));
}

/// A test path of plain segments (the values here are known to be valid).
fn raw_path(path: &str) -> ApiPath {
    struct Seg<'a>(&'a str);
    impl proxmox_mcp::path::PathSegment for Seg<'_> {
        fn segment(&self) -> std::borrow::Cow<'_, str> {
            self.0.into()
        }
    }
    path.split('/').filter(|s| !s.is_empty()).fold(ApiPath::root(), |p, seg| p.join(&Seg(seg)))
}

#[tokio::test]
async fn uploads_and_single_file_restore() {
    let cluster = DemoCluster::with_task_duration(Duration::ZERO);
    let dir = std::env::temp_dir().join(format!("proxmox-mcp-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("alpine.iso"), vec![7u8; 4096]).unwrap();
    let ctx = Context::new(Client::with_transport(cluster.clone()), true).with_upload_dir(Some(dir.clone()));
    let registry = Registry::builtin();
    let run = |tool: &str, args: Value| {
        let Value::Object(args) = args else { panic!("object") };
        registry.get(tool).unwrap().call(ctx.clone(), args)
    };
    run(
        "proxmox_upload_to_storage",
        json!({ "node": "pve1", "storage": "local", "content": "iso", "file": "alpine.iso" }),
    )
    .await
    .unwrap();
    let content = run("proxmox_list_storage_content", json!({ "node": "pve1", "storage": "local", "content": "iso" }))
        .await
        .unwrap();
    let iso = content.data["items"].as_array().unwrap().iter().find(|v| v["volid"] == "local:iso/alpine.iso").cloned();
    assert_eq!(iso.expect("uploaded")["size"], 4096);
    std::fs::remove_dir_all(&dir).ok();

    // Browse a PBS backup down to /etc and read a file from it.
    let volume = "pbs:backup/vm/100/2026-11-24T01:00:00Z";
    let root =
        run("proxmox_list_file_restore", json!({ "node": "pve1", "storage": "pbs", "volume": volume })).await.unwrap();
    assert_eq!(root.data["items"][0]["text"], "drive-scsi0.img.fidx");
    let etc = run(
        "proxmox_list_file_restore",
        json!({ "node": "pve1", "storage": "pbs", "volume": volume, "path": "/drive-scsi0.img.fidx/part/1/etc" }),
    )
    .await
    .unwrap();
    let hostname = etc.data["items"].as_array().unwrap().iter().find(|e| e["text"] == "hostname").unwrap().clone();
    assert_eq!(hostname["leaf"], true);
    let file = run(
        "proxmox_download_file_restore",
        json!({ "node": "pve1", "storage": "pbs", "volume": volume, "filepath": hostname["filepath"] }),
    )
    .await
    .unwrap();
    assert_eq!(file.data["content"], "web\n");
    // A directory comes as a zip archive.
    let zip = run(
        "proxmox_download_file_restore",
        json!({ "node": "pve1", "storage": "pbs", "volume": volume, "path": "/drive-scsi0.img.fidx/part/1/etc" }),
    )
    .await
    .unwrap();
    assert_eq!(zip.data["encoding"], "base64");
    assert!(zip.data["content_prefix"].as_str().unwrap().starts_with("UEsDB"), "PK\\x03\\x04: {}", zip.data);
    // Only PBS storages have single-file restore.
    let err =
        run("proxmox_list_file_restore", json!({ "node": "pve1", "storage": "local", "volume": "local:backup/x" }))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("Proxmox Backup Server"), "{err}");
}
