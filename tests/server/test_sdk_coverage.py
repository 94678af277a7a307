"""Every route of the API table (docs/api.md), through both official SDK lines (letta-client 1.x
and 0.1.x), on SQLite and PostgreSQL."""

import uuid
from typing import Any

import pytest
from letta_client import ConflictError, NotFoundError, UnprocessableEntityError

from tests.support.sdks import legacy_sdk


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fn_name(prefix: str) -> str:
    return unique(prefix).replace("-", "_")


def roll_source(name: str, doc: str = "Roll a die.") -> str:
    return (
        f"def {name}(sides: int, times: int = 1) -> int:\n"
        f'    """{doc}\n\n'
        "    Args:\n"
        "        sides: How many faces the die has.\n"
        "        times: How often to roll.\n"
        '    """\n'
        "    return sides * times\n"
    )


def legacy_status(call: Any) -> int:
    """The HTTP status a 0.1.x SDK call failed with."""
    api_error = legacy_sdk().core.api_error.ApiError
    with pytest.raises(api_error) as caught:
        call()
    return int(caught.value.status_code)


# --- letta-client 1.x ------------------------------------------------------------------------


def test_current_sdk_tool_lifecycle(client: Any) -> None:
    name = fn_name("roll")
    created = client.tools.create(source_code=roll_source(name), tags=["dice"])
    assert created.name == name
    assert created.description == "Roll a die."
    params = created.json_schema["parameters"]
    assert params["required"] == ["sides"]
    assert params["properties"]["sides"] == {
        "type": "integer",
        "description": "How many faces the die has.",
    }
    assert created.tags == ["dice"]
    assert created.tool_type == "custom"

    with pytest.raises(ConflictError):  # no retries: the SDK retries a 409 by default
        client.with_options(max_retries=0).tools.create(source_code=roll_source(name))

    upserted = client.tools.upsert(source_code=roll_source(name, doc="Roll dice, fairly."))
    assert upserted.id == created.id
    assert upserted.description == "Roll dice, fairly."

    assert [t.id for t in client.tools.list(name=name)] == [created.id]
    assert client.tools.retrieve(created.id).description == "Roll dice, fairly."

    updated = client.tools.update(created.id, description="mine", tags=["dice", "games"])
    assert (updated.description, updated.tags) == ("mine", ["dice", "games"])
    renamed = client.tools.update(created.id, source_code=roll_source(name + "_v2"))
    assert renamed.name == name + "_v2"
    assert client.tools.retrieve(created.id).name == name + "_v2"

    with pytest.raises(UnprocessableEntityError):
        client.tools.update(created.id, source_code="def broken(:")
    assert client.tools.retrieve(created.id).name == name + "_v2"

    client.tools.delete(created.id)
    with pytest.raises(NotFoundError):
        client.tools.retrieve(created.id)
    assert list(client.tools.list(name=name + "_v2")) == []


def test_current_sdk_modifies_every_part_of_an_agent(client: Any) -> None:
    block_a = client.blocks.create(label=unique("a"), value="A")
    block_b = client.blocks.create(label=unique("b"), value="B")
    tool = client.tools.upsert(source_code=roll_source(fn_name("mod")))
    agent = client.agents.create(name=unique("mod"), tags=["old"], include_base_tools=False)
    assert agent.tools == []

    updated = client.agents.update(
        agent.id,
        name=agent.name + "-renamed",
        system="You are terse.",
        tags=["new", "newer"],
        block_ids=[block_a.id, block_b.id],
        tool_ids=[tool.id],
        description="changed",
    )
    assert updated.name == agent.name + "-renamed"
    assert updated.system == "You are terse."
    assert sorted(updated.tags) == ["new", "newer"]
    assert [b.id for b in updated.memory.blocks] == [block_a.id, block_b.id]
    assert [t.id for t in updated.tools] == [tool.id]

    assert [a.id for a in client.agents.list(name=updated.name)] == [agent.id]
    fetched = client.agents.retrieve(agent.id)
    assert fetched.model_dump(exclude={"updated_at"}) == updated.model_dump(exclude={"updated_at"})
    assert client.agents.update(agent.id, block_ids=[block_b.id]).memory.blocks[0].id == block_b.id
    assert [b.id for b in client.agents.blocks.list(agent.id)] == [block_b.id]


