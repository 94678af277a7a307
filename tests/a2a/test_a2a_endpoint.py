"""Every troupe agent is an A2A agent: the official `a2a-sdk` client reads its card, sends
it messages (answered in full and streamed), reads its tasks back and cancels one; the 0.3
method names answer on the same endpoint, each version's under its own A2A-Version. Tasks
are the agent's runs."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    ROLE_USER,
    TASK_STATE_CANCELED,
    TASK_STATE_COMPLETED,
    TASK_STATE_FAILED,
    TASK_STATE_INPUT_REQUIRED,
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
from a2a.utils.errors import (
    InvalidRequestError,
    TaskNotCancelableError,
    TaskNotFoundError,
    VersionNotSupportedError,
)

from tests.server.helpers import make_agent, script, unique
from tests.support.servers import ServerProcess

SLOW = "test/echo@60000ms"
BROKEN = "test/function:tests.support.models:broken"  # every model call fails  # a model call no test waits for: the cancel must abandon it


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
    # Read back, the task stays cancelled (the turn's end does not flip it back).
    again = await client.get_task(GetTaskRequest(id=answer.task.id))
    assert again.status.state == TASK_STATE_CANCELED


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
    # message/stream: SSE of 0.3's events, the last the final status-update.
    streamed = {
        "message": {
            "kind": "message",
            "messageId": unique("m"),
            "role": "user",
            "parts": [{"kind": "text", "text": "streaming"}],
        }
    }
    body = {"jsonrpc": "2.0", "id": 2, "method": "message/stream", "params": streamed}
    events = []
    async with http.stream("POST", endpoint, json=body) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line.removeprefix("data:"))["result"])
    kinds = [event["kind"] for event in events]
    assert kinds[0] == "task", kinds
    assert "artifact-update" in kinds, kinds
    assert events[-1]["kind"] == "status-update", events[-1]
    assert events[-1]["status"]["state"] == "completed"
    assert events[-1]["final"] is True
    refused = await rpc("tasks/cancel", {"id": task["id"]})
    assert refused["error"]["code"] == -32002  # TaskNotCancelable
    unknown = await rpc("tasks/get", {"id": "run-nope"})
    assert unknown["error"]["code"] == -32001  # TaskNotFound
    negative = await rpc("tasks/get", {"id": task["id"], "historyLength": -1})
    assert negative["error"]["code"] == -32602, negative  # InvalidParams
    assert "historyLength" in negative["error"]["message"]
    last = await rpc("tasks/get", {"id": task["id"], "historyLength": 1})
    assert len(last["result"]["history"]) == 1, last
    # A part troupe does not take, or a malformed link to a caller's trace, is refused,
    # and nothing is recorded.
    runs_before = (await http.get(f"{server.url}/v1/runs", params={"agent_id": agent["id"]})).json()
    text = {"kind": "text", "text": "hi"}
    file = {"kind": "file", "file": {"uri": "http://127.0.0.1/x.pdf"}}
    for parts, metadata in (
        ([file], {}),
        ([text], {"troupe": {"trace_id": "t" * 65}}),
        ([text], {"troupe": {"chain": "agent-1"}}),
        ([text], {"troupe": "trace-1"}),
    ):
        message = {"kind": "message", "messageId": unique("m"), "role": "user", "parts": parts}
        bad = await rpc("message/send", {"message": {**message, "metadata": metadata}})
        assert bad["error"]["code"] == -32602, bad
    message = {"kind": "message", "messageId": unique("m"), "role": "user", "parts": [text]}
    bad = await rpc("message/send", {"message": message, "configuration": {"historyLength": -2}})
    assert bad["error"]["code"] == -32602, bad
    runs_after = (await http.get(f"{server.url}/v1/runs", params={"agent_id": agent["id"]})).json()
    assert len(runs_after) == len(runs_before)
    # An unknown agent has no card.
    assert (await http.get(card_url(server, "agent-nope"))).status_code == 404


async def test_a_method_under_a_version_it_is_not_of_is_version_not_supported(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    """A2A 1.0 §3.6.2: a version the interface does not serve is VersionNotSupportedError
    (-32009), a client's mistake, never an internal error; the message says what is served."""
    agent = make_agent(httpx.Client(base_url=server.url))
    endpoint = f"{server.url}/a2a/agents/{agent['id']}"
    old = {
        "message": {
            "kind": "message",
            "messageId": unique("m"),
            "role": "user",
            "parts": [{"kind": "text", "text": "hi"}],
        }
    }
    new = {"message": {"messageId": unique("m"), "role": "ROLE_USER", "parts": [{"text": "hi"}]}}

    async def rpc(method: str, params: dict[str, Any], version: str | None) -> httpx.Response:
        return await http.post(
            endpoint,
            headers={} if version is None else {"A2A-Version": version},
            json={"jsonrpc": "2.0", "id": "r1", "method": method, "params": params},
        )

    runs = f"{server.url}/v1/runs"
    runs_before = (await http.get(runs, params={"agent_id": agent["id"]})).json()
    refusals = {}
    for method, params, version in (
        ("message/send", old, "1.0"),  # 0.3's names, 1.0's header: was -32603
        ("message/stream", old, "1.0"),
        ("tasks/get", {"id": "run-nope"}, "1.0"),
        ("message/send", old, "2.0"),  # a version served by no interface
        ("SendMessage", new, None),  # no header asks for 0.3
        ("SendMessage", new, "0.3"),
        ("SendStreamingMessage", new, "0.3"),
        ("GetTask", {"id": "run-nope"}, "banana"),
    ):
        response = await rpc(method, params, version)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")  # no stream
        body = response.json()
        assert body["id"] == "r1"
        error = body["error"]
        assert error["code"] == -32009, (method, version, error)
        assert error["message"].endswith(
            "This agent serves A2A 1.0 (header A2A-Version: 1.0, methods such as SendMessage) "
            "and A2A 0.3 (header A2A-Version: 0.3 or none, methods such as message/send)."
        ), error
        (info,) = error["data"]
        assert info["reason"] == "VERSION_NOT_SUPPORTED"
        assert info["metadata"]["supportedVersions"] == "1.0, 0.3"
        refusals[method, version] = error
    assert refusals["message/send", "1.0"]["message"].startswith(
        "'message/send' is an A2A 0.3 method, but the request asks for A2A-Version 1.0."
    )
    assert refusals["message/send", "1.0"]["data"][0]["metadata"] == {
        "requestedVersion": "1.0",
        "methodVersion": "0.3",
        "supportedVersions": "1.0, 0.3",
    }
    assert refusals["SendMessage", None]["message"].startswith(
        "'SendMessage' is an A2A 1.0 method; a request without A2A-Version asks for 0.3."
    )
    assert refusals["message/send", "2.0"]["message"].startswith(
        "A2A-Version '2.0' is not a version this agent serves."
    )
    runs_after = (await http.get(runs, params={"agent_id": agent["id"]})).json()
    assert len(runs_after) == len(runs_before)  # nothing was started
    # Each under its own version, the same requests are served.
    sent = (await rpc("message/send", old, "0.3")).json()
    assert sent["result"]["status"]["state"] == "completed", sent
    sent = (await rpc("SendMessage", new, "1.0")).json()
    assert sent["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED", sent

    # The SDK's client hears the refusal as its VersionNotSupportedError: here its HTTP
    # client asks for 0.3 (the factory keeps a header that is set) while it speaks 1.0.
    async with httpx.AsyncClient(timeout=30, headers={"A2A-Version": "0.3"}) as asks_for_0_3:
        _, client = await client_for(asks_for_0_3, card_url(server, agent["id"]), streaming=False)
        with pytest.raises(VersionNotSupportedError, match=r"A2A 1\.0 method") as refused:
            await last(client.send_message(SendMessageRequest(message=user_message("hi"))))
        assert "A2A-Version: 1.0" in str(refused.value)


async def test_the_version_may_be_asked_for_in_the_query(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    """A2A §3.6.1: a client may name the version in an `A2A-Version` query parameter instead
    of the header; a header, when sent, is what counts."""
    agent = make_agent(httpx.Client(base_url=server.url))
    endpoint = f"{server.url}/a2a/agents/{agent['id']}"

    async def send(query: str | None, header: str | None) -> dict[str, Any]:
        message = {"messageId": unique("m"), "role": "ROLE_USER", "parts": [{"text": "hi"}]}
        response = await http.post(
            endpoint,
            params={} if query is None else {"A2A-Version": query},
            headers={} if header is None else {"A2A-Version": header},
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "SendMessage",
                "params": {"message": message},
            },
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    served = await send("1.0", None)
    assert served["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED", served
    refused = await send("1.0", "0.3")  # the header wins
    assert refused["error"]["code"] == -32009, refused
    refused = await send("0.3", None)
    assert refused["error"]["code"] == -32009, refused


async def test_a_failed_run_is_a_failed_task(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    agent = make_agent(httpx.Client(base_url=server.url), model=BROKEN)
    _, client = await client_for(http, card_url(server, agent["id"]), streaming=False)
    (answer,) = await last(client.send_message(SendMessageRequest(message=user_message("hi"))))
    assert answer.task.status.state == TASK_STATE_FAILED
    assert "the model is down" in answer.task.status.message.parts[0].text
    run = (await http.get(f"{server.url}/v1/runs/{answer.task.id}")).json()
    assert run["status"] == "failed"


async def test_a_call_waiting_for_approval_is_input_required(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    """A turn that stops at a tool call a human must approve is an input-required task; the
    agent takes no new A2A message until the call is answered (nothing is recorded)."""
    rule = {"type": "requires_approval", "tool_name": "conversation_search"}
    agent = make_agent(httpx.Client(base_url=server.url), tool_rules=[rule])
    _, client = await client_for(http, card_url(server, agent["id"]), streaming=False)
    search = script({"tool": "conversation_search", "args": {"query": "anything"}})
    (answer,) = await last(client.send_message(SendMessageRequest(message=user_message(search))))
    assert answer.task.status.state == TASK_STATE_INPUT_REQUIRED
    runs = (await http.get(f"{server.url}/v1/runs", params={"agent_id": agent["id"]})).json()
    with pytest.raises(InvalidRequestError, match="waiting for approval"):
        await last(client.send_message(SendMessageRequest(message=user_message("hello?"))))
    after = (await http.get(f"{server.url}/v1/runs", params={"agent_id": agent["id"]})).json()
    assert [r["id"] for r in after] == [r["id"] for r in runs]


async def test_a_context_naming_a_conversation_talks_in_it(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    """contextId = one of the agent's conversations: the task runs in that history; any other
    contextId is echoed and the task runs in the agent's default history."""
    agent = make_agent(httpx.Client(base_url=server.url))
    created = await http.post(f"{server.url}/v1/conversations", params={"agent_id": agent["id"]})
    assert created.status_code == 200, created.text
    conversation = created.json()["id"]
    _, client = await client_for(http, card_url(server, agent["id"]), streaming=False)
    inside = user_message("in the conversation", context_id=conversation)
    (answer,) = await last(client.send_message(SendMessageRequest(message=inside)))
    assert answer.task.context_id == conversation
    (elsewhere,) = await last(
        client.send_message(SendMessageRequest(message=user_message("outside", context_id="x")))
    )
    assert elsewhere.task.context_id == "x"

    async def texts(path: str) -> list[str]:
        response = await http.get(f"{server.url}{path}", params={"limit": 100})
        assert response.status_code == 200, response.text
        return [str(m.get("content")) for m in response.json()]

    in_conversation = await texts(f"/v1/conversations/{conversation}/messages")
    in_default = await texts(f"/v1/agents/{agent['id']}/messages")
    assert "ack: in the conversation" in in_conversation
    assert "ack: outside" not in in_conversation
    assert "ack: outside" in in_default
    assert "ack: in the conversation" not in in_default
