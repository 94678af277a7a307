"""Every troupe agent is an A2A agent: the official `a2a-sdk` client reads its card, sends
it messages (answered in full and streamed), reads its tasks back and cancels one; the 0.3
method names answer on the same endpoint. Tasks are the agent's runs."""

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    ROLE_USER,
    TASK_STATE_CANCELED,
    TASK_STATE_COMPLETED,
    TASK_STATE_WORKING,
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
)
from a2a.utils.errors import TaskNotCancelableError, TaskNotFoundError

from tests.server.helpers import make_agent, script, unique
from tests.support.servers import ServerProcess

SLOW = "test/echo@60000ms"  # a model call no test waits for: the cancel must abandon it


def card_url(server: ServerProcess, agent_id: str, name: str = "agent-card.json") -> str:
    return f"{server.url}/a2a/agents/{agent_id}/.well-known/{name}"


def user_message(text: str, **fields: Any) -> Message:
    return Message(message_id=unique("m"), role=ROLE_USER, parts=[Part(text=text)], **fields)


async def client_for(
    http: httpx.AsyncClient, url: str, *, streaming: bool
) -> tuple[AgentCard, Client]:
    card = await A2ACardResolver(http, url, agent_card_path="").get_agent_card()
    config = ClientConfig(httpx_client=http, streaming=streaming)
    return card, ClientFactory(config).create(card)


async def last(stream: AsyncIterator[StreamResponse]) -> list[StreamResponse]:
    return [event async for event in stream]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def test_card_send_get_and_stream(server: ServerProcess, http: httpx.AsyncClient) -> None:
    agent = make_agent(
        httpx.Client(base_url=server.url),
        description="answers what it is told",
        tools=["fetch_webpage"],
    )
    url = card_url(server, agent["id"])
    card, client = await client_for(http, url, streaming=False)
    assert card.name == agent["name"]
    assert card.description == "answers what it is told"
    assert card.capabilities.streaming
    endpoint = f"{server.url}/a2a/agents/{agent['id']}"
    assert {(i.url, i.protocol_binding, i.protocol_version) for i in card.supported_interfaces} == {
        (endpoint, "JSONRPC", "1.0"),
        (endpoint, "JSONRPC", "0.3"),
    }
    skills = {skill.id for skill in card.skills}
    assert {"fetch_webpage", "send_message"} <= skills
    assert not card.security_schemes  # no API key on this server
    # The older well-known name answers the same card, with 0.3's fields beside 1.0's.
    legacy = (await http.get(card_url(server, agent["id"], "agent.json"))).json()
    assert legacy["name"] == agent["name"]
    assert legacy["url"] == endpoint

    # SendMessage waits for the turn: the task is the run, completed, with the reply.
    (answer,) = await last(
        client.send_message(
            SendMessageRequest(message=user_message("hello there", context_id="c1"))
        )
    )
    task = answer.task
    assert task.status.state == TASK_STATE_COMPLETED
    assert task.context_id == "c1"
    assert [p.text for p in task.artifacts[0].parts] == ["ack: hello there"]
    assert task.status.message.parts[0].text == "ack: hello there"
    run = (await http.get(f"{server.url}/v1/runs/{task.id}")).json()
    assert run["agent_id"] == agent["id"]
    assert run["status"] == "completed"

    # GetTask reads the run back: history is what it was sent, then what the agent said.
    again = await client.get_task(GetTaskRequest(id=task.id))
    assert again.status.state == TASK_STATE_COMPLETED
    assert next((m.role, m.parts[0].text) for m in again.history) == (ROLE_USER, "hello there")
    assert again.history[-1].parts[0].text == "ack: hello there"
    assert len((await client.get_task(GetTaskRequest(id=task.id, history_length=1))).history) == 1
    with pytest.raises(TaskNotFoundError):
        await client.get_task(GetTaskRequest(id="run-nope"))
    with pytest.raises(TaskNotCancelableError):
        await client.cancel_task(CancelTaskRequest(id=task.id))

    # SendStreamingMessage: the task working, each reply as it is said, the final state.
    _, streaming = await client_for(http, url, streaming=True)
    two_replies = script(
        {"tool": "conversation_search", "args": {"query": "anything"}, "heartbeat": True},
        {
            "parallel": [
                {"tool": "send_message", "args": {"message": "first"}},
                {"tool": "send_message", "args": {"message": "second"}},
            ]
        },
    )
    events = await last(
        streaming.send_message(SendMessageRequest(message=user_message(two_replies)))
    )
    kinds = [event.WhichOneof("payload") for event in events]
    assert kinds[0] == "task", kinds
    assert kinds[-1] == "status_update", kinds
    assert events[0].task.status.state in {TASK_STATE_WORKING, TASK_STATE_COMPLETED}
    said = [
        p.text
        for e in events
        if e.HasField("artifact_update")
        for p in e.artifact_update.artifact.parts
    ]
    assert said == ["first", "second"]
    assert events[-1].status_update.status.state == TASK_STATE_COMPLETED
    stored = await client.get_task(GetTaskRequest(id=events[0].task.id))
    assert [p.text for p in stored.artifacts[0].parts] == ["first", "second"]


