"""Identities: 0.1.x CRUD, upsert and properties; 1.x attach/detach on agents; agents and
blocks listed by identity; `identity_ids` on the agent state, on create and modify."""

from typing import Any

import httpx
import letta_client
import pytest

from tests.server.helpers import SCRIPTED, unique
from tests.support.sdks import legacy_sdk


def _prop(key: str, value: Any, kind: str) -> dict[str, Any]:
    return {"key": key, "value": value, "type": kind}


def test_identities_are_created_upserted_modified_and_deleted_by_the_legacy_sdk(
    legacy_client: Any, http: httpx.Client
) -> None:
    sdk = legacy_sdk()
    key = unique("user")
    agent = legacy_client.agents.create(name=unique("a"), model=SCRIPTED)
    block = legacy_client.blocks.create(label="human", value="likes tea")
    made = legacy_client.identities.create(
        identifier_key=key,
        name="Ada",
        identity_type="user",
        agent_ids=[agent.id],
        block_ids=[block.id],
        properties=[sdk.IdentityProperty(key="plan", value="pro", type="string")],
    )
    assert made.id.startswith("identity-")
    assert (made.agent_ids, made.block_ids) == ([agent.id], [block.id])
    assert [(p.key, p.value, p.type) for p in made.properties] == [("plan", "pro", "string")]
    assert legacy_client.identities.retrieve(made.id).identifier_key == key
    assert legacy_client.agents.retrieve(agent.id).identity_ids == [made.id]

    with pytest.raises(sdk.core.api_error.ApiError) as taken:
        legacy_client.identities.create(identifier_key=key, name="Twin", identity_type="user")
    assert taken.value.status_code == 409
    in_project = legacy_client.identities.create(
        identifier_key=key, name="Elsewhere", identity_type="org", project_id=unique("p")
    )
    assert in_project.id != made.id

    listed = legacy_client.identities.list(identifier_key=key)
    assert {i.id for i in listed} == {made.id, in_project.id}
    assert [
        i.id for i in legacy_client.identities.list(identifier_key=key, identity_type="org")
    ] == [in_project.id]
    assert made.id in [i.id for i in legacy_client.identities.list(name="ad", limit=1000)]

    # PATCH merges properties by key and adds agents; PUT (upsert) replaces.
    other = legacy_client.agents.create(name=unique("a"), model=SCRIPTED)
    patched = legacy_client.identities.modify(
        made.id,
        agent_ids=[other.id],
        properties=[
            sdk.IdentityProperty(key="plan", value="team", type="string"),
            sdk.IdentityProperty(key="seats", value=3, type="number"),
        ],
    )
    assert set(patched.agent_ids) == {agent.id, other.id}
    assert {p.key: p.value for p in patched.properties} == {"plan": "team", "seats": 3}
    upserted = legacy_client.identities.upsert(
        identifier_key=key, name="Ada L.", identity_type="user", agent_ids=[other.id]
    )
    assert upserted.id == made.id
    assert (upserted.name, upserted.agent_ids) == ("Ada L.", [other.id])
    assert legacy_client.agents.retrieve(agent.id).identity_ids == []
    fresh_key = unique("user")
    new = legacy_client.identities.upsert(
        identifier_key=fresh_key, name="New", identity_type="other"
    )
    assert new.id != made.id
    assert new.identifier_key == fresh_key

    # The properties route replaces them all.
    replaced = http.put(
        f"/v1/identities/{made.id}/properties",
        json=[_prop("vip", True, "boolean"), _prop("prefs", {"tone": "dry"}, "json")],
    )
    assert replaced.status_code == 200, replaced.text
    assert {p["key"]: p["value"] for p in replaced.json()["properties"]} == {
        "vip": True,
        "prefs": {"tone": "dry"},
    }
    kept = legacy_client.identities.retrieve(made.id)
    assert {p.key: p.value for p in kept.properties} == {"vip": True, "prefs": {"tone": "dry"}}

    # Bad input changes nothing.
    missing = http.post(
        "/v1/identities",
        json={"identifier_key": unique("k"), "name": "x", "identity_type": "user",
              "agent_ids": ["agent-missing"]},
    )  # fmt: skip
    assert missing.status_code == 404
    assert "agent-missing" in missing.text
    bad_type = http.post(
        "/v1/identities", json={"identifier_key": unique("k"), "name": "x", "identity_type": "bot"}
    )
    assert bad_type.status_code == 422
    assert http.put("/v1/identities/identity-nope/properties", json=[]).status_code == 404

    counted = http.get("/v1/identities/count")  # Letta's route, not an identity named "count"
    assert counted.status_code == 200, counted.text
    legacy_client.identities.delete(made.id)
    assert http.get("/v1/identities/count").json() == counted.json() - 1
    with pytest.raises(sdk.core.api_error.ApiError) as gone:
        legacy_client.identities.retrieve(made.id)
    assert gone.value.status_code == 404
    assert legacy_client.agents.retrieve(other.id).identity_ids == []
    assert legacy_client.blocks.retrieve(block.id).value == "likes tea"  # the block stays


def test_agents_attach_identities_and_are_listed_by_them(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    key = unique("org")
    identity = legacy_client.identities.create(identifier_key=key, name="Acme", identity_type="org")
    spare = legacy_client.identities.create(
        identifier_key=unique("org"), name="Spare", identity_type="org"
    )
    first = client.agents.create(name=unique("a"), model=SCRIPTED, identity_ids=[identity.id])
    assert first.identity_ids == [identity.id]
    second = client.agents.create(name=unique("a"), model=SCRIPTED)
    assert second.identity_ids == []
    client.agents.identities.attach(identity.id, agent_id=second.id)
    assert client.agents.retrieve(second.id).identity_ids == [identity.id]

    by_identity = {a.id for a in client.agents.list(identity_id=identity.id)}
    assert by_identity == {first.id, second.id}
    assert {a.id for a in client.agents.list(identifier_keys=[key])} == {first.id, second.id}
    assert {a.id for a in legacy_client.agents.list(identity_id=identity.id)} == by_identity
    listed = http.get(f"/v1/identities/{identity.id}/agents")
    assert listed.status_code == 200
    assert {a["id"] for a in listed.json()} == by_identity
    assert set(legacy_client.identities.retrieve(identity.id).agent_ids) == by_identity

    client.agents.identities.detach(identity.id, agent_id=first.id)
    assert client.agents.retrieve(first.id).identity_ids == []
    assert [a.id for a in client.agents.list(identity_id=identity.id)] == [second.id]

    changed = client.agents.update(second.id, identity_ids=[spare.id])
    assert changed.identity_ids == [spare.id]
    assert list(client.agents.list(identity_id=identity.id)) == []

    block = client.blocks.create(label="persona", value="helpful")
    legacy_client.identities.modify(spare.id, block_ids=[block.id])
    assert [b.id for b in client.blocks.list(identity_id=spare.id)] == [block.id]
    assert [b["id"] for b in http.get(f"/v1/identities/{spare.id}/blocks").json()] == [block.id]

    with pytest.raises(letta_client.NotFoundError):
        client.agents.identities.attach("identity-missing", agent_id=second.id)
    with pytest.raises(letta_client.NotFoundError):
        client.agents.create(name=unique("a"), model=SCRIPTED, identity_ids=["identity-missing"])
    assert http.get("/v1/identities/identity-missing/agents").status_code == 404
