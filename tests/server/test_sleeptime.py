"""Sleep-time agents (`enable_sleeptime`) through both SDK lines: the pairing as Letta shows
it, the background run after the primary's turns, edits that race the primary's, removal."""

import json
from typing import Any

import httpx
import pytest

from tests.server.helpers import (
    SCRIPTED,
    block_value,
    eventually,
    make_agent,
    script,
    send,
    unique,
)

SLEEPER = "test/function:tests.support.group_models:sleeper"


def _runs_of(http: httpx.Client, agent_id: str) -> list[dict[str, Any]]:
    return http.get("/v1/runs", params={"agent_id": agent_id, "limit": 100}).json()


def test_a_sleeptime_agent_shares_memory_and_edits_it_after_the_primarys_turns(
    http: httpx.Client, client: Any
) -> None:
    primary = client.agents.create(
        name=unique("primary"),
        model=SCRIPTED,
        memory_blocks=[{"label": "human", "value": "About the user:"}],
        enable_sleeptime=True,
    )
    assert primary.enable_sleeptime is True
    group = primary.multi_agent_group
    assert group is not None
    assert (group.manager_type, group.manager_agent_id) == ("sleeptime", primary.id)
    assert group.sleeptime_agent_frequency == 5  # Letta's: every fifth turn
    every_turn = {"manager_config": {"sleeptime_agent_frequency": 1}}
    assert http.patch(f"/v1/groups/{group.id}", json=every_turn).status_code == 200
    assert primary.managed_group is not None
    assert primary.managed_group.id == group.id
    (sleeper_id,) = group.agent_ids
    sleeper = client.agents.retrieve(sleeper_id)
    assert sleeper.agent_type == "sleeptime_agent"
    assert sleeper.name == f"{primary.name}-sleeptime"
    assert [b.id for b in sleeper.blocks] == [b.id for b in primary.blocks]  # shared, not copied
    assert {"memory_insert", "memory_replace", "memory_rethink"} <= {t.name for t in sleeper.tools}
    client.agents.update(sleeper_id, model=SLEEPER)

    # The primary answers at once; its sleep-time agent then runs in the background, in the
    # primary's trace, and notes what the user said in the shared block.
    answer = http.post(
        f"/v1/agents/{primary.id}/messages",
        json={"messages": [{"role": "user", "content": "I like green tea"}]},
    ).json()
    assert answer["stop_reason"]["stop_reason"] == "end_turn"
    noted = eventually(lambda: "noted: I like green tea" in block_value(http, primary.id, "human"))
    assert noted
    trace = http.get(f"/v1/traces/{answer['trace_id']}").json()
    (root,) = trace["runs"]
    assert [c["agent_id"] for c in root["children"]] == [sleeper_id]
    assert root["children"][0]["kind"] == "delivery"

    # The primary edits the same block in its own turn while its sleep-time agent edits it:
    # neither edit is lost, and no run fails (the versioned edits retry, never a 409).
    edit = script(
        {"tool": "core_memory_append", "args": {"label": "human", "content": "prefers mornings"}},
        {"tool": "send_message", "args": {"message": "saved"}},
    )
    http.post(
        f"/v1/agents/{primary.id}/messages",
        json={"messages": [{"role": "user", "content": edit}]},
    )
    both = eventually(
        lambda: all(
            part in block_value(http, primary.id, "human")
            for part in ("prefers mornings", "noted: SCRIPT")
        )
    )
    assert both, block_value(http, primary.id, "human")
    runs = _runs_of(http, sleeper_id)
    assert len(runs) == 2
    assert all(r["status"] == "completed" for r in eventually(lambda: _runs_of(http, sleeper_id)))
    assert client.agents.retrieve(primary.id).multi_agent_group.turns_counter == 2

    # Deleting the primary removes its sleep-time agent and their group.
    client.agents.delete(primary.id)
    assert http.get(f"/v1/agents/{sleeper_id}").status_code == 404
    assert http.get(f"/v1/groups/{group.id}").status_code == 404