def test_current_sdk_attaches_and_detaches_tools_and_blocks(client: Any) -> None:
    tool = client.tools.upsert(source_code=roll_source(fn_name("att")))
    block = client.blocks.create(label=unique("notes"), value="n")
    agent = client.agents.create(name=unique("att"))
    base = [t.id for t in client.agents.tools.list(agent.id)]

    attached = client.agents.tools.attach(tool.id, agent_id=agent.id)
    assert [t.id for t in attached.tools] == [*base, tool.id]
    assert [t.id for t in client.agents.tools.list(agent.id)] == [*base, tool.id]
    client.agents.tools.attach(tool.id, agent_id=agent.id)  # again: nothing changes
    assert [t.id for t in client.agents.tools.list(agent.id)] == [*base, tool.id]
    detached = client.agents.tools.detach(tool.id, agent_id=agent.id)
    assert [t.id for t in detached.tools] == base

    with_block = client.agents.blocks.attach(block.id, agent_id=agent.id)
    assert block.id in [b.id for b in with_block.memory.blocks]
    assert [a.id for a in client.blocks.agents.list(block.id)] == [agent.id]
    without = client.agents.blocks.detach(block.id, agent_id=agent.id)
    assert block.id not in [b.id for b in without.memory.blocks]
    assert list(client.blocks.agents.list(block.id)) == []
    assert client.blocks.retrieve(block.id).value == "n", "detaching keeps the block"

    with pytest.raises(NotFoundError):
        client.agents.tools.attach("tool-nope", agent_id=agent.id)


def test_current_sdk_reads_and_edits_blocks_by_label(client: Any) -> None:
    label = unique("plan")
    shared = client.blocks.create(label=label, value="v1", limit=100, description="the plan")
    agents = [client.agents.create(name=unique("lbl"), block_ids=[shared.id]) for _ in range(2)]

    block = client.agents.blocks.retrieve(label, agent_id=agents[0].id)
    assert (block.id, block.value, block.limit) == (shared.id, "v1", 100)

    edited = client.agents.blocks.update(label, agent_id=agents[0].id, value="v2", limit=200)
    assert (edited.value, edited.limit) == ("v2", 200)
    seen_by_other = client.agents.blocks.retrieve(label, agent_id=agents[1].id)
    assert (seen_by_other.value, seen_by_other.limit) == ("v2", 200)
    assert client.blocks.retrieve(shared.id).value == "v2"

    assert [b.id for b in client.blocks.list(label=label)] == [shared.id]
    holders = [a.id for a in client.blocks.agents.list(shared.id, limit=1)]  # auto-paging
    assert holders == [a.id for a in agents[::-1]]
    oldest = client.blocks.agents.list(shared.id, order="asc", limit=1)
    assert [a.id for a in oldest.items] == [agents[0].id]

    client.blocks.update(shared.id, value="v3")
    assert client.agents.blocks.retrieve(label, agent_id=agents[1].id).value == "v3"

    # troupe's compare-and-set: an edit made against an old version is refused.
    version = client.blocks.retrieve(shared.id).version
    client.blocks.update(shared.id, value="v4", extra_body={"expected_version": version})
    with pytest.raises(ConflictError):
        client.with_options(max_retries=0).blocks.update(
            shared.id, value="lost", extra_body={"expected_version": version}
        )
    assert client.blocks.retrieve(shared.id).value == "v4"
    with pytest.raises(UnprocessableEntityError):
        client.agents.blocks.update(label, agent_id=agents[0].id, value="x" * 201)
    with pytest.raises(NotFoundError):
        client.agents.blocks.retrieve(unique("missing"), agent_id=agents[0].id)

    client.blocks.delete(shared.id)
    with pytest.raises(NotFoundError):
        client.blocks.retrieve(shared.id)
    assert client.agents.blocks.list(agents[0].id).items == []


def test_current_sdk_lists_tags_and_checks_health(client: Any) -> None:
    tags = sorted(unique("tag") for _ in range(3))
    client.agents.create(name=unique("tagged"), tags=tags)
    listed = client.tags.list(limit=10_000)
    assert set(tags) <= set(listed)
    assert listed == sorted(listed)
    assert client.tags.list(after=tags[0], limit=2) == [t for t in listed if t > tags[0]][:2]
    assert client.tags.list(query_text=tags[1]) == [tags[1]]

    health = client.health()
    assert health.status == "ok"
    assert health.version


def test_current_sdk_deletes_an_agent_but_not_its_shared_block(client: Any) -> None:
    shared = client.blocks.create(label=unique("keep"), value="k")
    agent = client.agents.create(name=unique("gone"), block_ids=[shared.id], tags=[unique("t")])
    client.agents.delete(agent.id)
    with pytest.raises(NotFoundError):
        client.agents.retrieve(agent.id)
    with pytest.raises(NotFoundError):
        client.agents.delete(agent.id)
    assert client.blocks.retrieve(shared.id).value == "k"
    assert list(client.blocks.agents.list(shared.id)) == []


