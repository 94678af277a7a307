"""Tag matching (troupe.store.agents.agents_matching_tags): the one lookup behind the agent
list's tag filter and the tag broadcasts."""

from troupe.ids import new_id
from troupe.schemas.agents import AgentCreate
from troupe.services.agents import create_agent
from troupe.store import Database
from troupe.store.agents import agents_matching_tags
from troupe.tools.core import core_registry


async def test_agents_with_all_tags_and_one_of_some_in_creation_order(store: Database) -> None:
    team, lead, worker, extra = (new_id("tag") for _ in range(4))
    made = {}
    for name, tags in [
        ("w1", [team, worker]),
        ("lead", [team, lead]),
        ("w2", [team, worker, extra]),
        ("outsider", [worker]),
        ("w3", [team, worker, team]),
    ]:
        made[name] = (
            await create_agent(store, core_registry(), AgentCreate(name=name, tags=tags))
        ).id
    async with store.read() as session:
        all_of = await agents_matching_tags(session, [team, worker], [])
        some_of = await agents_matching_tags(session, [], [lead, extra])
        both = await agents_matching_tags(session, [team], [worker, lead])
        none = await agents_matching_tags(session, [team, new_id("tag")], [])
    assert all_of == [(made[n], n) for n in ("w1", "w2", "w3")]
    assert some_of == [(made[n], n) for n in ("lead", "w2")]
    assert both == [(made[n], n) for n in ("w1", "lead", "w2", "w3")]
    assert none == []
