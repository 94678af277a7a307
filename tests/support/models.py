"""Deterministic models for server tests, resolved inside the server process by the handle
`test/function:tests.support.models:<name>` (the test servers set TROUPE_ENABLE_TEST_MODELS=1).
The script-following model most tests use ships in the package: `test/scripted`
(`troupe.llm.testing.scripted`)."""

import ast
import asyncio
import contextlib
import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from troupe.llm.base import ModelError, ModelRequest, ModelResponse, ToolCall, Usage
from troupe.llm.testing import SCRIPT_MARKER, call, scripted, turn_input
from troupe.schemas.cross_agent import sender_of, sent_text


def always_search(request: ModelRequest) -> ModelResponse:
    """Never finishes on its own: every step asks to be called again."""
    return call("conversation_search", {"query": "anything", "request_heartbeat": True})


def ponger(request: ModelRequest) -> ModelResponse:
    """Answers any agent's message with an async "pong" to that agent."""
    text, after = turn_input(request)
    sender = sender_of(text)
    if sender and not after:
        return call("send_message_to_agent_async", {"message": "pong", "other_agent_id": sender})
    return call("send_message", {"message": "pong sent" if sender else "nobody to answer"})


def report_memory(request: ModelRequest) -> ModelResponse:
    """Replies with the memory section of the system prompt it was given (what it 'sees')."""
    _, after = turn_input(request)
    if after:
        return call("send_message", {"message": "done"})
    system = request.messages[0].content or ""
    memory = system.split("<memory_blocks>", 1)[-1] if "<memory_blocks>" in system else ""
    return call("send_message", {"message": memory})


def fan_out(request: ModelRequest) -> ModelResponse:
    """ "FANOUT <agent id> <n>": one step with n async sends ("<000>", "<001>", ...), so all n
    deliveries are written by one transaction; then a reply."""
    text, after = turn_input(request)
    if after:
        return call("send_message", {"message": "sent"})
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
    text, after = turn_input(request)
    found = RENDEZVOUS.search(text)
    if after or not found:
        return call("send_message", {"message": "done"})
    key, wanted = found.group(1), int(found.group(2))
    _arrived[key] = _arrived.get(key, 0) + 1
    everyone = _all_here.setdefault(key, asyncio.Event())
    if _arrived[key] >= wanted:
        everyone.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(everyone.wait(), RENDEZVOUS_WAIT_S)
    return call("send_message", {"message": f"met {_arrived[key]} of {wanted}"})


def broken(request: ModelRequest) -> ModelResponse:
    """A model whose every call fails, as a provider that is down: the run fails with an error."""
    raise RuntimeError("the model is down")


def unreachable(request: ModelRequest) -> ModelResponse:
    """A provider that cannot be used, as an adapter reports one after its retries: the run
    fails with Letta's `llm_api_error`."""
    raise ModelError("fake/unreachable: the provider answered HTTP 503: try again later")


def note_taker(request: ModelRequest) -> ModelResponse:
    """ "Remember: <fact>" -> a thought and a call appending the fact to the `human` block, then
    a reply saying so: a two-step turn in plain words (what the ADE's screenshots show). A
    message from another agent is acknowledged; anything else is answered as `scripted` would."""
    text, after = turn_input(request)
    fact = text.partition("Remember:")[2].strip()
    if sender_of(text) and SCRIPT_MARKER not in text and not after:
        return call("send_message", {"message": f"Got {sent_text(text)!r} back."})
    if not fact:
        return scripted(request)
    if not after:
        append = call(
            "core_memory_append", {"label": "human", "content": fact, "request_heartbeat": True}
        )
        return replace(append, content="A fact about the user: it belongs in the human block.")
    return call("send_message", {"message": f"Noted: {fact}"})


def delegator(request: ModelRequest) -> ModelResponse:
    """ "Ask <tag>,<tag>: <task>" -> broadcasts the task to the agents with all those tags,
    then reports how many answered: a supervisor in plain words."""
    text, after = turn_input(request)
    tags, _, task = text.partition(":")
    if not after:
        return call(
            "send_message_to_agents_matching_all_tags",
            {
                "message": task.strip(),
                "tags": [t.strip() for t in tags.removeprefix("Ask").split(",")],
                "request_heartbeat": True,
            },
        )
    results = ast.literal_eval(after[-1].content or "[]")  # Letta's result: Python text
    return call("send_message", {"message": f"{len(results)} workers reported back."})


