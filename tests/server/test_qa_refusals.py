"""Inputs QA found accepted though the docs promise a refusal: each is now a clear 4xx through
both SDK lines and changes nothing (no block, agent or setting appears or moves)."""

import concurrent.futures
import io
import socket
from typing import Any

import httpx
import pytest
from letta_client import APIStatusError, UnprocessableEntityError

from tests.server.helpers import eventually, make_agent, send, unique
from tests.server.test_sdk_coverage import legacy_status
from tests.support.sdks import legacy_sdk


def block_labels(http: httpx.Client, label: str) -> list[str]:
    blocks = http.get("/v1/blocks/", params={"label": label, "limit": 10_000}).json()
    return [b["id"] for b in blocks]


def agents_named(http: httpx.Client, name: str) -> list[str]:
    return [a["id"] for a in http.get("/v1/agents/", params={"name": name}).json()]


def test_a_block_without_a_limit_keeps_the_default_limit(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    label = unique("big")
    with pytest.raises(UnprocessableEntityError, match="over its limit of 20000"):
        client.blocks.create(label=label, value="x" * 300_000)
    assert legacy_status(lambda: legacy_client.blocks.create(label=label, value="x" * 20_001)) == (
        422
    )
    assert block_labels(http, label) == []

    fits = client.blocks.create(label=label, value="x" * 20_000)
    assert fits.limit == 20_000
    assert legacy_client.blocks.create(label=label, value="y").limit == 20_000


def test_a_memory_block_without_a_limit_keeps_the_default_limit(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    name, label = unique("agent"), unique("big")
    with pytest.raises(UnprocessableEntityError, match="over its limit of 20000"):
        client.agents.create(
            name=name, model="test/echo", memory_blocks=[{"label": label, "value": "x" * 20_001}]
        )
    assert (
        legacy_status(
            lambda: legacy_client.agents.create(
                name=name,
                model="test/echo",
                memory_blocks=[{"label": label, "value": "x" * 20_001}],
            )
        )
        == 422
    )
    assert agents_named(http, name) == []
    assert block_labels(http, label) == []


def test_a_block_needs_a_value(client: Any, http: httpx.Client) -> None:
    # Both SDKs declare `value` required; the 1.x client passes extra/missing keys through as
    # given, so the server is the one to refuse.
    name, label = unique("agent"), unique("novalue")
    with pytest.raises(UnprocessableEntityError, match="value"):
        client.agents.create(name=name, model="test/echo", memory_blocks=[{"label": label}])
    refused = http.post("/v1/blocks/", json={"label": label})
    assert refused.status_code == 422, refused.text
    assert "value" in refused.text
    assert agents_named(http, name) == []
    assert block_labels(http, label) == []

    agent = make_agent(http, memory_blocks=[{"label": label, "value": ""}])
    assert [b["value"] for b in agent["memory"]["blocks"] if b["label"] == label] == [""]


def test_a_csv_with_an_unclosed_quote_is_refused(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    folder = client.folders.create(name=unique("csv"))
    with pytest.raises(UnprocessableEntityError, match="not valid CSV"):
        client.folders.files.upload(folder.id, file=("bad.csv", io.BytesIO(b'a,"b\n')))
    assert (
        legacy_status(
            lambda: legacy_client.sources.files.upload(
                source_id=folder.id, file=("bad.csv", io.BytesIO(b'a,"b\n'), "text/csv")
            )
        )
        == 422
    )
    assert http.get(f"/v1/folders/{folder.id}/files").json() == []
    assert http.get(f"/v1/sources/{folder.id}/passages").json() == []

    good = client.folders.files.upload(folder.id, file=("ok.csv", io.BytesIO(b'a,"b\nc"\n')))
    assert good.processing_status == "completed"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_tools_of_an_unreachable_mcp_server_are_a_424(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/mcp"
    server_name = unique("gone")
    server = client.mcp_servers.create(
        server_name=server_name, config={"mcp_server_type": "streamable_http", "server_url": url}
    )
    before = http.get(f"/v1/mcp-servers/{server.id}").json()
    tools_before = http.get("/v1/tools/", params={"limit": 10_000}).json()
    with pytest.raises(APIStatusError) as caught:
        client.mcp_servers.tools.list(server.id)
    assert caught.value.status_code == 424
    assert "could not be reached" in str(caught.value)
    assert (
        legacy_status(
            lambda: legacy_client.tools.list_mcp_tools_by_server(mcp_server_name=server_name)
        )
        == 424
    )
    assert http.get(f"/v1/mcp-servers/{server.id}").json() == before
    assert http.get("/v1/tools/", params={"limit": 10_000}).json() == tools_before


def test_an_llm_config_that_cannot_be_served_is_refused(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http, model="test/echo")
    url = f"/v1/agents/{agent['id']}"
    before = http.get(url).json()
    with pytest.raises(UnprocessableEntityError, match="model_endpoint_type"):
        client.agents.update(agent["id"], llm_config={"model": "x"})  # type: ignore[typeddict-item]
    config = legacy_sdk().LlmConfig(model="x", model_endpoint_type="koboldcpp", context_window=8)
    assert legacy_status(lambda: legacy_client.agents.modify(agent["id"], llm_config=config)) == 422
    after = http.get(url).json()
    assert (after["model"], after["llm_config"]) == (before["model"], before["llm_config"])
    assert send(http, agent["id"], "still here")["messages"], "the agent still answers"

    # A config naming its endpoint type is taken, through either SDK line.
    served = legacy_sdk().LlmConfig(model="echo", model_endpoint_type="test", context_window=9000)
    changed = legacy_client.agents.modify(agent["id"], llm_config=served)
    assert (changed.llm_config.handle, changed.llm_config.context_window) == ("test/echo", 9000)
    updated = client.agents.update(
        agent["id"],
        llm_config={"model": "echo", "model_endpoint_type": "test", "context_window": 7000},  # type: ignore[typeddict-item]
    )
    assert (updated.model, updated.llm_config.context_window) == ("test/echo", 7000)


def test_an_agent_deleted_while_its_turn_runs_is_a_404_saying_so(http: httpx.Client) -> None:
    """The turn's writes find their agent gone: its caller hears that, not a 409 asking to
    retry what can only be a 404 now."""
    agent = make_agent(http, model="test/scripted@1500ms")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        turn = pool.submit(
            http.post,
            f"/v1/agents/{agent['id']}/messages",
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
        # Its run is running: the turn is under way (waiting on its model for 1.5 s).
        eventually(
            lambda: http.get("/v1/runs/", params={"agent_id": agent["id"], "active": True}).json()
        )
        assert http.delete(f"/v1/agents/{agent['id']}").status_code == 200
        answer = turn.result(timeout=60)
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == (
        f"agent {agent['id']!r} was deleted while its turn ran; nothing of the turn was kept"
    )
