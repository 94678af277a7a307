"""Real provider adapters against a fake OpenAI/Anthropic server on loopback: what is sent,
what comes back, and every fault ending in a clear result with the history intact."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, of_type, send, unique, wait_for
from tests.support.servers import ServerProcess, fake_provider_env
from troupe.llm.fake_server import FakeLLMServer


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider_server(
    request: pytest.FixtureRequest,
    fake: FakeLLMServer,
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    # The timeout: long enough that an ordinary answer on a busy machine is never taken for a
    # hang (a timed-out first request makes the retry take the next queued answer).
    env = fake_provider_env(fake, max_retries=2, timeout_s=3)
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("p"), env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(provider_server: ServerProcess, fake: FakeLLMServer) -> Iterator[httpx.Client]:
    fake.queue.clear()
    fake.requests.clear()
    with httpx.Client(base_url=provider_server.url, timeout=60) as client:
        yield client


def test_openai_round_trip_sends_tools_with_heartbeat_and_returns_the_reply(
    api: httpx.Client, fake: FakeLLMServer
) -> None:
    agent = make_agent(
        api, model="openai/gpt-fake", memory_blocks=[{"label": "human", "value": "Ada"}]
    )
    fake.push(
        {
            "tool": "core_memory_append",
            "arguments": {"label": "human", "content": "likes tea", "request_heartbeat": True},
        }
    )
    fake.push({"tool": "send_message", "arguments": {"message": "noted"}})
    result = send(api, agent["id"], "I like tea")
    assert of_type(result, "assistant_message")[0]["content"] == "noted"
    assert result["usage"]["prompt_tokens"] == 22
    first = fake.requests[0]
    assert first["model"] == "gpt-fake"
    assert first["messages"][0]["role"] == "system"
    assert "<human" in first["messages"][0]["content"]
    offered = {t["function"]["name"]: t["function"]["parameters"] for t in first["tools"]}
    assert "request_heartbeat" in offered["core_memory_append"]["properties"]
    second = fake.requests[1]
    assert second["messages"][-1]["role"] == "tool"  # the append's result went back
    assert "likes tea" in second["messages"][0]["content"]  # the block as it is now


def test_a_run_first_rule_is_passed_to_the_model_as_tool_choice(
    api: httpx.Client, fake: FakeLLMServer
) -> None:
    agent = make_agent(
        api,
        model="openai/gpt-fake",
        tool_rules=[{"type": "run_first", "tool_name": "conversation_search"}],
    )
    fake.push(
        {"tool": "conversation_search", "arguments": {"query": "x", "request_heartbeat": True}}
    )
    send(api, agent["id"], "hi")
    first = fake.requests[0]
    assert [t["function"]["name"] for t in first["tools"]] == ["conversation_search"]
    assert first["tool_choice"] == {"type": "function", "function": {"name": "conversation_search"}}


def test_a_429_is_retried_and_the_turn_succeeds(api: httpx.Client, fake: FakeLLMServer) -> None:
    agent = make_agent(api, model="openai/gpt-fake")
    fake.push({"status": 429})
    result = send(api, agent["id"], "hello")
    assert result["stop_reason"]["stop_reason"] == "end_turn"
    assert len(fake.requests) == 2


@pytest.mark.parametrize("fault", [{"status": 500}, {"hang": 5}])
def test_persistent_faults_end_the_turn_with_a_clear_error_and_keep_the_history(
    api: httpx.Client, fake: FakeLLMServer, fault: dict[str, Any]
) -> None:
    agent = make_agent(api, model="openai/gpt-fake")
    fake.push(fault, fault, fault)
    result = send(api, agent["id"], "are you there?")
    assert result["stop_reason"]["stop_reason"] == "llm_api_error"  # Letta's, for both
    assert "openai/gpt-fake" in result["error"]
    assert (
        ("HTTP 500" in result["error"])
        if "status" in fault
        else ("no answer within" in result["error"])
    )
    fake.queue.clear()
    history = api.get(f"/v1/agents/{agent['id']}/messages").json()
    assert [m["message_type"] for m in history] == ["system_message", "user_message"]
    assert result["messages"] == []  # the input is kept, not echoed
    run = api.get(f"/v1/runs/{result['run_id']}").json()
    assert run["status"] == "failed"
    assert run["error"] == result["error"]
    again = send(api, agent["id"], "and now?")  # the agent is usable again
    assert again["stop_reason"]["stop_reason"] == "end_turn"


def test_malformed_arguments_and_unknown_tools_from_a_provider(
    api: httpx.Client, fake: FakeLLMServer
) -> None:
    agent = make_agent(api, model="openai/gpt-fake")
    fake.push(
        {"tool": "core_memory_append", "arguments": '{"label": "human"'},
        {"tool": "fly_to_the_moon", "arguments": {}},
    )
    result = send(api, agent["id"], "go")
    # The model reads what was wrong and goes on, as in Letta's loop: no stop reason.
    assert result["stop_reason"]["stop_reason"] == "end_turn"
    errors = [r["tool_return"] for r in of_type(result, "tool_return_message")]
    assert "not valid JSON" in errors[0]
    assert "no tool named 'fly_to_the_moon'" in errors[1]
    assert of_type(result, "assistant_message")[0]["content"] == "fake reply"


@pytest.fixture
def sdk(provider_server: ServerProcess) -> Any:
    """letta-client 1.x on the server whose models are the fake provider."""
    from letta_client import Letta

    return Letta(base_url=provider_server.url)


# Per cause of a failed turn: what the fake provider answers (its SDK tries a 5xx three
# times: TROUPE_MODEL_MAX_RETRIES is 2), Letta's stop reason for it
# (letta/agents/letta_agent_v3.py, letta/services/streaming_service.py), and words of the
# error that say why.
FAILURES: dict[str, tuple[list[dict[str, Any]], str, str]] = {
    "http_500": ([{"status": 500}] * 3, "llm_api_error", "HTTP 500"),
    "refused_key": (
        [{"status": 401, "message": "incorrect API key provided"}],
        "llm_api_error",
        "incorrect API key",
    ),
    "not_json": ([{"body": "<html>502 Bad Gateway</html>"}], "invalid_llm_response", "not JSON"),
    "no_choices": ([{"body": '{"id": "x", "choices": []}'}], "invalid_llm_response", "no choices"),
    "cut_short": ([{"text": "Once upon a", "cut": True}], "max_tokens_exceeded", "max_tokens"),
    # Letta has no reason of its own for a prompt too long (it summarises, then gives
    # `error`): the turn stops as it always did.
    "prompt_too_long": (
        [
            {
                "status": 400,
                "code": "context_length_exceeded",
                "message": "This model's maximum context length is 8192 tokens",
            }
        ],
        "error",
        "maximum context length",
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failed_turn_stops_with_lettas_reason_for_its_cause(
    sdk: Any, fake: FakeLLMServer, case: str
) -> None:
    """In the full answer, in the stream (after the error_message saying why), and in the
    run: failed, with why in its metadata["error"], where letta-client 1.x reads it."""
    replies, reason, why = FAILURES[case]
    agent = sdk.agents.create(name=unique("a"), model="openai/gpt-fake")
    fake.push(*replies)
    answer = sdk.agents.messages.create(agent.id, input="hello?")
    assert answer.stop_reason.stop_reason == reason
    assert why in answer.model_extra["error"]
    fake.push(*replies)
    chunks = list(sdk.agents.messages.create(agent.id, input="still there?", streaming=True))
    kinds = [getattr(c, "message_type", None) for c in chunks]
    assert kinds[-3:] == ["error_message", "stop_reason", "usage_statistics"]
    assert why in chunks[-3].message
    assert chunks[-2].stop_reason == reason
    runs = list(sdk.runs.list(agent_id=agent.id))
    assert [(r.status, r.stop_reason) for r in runs] == [("failed", reason)] * 2
    assert all(why in r.metadata["error"] for r in runs)
    fake.queue.clear()
    again = sdk.agents.messages.create(agent.id, input="and now?")  # the agent goes on
    assert again.stop_reason.stop_reason == "end_turn"


@pytest.mark.parametrize("model", ["openai/gpt-fake", "anthropic/claude-fake"])
def test_an_answer_cut_at_the_output_limit_is_kept_and_fails_the_run(
    sdk: Any, fake: FakeLLMServer, model: str
) -> None:
    """As Letta's loop does: what the model wrote is the turn's answer, and the turn stops
    with `max_tokens_exceeded` (a failed run); a tool call cut short does not parse and goes
    back to the model as an error, as any malformed call does."""
    agent = sdk.agents.create(name=unique("a"), model=model)
    fake.push({"text": "The three reasons are: first,", "cut": True})
    answer = sdk.agents.messages.create(agent.id, input="give me three reasons")
    assert answer.stop_reason.stop_reason == "max_tokens_exceeded"
    said = [m.content for m in answer.messages if m.message_type == "assistant_message"]
    assert said == ["The three reasons are: first,"]
    (run,) = sdk.runs.list(agent_id=agent.id)
    assert (run.status, run.stop_reason) == ("failed", "max_tokens_exceeded")
    assert "max_tokens" in run.metadata["error"]
    history = sdk.agents.messages.list(agent.id)
    assert [m.message_type for m in history][-2:] == ["user_message", "assistant_message"]


def test_anthropic_faults_stop_with_lettas_reasons(sdk: Any, fake: FakeLLMServer) -> None:
    agent = sdk.agents.create(name=unique("a"), model="anthropic/claude-fake")
    fake.push({"status": 401, "message": "invalid x-api-key"})
    refused = sdk.agents.messages.create(agent.id, input="hi")
    assert refused.stop_reason.stop_reason == "llm_api_error"
    fake.push({"body": "not json at all"})
    garbled = sdk.agents.messages.create(agent.id, input="hi")
    assert garbled.stop_reason.stop_reason == "invalid_llm_response"
    fake.push({"status": 400, "message": "prompt is too long: 210000 tokens > 200000 maximum"})
    too_long = sdk.agents.messages.create(agent.id, input="hi")
    assert too_long.stop_reason.stop_reason == "error"
    runs = {r.stop_reason: r for r in sdk.runs.list(agent_id=agent.id)}
    assert {reason: run.status for reason, run in runs.items()} == {
        "llm_api_error": "failed",
        "invalid_llm_response": "failed",
        "error": "failed",
    }
    assert "invalid x-api-key" in runs["llm_api_error"].metadata["error"]


def test_anthropic_round_trip(api: httpx.Client, fake: FakeLLMServer) -> None:
    agent = make_agent(api, model="anthropic/claude-fake")
    fake.push(
        {"tool": "conversation_search", "arguments": {"query": "q", "request_heartbeat": True}}
    )
    fake.push(
        {
            "text": "thinking it over",
            "tool": "send_message",
            "arguments": {"message": "hello from claude"},
        }
    )
    result = send(api, agent["id"], "hi")
    assert of_type(result, "assistant_message")[0]["content"] == "hello from claude"
    assert of_type(result, "reasoning_message")[0]["reasoning"] == "thinking it over"
    first, second = fake.requests
    assert first["system"].startswith("You are")
    assert first["tool_choice"] == {"type": "auto"}
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][2]["content"][0]["type"] == "tool_result"


def test_a_provider_without_a_key_is_a_clear_error(api: httpx.Client) -> None:
    agent = make_agent(api, model="openrouter/some-model")
    result = send(api, agent["id"], "hi")
    assert result["stop_reason"]["stop_reason"] == "llm_api_error"
    assert "set OPENROUTER_API_KEY" in result["error"]
    run = api.get(f"/v1/runs/{result['run_id']}").json()
    assert (run["status"], run["stop_reason"]) == ("failed", "llm_api_error")


def test_model_settings_of_the_current_sdk_reach_the_provider(
    provider_server: ServerProcess, api: httpx.Client, fake: FakeLLMServer
) -> None:
    from letta_client import Letta

    client = Letta(base_url=provider_server.url)
    schema = {"name": "answer", "schema": {"type": "object"}}
    agent = client.agents.create(
        name="tuned",
        model="openai/gpt-fake",
        model_settings={
            "provider_type": "openai",
            "temperature": 0.1,
            "max_output_tokens": 321,
            "parallel_tool_calls": False,
            "reasoning": {"reasoning_effort": "low"},
            "response_format": {"type": "json_schema", "json_schema": schema},
        },
    )
    assert agent.llm_config.temperature == 0.1
    assert agent.llm_config.max_tokens == 321
    send(api, agent.id, "hello")
    body = fake.requests[-1]
    assert (body["temperature"], body["max_tokens"]) == (0.1, 321)
    assert body["parallel_tool_calls"] is False
    assert body["reasoning_effort"] == "low"
    assert body["response_format"] == {"type": "json_schema", "json_schema": schema}
    client.agents.update(
        agent.id,
        model="anthropic/claude-fake",
        model_settings={
            "provider_type": "anthropic",
            "max_output_tokens": 2048,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "parallel_tool_calls": False,
        },
    )
    send(api, agent.id, "again")
    body = fake.requests[-1]
    assert body["max_tokens"] == 2048
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["tool_choice"]["disable_parallel_tool_use"] is True


def test_the_agents_top_level_response_format_is_kept_and_sent(
    provider_server: ServerProcess, api: httpx.Client, fake: FakeLLMServer
) -> None:
    """letta-client 1.x still sends `response_format` beside `model_settings` (deprecated,
    not gone) and reads it back on AgentState: create and update keep it, the provider gets
    it, and a format no adapter can send is a 422 that changes nothing."""
    from letta_client import Letta, UnprocessableEntityError

    client = Letta(base_url=provider_server.url, max_retries=0)
    agent = client.agents.create(
        name="formatted", model="openai/gpt-fake", response_format={"type": "json_object"}
    )
    assert agent.response_format is not None
    assert agent.response_format.type == "json_object"
    send(api, agent.id, "hello")
    assert fake.requests[-1]["response_format"] == {"type": "json_object"}
    schema = {"name": "answer", "schema": {"type": "object"}}
    updated = client.agents.update(
        agent.id, response_format={"type": "json_schema", "json_schema": schema}
    )
    assert updated.llm_config.response_format is not None
    assert updated.llm_config.response_format.type == "json_schema"
    send(api, agent.id, "again")
    assert fake.requests[-1]["response_format"] == {"type": "json_schema", "json_schema": schema}
    with pytest.raises(UnprocessableEntityError):
        client.agents.update(agent.id, extra_body={"response_format": {"type": "yaml"}})
    with pytest.raises(UnprocessableEntityError):
        client.agents.create(name="unformatted", extra_body={"response_format": {"type": "yaml"}})
    assert client.agents.retrieve(agent.id).response_format.type == "json_schema"  # type: ignore[union-attr]
    assert not list(client.agents.list(name="unformatted"))


def test_override_model_and_response_format_apply_to_one_request(
    provider_server: ServerProcess, api: httpx.Client, fake: FakeLLMServer
) -> None:
    from letta_client import Letta, UnprocessableEntityError

    client = Letta(base_url=provider_server.url, max_retries=0)
    agent = client.agents.create(name="switching", model="openai/gpt-fake")
    client.agents.messages.create(
        agent_id=agent.id, input="hello", override_model="anthropic/claude-fake"
    )
    assert fake.requests[-1]["model"] == "claude-fake"
    assert "system" in fake.requests[-1]  # the Anthropic wire format
    schema = {"name": "answer", "schema": {"type": "object"}}
    client.agents.messages.create(
        agent_id=agent.id,
        input="and now?",
        extra_body={"response_format": {"type": "json_schema", "json_schema": schema}},
    )
    body = fake.requests[-1]
    assert body["model"] == "gpt-fake"  # the override was for one request
    assert body["response_format"] == {"type": "json_schema", "json_schema": schema}
    with pytest.raises(UnprocessableEntityError):
        client.agents.messages.create(agent_id=agent.id, input="x", override_model="nope")
    with pytest.raises(UnprocessableEntityError):
        client.agents.messages.create(
            agent_id=agent.id, input="x", extra_body={"response_format": {"type": "yaml"}}
        )


def test_stored_provider_keys_serve_their_providers_handles(
    provider_server: ServerProcess, api: httpx.Client, fake: FakeLLMServer
) -> None:
    """0.1.x `providers.create_provider(name, api_key)`: the key is what that provider's
    model calls carry (before the environment's), a change applies to the next call, and
    deleting it brings the environment's key back. The key is never shown."""
    from tests.support.sdks import legacy_sdk

    sdk = legacy_sdk()
    client = sdk.Letta(base_url=provider_server.url)
    gpt = make_agent(api, model="openai/gpt-fake")
    claude = make_agent(api, model="anthropic/claude-fake")
    stored = client.providers.create_provider(name="openai", api_key="sk-stored-1")
    anthropic = client.providers.create_provider(name="anthropic", api_key="sk-ant-stored")
    try:
        send(api, gpt["id"], "hi")
        assert fake.keys[-1] == "sk-stored-1"
        send(api, claude["id"], "hi")
        assert fake.keys[-1] == "sk-ant-stored"
        client.providers.modify_provider(id=stored.id, api_key="sk-stored-2")
        send(api, gpt["id"], "again")
        assert fake.keys[-1] == "sk-stored-2"
        listing = api.get("/v1/providers").text
        assert "sk-stored" not in listing
        unknown = api.post("/v1/providers", json={"name": "acme", "api_key": "k"})
        assert unknown.status_code == 422
        assert "openai" in unknown.json()["detail"]
    finally:
        client.providers.delete_provider(provider_id=stored.id)
        client.providers.delete_provider(provider_id=anthropic.id)
    send(api, gpt["id"], "and now?")
    assert fake.keys[-1] == "sk-test"  # the environment's key again
    assert "sk-stored" not in provider_server.log_path.read_text()


PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="


def test_image_parts_reach_providers_that_take_images(
    provider_server: ServerProcess, api: httpx.Client, fake: FakeLLMServer
) -> None:
    """letta-client 1.x `ImageContent` (URL or base64) in a user message: stored, shown in
    the history, and sent to OpenAI-compatible and Anthropic providers in their own shapes;
    sent to an agent on the embedded model, which cannot see them, they are refused (422)."""
    from letta_client import Letta

    from tests.support.sdks import legacy_sdk

    client = Letta(base_url=provider_server.url)
    url_image = {"type": "image", "source": {"type": "url", "url": "http://127.0.0.1:9/cat.png"}}
    data_image = {
        "type": "image",
        "source": {"type": "base64", "data": PIXEL, "media_type": "image/png"},
    }
    gpt = client.agents.create(name="seeing-gpt", model="openai/gpt-fake")
    client.agents.messages.create(
        gpt.id, input=[{"type": "text", "text": "What is this?"}, url_image, data_image]
    )
    user_turn = fake.requests[-1]["messages"][-1]
    assert user_turn["role"] == "user"
    assert user_turn["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "http://127.0.0.1:9/cat.png"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
    ]
    claude = client.agents.create(name="seeing-claude", model="anthropic/claude-fake")
    client.agents.messages.create(
        claude.id, messages=[{"role": "user", "content": [data_image, url_image]}]
    )
    blocks = fake.requests[-1]["messages"][-1]["content"]
    assert {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PIXEL},
    } in blocks
    assert {
        "type": "image",
        "source": {"type": "url", "url": "http://127.0.0.1:9/cat.png"},
    } in blocks

    history = [m for m in client.agents.messages.list(gpt.id) if m.message_type == "user_message"]
    parts = history[-1].content
    assert [p.type for p in parts] == ["text", "image", "image"]
    assert parts[1].source.url == "http://127.0.0.1:9/cat.png"
    assert parts[2].source.data == PIXEL
    legacy = legacy_sdk().Letta(base_url=provider_server.url)
    old = [
        m for m in legacy.agents.messages.list(agent_id=gpt.id) if m.message_type == "user_message"
    ]
    assert old[-1].content == "What is this?"  # the 0.1.x SDK reads text parts only

    local = client.agents.create(name="blind", model="local/smollm2-135m")
    answer = api.post(
        f"/v1/agents/{local.id}/messages",
        json={
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "see?"}, data_image]}
            ]
        },
    )
    assert answer.status_code == 422, answer.text  # tests/server/test_images_on_text_models.py
    assert "does not accept images" in answer.json()["detail"]
    bad = api.post(
        f"/v1/agents/{gpt.id}/messages",
        json={"input": [{"type": "image", "source": {"data": PIXEL, "media_type": "text/html"}}]},
    )
    assert bad.status_code == 422


