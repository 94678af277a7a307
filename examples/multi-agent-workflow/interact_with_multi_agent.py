"""Step 2 of the supervisor-worker workflow: message the supervisor, let it coordinate the
workers, and write a log a person can read.

    python examples/multi-agent-workflow/interact_with_multi_agent.py \\
        --supervisor AGENT_ID --workers AGENT_ID AGENT_ID AGENT_ID \\
        --message "What's the status of our quarterly analysis project? ..." --output my_log.txt

Works with the official letta-client SDK, the current 1.x line and the 0.1.x line alike.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime
from typing import Any

import httpx
from letta_client import Letta


def connect(server: str) -> Any:
    key = os.environ.get("TROUPE_API_KEY") or os.environ.get("LETTA_API_KEY")
    if not key:
        return Letta(base_url=server)
    try:
        return Letta(base_url=server, api_key=key)  # letta-client 1.x
    except TypeError:
        return Letta(base_url=server, token=key)  # letta-client 0.1.x


def messages_of(client: Any, agent_id: str) -> list[Any]:
    return list(client.agents.messages.list(agent_id=agent_id, limit=1000))


def describe(message: Any, names: dict[str, str]) -> str:
    kind = message.message_type
    if kind == "user_message":
        return f"user → {names.get('_self')}: {message.content}"
    if kind == "system_message":
        sender = getattr(message, "sender_id", None)
        if sender:
            return f"{names.get(sender, sender)} → {names.get('_self')}: {message.content}"
        return f"system: {message.content}"
    if kind == "assistant_message":
        return f"says: {message.content}"
    if kind == "reasoning_message":
        return f"thinks: {message.reasoning}"
    if kind == "tool_call_message":
        return f"calls {message.tool_call.name}({message.tool_call.arguments})"
    if kind == "tool_return_message":
        return f"{message.status}: {message.tool_return}"
    return kind


def shared_blocks(client: Any, agent_id: str) -> dict[str, str]:
    agent = client.agents.retrieve(agent_id=agent_id)
    return {b.label: b.value for b in agent.memory.blocks if b.label != "persona"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supervisor", required=True)
    parser.add_argument("--workers", nargs="+", required=True)
    parser.add_argument("--message", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--server", default=os.environ.get("TROUPE_URL", "http://127.0.0.1:8283"))
    parser.add_argument("--interactive", action="store_true", help="keep asking for messages")
    args = parser.parse_args()

    client = connect(args.server)
    team = [args.supervisor, *args.workers]
    agents = {agent_id: client.agents.retrieve(agent_id=agent_id) for agent_id in team}
    names = {agent_id: agent.name for agent_id, agent in agents.items()}
    log: list[str] = [f"# multi-agent run, {datetime.now().isoformat(timespec='seconds')}", ""]
    log += ["## configuration", f"server: {args.server}"]
    for agent_id, agent in agents.items():
        tools = ", ".join(t.name for t in agent.tools)
        log.append(
            f"- {agent.name} ({agent_id}), model {agent.llm_config.model}, "
            f"tags {agent.tags}, tools: {tools}"
        )
    before = shared_blocks(client, args.supervisor)
    log += ["", "## shared memory before"] + [f"### {k}\n{v}" for k, v in before.items()]
    seen = {agent_id: {m.id for m in messages_of(client, agent_id)} for agent_id in team}

    message = args.message
    while True:
        started = time.monotonic()
        print(f"→ {names[args.supervisor]}: {message}", flush=True)
        response = client.agents.messages.create(
            agent_id=args.supervisor, messages=[{"role": "user", "content": message}]
        )
        trace_id = wait_for_team(client, args, team, started, names)
        for item in response.messages:
            if item.message_type == "assistant_message":
                print(f"← {names[args.supervisor]}: {item.content}", flush=True)
        log += activity(client, team, names, seen)
        if trace_id:
            log += [
                "",
                "## trace",
                f"trace id: {trace_id}",
                "```mermaid",
                fetch_diagram(args.server, trace_id).rstrip(),
                "```",
            ]
        if not args.interactive:
            break
        message = input("next message (empty to stop): ").strip()
        if not message:
            break

    after = shared_blocks(client, args.supervisor)
    log += ["", "## shared memory after"] + [f"### {k}\n{v}" for k, v in after.items()]
    with open(args.output, "w", encoding="utf-8") as out:
        out.write("\n".join(log) + "\n")
    print(f"log written to {args.output}")
    return 0


def wait_for_team(
    client: Any, args: Any, team: list[str], started: float, names: dict[str, str]
) -> str | None:
    """Wait until no run of the team is still going (async replies arrive after the
    supervisor's turn), showing progress; returns the trace id of the request."""
    headers = {}
    if key := os.environ.get("TROUPE_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    with httpx.Client(base_url=args.server, headers=headers, timeout=30) as http:
        trace_id = None
        while time.monotonic() - started < 600:
            runs = []
            for agent_id in team:
                runs += http.get("/v1/runs/", params={"agent_id": agent_id, "limit": 20}).json()
            busy = [r for r in runs if r["status"] in {"created", "running"}]
            mine = [
                r for r in runs if r["agent_id"] == args.supervisor and not r.get("parent_run_id")
            ]
            if mine:
                trace_id = max(mine, key=lambda r: r["created_at"])["trace_id"]
            if not busy:
                return trace_id
            print(
                f"  … {len(busy)} run(s) in progress: "
                + ", ".join(sorted({names[r["agent_id"]] for r in busy})),
                flush=True,
            )
            time.sleep(1)
    return trace_id


def activity(
    client: Any, team: list[str], names: dict[str, str], seen: dict[str, set[str]]
) -> list[str]:
    """Every new message of every agent, in time order."""
    rows = []
    for agent_id in team:
        for message in messages_of(client, agent_id):
            if message.id in seen[agent_id]:
                continue
            seen[agent_id].add(message.id)
            rows.append((message.date, agent_id, message))
    rows.sort(key=lambda r: r[0])
    lines = ["", "## activity (time order)"]
    for date, agent_id, message in rows:
        text = describe(message, {**names, "_self": names[agent_id]})
        lines.append(
            f"{date.strftime('%H:%M:%S.%f')[:-3]} [{names[agent_id]}] "
            f"{message.message_type}: {text}"
        )
    return lines


def fetch_diagram(server: str, trace_id: str) -> str:
    headers = {}
    if key := os.environ.get("TROUPE_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    response = httpx.get(f"{server}/v1/traces/{trace_id}", headers=headers, timeout=30)
    if response.status_code != 200:
        return f"(no trace: {response.status_code})"
    return str(json.loads(response.text)["mermaid"])


if __name__ == "__main__":
    sys.exit(main())
