//! A valid call of every built-in tool, in an order that keeps each valid against the demo
//! cluster: what a call needs (a stopped VM, a snapshot, a rule at a position…) is set up by the
//! calls before it. Used by the demo walk-through and the robustness test.

use serde_json::{Value, json};

/// A tool call of the walk through every tool, in an order that keeps each one valid: what a
/// call needs (a stopped VM, a snapshot, a rule at a position…) was set up by the calls before.
/// `"$UPID"` stands for the UPID of the last task started, `"$PID"` for the last agent pid.
pub fn calls() -> Vec<(&'static str, Value)> {
    let pve1 = "pve1";
    let pve2 = "pve2";
    vec![
        // Node & Cluster
        ("proxmox_get_nodes", json!({})),
        ("proxmox_get_node_status", json!({ "node": pve1 })),
        ("proxmox_get_node_network", json!({ "node": pve1, "type": "any_bridge" })),
        ("proxmox_get_node_dns", json!({ "node": pve1 })),
        ("proxmox_get_network_iface", json!({ "node": pve1, "iface": "vmbr0" })),
        ("proxmox_get_cluster_status", json!({})),
        ("proxmox_get_next_vmid", json!({})),
        // Node Management
        ("proxmox_get_node_services", json!({ "node": pve1 })),
        ("proxmox_control_node_service", json!({ "node": pve1, "service": "pvestatd", "command": "restart" })),
        ("proxmox_get_node_task", json!({ "node": pve1, "upid": "$UPID" })),
        ("proxmox_wait_task", json!({ "upid": "$UPID", "timeout": 5 })),
        ("proxmox_stop_task", json!({ "upid": "$UPID" })),
        ("proxmox_get_node_tasks", json!({ "node": pve1, "limit": 10 })),
        ("proxmox_list_cluster_tasks", json!({ "node": pve1, "type": "srvrestart", "limit": 5 })),
        ("proxmox_get_node_syslog", json!({ "node": pve1, "limit": 20 })),
        ("proxmox_get_node_journal", json!({ "node": pve1, "lastentries": 20 })),
        ("proxmox_get_node_aplinfo", json!({ "node": pve1 })),
        ("proxmox_get_node_netstat", json!({ "node": pve1 })),
        // Node Disk Query
        ("proxmox_get_node_disks", json!({ "node": pve1 })),
        ("proxmox_get_disk_smart", json!({ "node": pve1, "disk": "/dev/sda" })),
        ("proxmox_get_node_lvm", json!({ "node": pve1 })),
        ("proxmox_get_node_zfs", json!({ "node": pve1 })),
        // VM Query
        ("proxmox_get_vms", json!({})),
        ("proxmox_get_vm_status", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_get_vm_config", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_get_lxc_config", json!({ "node": pve1, "vmid": 200 })),
        ("proxmox_get_storage", json!({})),
        ("proxmox_get_vm_rrddata", json!({ "node": pve1, "vmid": 100, "timeframe": "hour" })),
        ("proxmox_get_lxc_rrddata", json!({ "node": pve1, "vmid": 200, "timeframe": "day", "cf": "MAX" })),
        // The guest agent of VM 100 (running, agent on)
        ("proxmox_agent_ping", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_get_osinfo", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_get_fsinfo", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_get_memory_blocks", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_get_network_interfaces", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_get_time", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_get_timezone", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_get_vcpus", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_agent_exec", json!({ "node": pve1, "vmid": 100, "command": ["uname", "-a"] })),
        ("proxmox_agent_exec_status", json!({ "node": pve1, "vmid": 100, "pid": "$PID" })),
        ("proxmox_execute_vm_command", json!({ "node": pve1, "vmid": 100, "command": ["df", "-h", "/"] })),
        // Guest firewalls
        ("proxmox_list_vm_firewall_rules", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_get_vm_firewall_rule", json!({ "node": pve1, "vmid": 100, "pos": 0 })),
        (
            "proxmox_create_vm_firewall_rule",
            json!({ "node": pve1, "vmid": 100, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "22", "enable": 1, "pos": 1 }),
        ),
        ("proxmox_update_vm_firewall_rule", json!({ "node": pve1, "vmid": 100, "pos": 1, "comment": "SSH" })),
        ("proxmox_delete_vm_firewall_rule", json!({ "node": pve1, "vmid": 100, "pos": 1 })),
        (
            "proxmox_create_lxc_firewall_rule",
            json!({ "node": pve1, "vmid": 200, "type": "in", "action": "ACCEPT", "proto": "udp", "dport": "53", "enable": 1 }),
        ),
        ("proxmox_list_lxc_firewall_rules", json!({ "node": pve1, "vmid": 200 })),
        ("proxmox_get_lxc_firewall_rule", json!({ "node": pve1, "vmid": 200, "pos": 0 })),
        ("proxmox_update_lxc_firewall_rule", json!({ "node": pve1, "vmid": 200, "pos": 0, "comment": "DNS" })),
        ("proxmox_delete_lxc_firewall_rule", json!({ "node": pve1, "vmid": 200, "pos": 0 })),
        // Lifecycle: VM 101 (stopped), container 201 on pve2 (stopped), then the running ones
        ("proxmox_start_vm", json!({ "node": pve1, "vmid": 101 })),
        ("proxmox_pause_vm", json!({ "node": pve1, "vmid": 101 })),
        ("proxmox_resume_vm", json!({ "node": pve1, "vmid": 101 })),
        ("proxmox_reboot_vm", json!({ "node": pve1, "vmid": 101 })),
        ("proxmox_stop_vm", json!({ "node": pve1, "vmid": 101 })),
        ("proxmox_shutdown_vm", json!({ "node": pve1, "vmid": 100 })),
        ("proxmox_start_lxc", json!({ "node": pve2, "vmid": 201 })),
        ("proxmox_reboot_lxc", json!({ "node": pve2, "vmid": 201 })),
        ("proxmox_shutdown_lxc", json!({ "node": pve2, "vmid": 201 })),
        ("proxmox_stop_lxc", json!({ "node": pve1, "vmid": 200 })),
        ("proxmox_resize_vm", json!({ "node": pve1, "vmid": 101, "memory": 4096, "cores": 2 })),
        ("proxmox_resize_lxc", json!({ "node": pve2, "vmid": 201, "memory": 2048, "swap": 256 })),
        // Snapshots
        ("proxmox_create_snapshot_vm", json!({ "node": pve1, "vmid": 101, "snapname": "demo1", "description": "try" })),
        ("proxmox_list_snapshots_vm", json!({ "node": pve1, "vmid": 101 })),
        ("proxmox_rollback_snapshot_vm", json!({ "node": pve1, "vmid": 101, "snapname": "demo1" })),
        ("proxmox_delete_snapshot_vm", json!({ "node": pve1, "vmid": 101, "snapname": "demo1" })),
        ("proxmox_create_snapshot_lxc", json!({ "node": pve2, "vmid": 201, "snapname": "demo1" })),
        ("proxmox_list_snapshots_lxc", json!({ "node": pve2, "vmid": 201 })),
        ("proxmox_rollback_snapshot_lxc", json!({ "node": pve2, "vmid": 201, "snapname": "demo1" })),
        ("proxmox_delete_snapshot_lxc", json!({ "node": pve2, "vmid": 201, "snapname": "demo1" })),
        // Disks
        (
            "proxmox_add_disk_vm",
            json!({ "node": pve1, "vmid": 101, "disk": "scsi1", "storage": "local-lvm", "size": 8 }),
        ),
        ("proxmox_resize_disk_vm", json!({ "node": pve1, "vmid": 101, "disk": "scsi1", "size": "+2G" })),
        ("proxmox_move_disk_vm", json!({ "node": pve1, "vmid": 101, "disk": "scsi1", "storage": "local-zfs" })),
        ("proxmox_remove_disk_vm", json!({ "node": pve1, "vmid": 101, "disk": "scsi1" })),
        (
            "proxmox_add_mountpoint_lxc",
            json!({ "node": pve2, "vmid": 201, "mp": "mp1", "storage": "local-lvm", "size": 4, "path": "/srv/data" }),
        ),
        ("proxmox_resize_disk_lxc", json!({ "node": pve2, "vmid": 201, "disk": "mp1", "size": "+1G" })),
        ("proxmox_move_disk_lxc", json!({ "node": pve2, "vmid": 201, "disk": "mp1", "storage": "local-zfs" })),
        ("proxmox_remove_mountpoint_lxc", json!({ "node": pve2, "vmid": 201, "mp": "mp1" })),
        // Guest NICs
        ("proxmox_add_network_vm", json!({ "node": pve1, "vmid": 101, "net": "net1", "bridge": "vmbr0", "vlan": 20 })),
        ("proxmox_update_network_vm", json!({ "node": pve1, "vmid": 101, "net": "net1", "link_down": true })),
        ("proxmox_remove_network_vm", json!({ "node": pve1, "vmid": 101, "net": "net1" })),
        (
            "proxmox_add_network_lxc",
            json!({ "node": pve2, "vmid": 201, "net": "net1", "bridge": "vmbr0", "ip": "dhcp" }),
        ),
        (
            "proxmox_update_network_lxc",
            json!({ "node": pve2, "vmid": 201, "net": "net1", "ip": "192.0.2.31/24", "gw": "192.0.2.1" }),
        ),
        ("proxmox_remove_network_lxc", json!({ "node": pve2, "vmid": 201, "net": "net1" })),
        // Backups
        ("proxmox_create_backup_vm", json!({ "node": pve1, "vmid": 101, "storage": "local", "mode": "stop" })),
        ("proxmox_create_backup_lxc", json!({ "node": pve1, "vmid": 200, "storage": "nas-backup" })),
        ("proxmox_list_backups", json!({ "node": pve1, "storage": "local" })),
        (
            "proxmox_restore_backup_vm",
            json!({ "node": pve1, "vmid": 301, "archive": "local:backup/vzdump-qemu-101-2026_11_20-02_00_01.vma.zst", "storage": "local-lvm" }),
        ),
        (
            "proxmox_restore_backup_lxc",
            json!({ "node": pve1, "vmid": 401, "archive": "local:backup/vzdump-lxc-200-2026_11_20-02_10_00.tar.zst", "storage": "local-lvm" }),
        ),
        (
            "proxmox_delete_backup",
            json!({ "node": pve1, "storage": "local", "volume": "local:backup/vzdump-qemu-101-2026_11_20-02_00_01.vma.zst" }),
        ),
        // Creation, clones, templates, migration, deletion
        ("proxmox_list_templates", json!({ "node": pve1 })),
        (
            "proxmox_create_vm",
            json!({ "node": pve1, "vmid": 300, "name": "demo-vm", "disk_size": 16, "iso": "local:iso/debian-13.1.0-amd64-netinst.iso" }),
        ),
        (
            "proxmox_create_lxc",
            json!({ "node": pve1, "vmid": 400, "hostname": "demo-ct", "ostemplate": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst", "password": "demo-password-1" }),
        ),
        ("proxmox_clone_vm", json!({ "node": pve2, "vmid": 9000, "newid": 302, "name": "from-template" })),
        ("proxmox_clone_lxc", json!({ "node": pve2, "vmid": 201, "newid": 402, "hostname": "proxy-copy" })),
        ("proxmox_create_template_vm", json!({ "node": pve1, "vmid": 300 })),
        ("proxmox_create_template_lxc", json!({ "node": pve1, "vmid": 400 })),
        ("proxmox_migrate_vm", json!({ "node": pve1, "vmid": 301, "target": pve2 })),
        ("proxmox_migrate_lxc", json!({ "node": pve1, "vmid": 401, "target": pve2 })),
        ("proxmox_delete_vm", json!({ "node": pve2, "vmid": 302 })),
        ("proxmox_delete_lxc", json!({ "node": pve2, "vmid": 402, "purge": true })),
        // Storage Management
        ("proxmox_list_storage_config", json!({})),
        ("proxmox_get_storage_config", json!({ "storage": "local" })),
        (
            "proxmox_create_storage",
            json!({ "storage": "scratch", "type": "dir", "path": "/mnt/scratch", "content": "iso,backup" }),
        ),
        ("proxmox_update_storage", json!({ "storage": "scratch", "content": "iso" })),
        ("proxmox_delete_storage", json!({ "storage": "scratch" })),
        (
            "proxmox_upload_to_storage",
            json!({ "node": pve1, "storage": "local", "content": "iso", "file": "tiny.iso" }),
        ),
        (
            "proxmox_download_url_to_storage",
            json!({ "node": pve1, "storage": "local", "content": "iso", "url": "https://cdimage.example.org/debian-13.2.0-amd64-netinst.iso" }),
        ),
        ("proxmox_list_storage_content", json!({ "node": pve1, "storage": "local" })),
        (
            "proxmox_delete_storage_content",
            json!({ "node": pve1, "storage": "local", "volume": "local:iso/debian-13.1.0-amd64-netinst.iso" }),
        ),
        ("proxmox_list_file_restore", json!({ "node": pve1, "storage": "pbs", "volume": PBS_BACKUP })),
        (
            "proxmox_download_file_restore",
            json!({ "node": pve1, "storage": "pbs", "volume": PBS_BACKUP, "path": "/drive-scsi0.img.fidx/part/1/etc/hostname" }),
        ),
        ("proxmox_prune_backups", json!({ "node": pve1, "storage": "nas-backup", "keep-last": 1 })),
        // HA
        ("proxmox_get_ha_resources", json!({})),
        ("proxmox_get_ha_resource", json!({ "sid": "vm:100" })),
        ("proxmox_create_ha_resource", json!({ "sid": "ct:200", "state": "started", "max_restart": 2 })),
        ("proxmox_update_ha_resource", json!({ "sid": "ct:200", "comment": "resolver" })),
        ("proxmox_delete_ha_resource", json!({ "sid": "ct:200" })),
        ("proxmox_get_ha_groups", json!({})),
        ("proxmox_get_ha_group", json!({ "group": "prefer-pve1" })),
        ("proxmox_create_ha_group", json!({ "group": "demo-group", "nodes": "pve1:2,pve2:1" })),
        ("proxmox_update_ha_group", json!({ "group": "demo-group", "comment": "try it" })),
        ("proxmox_delete_ha_group", json!({ "group": "demo-group" })),
        ("proxmox_get_ha_status", json!({})),
        ("proxmox_list_ha_rules", json!({ "type": "node-affinity" })),
        ("proxmox_get_ha_rule", json!({ "rule": "web-on-pve1" })),
        (
            "proxmox_create_ha_rule",
            json!({ "rule": "demo-apart", "type": "resource-affinity", "resources": "vm:100,vm:101", "affinity": "negative" }),
        ),
        ("proxmox_update_ha_rule", json!({ "rule": "demo-apart", "type": "resource-affinity", "comment": "try it" })),
        ("proxmox_delete_ha_rule", json!({ "rule": "demo-apart" })),
        // Cluster firewall
        ("proxmox_list_cluster_firewall_rules", json!({})),
        ("proxmox_get_cluster_firewall_rule", json!({ "pos": 0 })),
        (
            "proxmox_create_cluster_firewall_rule",
            json!({ "type": "in", "action": "DROP", "proto": "tcp", "dport": "3128", "enable": 1, "comment": "no proxy" }),
        ),
        ("proxmox_update_cluster_firewall_rule", json!({ "pos": 0, "moveto": 2 })),
        ("proxmox_delete_cluster_firewall_rule", json!({ "pos": 2 })),
        ("proxmox_list_cluster_firewall_groups", json!({})),
        ("proxmox_get_cluster_firewall_group", json!({ "group": "webservers" })),
        ("proxmox_create_cluster_firewall_group", json!({ "group": "demo-sg", "comment": "try it" })),
        ("proxmox_update_cluster_firewall_group", json!({ "group": "demo-sg", "rename": "demo-sg2" })),
        ("proxmox_delete_cluster_firewall_group", json!({ "group": "demo-sg2" })),
        // Firewall options
        ("proxmox_get_firewall_options", json!({ "scope": "cluster" })),
        (
            "proxmox_update_firewall_options",
            json!({ "scope": "vm", "node": pve1, "vmid": 100, "enable": 1, "policy_in": "DROP" }),
        ),
        // Cluster jobs and options
        ("proxmox_list_cluster_backup_jobs", json!({})),
        ("proxmox_get_cluster_backup_job", json!({ "id": "backup-5f3a2c1e-7d10" })),
        (
            "proxmox_create_cluster_backup_job",
            json!({ "id": "demo-weekly", "schedule": "sat 03:00", "vmid": "101,200", "storage": "nas-backup", "mode": "snapshot" }),
        ),
        ("proxmox_update_cluster_backup_job", json!({ "id": "demo-weekly", "comment": "weekly", "enabled": false })),
        ("proxmox_delete_cluster_backup_job", json!({ "id": "demo-weekly" })),
        ("proxmox_list_cluster_replication_jobs", json!({})),
        ("proxmox_get_cluster_replication_job", json!({ "id": "100-0" })),
        ("proxmox_create_cluster_replication_job", json!({ "id": "101-0", "target": pve2, "schedule": "*/30" })),
        ("proxmox_update_cluster_replication_job", json!({ "id": "101-0", "rate": 50, "comment": "db" })),
        ("proxmox_delete_cluster_replication_job", json!({ "id": "101-0" })),
        ("proxmox_get_cluster_options", json!({})),
        ("proxmox_update_cluster_options", json!({ "keyboard": "de", "console": "xtermjs" })),
    ]
}

/// The PBS backup the demo's file-restore browses.
const PBS_BACKUP: &str = "pbs:backup/vm/100/2026-11-24T01:00:00Z";

/// Put the UPID / pid of earlier answers where the table asks for them.
pub fn fill(args: &mut Value, upid: &Option<String>, pid: &Option<u64>) {
    match args {
        Value::Object(map) => map.values_mut().for_each(|v| fill(v, upid, pid)),
        // (Left as they are if nothing was started: the call then fails and is reported.)
        Value::String(s) if s == "$UPID" && upid.is_some() => *args = json!(upid),
        Value::String(s) if s == "$PID" && pid.is_some() => *args = json!(pid),
        _ => {}
    }
}
