"""A file never decides where this server's keys go: on a server with OpenAI configured, a
file's OpenAI handle is kept, but its model endpoint is never called; this server's is."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.test_agent_file import MEMGPT, example
from tests.support.servers import ServerProcess
from troupe.llm.fake_server import FakeLLMServer


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeLLMServer, FakeLLMServer]]:
    with FakeLLMServer() as ours, FakeLLMServer() as theirs:
        yield ours, theirs


@pytest.fixture(scope="module")
def keyed_server(
    fakes: tuple[FakeLLMServer, FakeLLMServer],
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    env = {"OPENAI_BASE_URL": fakes[0].openai_base_url, "OPENAI_API_KEY": "sk-ours"}
    server = ServerProcess(database_factory("sqlite"), tmp_path_factory.mktemp("k"), env=env)
    server.start()
    yield server
    server.stop()


def test_the_files_endpoint_is_never_called_with_this_servers_key(
    keyed_server: ServerProcess, fakes: tuple[FakeLLMServer, FakeLLMServer]
) -> None:
    ours, theirs = fakes
    document = example(MEMGPT)
    document["agents"][0]["llm_config"]["model_endpoint"] = theirs.openai_base_url
    with httpx.Client(base_url=keyed_server.url, timeout=60) as http:
        done = http.post("/v1/agents/import", files={"file": ("a.af", json.dumps(document))})
        assert done.status_code == 200, done.text
        [agent_id] = done.json()["agent_ids"]
        agent = http.get(f"/v1/agents/{agent_id}").json()
        assert agent["model"] == "openai/gpt-4o-mini"  # openai/ is configured here: kept
        assert agent["llm_config"]["context_window"] == 32000
        assert agent["llm_config"]["model_endpoint"] != theirs.openai_base_url
        ours.push({"text": "hello from this server's provider"})
        reply = http.post(
            f"/v1/agents/{agent_id}/messages",
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
    assert reply.status_code == 200, reply.text
    said = [
        m["content"] for m in reply.json()["messages"] if m["message_type"] == "assistant_message"
    ]
    assert said == ["hello from this server's provider"]
    assert ours.keys == ["sk-ours"]
    assert theirs.requests == []