@pytest.mark.parametrize("model", ["openai/gpt-fake", "anthropic/claude-fake"])
def test_a_run_cancelled_midway_through_the_models_answer_leaves_no_half_read_connection(
    api: httpx.Client, fake: FakeLLMServer, model: str
) -> None:
    """The lean transport under the SDKs (llm/lean_transport.py) must close, not pool, a
    connection whose answer was abandoned half-read: else the next request on it would
    read the rest of the old answer as its own."""
    agent = make_agent(api, model=model)
    fake.push({"stall": True, "tool": "send_message", "arguments": {"message": "stale"}})
    started = api.post(
        f"/v1/agents/{agent['id']}/messages/async",
        json={"messages": [{"role": "user", "content": "take your time"}]},
    )
    run_id = started.json()["id"]
    wait_for(fake.stalled.is_set, "the model's answer to begin")
    try:
        cancelled = api.post(f"/v1/agents/{agent['id']}/messages/cancel", json={})
        assert cancelled.json() == {run_id: "cancelled"}
        run = wait_for(
            lambda: (r := api.get(f"/v1/runs/{run_id}").json())["status"] != "running" and r,
            "the run to end",
        )
        assert (run["status"], run["stop_reason"]) == ("cancelled", "cancelled")
    finally:
        fake.resume.set()  # the rest of the abandoned answer goes out now
    result = send(api, agent["id"], "and now?")
    assert [m["content"] for m in of_type(result, "assistant_message")] == ["fake reply"]
    assert len(fake.requests) == 2  # no retry of the cancelled call
