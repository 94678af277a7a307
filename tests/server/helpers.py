"""Small helpers for server tests: scripted agents and reading their results."""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import ServerProcess

SCRIPTED = "test/scripted"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def script(*entries: dict[str, Any]) -> str:
    return "SCRIPT: " + json.dumps(list(entries))


def make_agent(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("agent"), "model": SCRIPTED, **fields}
    response = http.post("/v1/agents/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def send(http: httpx.Client, agent_id: str, text: str, **extra: Any) -> dict[str, Any]:
    response = http.post(
        f"/v1/agents/{agent_id}/messages",
        json={"messages": [{"role": "user", "content": text}], **extra},
    )
    assert response.status_code == 200, response.text
    return response.json()


def of_type(response: dict[str, Any], message_type: str) -> list[dict[str, Any]]:
    return [m for m in response["messages"] if m["message_type"] == message_type]


def block_value(http: httpx.Client, agent_id: str, label: str) -> str:
    response = http.get(f"/v1/agents/{agent_id}/core-memory/blocks/{label}")
    assert response.status_code == 200, response.text
    return str(response.json()["value"])


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """The predicate's first true value, polled until `timeout` (s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_run(http: httpx.Client, run_id: str, timeout: float = 30) -> dict[str, Any]:
    """The run once it has finished (completed, failed or cancelled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, Any] = http.get(f"/v1/runs/{run_id}").json()
        if run["status"] in {"completed", "failed", "cancelled"}:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


@contextmanager
def two_processes(database_url: str, home: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two server processes on one database, and a client of each."""
    first = ServerProcess(database_url, home).start()
    try:
        second = ServerProcess(database_url, home).start()
        try:
            with (
                httpx.Client(base_url=first.url, timeout=30) as one,
                httpx.Client(base_url=second.url, timeout=30) as other,
            ):
                yield one, other
        finally:
            second.stop()
    finally:
        first.stop()


def eventually(check: Any, timeout: float = 30) -> Any:
    """`check()`'s value once it is truthy, or its last value when `timeout` s have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)
