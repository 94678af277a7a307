"""The two steps of the cookbook with the official letta-client SDK (the 1.x line and the
0.1.x line alike): create the team, then message the supervisor and write the log.

The example scripts and `troupe demo` both call these functions with their SDK client, so
the workflow exists once; what differs between the two SDK lines is handled here."""

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from troupe.cookbook import report, team
from troupe.cookbook.watch import Progress, fetch_trace, trace_of_run

TIMEOUT_S = 1800.0  # a turn of four agents on a 135M model on 2 cores takes a minute or two
HISTORY = 500
SDK_ERRORS = ("letta_client", "httpx", "httpcore")
NO_SERVER_HINT = "Is the server running? Start one with `troupe server`, or pass --server URL."
Out = Callable[[str], None]


def run_script(main: Callable[[], int]) -> int:
    """Run an example script's `main`: what a user can get wrong (no server there, an
    unknown id) ends in one line and exit status 1, not a traceback."""
    try:
        return main()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the two SDK lines raise different classes for the same thing
        if not (isinstance(exc, LookupError) or type(exc).__module__.startswith(SDK_ERRORS)):
            raise
        text = " ".join(str(exc).split())
        if "Connect" in type(exc).__name__:
            text = text.rstrip(".") + f". {NO_SERVER_HINT}"
        print(f"error: {type(exc).__name__}: {text}", file=sys.stderr)
        return 1


def connect(server: str) -> Any:
    """A letta-client `Letta` for the server, whichever SDK line is installed."""
    from letta_client import Letta

    key = os.environ.get("TROUPE_API_KEY") or os.environ.get("LETTA_API_KEY")
    try:  # 1.x. No retries: a retried message would be a second message.
        return Letta(base_url=server, api_key=key, timeout=TIMEOUT_S, max_retries=0)
    except TypeError:  # 0.1.x
        return Letta(base_url=server, token=key, timeout=TIMEOUT_S)  # type: ignore[call-arg]


def as_dict(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else dict(item.model_dump(mode="json"))


@dataclass(frozen=True)
class TeamIds:
    block_id: str
    supervisor_id: str
    worker_ids: list[str]


def create_team(client: Any, *, model: str, tool_rules: bool = True, out: Out = print) -> TeamIds:
    """Step 1: the shared block, the supervisor and the workers."""
    block = client.blocks.create(**team.shared_block())
    out(f"shared block {team.SHARED_LABEL}: {block.id}")
    ids = []
    team_id = team.new_team_id()
    out(f"team tag: {team_id}")
    for member in [team.supervisor(tool_rules, team_id), *team.workers(tool_rules, team_id)]:
        persona = client.blocks.create(**team.persona_block(member))
        agent = client.agents.create(**team.agent_body(member, block.id, persona.id, model))
        out(f"{member.name}: {agent.id}")
        ids.append(agent.id)
    return TeamIds(block.id, ids[0], ids[1:])


class Session:
    """Step 2: messages to the supervisor, and what they caused."""

    def __init__(
        self, client: Any, server: str, supervisor_id: str, worker_ids: list[str], out: Out
    ) -> None:
        self.client, self.server, self.out = client, server, out
        self.team = [supervisor_id, *worker_ids]
        self.agents = [as_dict(client.agents.retrieve(agent_id=a)) for a in self.team]
        self.names = {a["id"]: a["name"] for a in self.agents}
        shared = [b for b in _blocks(self.agents[0]) if b["label"] == team.SHARED_LABEL]
        if not shared:
            raise LookupError(f"{self.names[supervisor_id]} has no {team.SHARED_LABEL} block")
        self.block_id = shared[0]["id"]
        self.exchanges: list[report.Exchange] = []

    def shared_memory(self) -> str:
        return str(self.client.blocks.retrieve(block_id=self.block_id).value)

    def ask(self, message: str) -> report.Exchange:
        supervisor = self.team[0]
        self.out(f"→ {self.names[supervisor]}: {message}")
        started = time.monotonic()
        with Progress(self.server, self.names, self.out):
            response = self.client.agents.messages.create(
                agent_id=supervisor, messages=[{"role": "user", "content": message}]
            )
            trace_id = self._trace_id(response)
            trace = _settled_trace(self.server, trace_id) if trace_id else None
        replies = [
            str(m.content) for m in response.messages if m.message_type == "assistant_message"
        ]
        for reply in replies:
            self.out(f"← {self.names[supervisor]}: {reply}")
        exchange = report.Exchange(
            message=message,
            seconds=time.monotonic() - started,
            replies=replies,
            trace=trace,
            messages=self._messages_of(report.trace_run_ids(trace)),
        )
        self.exchanges.append(exchange)
        return exchange

    def _trace_id(self, response: Any) -> str | None:
        """troupe puts `trace_id` on the response; from elsewhere, ask the run."""
        trace_id = getattr(response, "trace_id", None)
        if trace_id:
            return str(trace_id)
        run_id = next((getattr(m, "run_id", None) for m in response.messages), None)
        return trace_of_run(self.server, run_id) if run_id else None

    def _messages_of(self, run_ids: set[str]) -> list[dict[str, Any]]:
        found = []
        for agent_id in self.team:
            page = self.client.agents.messages.list(agent_id=agent_id, limit=HISTORY)
            found += [m for m in map(as_dict, page) if m.get("run_id") in run_ids]
        return found


def run_session(
    session: Session, messages: Iterable[str], output: str, started: datetime
) -> list[str]:
    """Send each message, writing the log after each one (an interrupted session keeps
    what it did); returns the summary lines."""
    before = after = session.shared_memory()
    for message in messages:
        session.ask(message)
        after = session.shared_memory()
        log = report.build_log(
            server=session.server,
            agents=session.agents,
            block_id=session.block_id,
            before=before,
            after=after,
            exchanges=session.exchanges,
            started=started,
        )
        with open(output, "w", encoding="utf-8") as file:
            file.write(log + "\n")
    return report.summary(session.exchanges, session.names, before, after)


def _blocks(agent: dict[str, Any]) -> list[dict[str, Any]]:
    return list(agent.get("blocks") or (agent.get("memory") or {}).get("blocks") or [])


def _settled_trace(server: str, trace_id: str, timeout_s: float = TIMEOUT_S) -> Any:
    """The trace once none of its runs is still going: async deliveries may outlive the
    supervisor's own turn."""
    deadline = time.monotonic() + timeout_s
    while True:
        trace = fetch_trace(server, trace_id)
        if trace is None or not _busy(trace["runs"]) or time.monotonic() > deadline:
            return trace
        time.sleep(1)


def _busy(runs: list[dict[str, Any]]) -> bool:
    return any(r["status"] in {"created", "running"} or _busy(r["children"]) for r in runs)
