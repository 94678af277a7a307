#!/usr/bin/env bash
# `make demo`: start troupe on a fresh SQLite database, run the multi-agent workflow against
# it with the official SDK, print where the log is, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/demo-output"
rm -rf "$out" && mkdir -p "$out"
log="$out/demo.log"
port="${TROUPE_DEMO_PORT:-8283}"
url="http://127.0.0.1:$port"

TROUPE_DATABASE_URL="sqlite:///$out/troupe.db" .venv/bin/troupe server --host 127.0.0.1 \
  --port "$port" --log-level warning >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  curl -fs "$url/v1/health/" >/dev/null 2>&1 && break
  kill -0 $server_pid 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.2
done

echo "troupe is up at $url (SQLite: $out/troupe.db)"
{
  echo "== step 1: create the shared block, the supervisor and the workers"
  .venv/bin/python examples/multi-agent-workflow/1_multi_agent_letta.py --server "$url"
  echo
  echo "== agents on the server"
  COLUMNS=160 TROUPE_URL="$url" .venv/bin/troupe agents list
  echo "== blocks on the server"
  COLUMNS=160 TROUPE_URL="$url" .venv/bin/troupe blocks list
} 2>&1 | tee "$log"
echo
echo "demo log: $log"
echo "server log: $out/server.log"
