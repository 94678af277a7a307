"""Images and a model that cannot see them (the embedded model reads text only), through
letta-client 1.x against a real server: a new message with image parts is refused with a 422
naming the model before anything is stored or run, whichever way it is sent; the model the
message would run on decides (an override, a conversation's model); images already in a
history reach the embedded model as a placeholder, so they never fail its turn."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import letta_client
import pytest
from letta_client import Letta

from tests.server.helpers import unique
from troupe.llm.handles import DEFAULT_MODEL

EMBEDDED = DEFAULT_MODEL  # local/smollm2-135m
SEEING = "test/echo"  # the test provider, like OpenAI's and Anthropic's, takes images
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
BASE64_IMAGE = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": PIXEL},
}
URL_IMAGE = {"type": "image", "source": {"type": "url", "url": "http://127.0.0.1:9/cat.png"}}
REFUSED = "does not accept images: it reads text only"


def _asking(text: str = "what is this?", image: dict[str, Any] = BASE64_IMAGE) -> list[Any]:
    return [{"role": "user", "content": [{"type": "text", "text": text}, image]}]


def _refusal(send: Any) -> str:
    with pytest.raises(letta_client.UnprocessableEntityError) as refused:
        send()
    body = refused.value.body
    assert isinstance(body, dict), body
    return str(body["detail"])


def _assert_untouched(client: Letta, agent_id: str) -> None:
    """No message stored (the history is its system message alone) and no run left."""
    kinds = [m.message_type for m in client.agents.messages.list(agent_id)]
    assert kinds == ["system_message"]
    assert list(client.runs.list(agent_id=agent_id)) == []


def _in(seconds: float) -> float:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).timestamp() * 1000


def test_an_image_to_an_agent_on_the_embedded_model_is_refused_and_changes_nothing(
    client: Letta,
) -> None:
    agent = client.agents.create(name=unique("blind"), model=EMBEDDED)
    ways = {
        "base64": lambda: client.agents.messages.create(agent.id, messages=_asking()),
        "url, as input": lambda: client.agents.messages.create(
            agent.id, input=[{"type": "text", "text": "and this?"}, URL_IMAGE]
        ),
        "an image alone": lambda: client.agents.messages.create(
            agent.id, messages=[{"role": "user", "content": [BASE64_IMAGE]}]
        ),
        "streamed": lambda: list(
            client.agents.messages.create(agent.id, messages=_asking(), streaming=True)
        ),
        "async": lambda: client.agents.messages.create_async(agent.id, messages=_asking()),
    }
    for way, send in ways.items():
        detail = _refusal(send)
        assert f"model '{EMBEDDED}' (the agent's model) {REFUSED}" in detail, way
        assert "nothing was stored or run" in detail, way
    _assert_untouched(client, agent.id)


def test_the_refusal_names_the_model_an_alias_runs_on(client: Letta) -> None:
    agent = client.agents.create(name=unique("free"), model="letta/letta-free")
    detail = _refusal(lambda: client.agents.messages.create(agent.id, messages=_asking()))
    assert f"model 'letta/letta-free, served by {EMBEDDED}' (the agent's model) {REFUSED}" in (
        detail
    )
    _assert_untouched(client, agent.id)


def test_a_scheduled_image_for_the_embedded_model_is_refused_when_scheduled(
    client: Letta,
) -> None:
    agent = client.agents.create(name=unique("blind"), model=EMBEDDED)
    detail = _refusal(
        lambda: client.agents.schedule.create(
            agent.id,
            messages=_asking(),
            schedule={"type": "one-time", "scheduled_at": _in(3600)},
        )
    )
    assert f"model '{EMBEDDED}' (the agent's model) {REFUSED}" in detail
    assert client.agents.schedule.list(agent.id).scheduled_messages == []
    _assert_untouched(client, agent.id)


def test_the_model_the_message_runs_on_decides_not_the_agents(client: Letta) -> None:
    seeing = client.agents.create(name=unique("seeing"), model=SEEING)
    detail = _refusal(
        lambda: client.agents.messages.create(
            seeing.id, messages=_asking(), override_model=EMBEDDED
        )
    )
    assert f"model '{EMBEDDED}' (the model this message runs on (override_model" in detail
    conversation = client.conversations.create(agent_id=seeing.id, model=EMBEDDED)
    detail = _refusal(
        lambda: list(client.conversations.messages.create(conversation.id, messages=_asking()))
    )
    assert f"model '{EMBEDDED}' (the model this message runs on" in detail
    assert REFUSED in detail
    _assert_untouched(client, seeing.id)

    blind = client.agents.create(name=unique("blind"), model=EMBEDDED)
    answer = client.agents.messages.create(blind.id, messages=_asking(), override_model=SEEING)
    assert answer.stop_reason.stop_reason == "end_turn"
    stored = [m for m in client.agents.messages.list(blind.id) if m.message_type == "user_message"]
    assert [part.type for part in stored[-1].content] == ["text", "image"]


@pytest.mark.slow
def test_an_image_already_sent_reaches_the_embedded_model_as_a_placeholder(
    client: Letta,
) -> None:
    """A scheduled message with an image, made while the agent was on a model that sees
    images, fires after its model became the embedded one: the run completes (before, the
    embedded model failed every step whose newest user message held an image)."""
    agent = client.agents.create(
        name=unique("switched"), model=SEEING, include_base_tools=False, tools=["send_message"]
    )
    client.agents.schedule.create(
        agent.id,
        messages=_asking("what is in this picture?"),
        schedule={"type": "one-time", "scheduled_at": _in(4)},
        max_steps=2,
    )
    client.agents.update(agent.id, model=EMBEDDED)
    deadline = time.monotonic() + 900  # one turn of a 135M model on a busy 2-core machine
    while time.monotonic() < deadline:
        runs = list(client.runs.list(agent_id=agent.id))
        if runs and runs[0].status not in ("created", "running"):
            break
        time.sleep(0.5)
    (run,) = runs
    assert run.status == "completed", run.metadata
    assert run.stop_reason == "end_turn"
    assert not run.metadata  # nothing failed
    assert {step.model for step in client.runs.steps.list(run.id)} == {EMBEDDED}
    stored = [m for m in client.agents.messages.list(agent.id) if m.message_type == "user_message"]
    assert [part.type for part in stored[-1].content] == ["text", "image"]  # kept as sent