def test_sleeptime_every_n_turns_and_switched_off_through_the_legacy_sdk(
    http: httpx.Client, legacy_client: Any
) -> None:
    primary = legacy_client.agents.create(
        name=unique("legacy-primary"),
        model=SCRIPTED,
        embedding="letta/letta-free",
        memory_blocks=[{"label": "human", "value": "About the user:"}],
        request_options={"additional_body_parameters": {"enable_sleeptime": True}},
    )
    group = primary.multi_agent_group
    assert group is not None
    assert group.manager_type == "sleeptime"
    (sleeper_id,) = group.agent_ids
    http.patch(f"/v1/agents/{sleeper_id}", json={"model": SLEEPER})
    changed = http.patch(
        f"/v1/groups/{group.id}",
        json={
            "manager_config": {
                "manager_type": "sleeptime",
                "manager_agent_id": primary.id,
                "sleeptime_agent_frequency": 2,
            }
        },
    ).json()
    assert changed["sleeptime_agent_frequency"] == 2
    for n in range(3):
        legacy_client.agents.messages.create(
            agent_id=primary.id, messages=[{"role": "user", "content": f"turn {n}"}]
        )
    # Every second turn: after turn 1 (the second), not after turns 0 and 2.
    runs = eventually(lambda: _runs_of(http, sleeper_id))
    assert len(runs) == 1
    assert eventually(lambda: "noted: turn 1" in block_value(http, primary.id, "human"))
    assert "turn 0" not in block_value(http, primary.id, "human")
    counted = eventually(lambda: http.get(f"/v1/groups/{group.id}").json()["turns_counter"] == 3)
    assert counted
    assert len(_runs_of(http, sleeper_id)) == 1  # the third turn handed nothing over

    off = legacy_client.agents.modify(
        agent_id=primary.id,
        request_options={"additional_body_parameters": {"enable_sleeptime": False}},
    )
    assert off.multi_agent_group is None
    assert http.get(f"/v1/agents/{primary.id}").json()["enable_sleeptime"] is False
    assert http.get(f"/v1/agents/{sleeper_id}").status_code == 404


def test_a_sleeptime_groups_frequency_changes_alone_as_lettas_update_configs_send_it(
    http: httpx.Client, client: Any
) -> None:
    """Letta's sleep-time example changes only the frequency of the group `enable_sleeptime`
    made (`SleeptimeManagerUpdate(sleeptime_agent_frequency=1)`): no manager is named, and
    some SDK versions name no manager type either."""
    primary = client.agents.create(name=unique("primary"), model=SCRIPTED, enable_sleeptime=True)
    group = primary.multi_agent_group
    assert group is not None
    changed = http.patch(
        f"/v1/groups/{group.id}",
        json={"manager_config": {"manager_type": "sleeptime", "sleeptime_agent_frequency": 1}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["sleeptime_agent_frequency"] == 1
    seen = client.agents.retrieve(primary.id).multi_agent_group
    assert (seen.manager_type, seen.manager_agent_id, seen.sleeptime_agent_frequency) == (
        "sleeptime",
        primary.id,
        1,
    )

    http.patch(f"/v1/groups/{group.id}", json={"manager_config": {"sleeptime_agent_frequency": 3}})
    seen = client.agents.retrieve(primary.id).multi_agent_group
    assert (seen.manager_type, seen.manager_agent_id, seen.sleeptime_agent_frequency) == (
        "sleeptime",
        primary.id,
        3,
    )
    assert seen.agent_ids == group.agent_ids


@pytest.mark.slow
def test_on_the_embedded_model_the_sleeptime_agent_makes_one_valid_edit_and_ends(
    http: httpx.Client, request: pytest.FixtureRequest
) -> None:
    if "postgres" in request.node.name:  # what the model does is the same on either backend
        pytest.skip("run once, on SQLite")
    primary = make_agent(
        http,
        model="test/echo",
        memory_blocks=[
            {"label": "human", "value": "name: unknown"},
            {"label": "persona", "value": "I am a helpful assistant."},
        ],
        enable_sleeptime=True,
    )
    (sleeper_id,) = primary["multi_agent_group"]["agent_ids"]
    http.patch(f"/v1/agents/{sleeper_id}", json={"model": "local/smollm2-135m"})
    every_turn = {"manager_config": {"sleeptime_agent_frequency": 1}}
    http.patch(f"/v1/groups/{primary['multi_agent_group']['id']}", json=every_turn)
    send(http, primary["id"], "Hi! My name is Ada and I like green tea.")
    runs = eventually(
        lambda: [r for r in _runs_of(http, sleeper_id) if r["status"] != "running"], timeout=120
    )
    assert [r["status"] for r in runs] == ["completed"]
    assert runs[0]["stop_reason"] == "tool_rule"  # its memory edit ended the turn (exit_loop)
    history = http.get(f"/v1/agents/{sleeper_id}/messages", params={"limit": 100}).json()
    calls = [m["tool_call"] for m in history if m["message_type"] == "tool_call_message"]
    returns = [m for m in history if m["message_type"] == "tool_return_message"]
    assert [c["name"] for c in calls] == ["memory_insert"]
    assert json.loads(calls[0]["arguments"])["label"] in {"human", "persona"}
    assert returns[0]["status"] == "success"
    label = json.loads(calls[0]["arguments"])["label"]
    before = {"human": "name: unknown", "persona": "I am a helpful assistant."}[label]
    assert block_value(http, primary["id"], label) != before
