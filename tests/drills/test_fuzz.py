"""Fuzz every operation of the server's own OpenAPI document with schemathesis, against a
real server on SQLite and on PostgreSQL: valid and invalid data, and real ids mixed in so the
fuzzer gets past 404. No answer is a 5xx, every error is a JSON `{"detail": ...}`, none takes
longer than a bound, and afterwards the server still answers and its store is intact.

TROUPE_FUZZ_EXAMPLES (default 20) sets the examples per operation; raise it for a deeper run
(`TROUPE_FUZZ_EXAMPLES=200 pytest tests/drills/test_fuzz.py`)."""

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode

from tests.drills.helpers import assert_store_intact
from tests.server.helpers import make_agent, send, unique
from tests.support.servers import ServerProcess
from troupe.config import Settings
from troupe.server.app import create_app

EXAMPLES = int(os.environ.get("TROUPE_FUZZ_EXAMPLES", "20"))
RESPONSE_BOUND_S = 30.0  # far above any honest answer here; a hang shows as a failure
ECHO = "test/echo"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    # A fuzzed MCP server config may name a command that never answers: bound the wait.
    env = {"TROUPE_MCP_CONNECT_TIMEOUT": "5", "TROUPE_MCP_TIMEOUT": "5"}
    server = ServerProcess(
        database_factory(request.param), tmp_path_factory.mktemp("fuzz"), env=env
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def known_ids(fuzzed: ServerProcess) -> dict[str, list[str]]:
    """Real objects for the fuzzer to aim at: agents on a fast deterministic model (so a
    fuzzed message runs a real turn), their blocks, a tool, a run and its trace."""
    with httpx.Client(base_url=fuzzed.url, timeout=30) as http:
        tool = http.put(
            "/v1/tools/",
            json={"source_code": "def fuzz_echo(x: int) -> int:\n    '''Echo x.'''\n    return x"},
        ).json()
        agents = [
            make_agent(
                http,
                model=ECHO,
                memory_blocks=[{"label": "persona", "value": "fuzzed"}],
                tags=["fuzz"],
                include_multi_agent_tools=True,
            )
            for _ in range(3)
        ]
        reply = send(http, agents[0]["id"], "hello")
        run_id = reply["messages"][0]["run_id"]
        trace_id = http.get(f"/v1/runs/{run_id}").json()["trace_id"]
    return {
        "agent_id": [a["id"] for a in agents],
        "block_id": [b["id"] for a in agents for b in a["blocks"]],
        "block_label": ["persona", "human"],
        "tool_id": [tool["id"]],
        "run_id": [run_id],
        "trace_id": [trace_id],
    }


def _operations() -> list[Any]:
    """Every operation of the OpenAPI document, read from the app itself (no server needed
    to collect the tests; each test then fuzzes one operation of a running server)."""
    document = create_app(Settings()).openapi()
    loaded = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in loaded.get_all_operations()]


OPERATIONS = _operations()


def _strategy(operation: Any, known: dict[str, list[str]]) -> Any:
    """Valid and invalid data, with fuzzed ids and with real ones (except for deletes, so
    the real objects survive for the other operations)."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    choices = [operation.as_strategy(mode) for mode in modes]
    names = [p.name for p in operation.path_parameters] if operation.method != "delete" else []
    if names and all(n in known for n in names):
        for pick in range(3):
            real = {n: known[n][pick % len(known[n])] for n in names}
            choices += [operation.as_strategy(m, path_parameters=real) for m in modes]
    return st.one_of(*choices)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.label for o in OPERATIONS])
def test_fuzzed_requests_never_get_a_5xx_or_hang(
    operation: Any, fuzzed: ServerProcess, known_ids: dict[str, list[str]]
) -> None:
    @given(case=_strategy(operation, known_ids))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: Any) -> None:
        started = time.monotonic()
        response = case.call(base_url=fuzzed.url, timeout=RESPONSE_BOUND_S)
        took = time.monotonic() - started
        where = f"{case.method} {case.formatted_path}"
        assert response.status_code < 500, (where, response.status_code, response.text[:2000])
        assert took < RESPONSE_BOUND_S, (where, took)
        if response.status_code >= 400:
            body = response.json()
            assert isinstance(body, dict), (where, body)
            assert body.get("detail"), (where, response.status_code, body)

    fuzz()


def test_after_the_fuzzing_the_server_answers_and_its_store_is_intact(
    fuzzed: ServerProcess, known_ids: dict[str, list[str]]
) -> None:
    assert fuzzed.process is not None
    assert fuzzed.process.poll() is None, "the server is still running"
    with httpx.Client(base_url=fuzzed.url, timeout=30) as http:
        assert http.get("/v1/health/").json()["status"] == "ok"
        agent = make_agent(http, model=ECHO, name=unique("after-fuzz"))
        reply = send(http, agent["id"], "still there?")
        assert reply["stop_reason"]["stop_reason"] == "end_turn"
    assert_store_intact(fuzzed.database_url)
