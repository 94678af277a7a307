"""Bad input gets a clear 4xx JSON error and changes nothing."""

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, unique


def snapshot(http: httpx.Client) -> str:
    """Everything a bad request could have changed."""
    state = {
        "agents": http.get("/v1/agents/", params={"limit": 10_000}).json(),
        "blocks": http.get("/v1/blocks/", params={"limit": 10_000}).json(),
        "tools": http.get("/v1/tools/", params={"limit": 10_000}).json(),
        "tags": http.get("/v1/tags/").json(),
    }
    return json.dumps(state, sort_keys=True)


def refused(response: httpx.Response, status: int, words: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert "detail" in body
    assert words.lower() in json.dumps(body["detail"]).lower()


@pytest.fixture
def world(http: httpx.Client) -> dict[str, Any]:
    block = http.post("/v1/blocks/", json={"label": "shared", "value": "x", "limit": 10}).json()
    other = http.post("/v1/blocks/", json={"label": "persona", "value": "p"}).json()
    agent = make_agent(
        http,
        memory_blocks=[{"label": "persona", "value": "me"}],
        block_ids=[block["id"]],
        tags=[unique("t")],
    )
    tool = http.put(
        "/v1/tools/",
        json={
            "source_code": f"def {unique('tool').replace('-', '_')}(x: int) -> int:\n    return x"
        },
    ).json()
    return {"agent": agent, "block": block, "other": other, "tool": tool}


BAD_CASES: list[tuple[str, Callable[[httpx.Client, dict[str, Any]], httpx.Response], int, str]] = [
    (
        "unknown agent",
        lambda h, w: h.get("/v1/agents/agent-00000000-0000-0000-0000-000000000000"),
        404,
        "not found",
    ),
    (
        "unknown block",
        lambda h, w: h.patch("/v1/blocks/block-nope", json={"value": "v"}),
        404,
        "not found",
    ),
    ("unknown tool", lambda h, w: h.delete("/v1/tools/tool-nope"), 404, "not found"),
    (
        "attach unknown block",
        lambda h, w: h.patch(f"/v1/agents/{w['agent']['id']}/core-memory/blocks/attach/block-nope"),
        404,
        "not found",
    ),
    (
        "attach unknown tool",
        lambda h, w: h.patch(f"/v1/agents/{w['agent']['id']}/tools/attach/tool-nope"),
        404,
        "not found",
    ),
    (
        "unknown label",
        lambda h, w: h.get(f"/v1/agents/{w['agent']['id']}/core-memory/blocks/nope"),
        404,
        "no memory block",
    ),
    (
        "create with unknown tool name",
        lambda h, w: h.post("/v1/agents/", json={"tools": ["no_such_tool"]}),
        404,
        "no_such_tool",
    ),
    (
        "create with unknown block id",
        lambda h, w: h.post("/v1/agents/", json={"block_ids": ["block-nope"]}),
        404,
        "block-nope",
    ),
    (
        "wrong type for tags",
        lambda h, w: h.post("/v1/agents/", json={"tags": "not-a-list"}),
        422,
        "tags",
    ),
    (
        "wrong type for name",
        lambda h, w: h.post("/v1/agents/", json={"name": {"a": 1}}),
        422,
        "name",
    ),
    ("body is not an object", lambda h, w: h.post("/v1/agents/", json=[1, 2]), 422, ""),
    (
        "unknown model provider",
        lambda h, w: h.post("/v1/agents/", json={"model": "foo/bar"}),
        422,
        "unknown model provider",
    ),
    (
        "model without provider",
        lambda h, w: h.post("/v1/agents/", json={"model": "gpt-4"}),
        422,
        "provider/model",
    ),
    (
        "bad tool rule",
        lambda h, w: h.post(
            "/v1/agents/", json={"tool_rules": [{"type": "teleport", "tool_name": "x"}]}
        ),
        422,
        "unknown tool rule",
    ),
    (
        "block over its limit",
        lambda h, w: h.post("/v1/blocks/", json={"label": "l", "value": "x" * 11, "limit": 10}),
        422,
        "limit is 10",
    ),
    (
        "memory block over its limit",
        lambda h, w: h.post(
            "/v1/agents/", json={"memory_blocks": [{"label": "h", "value": "xx", "limit": 1}]}
        ),
        422,
        "limit",
    ),
    (
        "edit over the limit",
        lambda h, w: h.patch(f"/v1/blocks/{w['block']['id']}", json={"value": "y" * 11}),
        422,
        "limit is 10",
    ),
    (
        "lower the limit below the value",
        lambda h, w: h.patch(f"/v1/blocks/{w['block']['id']}", json={"limit": 0}),
        422,
        "",
    ),
    (
        "empty label",
        lambda h, w: h.post("/v1/blocks/", json={"label": " ", "value": "v"}),
        422,
        "label",
    ),
    (
        "second block with a taken label",
        lambda h, w: h.patch(
            f"/v1/agents/{w['agent']['id']}/core-memory/blocks/attach/{w['other']['id']}"
        ),
        409,
        "already has a block labelled 'persona'",
    ),
    (
        "two blocks with one label at create",
        lambda h, w: h.post(
            "/v1/agents/",
            json={
                "memory_blocks": [{"label": "persona", "value": "a"}],
                "block_ids": [w["other"]["id"]],
            },
        ),
        409,
        "labelled 'persona'",
    ),
    (
        "modify to two blocks with one label",
        lambda h, w: h.patch(
            f"/v1/agents/{w['agent']['id']}",
            json={"block_ids": [w["other"]["id"], w["agent"]["blocks"][0]["id"]]},
        ),
        409,
        "labelled 'persona'",
    ),
    (
        "relabel a shared block onto a taken label",
        lambda h, w: h.patch(f"/v1/blocks/{w['block']['id']}", json={"label": "persona"}),
        409,
        "already has a block labelled 'persona'",
    ),
    (
        "stale expected version",
        lambda h, w: h.patch(
            f"/v1/blocks/{w['block']['id']}", json={"value": "z", "expected_version": 99}
        ),
        409,
        "version",
    ),
    (
        "tool source that does not parse",
        lambda h, w: h.post("/v1/tools/", json={"source_code": "def broken(:\n"}),
        422,
        "does not parse",
    ),
    (
        "tool source with no function",
        lambda h, w: h.post("/v1/tools/", json={"source_code": "x = 1\n"}),
        422,
        "no function",
    ),
    (
        "tool source with a null byte",
        lambda h, w: h.post("/v1/tools/", json={"source_code": "def f():\x00 pass"}),
        422,
        "does not parse",
    ),
    (
        "duplicate tool name",
        lambda h, w: h.post("/v1/tools/", json={"source_code": w["tool"]["source_code"]}),
        409,
        "already exists",
    ),
    (
        "user tool named like a built-in",
        lambda h, w: h.post(
            "/v1/tools/", json={"source_code": "def send_message(message: str) -> None:\n    pass"}
        ),
        409,
        "built-in",
    ),
    (
        "modify a built-in tool",
        lambda h, w: h.patch(
            f"/v1/tools/{w['agent']['tools'][0]['id']}", json={"description": "mine now"}
        ),
        409,
        "built-in",
    ),
    (
        "delete a built-in tool",
        lambda h, w: h.delete(f"/v1/tools/{w['agent']['tools'][0]['id']}"),
        409,
        "built-in",
    ),
    (
        "schema override without a name",
        lambda h, w: h.post(
            "/v1/tools/", json={"source_code": "def g(): pass", "json_schema": {"parameters": {}}}
        ),
        422,
        "name",
    ),
    (
        "huge body",
        lambda h, w: h.post(
            "/v1/blocks/",
            content=b'{"label": "l", "value": "' + b"x" * (9 * 1024 * 1024) + b'"}',
            headers={"content-type": "application/json"},
        ),
        413,
        "larger than",
    ),
    (
        "non-UTF-8 bytes",
        lambda h, w: h.post(
            "/v1/agents/",
            content=b'{"name": "\xff\xfe\xfd"}',
            headers={"content-type": "application/json"},
        ),
        400,
        "not valid JSON",
    ),
    (
        "truncated JSON",
        lambda h, w: h.post(
            "/v1/agents/", content=b'{"name": "a"', headers={"content-type": "application/json"}
        ),
        422,
        "",
    ),
    (
        "page size out of range",
        lambda h, w: h.get("/v1/agents/", params={"limit": 0}),
        422,
        "limit",
    ),
]


@pytest.mark.parametrize(
    ("case", "call", "status", "words"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_input_is_refused_and_changes_nothing(
    http: httpx.Client,
    world: dict[str, Any],
    case: str,
    call: Callable[[httpx.Client, dict[str, Any]], httpx.Response],
    status: int,
    words: str,
) -> None:
    before = snapshot(http)
    refused(call(http, world), status, words)
    assert snapshot(http) == before, f"{case} changed the state"


def test_unknown_fields_are_ignored(http: httpx.Client) -> None:
    response = http.post(
        "/v1/agents/",
        json={
            "name": unique("a"),
            "from_template": "x",
            "enable_sleeptime": True,
            "nonsense": {"deep": [1]},
        },
    )
    assert response.status_code == 200


def test_json_nested_too_deep_to_parse_is_refused_cleanly(http: httpx.Client) -> None:
    nested = "[" * 5000 + "]" * 5000
    response = http.post(
        "/v1/agents/",
        content=f'{{"metadata": {{"x": {nested}}}}}'.encode(),
        headers={"content-type": "application/json"},
    )
    refused(response, 400, "not valid JSON")
