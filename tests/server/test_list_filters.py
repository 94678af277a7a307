"""Every filter of the 1.12.1 SDK's tools/blocks/runs/models `list` narrows the list (and the
items it leaves out are the ones it must): a filter the server ignored would make
`for t in client.tools.list(search=...): client.tools.delete(t.id)` delete everything.
Filters the server cannot apply are refused with a 422 naming them."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import letta_client
import pytest
from letta_client import Letta

from tests.server.helpers import make_agent, send, unique
from tests.support.servers import ServerProcess
from troupe.llm.fake_server import FakeLLMServer

ALL = 1000


def _tool_source(name: str) -> str:
    return f'def {name}(x: str) -> str:\n    """Echo.\n\n    Args:\n        x: text\n    """\n    return x\n'


def _make_tools(client: Any, *names: str) -> dict[str, str]:
    return {n: client.tools.create(source_code=_tool_source(n)).id for n in names}


def _tool_names(tools: Any) -> set[str]:
    return {t.name for t in tools}


def test_tool_search_names_and_ids_narrow_the_list(client: Any) -> None:
    tag = unique("t").replace("-", "")
    old_a, old_b, keep = f"old_{tag}_a", f"old_{tag}_b", f"olds{tag}_keep"
    ids = _make_tools(client, old_a, old_b, keep)
    # `_` is taken literally: "olds..." does not match "old_".
    assert _tool_names(client.tools.list(search=f"OLD_{tag}", limit=ALL)) == {old_a, old_b}
    assert _tool_names(client.tools.list(search=f"no-such-{tag}", limit=ALL)) == set()
    assert _tool_names(client.tools.list(names=[old_a, keep], limit=ALL)) == {old_a, keep}
    assert _tool_names(client.tools.list(names=[f"none_{tag}"], limit=ALL)) == set()
    assert _tool_names(client.tools.list(tool_ids=[ids[old_b]], limit=ALL)) == {old_b}
    both = list(client.tools.list(tool_ids=[f"{ids[old_a]},{ids[keep]}"], limit=ALL))
    assert _tool_names(both) == {old_a, keep}
    everything = _tool_names(client.tools.list(limit=ALL))
    assert {old_a, old_b, keep} <= everything


def test_tool_types_narrow_the_list(client: Any) -> None:
    (custom,) = _make_tools(client, f"custom_{unique('t').replace('-', '')}")
    everything = list(client.tools.list(limit=ALL))
    types = {t.tool_type for t in everything}
    assert "custom" in types, types
    assert len(types) > 1, types

    customs = list(client.tools.list(tool_types=["custom"], limit=ALL))
    assert custom in _tool_names(customs)
    assert {t.tool_type for t in customs} == {"custom"}
    others = list(client.tools.list(exclude_tool_types=["custom"], limit=ALL))
    assert others
    assert "custom" not in {t.tool_type for t in others}
    assert len(customs) + len(others) == len(everything)

    letta = list(client.tools.list(return_only_letta_tools=True, limit=ALL))
    assert letta
    assert all(t.tool_type.startswith("letta_") for t in letta)
    assert custom not in _tool_names(letta)
    expected = {t.id for t in everything if t.tool_type.startswith("letta_")}
    assert {t.id for t in letta} == expected
    unfiltered = list(client.tools.list(return_only_letta_tools=False, limit=ALL))
    assert len(unfiltered) == len(everything)


def test_block_searches_narrow_the_list(client: Any) -> None:
    tag = unique("b")
    first = client.blocks.create(
        label=f"persona_{tag}", value=f"likes Tea {tag}", description=f"who {tag} is"
    )
    second = client.blocks.create(
        label=f"human_{tag}", value=f"likes coffee {tag}", description=f"the USER {tag}"
    )

    def ids(**filters: Any) -> set[str]:
        return {b.id for b in client.blocks.list(limit=ALL, **filters)}

    assert ids(label_search=f"PERSONA_{tag}") == {first.id}
    assert ids(label_search=tag) == {first.id, second.id}
    assert ids(value_search=f"tea {tag}") == {first.id}
    assert ids(value_search=f"juice {tag}") == set()
    assert ids(description_search=f"user {tag}") == {second.id}
    assert ids(description_search=tag, label_search=f"human_{tag}") == {second.id}


def test_blocks_filtered_by_how_many_agents_hold_them(client: Any, http: httpx.Client) -> None:
    tag = unique("b")
    lone = client.blocks.create(label=f"lone_{tag}", value="x")
    shared = client.blocks.create(label=f"shared_{tag}", value="y")
    for _ in range(2):
        make_agent(http, block_ids=[shared.id])

    def ids(**filters: Any) -> set[str]:
        return {b.id for b in client.blocks.list(label_search=tag, limit=ALL, **filters)}

    assert ids(connected_to_agents_count_eq=[0]) == {lone.id}
    assert ids(connected_to_agents_count_eq=[2]) == {shared.id}
    assert ids(connected_to_agents_count_gt=1) == {shared.id}
    assert ids(connected_to_agents_count_lt=1) == {lone.id}


def test_block_filters_without_a_meaning_here_are_refused(client: Any) -> None:
    with pytest.raises(letta_client.UnprocessableEntityError) as refused:
        client.blocks.list(tags=["x"])
    assert "tags" in str(refused.value.body)
    with pytest.raises(letta_client.UnprocessableEntityError) as refused:
        client.blocks.list(project_id="p", identity_id="identity-1")
    assert "project_id" in str(refused.value.body)


def test_runs_filtered_by_background(client: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    sync_run = send(http, agent["id"], "hi")["messages"][0]["run_id"]
    async_run = client.agents.messages.create_async(
        agent_id=agent["id"], messages=[{"role": "user", "content": "later"}]
    ).id

    def ids(**filters: Any) -> set[str]:
        return {r.id for r in client.runs.list(agent_ids=[agent["id"]], limit=ALL, **filters)}

    assert ids() == {sync_run, async_run}
    assert ids(background=True) == {async_run}
    assert ids(background=False) == {sync_run}
    assert ids(conversation_id="conv-none") == set()  # no run of theirs is in a conversation


@pytest.fixture(params=["sqlite", "postgres"])
def openai_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path: Path
) -> Iterator[ServerProcess]:
    """A server with an OpenAI provider (a fake one on 127.0.0.1) next to the embedded model."""
    with FakeLLMServer() as fake:
        fake.models = ["gpt-fake"]
        env = {"OPENAI_BASE_URL": fake.openai_base_url, "OPENAI_API_KEY": "sk-test"}
        proc = ServerProcess(database_factory(request.param), tmp_path, env=env)
        proc.start()
        try:
            yield proc
        finally:
            proc.stop()


def test_models_filtered_by_provider(openai_server: ServerProcess) -> None:
    client = Letta(base_url=openai_server.url)
    everything = list(client.models.list())
    types = {m.provider_type for m in everything}
    assert {"openai", "llamacpp"} <= types, types
    for provider_type in types:
        narrowed = list(client.models.list(provider_type=provider_type))
        assert {m.handle for m in narrowed} == {
            m.handle for m in everything if m.provider_type == provider_type
        }
    assert [m.handle for m in client.models.list(provider_type="openai")] == ["openai/gpt-fake"]
    assert list(client.models.list(provider_type="bedrock")) == []
    assert len(list(client.models.list(provider_category=["base"]))) == len(everything)
    assert list(client.models.list(provider_category=["byok"])) == []
