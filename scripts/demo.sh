#!/usr/bin/env bash
# `make demo`: start troupe on a fresh SQLite database, run the two steps of the
# supervisor–worker workflow against it with the official SDK (step 1 creates the team,
# step 2 sends the seed's message and writes the log), print the log's path and a summary,
# stop the server. Everything runs offline, on the embedded model unless TROUPE_DEMO_MODEL
# names another handle (then TROUPE_DEMO_TOOL_RULES=0 lets a real model lead the flow).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
out="$PWD/demo-output"
rm -rf "$out" && mkdir -p "$out"
model="${TROUPE_DEMO_MODEL:-local/smollm2-135m}"
rules=()
[ "${TROUPE_DEMO_TOOL_RULES:-1}" = 0 ] && rules=(--no-tool-rules)
port="${TROUPE_DEMO_PORT:-$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
url="http://127.0.0.1:$port"
message="What's the status of our quarterly analysis project? Please coordinate with all workers to provide a progress update focusing on Q1 growth trends in the eastern region."
started=$SECONDS

# TROUPE_REPLY_TIMEOUT: as troupe/cookbook/team.py's DEMO_SERVER_ENV says.
TROUPE_REPLY_TIMEOUT="${TROUPE_REPLY_TIMEOUT:-900}" \
TROUPE_DATABASE_URL="sqlite:///$out/troupe.db" .venv/bin/troupe server --host 127.0.0.1 \
  --port "$port" --log-level warning >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  curl -fs "$url/v1/health/" >/dev/null 2>&1 && break
  kill -0 $server_pid 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.2
done
echo "troupe is up at $url (SQLite: $out/troupe.db)"

echo "== step 1: the shared block team_tasks, the supervisor and three workers ($model)"
$py examples/multi-agent-workflow/1_multi_agent_letta.py --server "$url" --model "$model" \
  "${rules[@]}" | tee "$out/step1.txt"
supervisor=$(awk '$1 == "supervisor:" {print $2}' "$out/step1.txt")
workers=$(awk '$1 ~ /^worker_[0-9]+:$/ {print $2}' "$out/step1.txt")

echo
echo "== step 2: the seed's message to the supervisor (a 135M model on the CPU: a few minutes)"
# shellcheck disable=SC2086  # one argument per worker id
$py examples/multi-agent-workflow/interact_with_multi_agent.py --server "$url" \
  --supervisor "$supervisor" --workers $workers --message "$message" \
  --output "$out/my_log.txt"

echo
echo "demo log:   $out/my_log.txt"
echo "server log: $out/server.log"
echo "took $((SECONDS - started)) s"
