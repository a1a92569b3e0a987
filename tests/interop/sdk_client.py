"""The official MCP Python SDK client (PyPI `mcp`) against `proxmox-mcp --demo --http`, in each
of its connection modes: `legacy` (the 2025 initialize handshake, with a session), `auto` (it
probes `server/discover` and takes the newest era) and a pinned `2026-07-28` (stateless).

Usage: python sdk_client.py path/to/proxmox-mcp   (run by .ci/run)"""
import asyncio, os, socket, subprocess, sys, time
from mcp import Client

BIN = sys.argv[1]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

async def run(url, mode):
    async with Client(url, mode=mode) as c:
        if mode == "legacy":
            await c.send_ping()
        tools = await c.list_tools()
        names = [t.name for t in tools.tools]
        assert "proxmox_get_vms" in names, names
        r = await c.call_tool("proxmox_get_vms", {"limit": 2})
        assert not r.is_error, r
        sc = r.structured_content
        assert sc["matched"] >= 2 and len(sc["guests"]) == 2, sc
        bad = await c.call_tool("proxmox_get_vm_status", {"vmid": 99})
        assert bad.is_error, bad
        ping = "ping ok, " if mode == "legacy" else ""
        print(f"{mode}: {ping}{len(names)} tools, get_vms ok ({sc['matched']} matched), bad call isError")

async def main():
    port = free_port()
    env = dict(os.environ, PROXMOX_LOG_LEVEL="warn")
    p = subprocess.Popen([BIN, "--demo", "--http", f"127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close(); break
            except OSError:
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/mcp"
        for mode in ["legacy", "auto", "2026-07-28"]:
            await run(url, mode)
    finally:
        p.terminate(); p.wait(10)

asyncio.run(main())