def worker(request: ModelRequest) -> ModelResponse:
    """Answers any message with a one-line report on what it was asked."""
    text, _ = turn_input(request)
    return call("send_message", {"message": f"Report on: {sent_text(text)}"})


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
    text, after = turn_input(request)
    step = sum(1 for m in after if m.role == "assistant")
    worker = WORKER_NAME.search(system)
    if worker is None:  # the supervisor
        if step == 0:
            arguments: dict[str, Any] = {"message": text, "request_heartbeat": True}
            named = BROADCAST_TAGS.search(system)  # with the rules, a rule prefills the tags
            if named:
                arguments["tags"] = json.loads(named.group(1))
            return call(BROADCAST, arguments)
        results = next((m.content for m in reversed(after) if m.role == "tool"), "") or "[]"
        try:  # Letta's answer: the Python text of [{"agent_id", "response": [...]}, ...]
            replies = [
                f"{r['agent_id']}: {' '.join(r.get('response') or [r.get('error')])}"
                for r in ast.literal_eval(results)
            ]
        except (ValueError, SyntaxError, TypeError, KeyError):
            replies = [results]
        return call("send_message", {"message": "Team update. " + " | ".join(replies)})
    name = worker.group(1)
    current = next((m["status"] for m in STATUS_OF.finditer(system) if m["name"] == name), "")
    if step == 0:
        return call(
            "memory_replace",
            {
                "label": SHARED_LABEL,
                "old_str": f'"assigned_to": "{name}", "status": "{current}"',
                "new_str": f'"assigned_to": "{name}", "status": "in_review"',
                "request_heartbeat": True,
            },
        )
    return call("send_message", {"message": f"{name} here: my task is now {current}."})


def transcript(request: ModelRequest) -> ModelResponse:
    """Replies with every user-role message of its context, oldest first, joined by " | ":
    what it was shown of the agent's history."""
    said = [m.content or "" for m in request.messages[1:] if m.role == "user"]
    return call("send_message", {"message": " | ".join(said)})


RECALL = re.compile(r"RECALL (\S+)")


def recall(request: ModelRequest) -> ModelResponse:
    """An agent that answers from what it sees: to "RECALL <word>" it replies with every
    line of its context holding the word (the summary heading its history included); when
    none does, it searches the conversation for the word first, and replies with the lines
    of the result. Anything else gets "ok"."""
    text, after = turn_input(request)
    asked = RECALL.search(text)
    if asked is None:
        return call("send_message", {"message": "ok"})
    word = asked.group(1).lower()
    lines = [
        line
        for message in request.messages[1:]
        if message.content and message.content != text
        for line in message.content.splitlines()
        if word in line.lower()
    ]
    if lines:
        return call("send_message", {"message": "\n".join(lines)})
    if after:
        return call("send_message", {"message": "not found"})
    return call("conversation_search", {"query": word, "request_heartbeat": True})


def forgetful(request: ModelRequest) -> ModelResponse:
    """A summariser that keeps nothing."""
    return ModelResponse(content="Nothing worth keeping.", usage=Usage(10, 5))


def broken_summarizer(request: ModelRequest) -> ModelResponse:
    """A summariser whose provider always fails."""
    raise ModelError("the summariser's provider is down")


CHAIN_TAG = re.compile(r"chain-\d+")


def counted(request: ModelRequest) -> ModelResponse:
    """`test/scripted`, noting each call ("parent chain-N" or "child chain-N", by whether
    the turn's message carries a script) in the file CHAIN_CALL_LOG names: the drills count
    what the model was really asked, crashes included."""
    text, _ = turn_input(request)
    tag = CHAIN_TAG.search(text)
    role = "parent" if SCRIPT_MARKER in text else "child"
    with open(os.environ["CHAIN_CALL_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{role} {tag.group(0) if tag else '?'}\n")
    return scripted(request)


async def announced(request: ModelRequest) -> ModelResponse:
    """Creates the file the turn's message names after "marker:" (so a test knows the model
    call has begun), then answers after "answer-after:" seconds (a minute if not given): for
    cancelling a turn that is surely under way."""
    text, _ = turn_input(request)
    if found := re.search(r"marker:(\S+)", text):
        await asyncio.to_thread(Path(found.group(1)).touch)
    delay = re.search(r"answer-after:([\d.]+)", text)
    await asyncio.sleep(float(delay.group(1)) if delay else 60)
    return call("send_message", {"message": "too late"})


def users_seen(request: ModelRequest) -> ModelResponse:
    """Replies with the user-role messages it was sent after the system prompt, as a JSON
    list: what the agent's context held at that step (a summary's note included)."""
    seen = [m.content for m in request.messages[1:] if m.role == "user"]
    return call("send_message", {"message": json.dumps(seen)})
