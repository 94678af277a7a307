"""A conversation's stream read back by `run_id` or `otid`, and cancelling with nothing to
cancel, through letta-client 1.12.1, as Letta's server answers them."""

import uuid
from typing import Any

import httpx
import letta_client
import pytest

from tests.server.helpers import make_agent, wait_for


def said(events: Any) -> list[str]:
    return [e.content for e in events if getattr(e, "message_type", None) == "assistant_message"]


def test_a_finished_run_of_a_conversation_is_streamed_by_its_id_or_its_inputs_otid(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http, model="test/echo")
    conversation = client.conversations.create(agent_id=agent["id"])
    other = client.conversations.create(agent_id=agent["id"])
    otid = str(uuid.uuid4())
    left = client.conversations.messages.create(
        conversation.id,
        messages=[{"role": "user", "content": "carry on", "otid": otid}],
        background=True,
    )
    left.close()  # the client goes away; the run goes on, and ends
    (run,) = wait_for(
        lambda: [
            r for r in client.runs.list(conversation_id=conversation.id) if r.status == "completed"
        ],
        "the conversation's run to end",
    )
    replayed = list(client.runs.messages.stream(run.id, starting_after=0))
    assert said(replayed) == ["echo: carry on"]

    by_id = list(
        client.conversations.messages.stream(conversation.id, run_id=run.id, starting_after=0)
    )
    assert said(by_id) == said(replayed)
    assert [e.message_type for e in by_id] == [e.message_type for e in replayed]
    later = list(
        client.conversations.messages.stream(
            conversation.id, run_id=run.id, starting_after=by_id[0].seq_id
        )
    )
    assert said(later) == []  # after the reply's sequence id, only the run's end is left
    by_otid = list(client.conversations.messages.stream(conversation.id, otid=otid))
    assert said(by_otid) == ["echo: carry on"]

    with pytest.raises(letta_client.UnprocessableEntityError):  # another conversation's run
        list(client.conversations.messages.stream(other.id, run_id=run.id))
    with pytest.raises(letta_client.NotFoundError):
        list(client.conversations.messages.stream(conversation.id, run_id="run-no-such-run"))
    with pytest.raises(letta_client.NotFoundError):  # no message of its history has it
        list(client.conversations.messages.stream(other.id, otid=otid))


def test_a_cancel_with_nothing_going_is_a_conflict_for_an_agent_as_for_a_conversation(
    client: Any, http: httpx.Client
) -> None:
    """Letta raises NoActiveRunsToCancelError (409) on both routes when nothing is going."""
    agent = make_agent(http)
    conversation = client.conversations.create(agent_id=agent["id"])
    with pytest.raises(letta_client.ConflictError):
        client.agents.messages.cancel(agent["id"])
    with pytest.raises(letta_client.ConflictError):
        client.conversations.cancel(conversation.id)
    with pytest.raises(letta_client.ConflictError):
        client.conversations.cancel("default", agent_id=agent["id"])