def test_current_sdk_pages_agents_every_way(client: Any) -> None:
    tag = unique("pages")
    made = [client.agents.create(name=unique("p"), tags=[tag]).id for _ in range(7)]

    newest_first = [a.id for a in client.agents.list(tags=[tag], limit=3)]  # auto-paging
    assert newest_first == made[::-1]
    oldest_first = [a.id for a in client.agents.list(tags=[tag], limit=2, order="asc")]
    assert oldest_first == made

    page = client.agents.list(tags=[tag], limit=3, order="asc")
    assert [a.id for a in page.items] == made[:3]
    nxt = client.agents.list(tags=[tag], limit=3, order="asc", after=made[2])
    assert [a.id for a in nxt.items] == made[3:6]
    back = client.agents.list(tags=[tag], limit=2, order="asc", before=made[4])
    assert [a.id for a in back.items] == made[2:4]
    window = client.agents.list(tags=[tag], order="asc", after=made[1], before=made[5])
    assert [a.id for a in window.items] == made[2:5]

    # Auto-paging backwards from the newest visits each older agent once, and stops.
    pages = client.agents.list(tags=[tag], limit=2, order="asc", before=made[6])
    before_newest = [a.id for a in pages]
    assert sorted(before_newest) == sorted(made[:6])
    assert len(before_newest) == len(set(before_newest))


def test_current_sdk_pages_blocks_every_way(client: Any) -> None:
    label = unique("paged")
    made = [client.blocks.create(label=label, value=str(i)).id for i in range(5)]

    assert [b.id for b in client.blocks.list(label=label, limit=2)] == made[::-1]
    assert [b.id for b in client.blocks.list(label=label, limit=2, order="asc")] == made
    after = client.blocks.list(label=label, limit=2, order="asc", after=made[0])
    assert [b.id for b in after.items] == made[1:3]
    before = client.blocks.list(label=label, limit=2, order="desc", before=made[1])
    assert [b.id for b in before.items] == [made[3], made[2]]

    mine = [client.blocks.create(label=unique(f"own{i}"), value="v").id for i in range(3)]
    agent = client.agents.create(name=unique("blk"), block_ids=mine, include_base_tools=False)
    own = client.agents.blocks.list(agent.id, limit=1)  # auto-paging, in attachment order
    assert [b.id for b in own] == mine
    assert [b.id for b in client.agents.blocks.list(agent.id, after=mine[0]).items] == mine[1:]


# --- letta-client 0.1.x (the cookbooks' line) ------------------------------------------------


def test_legacy_sdk_tool_lifecycle(legacy_client: Any) -> None:
    name = fn_name("legacy_roll")
    created = legacy_client.tools.create(source_code=roll_source(name), tags=["dice"])
    assert (created.name, created.description) == (name, "Roll a die.")
    assert created.json_schema["parameters"]["required"] == ["sides"]
    assert legacy_status(lambda: legacy_client.tools.create(source_code=roll_source(name))) == 409

    upserted = legacy_client.tools.upsert(source_code=roll_source(name, doc="Fair roll."))
    assert (upserted.id, upserted.description) == (created.id, "Fair roll.")
    assert [t.id for t in legacy_client.tools.list(name=name)] == [created.id]
    assert legacy_client.tools.retrieve(tool_id=created.id).name == name

    modified = legacy_client.tools.modify(tool_id=created.id, description="d", tags=["x"])
    assert (modified.description, modified.tags) == ("d", ["x"])
    assert legacy_client.tools.retrieve(tool_id=created.id).description == "d"

    legacy_client.tools.delete(tool_id=created.id)
    assert legacy_status(lambda: legacy_client.tools.retrieve(tool_id=created.id)) == 404
    assert legacy_client.tools.list(name=name) == []


