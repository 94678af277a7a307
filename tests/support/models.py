"""Deterministic models for server tests, resolved inside the server process by the handle
`test/function:tests.support.models:<name>` (the test servers set TROUPE_ENABLE_TEST_MODELS=1).

`scripted` follows a script carried in the message itself, so each test states exactly which
tool calls the agent makes and the loop, store and API do the rest for real:

    SCRIPT: [{"tool": "core_memory_append", "args": {"label": "human", "content": "x"}},
             {"tool": "send_message", "args": {"message": "done"}}]

Step i of a turn answers with entry i. An entry may be {"text": "..."} (a plain reply),
{"tool": ..., "raw": "<arguments text>"} (arguments sent verbatim, e.g. broken JSON), and may
set "heartbeat": false. An argument "{sender}" is replaced by the id of the agent whose
message is being answered."""

import asyncio
import contextlib
import json
import re
import uuid
from dataclasses import replace
from typing import Any

from troupe.llm.base import ChatMessage, ModelRequest, ModelResponse, ToolCall, Usage
from troupe.schemas.cross_agent import sent_text

MARKER = "SCRIPT:"
SENDER = re.compile(r"\[Message from agent .*? \((agent-[0-9a-f-]+)\)\]")


def _turn_input(request: ModelRequest) -> tuple[str, list[ChatMessage]]:
    """The message that started this turn (the last user-role one) and what followed it."""
    for index in range(len(request.messages) - 1, -1, -1):
        if request.messages[index].role == "user":
            return request.messages[index].content or "", request.messages[index + 1 :]
    return "", []


def _call(name: str, arguments: dict[str, Any] | str) -> ModelResponse:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ModelResponse(
        tool_calls=(ToolCall(f"call-{uuid.uuid4().hex[:12]}", name, text),),
        usage=Usage(prompt_tokens=10, completion_tokens=5),
    )


def _substitute(value: Any, sender: str) -> Any:
    """An argument that is exactly "{sender}" becomes the sender's id (scripts nested in a
    message keep theirs for the agent that receives them)."""
    if value == "{sender}":
        return sender
    if isinstance(value, dict):
        return {k: _substitute(v, sender) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, sender) for v in value]
    return value


def scripted(request: ModelRequest) -> ModelResponse:
    text, after = _turn_input(request)
    step = sum(1 for m in after if m.role == "assistant")
    sender_match = SENDER.search(text)
    sender = sender_match.group(1) if sender_match else ""
    if MARKER not in text:
        first_line = text.splitlines()[0] if text else ""
        if step == 0:
            return _call("send_message", {"message": f"ack: {first_line}"})
        return _call("send_message", {"message": "done"})
    script = json.loads(text.split(MARKER, 1)[1].strip().splitlines()[0])
    if step >= len(script):
        return _call("send_message", {"message": "script finished"})
    entry = script[step]
    if "text" in entry:
        return ModelResponse(content=entry["text"], usage=Usage(10, 5))
    if "raw" in entry:
        return _call(entry["tool"], entry["raw"])
    arguments = dict(_substitute(entry.get("args", {}), sender))
    more = step + 1 < len(script)
    if entry["tool"] not in {"send_message", "send_message_to_agent_async"}:
        arguments.setdefault("request_heartbeat", entry.get("heartbeat", more))
    return _call(entry["tool"], arguments)


def always_search(request: ModelRequest) -> ModelResponse:
    """Never finishes on its own: every step asks to be called again."""
    return _call("conversation_search", {"query": "anything", "request_heartbeat": True})


def ponger(request: ModelRequest) -> ModelResponse:
    """Answers any agent's message with an async "pong" to that agent."""
    text, after = _turn_input(request)
    sender = SENDER.search(text)
    if sender and not after:
        return _call(
            "send_message_to_agent_async", {"message": "pong", "other_agent_id": sender.group(1)}
        )
    return _call("send_message", {"message": "pong sent" if sender else "nobody to answer"})


def report_memory(request: ModelRequest) -> ModelResponse:
    """Replies with the memory section of the system prompt it was given (what it 'sees')."""
    _, after = _turn_input(request)
    if after:
        return _call("send_message", {"message": "done"})
    system = request.messages[0].content or ""
    memory = system.split("<memory_blocks>", 1)[-1] if "<memory_blocks>" in system else ""
    return _call("send_message", {"message": memory})


def fan_out(request: ModelRequest) -> ModelResponse:
    """ "FANOUT <agent id> <n>": one step with n async sends ("<000>", "<001>", ...), so all n
    deliveries are written by one transaction; then a reply."""
    text, after = _turn_input(request)
    if after:
        return _call("send_message", {"message": "sent"})
    _, target, count = text.split()
    calls = tuple(
        ToolCall(
            f"call-{i}",
            "send_message_to_agent_async",
            json.dumps({"message": f"<{i:03d}>", "other_agent_id": target}),
        )
        for i in range(int(count))
    )
    return ModelResponse(tool_calls=calls, usage=Usage(10, 5))


RENDEZVOUS = re.compile(r"RENDEZVOUS (\S+) (\d+)")
RENDEZVOUS_WAIT_S = 15.0  # generous: 20 runs start in well under a second
_arrived: dict[str, int] = {}
_all_here: dict[str, asyncio.Event] = {}


