"""A2A between troupe servers: an agent of one server asks an agent of another with
send_message_to_a2a_agent, and the two runs are linked in troupe's trace; with an API key
the endpoint wants it (the card says so) and the tool sends the configured token; the
loop guard holds across A2A, and private addresses are refused unless allowed."""

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, A2AClientError, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import TASK_STATE_COMPLETED, SendMessageRequest

from tests.a2a.test_a2a_endpoint import card_url, last, user_message
from tests.observability.test_otlp_traces import CALLER, CALLER_STATE, CALLER_TRACE, otel_env
from tests.server.helpers import make_agent, script
from tests.support.otlp import OtlpHttpReceiver, ReceivedSpan
from tests.support.servers import ServerProcess

KEY = "a2a-" + "k" * 24
TOOL = "send_message_to_a2a_agent"
REPLY_TIMEOUT_S = 6  # the keyed server's: how long its agents wait on another's reply
SLOW = "test/echo@60000ms"  # a model call no test waits for


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpHttpReceiver]:
    """Where both traced servers send their spans."""
    with OtlpHttpReceiver() as found:
        yield found


def _backend(server: ServerProcess) -> str:
    return "sqlite" if server.database_url.startswith("sqlite") else "postgres"


@pytest.fixture(scope="module")
def keyed(
    server: ServerProcess,
    receiver: OtlpHttpReceiver,
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """A second server, on a database of its own of the first one's kind, with an API key,
    that may call A2A agents on loopback and sends them its key; traced."""
    proc = ServerProcess(
        database_factory(_backend(server)),
        tmp_path_factory.mktemp("keyed"),
        env={
            "TROUPE_API_KEY": KEY,
            "TROUPE_A2A_ALLOW_PRIVATE": "1",
            "TROUPE_A2A_BEARER_TOKENS": json.dumps({"http://127.0.0.1": KEY}),
            "TROUPE_REPLY_TIMEOUT": str(REPLY_TIMEOUT_S),
            **otel_env(receiver.endpoint, "http/protobuf"),
        },
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def peer(
    server: ServerProcess,
    receiver: OtlpHttpReceiver,
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """A third server, traced to the same receiver: the one the keyed server's agent asks."""
    proc = ServerProcess(
        database_factory(_backend(server)),
        tmp_path_factory.mktemp("peer"),
        env=otel_env(receiver.endpoint, "http/protobuf"),
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def keyed_http(keyed: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=keyed.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
async def ahttp() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


def ask_over_a2a(
    http: httpx.Client,
    caller_id: str,
    url: str,
    message: str,
    *then: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Have the caller call send_message_to_a2a_agent (then the script's next steps); the
    turn's response and that call's return."""
    ask = {"tool": TOOL, "args": {"message": message, "agent_card_url": url}}
    answer = http.post(
        f"/v1/agents/{caller_id}/messages",
        headers=headers or {},
        json={"messages": [{"role": "user", "content": script(ask, *then)}]},
    )
    assert answer.status_code == 200, answer.text
    response = answer.json()
    return response, tool_return(response)


def tool_return(response: dict[str, Any]) -> dict[str, Any]:
    """The return of the turn's one send_message_to_a2a_agent call."""
    (call_id,) = [
        m["tool_call"]["tool_call_id"]
        for m in response["messages"]
        if m["message_type"] == "tool_call_message" and m["tool_call"]["name"] == TOOL
    ]
    (returned,) = [
        m
        for m in response["messages"]
        if m["message_type"] == "tool_return_message" and m["tool_call_id"] == call_id
    ]
    return returned


async def test_the_key_guards_the_endpoint_and_the_card_says_so(
    keyed: ServerProcess, keyed_http: httpx.Client, ahttp: httpx.AsyncClient
) -> None:
    agent = make_agent(keyed_http)
    url = card_url(keyed, agent["id"])
    card = await A2ACardResolver(ahttp, url, agent_card_path="").get_agent_card()  # open
    (scheme,) = card.security_schemes.values()
    assert scheme.http_auth_security_scheme.scheme == "Bearer"
    assert [list(r.schemes) for r in card.security_requirements] == [["bearer"]]
    request = SendMessageRequest(message=user_message("knock knock"))
    anonymous = ClientFactory(ClientConfig(httpx_client=ahttp, streaming=False)).create(card)
    with pytest.raises(A2AClientError, match="401"):
        await last(anonymous.send_message(request))
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {KEY}"}, timeout=60
    ) as authorized:
        client = ClientFactory(ClientConfig(httpx_client=authorized, streaming=False)).create(card)
        (answer,) = await last(client.send_message(request))
    assert answer.task.status.state == TASK_STATE_COMPLETED
    # The refused call recorded nothing: the one run is the authorized one.
    runs = (
        await ahttp.get(
            f"{keyed.url}/v1/runs",
            params={"agent_id": agent["id"]},
            headers={"Authorization": f"Bearer {KEY}"},
        )
    ).json()
    assert [r["id"] for r in runs] == [answer.task.id]


def test_an_agent_asks_an_agent_of_another_server(
    peer: ServerProcess, keyed_http: httpx.Client, receiver: OtlpHttpReceiver
) -> None:
    peer_http = httpx.Client(base_url=peer.url, timeout=60)
    remote = make_agent(peer_http, model="test/echo")
    caller = make_agent(keyed_http, tools=[TOOL])
    response, returned = ask_over_a2a(
        keyed_http,
        caller["id"],
        card_url(peer, remote["id"]),
        "how are you?",
        {"tool": "send_message", "args": {"message": "ok"}},
        headers=CALLER,
    )
    assert returned["status"] == "success", returned
    answer = json.loads(returned["tool_return"])
    assert answer["agent"] == remote["name"]
    assert answer["state"] == "completed"
    assert answer["response"] == ["echo: how are you?"]
    # troupe's own trace: the remote run joined the caller's, as a child of the calling run.
    caller_run = http_get(keyed_http, f"/v1/runs/{response['run_id']}")
    remote_run = http_get(peer_http, f"/v1/runs/{answer['task_id']}")
    assert remote_run["agent_id"] == remote["id"]
    assert answer["trace_id"] == response["trace_id"]
    remote_trace = http_get(peer_http, f"/v1/traces/{response['trace_id']}")
    (node,) = remote_trace["runs"]
    assert node["id"] == answer["task_id"]
    assert node["parent_run_id"] == caller_run["id"]
    assert node["kind"] == "call"
    local_trace = http_get(keyed_http, f"/v1/traces/{response['trace_id']}")
    messages = local_trace["runs"][0]["messages"]
    assert any(answer["task_id"] in (m.get("tool_return") or "") for m in messages)
    # OpenTelemetry: one trace across both servers, the remote run under the tool call.
    agents = {caller["id"], remote["id"]}

    def runs_of(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
        return {
            str(s.attributes.get("gen_ai.agent.id")): s
            for s in spans
            if s.attributes.get("gen_ai.operation.name") == "invoke_agent"
            and s.attributes.get("gen_ai.agent.id") in agents
        }

    def ancestors_of(spans: list[ReceivedSpan], agent_id: str) -> list[ReceivedSpan]:
        by_id, found = {s.span_id: s for s in spans}, []
        at = runs_of(spans).get(agent_id)
        while at is not None and at.parent_span_id in by_id:
            at = by_id[at.parent_span_id]
            found.append(at)
        return found

    def exported(spans: list[ReceivedSpan]) -> bool:
        # Each server exports in its own batches: the remote server's request span (the
        # remote run's parent) may arrive after both runs' spans.
        if len(runs_of(spans)) < 2:
            return False
        return any(a.attributes.get("gen_ai.tool.name") for a in ancestors_of(spans, remote["id"]))

    spans = receiver.wait_for(exported)
    runs = runs_of(spans)
    assert runs.keys() == agents, "both runs exported"
    assert runs[caller["id"]].trace_id == runs[remote["id"]].trace_id == CALLER_TRACE
    # The caller's tracestate crossed to the other server with the traceparent.
    assert runs[remote["id"]].trace_state == runs[caller["id"]].trace_state == CALLER_STATE
    ancestors = ancestors_of(spans, remote["id"])
    tool_calls = [a for a in ancestors if a.attributes.get("gen_ai.tool.name") == TOOL]
    assert tool_calls, [a.name for a in ancestors]
    assert tool_calls[0].parent_span_id == runs[caller["id"]].span_id


def test_the_loop_guard_holds_across_a2a(keyed: ServerProcess, keyed_http: httpx.Client) -> None:
    """An agent asking itself over A2A (through its own server's endpoint, with the key the
    server is configured to send) is refused by the receiving side: it is in the chain."""
    caller = make_agent(keyed_http, tools=[TOOL])
    _, returned = ask_over_a2a(keyed_http, caller["id"], card_url(keyed, caller["id"]), "me?")
    assert returned["status"] == "error"
    assert "cycle" in returned["tool_return"]
    assert "already waiting" in returned["tool_return"]


def test_no_reply_within_the_timeout(
    server: ServerProcess, keyed_http: httpx.Client, http: httpx.Client
) -> None:
    """The call is bounded by the reply timeout of the cross-agent tools; the remote task
    goes on, and the caller is told which it is."""
    remote = make_agent(http, model=SLOW)
    caller = make_agent(keyed_http, tools=[TOOL])
    _, returned = ask_over_a2a(keyed_http, caller["id"], card_url(server, remote["id"]), "there?")
    assert returned["status"] == "error"
    assert f"within {REPLY_TIMEOUT_S} s" in returned["tool_return"]
    found = re.search(r"task (run-[0-9a-f-]+)", returned["tool_return"])
    assert found, returned["tool_return"]
    assert http_get(http, f"/v1/runs/{found[1]}")["status"] == "running"
    cancelled = http.post(
        f"/v1/agents/{remote['id']}/messages/cancel", json={"run_ids": [found[1]]}
    )
    assert cancelled.status_code == 200, cancelled.text


def test_private_addresses_are_refused_unless_allowed(
    server: ServerProcess, http: httpx.Client
) -> None:
    remote = make_agent(http)
    caller = make_agent(http, tools=[TOOL])
    _, returned = ask_over_a2a(http, caller["id"], card_url(server, remote["id"]), "hi")
    assert returned["status"] == "error"
    assert "non-public address" in returned["tool_return"]
    assert "TROUPE_A2A_ALLOW_PRIVATE" in returned["tool_return"]
    runs = http.get("/v1/runs", params={"agent_id": remote["id"]}).json()
    assert runs == []  # nothing reached the remote agent


def http_get(client: httpx.Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
