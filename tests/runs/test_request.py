"""RunRequest, the typed form of a run's stored request: rows the three writers stored
before it existed read back as they meant, and what it stores reads back the same."""

from troupe.agent.turn import InputMessage
from troupe.runs.request import RunRequest
from troupe.schemas.messages import DEFAULT_MAX_STEPS

USER_INPUT = {"role": "user", "text": "hi", "name": None, "otid": "o-1", "sender_agent_id": None}
DELIVERED = {
    "role": "system",
    "text": "[Message from agent a (agent-1)] hi",
    "name": None,
    "otid": None,
    "sender_agent_id": "agent-1",
}


def test_requests_stored_before_the_type_existed_read_back_as_they_meant() -> None:
    # A user's message (services.messages), as the executor stored it, and a background one.
    assert RunRequest.from_json(
        {"inputs": [USER_INPUT], "max_steps": 7, "background": False}
    ) == RunRequest(inputs=[InputMessage(role="user", text="hi", otid="o-1")], max_steps=7)
    assert RunRequest.from_json(
        {"inputs": [USER_INPUT], "max_steps": 7, "background": True}
    ).background
    # A mailbox delivery (the dispatcher) and a waited-on message (send-and-wait, broadcast).
    delivery = RunRequest.from_json(
        {"inputs": [DELIVERED], "max_steps": 50, "chain": [], "delivery_id": "delivery-1",
         "background": False}
    )  # fmt: skip
    assert delivery.delivery_id == "delivery-1"
    assert delivery.inputs[0].sender_agent_id == "agent-1"
    waited = RunRequest.from_json(
        {"inputs": [DELIVERED], "max_steps": 50, "chain": ["agent-0", "agent-1"],
         "background": False}
    )  # fmt: skip
    assert waited.chain == ("agent-0", "agent-1")
    assert waited.delivery_id is None


def test_missing_keys_take_the_defaults() -> None:
    assert RunRequest.from_json({}) == RunRequest()
    assert RunRequest().max_steps == DEFAULT_MAX_STEPS


def test_a_stored_request_reads_back_unchanged() -> None:
    request = RunRequest(
        inputs=[InputMessage(role="system", text="hi", sender_agent_id="agent-1")],
        max_steps=3,
        chain=("agent-0",),
        background=True,
        delivery_id="delivery-1",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate="vendor=opaque-value",
    )
    assert RunRequest.from_json(request.to_json()) == request
    assert set(RunRequest().to_json()) == {"inputs", "max_steps", "chain", "background"}
