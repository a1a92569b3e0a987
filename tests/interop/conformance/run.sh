#!/usr/bin/env bash
# Two official MCP checkers, pinned with the Node.js 22 they need in package.json here:
# - the conformance suite (npm @modelcontextprotocol/conformance) against
#   `proxmox-mcp --demo --http` on loopback: the four server scenarios of issue 14. Its other
#   scenarios test the fixtures of the SDKs' "everything" servers (tools named test_*, prompts,
#   resources) and do not apply;
# - the MCP Inspector's `--strict` schema-portability lint of tools/list over stdio, compact and
#   full listing with every tool listed: any finding, error or warning, fails.
#
# Usage: tests/interop/conformance/run.sh path/to/proxmox-mcp   (run by .ci/run)
set -euo pipefail
BIN="$(realpath "$1")"
cd "$(dirname "$0")"

if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is needed to install the conformance suite" >&2
    exit 1
fi
if [ ! -x node_modules/.bin/conformance ] || [ ! -x node_modules/.bin/mcp-inspector ] || [ ! -x node_modules/.bin/node ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
# The suite runs on the pinned Node 22, not on whatever node the machine has.
export PATH="$PWD/node_modules/.bin:$PATH"
node --version

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
PROXMOX_LOG_LEVEL=warn "$BIN" --demo --http "127.0.0.1:$PORT" >/dev/null &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.1)" 2>/dev/null; then break; fi
    sleep 0.05
done

for scenario in server-initialize ping tools-list dns-rebinding-protection; do
    # Non-zero when a check fails; the pretty report goes to the log either way.
    conformance server --url "http://127.0.0.1:$PORT/mcp" --scenario "$scenario"
done
echo "conformance: server-initialize, ping, tools-list, dns-rebinding-protection passed"

for detail in compact full; do
    findings="$(mcp-inspector --cli --method tools/list --strict --format json \
        -e PROXMOX_ALLOW_ELEVATED=true -e PROXMOX_TOOL_SCHEMA="$detail" -e PROXMOX_LOG_LEVEL=warn \
        "$BIN" --demo 2>/dev/null |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d["result"]["tools"]), "tools,", json.dumps(d.get("schemaFindings", [])))')"
    echo "inspector --strict, $detail listing: $findings"
    case "$findings" in
        *"tools, []") ;;
        *) echo "error: the Inspector found schema portability problems (above)" >&2; exit 1 ;;
    esac
done