def test_legacy_sdk_modifies_attaches_and_detaches(legacy_client: Any) -> None:
    tool = legacy_client.tools.upsert(source_code=roll_source(fn_name("legacy_att")))
    block = legacy_client.blocks.create(label=unique("legacy"), value="L")
    agent = legacy_client.agents.create(
        name=unique("legacy"), memory_blocks=[{"label": "persona", "value": "p"}], tags=["a"]
    )

    modified = legacy_client.agents.modify(
        agent_id=agent.id, name=agent.name + "-2", system="Be brief.", tags=["b", "c"]
    )
    assert (modified.name, modified.system, sorted(modified.tags)) == (
        agent.name + "-2",
        "Be brief.",
        ["b", "c"],
    )

    base = [t.id for t in legacy_client.agents.tools.list(agent_id=agent.id)]
    legacy_client.agents.tools.attach(agent_id=agent.id, tool_id=tool.id)
    assert [t.id for t in legacy_client.agents.tools.list(agent_id=agent.id)] == [*base, tool.id]
    legacy_client.agents.tools.detach(agent_id=agent.id, tool_id=tool.id)
    assert [t.id for t in legacy_client.agents.tools.list(agent_id=agent.id)] == base
    only_tool = legacy_client.agents.modify(agent_id=agent.id, tool_ids=[tool.id])
    assert [t.id for t in only_tool.tools] == [tool.id]

    legacy_client.agents.blocks.attach(agent_id=agent.id, block_id=block.id)
    labels = [b.label for b in legacy_client.agents.blocks.list(agent_id=agent.id)]
    assert labels == ["persona", block.label]
    assert [a.id for a in legacy_client.blocks.list_agents_for_block(block_id=block.id)] == [
        agent.id
    ]
    legacy_client.agents.blocks.detach(agent_id=agent.id, block_id=block.id)
    assert [b.label for b in legacy_client.agents.blocks.list(agent_id=agent.id)] == ["persona"]

    persona = legacy_client.agents.blocks.retrieve(agent_id=agent.id, block_label="persona")
    edited = legacy_client.agents.blocks.modify(
        agent_id=agent.id, block_label="persona", value="new persona"
    )
    assert (edited.id, edited.value) == (persona.id, "new persona")
    assert legacy_client.blocks.retrieve(block_id=persona.id).value == "new persona"
    legacy_client.blocks.modify(block_id=persona.id, value="again")
    memory = legacy_client.agents.retrieve(agent_id=agent.id).memory
    assert [b.value for b in memory.blocks] == ["again"]

    relinked = legacy_client.agents.modify(agent_id=agent.id, block_ids=[block.id])
    assert [b.id for b in relinked.memory.blocks] == [block.id]
    status = legacy_status(
        lambda: legacy_client.agents.blocks.retrieve(agent_id=agent.id, block_label="persona")
    )
    assert status == 404


def test_legacy_sdk_lists_blocks_tags_health_and_deletes(legacy_client: Any) -> None:
    label = unique("legacy_label")
    blocks = [legacy_client.blocks.create(label=label, value=str(i)) for i in range(2)]
    assert {b.id for b in legacy_client.blocks.list(label=label)} == {b.id for b in blocks}

    tag = unique("legacy_tag")
    agent = legacy_client.agents.create(name=unique("del"), tags=[tag], block_ids=[blocks[0].id])
    assert tag in legacy_client.tag.list_tags(limit=10_000)
    assert legacy_client.tag.list_tags(query_text=tag) == [tag]
    assert legacy_client.health.check().status == "ok"

    legacy_client.agents.delete(agent_id=agent.id)
    assert legacy_status(lambda: legacy_client.agents.retrieve(agent_id=agent.id)) == 404
    assert tag not in legacy_client.tag.list_tags(limit=10_000)
    legacy_client.blocks.delete(block_id=blocks[1].id)
    assert [b.id for b in legacy_client.blocks.list(label=label)] == [blocks[0].id]


def test_legacy_sdk_pages_agents_and_tools(legacy_client: Any) -> None:
    tag = unique("legacy_pages")
    made = [legacy_client.agents.create(name=unique("lp"), tags=[tag]).id for _ in range(5)]
    first = legacy_client.agents.list(tags=[tag], limit=2)
    assert [a.id for a in first] == made[:-3:-1]
    seen = [a.id for a in first]
    while True:
        page = legacy_client.agents.list(tags=[tag], limit=2, after=seen[-1])
        if not page:
            break
        seen += [a.id for a in page]
    assert seen == made[::-1]
    before = legacy_client.agents.list(tags=[tag], limit=10, before=made[2])
    assert [a.id for a in before] == [made[4], made[3]]

    names = [fn_name("lpt") for _ in range(3)]
    tools = [legacy_client.tools.upsert(source_code=roll_source(n)).id for n in names]
    everything = [t.id for t in legacy_client.tools.list(limit=10_000)]
    assert set(tools) <= set(everything)
    after_first = legacy_client.tools.list(after=tools[2], limit=10_000)
    assert [t.id for t in after_first] == everything[everything.index(tools[2]) + 1 :]