async def rendezvous(request: ModelRequest) -> ModelResponse:
    """ "RENDEZVOUS <key> <n>": the model call waits until n calls with that key are in flight
    at once (or RENDEZVOUS_WAIT_S passes), then replies "met <k> of <n>". Run one after the
    other, the first call could only meet itself: concurrency shown by counting, not timing."""
    text, after = _turn_input(request)
    found = RENDEZVOUS.search(text)
    if after or not found:
        return _call("send_message", {"message": "done"})
    key, wanted = found.group(1), int(found.group(2))
    _arrived[key] = _arrived.get(key, 0) + 1
    everyone = _all_here.setdefault(key, asyncio.Event())
    if _arrived[key] >= wanted:
        everyone.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(everyone.wait(), RENDEZVOUS_WAIT_S)
    return _call("send_message", {"message": f"met {_arrived[key]} of {wanted}"})


def broken(request: ModelRequest) -> ModelResponse:
    """A model whose every call fails, as a provider that is down: the run fails with an error."""
    raise RuntimeError("the model is down")


def note_taker(request: ModelRequest) -> ModelResponse:
    """ "Remember: <fact>" -> a thought and a call appending the fact to the `human` block, then
    a reply saying so: a two-step turn in plain words (what the ADE's screenshots show). A
    message from another agent is acknowledged; anything else is answered as `scripted` would."""
    text, after = _turn_input(request)
    fact = text.partition("Remember:")[2].strip()
    if SENDER.search(text) and MARKER not in text and not after:
        return _call("send_message", {"message": f"Got {sent_text(text)!r} back."})
    if not fact:
        return scripted(request)
    if not after:
        call = _call(
            "core_memory_append", {"label": "human", "content": fact, "request_heartbeat": True}
        )
        return replace(call, content="A fact about the user: it belongs in the human block.")
    return _call("send_message", {"message": f"Noted: {fact}"})


def delegator(request: ModelRequest) -> ModelResponse:
    """ "Ask <tag>,<tag>: <task>" -> broadcasts the task to the agents with all those tags,
    then reports how many answered: a supervisor in plain words."""
    text, after = _turn_input(request)
    tags, _, task = text.partition(":")
    if not after:
        return _call(
            "send_message_to_agents_matching_all_tags",
            {
                "message": task.strip(),
                "tags": [t.strip() for t in tags.removeprefix("Ask").split(",")],
                "request_heartbeat": True,
            },
        )
    results = json.loads(after[-1].content or "[]")
    return _call("send_message", {"message": f"{len(results)} workers reported back."})


def worker(request: ModelRequest) -> ModelResponse:
    """Answers any message with a one-line report on what it was asked."""
    text, _ = _turn_input(request)
    return _call("send_message", {"message": f"Report on: {sent_text(text)}"})


STATUS_OF = re.compile(r'"assigned_to": "(?P<name>[^"]+)", "status": "(?P<status>[^"]*)"')
WORKER_NAME = re.compile(r"You are (worker_\d+)")
BROADCAST_TAGS = re.compile(r"\(tags (\[[^\]]*\])\)")


def team_member(request: ModelRequest) -> ModelResponse:
    """The cookbook's team, as a capable model would play it. The supervisor broadcasts the
    user's message to the workers, then sums up their replies; a worker moves its own task's
    status to in_review in the shared block, then tells the supervisor. Either role is read
    from its system prompt, the task board from the memory the prompt shows."""
    from troupe.cookbook.team import BROADCAST, SHARED_LABEL

    system = request.messages[0].content or ""
    text, after = _turn_input(request)
    step = sum(1 for m in after if m.role == "assistant")
    worker = WORKER_NAME.search(system)
    if worker is None:  # the supervisor
        if step == 0:
            tags = json.loads(BROADCAST_TAGS.search(system).group(1))  # type: ignore[union-attr]
            return _call(BROADCAST, {"message": text, "tags": tags, "request_heartbeat": True})
        results = next((m.content for m in reversed(after) if m.role == "tool"), "") or "[]"
        try:
            replies = [
                f"{r['name']}: {r.get('reply', r.get('error'))}" for r in json.loads(results)
            ]
        except (json.JSONDecodeError, TypeError, KeyError):
            replies = [results]
        return _call("send_message", {"message": "Team update. " + " | ".join(replies)})
    name = worker.group(1)
    current = next((m["status"] for m in STATUS_OF.finditer(system) if m["name"] == name), "")
    if step == 0:
        return _call(
            "memory_replace",
            {
                "label": SHARED_LABEL,
                "old_str": f'"assigned_to": "{name}", "status": "{current}"',
                "new_str": f'"assigned_to": "{name}", "status": "in_review"',
                "request_heartbeat": True,
            },
        )
    return _call("send_message", {"message": f"{name} here: my task is now {current}."})


def transcript(request: ModelRequest) -> ModelResponse:
    """Replies with every user-role message of its context, oldest first, joined by " | ":
    what it was shown of the agent's history."""
    said = [m.content or "" for m in request.messages[1:] if m.role == "user"]
    return _call("send_message", {"message": " | ".join(said)})