async def test_cancel_a_task_that_is_working(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    agent = make_agent(httpx.Client(base_url=server.url), model=SLOW)
    _, client = await client_for(http, card_url(server, agent["id"]), streaming=False)
    request = SendMessageRequest(
        message=user_message("take your time"),
        configuration=SendMessageConfiguration(return_immediately=True),
    )
    (answer,) = await last(client.send_message(request))
    assert answer.task.status.state == TASK_STATE_WORKING
    cancelled = await client.cancel_task(CancelTaskRequest(id=answer.task.id))
    assert cancelled.status.state == TASK_STATE_CANCELED
    run = (await http.get(f"{server.url}/v1/runs/{answer.task.id}")).json()
    assert run["status"] == "cancelled"
    # The turn stopped: the agent takes the next message at once.
    agent_is_free = time.monotonic()
    response = await http.post(
        f"{server.url}/v1/agents/{agent['id']}/messages/async",
        json={"messages": [{"role": "user", "content": "next"}]},
    )
    assert response.status_code == 200
    assert time.monotonic() - agent_is_free < 60  # not a speed check: it did not wait a minute


async def test_the_0_3_method_names(server: ServerProcess, http: httpx.AsyncClient) -> None:
    agent = make_agent(httpx.Client(base_url=server.url))
    endpoint = f"{server.url}/a2a/agents/{agent['id']}"

    async def rpc(method: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await http.post(
            endpoint, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    sent = await rpc(
        "message/send",
        {
            "message": {
                "kind": "message",
                "messageId": unique("m"),
                "role": "user",
                "parts": [{"kind": "text", "text": "old client"}],
            }
        },
    )
    task = sent["result"]
    assert task["kind"] == "task", sent
    assert task["status"]["state"] == "completed", sent
    got = await rpc("tasks/get", {"id": task["id"]})
    assert got["result"]["artifacts"][0]["parts"][0]["text"] == "ack: old client"
    refused = await rpc("tasks/cancel", {"id": task["id"]})
    assert refused["error"]["code"] == -32002  # TaskNotCancelable
    unknown = await rpc("tasks/get", {"id": "run-nope"})
    assert unknown["error"]["code"] == -32001  # TaskNotFound
    # A part troupe does not take is refused, and nothing is recorded.
    runs_before = (await http.get(f"{server.url}/v1/runs", params={"agent_id": agent["id"]})).json()
    bad = await rpc(
        "message/send",
        {
            "message": {
                "kind": "message",
                "messageId": unique("m"),
                "role": "user",
                "parts": [{"kind": "file", "file": {"uri": "http://127.0.0.1/x.pdf"}}],
            }
        },
    )
    assert bad["error"]["code"] == -32602, bad
    runs_after = (await http.get(f"{server.url}/v1/runs", params={"agent_id": agent["id"]})).json()
    assert len(runs_after) == len(runs_before)
    # An unknown agent has no card.
    assert (await http.get(card_url(server, "agent-nope"))).status_code == 404
