"""Bad input gets a clear 4xx JSON error and changes nothing, on SQLite and PostgreSQL."""

import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, unique

Call = Callable[[httpx.Client, dict[str, Any]], httpx.Response]
MIB = 1024 * 1024


def snapshot(http: httpx.Client) -> str:
    """Everything a bad request could have changed: every row, value, version and tag."""
    state = {
        "agents": http.get("/v1/agents/", params={"limit": 10_000}).json(),
        "blocks": http.get("/v1/blocks/", params={"limit": 10_000}).json(),
        "tools": http.get("/v1/tools/", params={"limit": 10_000}).json(),
        "tags": http.get("/v1/tags/", params={"limit": 10_000}).json(),
    }
    return json.dumps(state, sort_keys=True)


def refused(response: httpx.Response, status: int, words: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"}, body
    assert body["detail"], "an error says what went wrong"
    assert words.lower() in json.dumps(body["detail"]).lower(), body


def raw_json(http: httpx.Client, method: str, url: str, body: bytes) -> httpx.Response:
    return http.request(method, url, content=body, headers={"content-type": "application/json"})


def tool_source(name: str) -> str:
    return f"def {name}(x: int) -> int:\n    '''Echo x.'''\n    return x"


@pytest.fixture
def world(http: httpx.Client) -> dict[str, Any]:
    """An agent with a private `persona` block and a shared block of limit 10, a second
    agent on the shared block, a free block labelled `persona`, and two custom tools."""
    shared = http.post("/v1/blocks/", json={"label": "shared", "value": "x", "limit": 10}).json()
    free = http.post("/v1/blocks/", json={"label": "persona", "value": "p"}).json()
    tools = [
        http.put("/v1/tools/", json={"source_code": tool_source(unique("t").replace("-", "_"))})
        for _ in range(2)
    ]
    tag = unique("tag")
    agent = make_agent(
        http,
        memory_blocks=[{"label": "persona", "value": "me"}],
        block_ids=[shared["id"]],
        tags=[tag],
        tool_ids=[tools[0].json()["id"]],
    )
    peer = make_agent(http, block_ids=[shared["id"]], tags=[tag])
    builtin = next(t for t in agent["tools"] if t["tool_type"] != "custom")
    return {
        "agent": agent,
        "peer": peer,
        "shared": shared,
        "free": free,
        "tool": tools[0].json(),
        "tool2": tools[1].json(),
        "builtin": builtin,
        "persona": next(b for b in agent["blocks"] if b["label"] == "persona"),
    }


def agent_url(w: dict[str, Any], rest: str = "") -> str:
    return f"/v1/agents/{w['agent']['id']}{rest}"


NO_AGENT = "agent-00000000-0000-0000-0000-000000000000"

UNKNOWN_IDS: list[tuple[str, Call, str]] = [
    ("get agent", lambda h, w: h.get(f"/v1/agents/{NO_AGENT}"), NO_AGENT),
    ("modify agent", lambda h, w: h.patch(f"/v1/agents/{NO_AGENT}", json={"name": "n"}), NO_AGENT),
    ("delete agent", lambda h, w: h.delete(f"/v1/agents/{NO_AGENT}"), NO_AGENT),
    ("blocks of agent", lambda h, w: h.get(f"/v1/agents/{NO_AGENT}/core-memory/blocks"), NO_AGENT),
    ("tools of agent", lambda h, w: h.get(f"/v1/agents/{NO_AGENT}/tools"), NO_AGENT),
    ("get block", lambda h, w: h.get("/v1/blocks/block-nope"), "block-nope"),
    (
        "modify block",
        lambda h, w: h.patch("/v1/blocks/block-nope", json={"value": "v"}),
        "block-nope",
    ),
    ("delete block", lambda h, w: h.delete("/v1/blocks/block-nope"), "block-nope"),
    ("agents of block", lambda h, w: h.get("/v1/blocks/block-nope/agents"), "block-nope"),
    ("get tool", lambda h, w: h.get("/v1/tools/tool-nope"), "tool-nope"),
    ("modify tool", lambda h, w: h.patch("/v1/tools/tool-nope", json={"tags": []}), "tool-nope"),
    ("delete tool", lambda h, w: h.delete("/v1/tools/tool-nope"), "tool-nope"),
    (
        "attach block",
        lambda h, w: h.patch(agent_url(w, "/core-memory/blocks/attach/block-nope")),
        "block-nope",
    ),
    (
        "detach block",
        lambda h, w: h.patch(agent_url(w, "/core-memory/blocks/detach/block-nope")),
        "block-nope",
    ),
    ("attach tool", lambda h, w: h.patch(agent_url(w, "/tools/attach/tool-nope")), "tool-nope"),
    ("detach tool", lambda h, w: h.patch(agent_url(w, "/tools/detach/tool-nope")), "tool-nope"),
    (
        "attach a block to an unknown agent",
        lambda h, w: h.patch(f"/v1/agents/{NO_AGENT}/core-memory/blocks/attach/{w['free']['id']}"),
        NO_AGENT,
    ),
    (
        "detach a tool from an unknown agent",
        lambda h, w: h.patch(f"/v1/agents/{NO_AGENT}/tools/detach/{w['tool']['id']}"),
        NO_AGENT,
    ),
    (
        "block by unknown label",
        lambda h, w: h.get(agent_url(w, "/core-memory/blocks/nope")),
        "nope",
    ),
    (
        "modify block by unknown label",
        lambda h, w: h.patch(agent_url(w, "/core-memory/blocks/nope"), json={"value": "v"}),
        "no memory block labelled 'nope'",
    ),
    (
        "create with an unknown tool name",
        lambda h, w: h.post("/v1/agents/", json={"tools": ["no_such_tool"]}),
        "no_such_tool",
    ),
    (
        "create with an unknown tool id",
        lambda h, w: h.post("/v1/agents/", json={"tool_ids": ["tool-nope"]}),
        "tool-nope",
    ),
    (
        "create with an unknown block id",
        lambda h, w: h.post("/v1/agents/", json={"block_ids": [w["free"]["id"], "block-nope"]}),
        "block-nope",
    ),
    (
        "modify with an unknown block id",
        lambda h, w: h.patch(agent_url(w), json={"block_ids": ["block-nope"]}),
        "block-nope",
    ),
    (
        "modify with an unknown tool id",
        lambda h, w: h.patch(agent_url(w), json={"tool_ids": [w["tool2"]["id"], "tool-nope"]}),
        "tool-nope",
    ),
]

WRONG_SHAPES: list[tuple[str, Call, str]] = [
    ("block without a value", lambda h, w: h.post("/v1/blocks/", json={"label": "l"}), "value"),
    (
        "memory block without a value",
        lambda h, w: h.post("/v1/agents/", json={"memory_blocks": [{"label": "a"}]}),
        "value",
    ),
    ("tags not a list", lambda h, w: h.post("/v1/agents/", json={"tags": "a,b"}), "tags"),
    ("a tag not a string", lambda h, w: h.post("/v1/agents/", json={"tags": ["a", 7]}), "tags"),
    ("an empty tag", lambda h, w: h.post("/v1/agents/", json={"tags": [""]}), "1 to 255"),
    ("a 256-character tag", lambda h, w: h.post("/v1/agents/", json={"tags": ["t" * 256]}), "255"),
    ("modify to an empty tag", lambda h, w: h.patch(agent_url(w), json={"tags": [""]}), "tags"),
    ("name an object", lambda h, w: h.post("/v1/agents/", json={"name": {"a": 1}}), "name"),
    ("name too long", lambda h, w: h.post("/v1/agents/", json={"name": "n" * 256}), "255"),
    ("rename to a number", lambda h, w: h.patch(agent_url(w), json={"name": 5}), "name"),
    ("body an array", lambda h, w: h.post("/v1/agents/", json=[1, 2]), "dictionary"),
    ("body null", lambda h, w: raw_json(h, "POST", "/v1/agents/", b"null"), "dictionary"),
    ("body empty", lambda h, w: raw_json(h, "POST", "/v1/agents/", b""), "required"),
    (
        "body truncated",
        lambda h, w: raw_json(h, "POST", "/v1/agents/", b'{"name": "a"'),
        "json",
    ),
    (
        "body not declared JSON",
        lambda h, w: h.post(
            "/v1/blocks/",
            content=b'{"label": "l", "value": "v"}',
            headers={"content-type": "text/plain"},
        ),
        "",
    ),
    (
        "include_base_tools not a boolean",
        lambda h, w: h.post("/v1/agents/", json={"include_base_tools": "maybe"}),
        "include_base_tools",
    ),
    (
        "block_ids a string",
        lambda h, w: h.post("/v1/agents/", json={"block_ids": "b"}),
        "block_ids",
    ),
    ("metadata a list", lambda h, w: h.post("/v1/agents/", json={"metadata": [1]}), "metadata"),
    (
        "memory block without a label",
        lambda h, w: h.post("/v1/agents/", json={"memory_blocks": [{"value": "v"}]}),
        "label",
    ),
    ("block without a label", lambda h, w: h.post("/v1/blocks/", json={"value": "v"}), "label"),
    (
        "block value a number",
        lambda h, w: h.post("/v1/blocks/", json={"label": "l", "value": 5}),
        "value",
    ),
    (
        "block limit a word",
        lambda h, w: h.post("/v1/blocks/", json={"label": "l", "limit": "ten"}),
        "limit",
    ),
    (
        "block value patched to a list",
        lambda h, w: h.patch(f"/v1/blocks/{w['shared']['id']}", json={"value": ["x"]}),
        "value",
    ),
    ("empty label", lambda h, w: h.post("/v1/blocks/", json={"label": " ", "value": "v"}), "label"),
    (
        "label with a control character",
        lambda h, w: h.post("/v1/blocks/", json={"label": "a\nb", "value": "v"}),
        "control",
    ),
    (
        "relabel to empty",
        lambda h, w: h.patch(f"/v1/blocks/{w['shared']['id']}", json={"label": ""}),
        "label",
    ),
    (
        "template name too long",
        lambda h, w: h.post("/v1/blocks/", json={"label": "l", "template_name": "n" * 256}),
        "255",
    ),
    ("tool without source", lambda h, w: h.post("/v1/tools/", json={"tags": []}), "source_code"),
    (
        "tool source a number",
        lambda h, w: h.put("/v1/tools/", json={"source_code": 1}),
        "source_code",
    ),
    (
        "tool source in another language",
        lambda h, w: h.post(
            "/v1/tools/", json={"source_code": tool_source("js_tool"), "source_type": "javascript"}
        ),
        "python",
    ),
    (
        "agent_type too long",
        lambda h, w: h.post("/v1/agents/", json={"agent_type": "a" * 65}),
        "agent_type",
    ),
    ("page size 0", lambda h, w: h.get("/v1/agents/", params={"limit": 0}), "limit"),
    ("page size a word", lambda h, w: h.get("/v1/blocks/", params={"limit": "all"}), "limit"),
    ("page size too big", lambda h, w: h.get("/v1/tools/", params={"limit": 10**9}), "limit"),
    ("unknown order", lambda h, w: h.get("/v1/agents/", params={"order": "sideways"}), "order"),
    (
        "match_all_tags not a boolean",
        lambda h, w: h.get("/v1/agents/", params={"match_all_tags": "perhaps"}),
        "match_all_tags",
    ),
]

MODELS: list[tuple[str, Call, str]] = [
    (
        "unknown model provider",
        lambda h, w: h.post("/v1/agents/", json={"model": "foo/bar"}),
        "unknown model provider 'foo'",
    ),
    (
        "handle without a slash",
        lambda h, w: h.post("/v1/agents/", json={"model": "gpt-4"}),
        "provider/model",
    ),
    (
        "handle without a model",
        lambda h, w: h.post("/v1/agents/", json={"model": "openai/"}),
        "provider/model",
    ),
    (
        "modify to an unknown provider",
        lambda h, w: h.patch(agent_url(w), json={"model": "foo/bar"}),
        "known providers",
    ),
    (
        "handle too long",
        lambda h, w: h.post("/v1/agents/", json={"model": "openai/" + "m" * 600}),
        "512",
    ),
    (
        "llm_config naming a model too long",
        lambda h, w: h.post(
            "/v1/agents/",
            json={"llm_config": {"model": "m" * 600, "model_endpoint_type": "openai"}},
        ),
        "512",
    ),
    (
        "llm_config without an endpoint type",
        lambda h, w: h.post("/v1/agents/", json={"llm_config": {"model": "x"}}),
        "model_endpoint_type",
    ),
    (
        "modify to an llm_config without an endpoint type",
        lambda h, w: h.patch(agent_url(w), json={"llm_config": {"model": "x"}}),
        "model_endpoint_type",
    ),
    (
        "llm_config with an endpoint type troupe does not serve",
        lambda h, w: h.patch(
            agent_url(w), json={"llm_config": {"model": "x", "model_endpoint_type": "koboldcpp"}}
        ),
        "'koboldcpp' is not one troupe serves",
    ),
    (
        "llm_config without a model",
        lambda h, w: h.post("/v1/agents/", json={"llm_config": {"context_window": 5}}),
        "model",
    ),
    (
        "unknown tool rule",
        lambda h, w: h.post(
            "/v1/agents/", json={"tool_rules": [{"type": "teleport", "tool_name": "x"}]}
        ),
        "unknown tool rule",
    ),
    (
        "tool rule children not a list",
        lambda h, w: h.post(
            "/v1/agents/",
            json={
                "tool_rules": [{"type": "constrain_child_tools", "tool_name": "x", "children": "y"}]
            },
        ),
        "children",
    ),
    (
        "conditional rule mapping not an object",
        lambda h, w: h.post(
            "/v1/agents/",
            json={
                "tool_rules": [
                    {"type": "conditional", "tool_name": "x", "child_output_mapping": [1]}
                ]
            },
        ),
        "child_output_mapping",
    ),
    (
        "max count rule without a count",
        lambda h, w: h.patch(
            agent_url(w), json={"tool_rules": [{"type": "max_count_per_step", "tool_name": "x"}]}
        ),
        "max_count_limit",
    ),
]

BLOCK_LIMITS: list[tuple[str, Call, str]] = [
    (
        "block without a limit over the default limit",
        lambda h, w: h.post("/v1/blocks/", json={"label": "l", "value": "x" * 20_001}),
        "over its limit of 20000",
    ),
    (
        "memory block without a limit over the default limit",
        lambda h, w: h.post(
            "/v1/agents/", json={"memory_blocks": [{"label": "h", "value": "x" * 20_001}]}
        ),
        "over its limit of 20000",
    ),
    (
        "block over its limit",
        lambda h, w: h.post("/v1/blocks/", json={"label": "l", "value": "x" * 11, "limit": 10}),
        "over its limit of 10",
    ),
    (
        "memory block over its limit",
        lambda h, w: h.post(
            "/v1/agents/", json={"memory_blocks": [{"label": "h", "value": "xx", "limit": 1}]}
        ),
        "over its limit of 1",
    ),
    (
        "edit over the limit",
        lambda h, w: h.patch(f"/v1/blocks/{w['shared']['id']}", json={"value": "y" * 11}),
        "over its limit of 10",
    ),
    (
        "edit by label over the limit",
        lambda h, w: h.patch(agent_url(w, "/core-memory/blocks/shared"), json={"value": "y" * 11}),
        "over its limit of 10",
    ),
    (
        "a 1 MB value for a block of limit 10",
        lambda h, w: h.patch(f"/v1/blocks/{w['shared']['id']}", json={"value": "y" * 1_000_000}),
        "1000000 characters",
    ),
    (
        "a value past the largest limit",
        lambda h, w: h.post(
            "/v1/blocks/", json={"label": "l", "value": "y" * 1_000_001, "limit": 1_000_000}
        ),
        "no block holds more than 1000000",
    ),
    (
        "lower the limit below the value",
        lambda h, w: h.patch(agent_url(w, "/core-memory/blocks/persona"), json={"limit": 1}),
        "over its limit of 1",
    ),
    (
        "limit 0",
        lambda h, w: h.patch(f"/v1/blocks/{w['shared']['id']}", json={"limit": 0}),
        "greater than or equal to 1",
    ),
    (
        "limit past the largest",
        lambda h, w: h.post("/v1/blocks/", json={"label": "l", "limit": 1_000_001}),
        "less than or equal to 1000000",
    ),
]

CONFLICTS: list[tuple[str, Call, str]] = [
    (
        "attach a second block with a taken label",
        lambda h, w: h.patch(agent_url(w, f"/core-memory/blocks/attach/{w['free']['id']}")),
        "already has a block labelled 'persona'",
    ),
    (
        "two blocks with one label at create",
        lambda h, w: h.post(
            "/v1/agents/",
            json={
                "memory_blocks": [{"label": "persona", "value": "a"}],
                "block_ids": [w["free"]["id"]],
            },
        ),
        "labelled 'persona'",
    ),
    (
        "two memory blocks with one label",
        lambda h, w: h.post(
            "/v1/agents/",
            json={"memory_blocks": [{"label": "a", "value": ""}, {"label": "a", "value": ""}]},
        ),
        "labelled 'a'",
    ),
    (
        "modify block_ids to two blocks with one label",
        lambda h, w: h.patch(
            agent_url(w), json={"block_ids": [w["free"]["id"], w["persona"]["id"]]}
        ),
        "labelled 'persona'",
    ),
    (
        "relabel a shared block onto a label one of its agents has",
        lambda h, w: h.patch(f"/v1/blocks/{w['shared']['id']}", json={"label": "persona"}),
        "already has a block labelled 'persona'",
    ),
    (
        "relabel by label onto a taken label",
        lambda h, w: h.patch(agent_url(w, "/core-memory/blocks/shared"), json={"label": "persona"}),
        "already has a block labelled 'persona'",
    ),
    (
        "stale expected version",
        lambda h, w: h.patch(
            f"/v1/blocks/{w['shared']['id']}", json={"value": "z", "expected_version": 99}
        ),
        "version",
    ),
]

TOOLS: list[tuple[str, Call, str]] = [
    (
        "source that does not parse",
        lambda h, w: h.post("/v1/tools/", json={"source_code": "def broken(:\n"}),
        "does not parse",
    ),
    (
        "source with no function",
        lambda h, w: h.post("/v1/tools/", json={"source_code": "x = 1\n"}),
        "no function",
    ),
    (
        "source the compiler refuses",
        lambda h, w: h.post("/v1/tools/", json={"source_code": "def twice(a, a):\n    pass"}),
        "duplicate argument",
    ),
    (
        "source nested past the parser",
        lambda h, w: h.post(
            "/v1/tools/", json={"source_code": "v = " + "-" * 100_000 + "1\ndef f(): pass"}
        ),
        "nests too deeply",
    ),
    (
        "function name too long",
        lambda h, w: h.post("/v1/tools/", json={"source_code": tool_source("f" * 256)}),
        "at most 255",
    ),
    (
        "docstring holding a NUL escape",
        lambda h, w: h.post(
            "/v1/tools/", json={"source_code": "def nul():\n    '''Bad \\x00 doc.'''"}
        ),
        "\\\\u0000",
    ),
    (
        "duplicate tool name",
        lambda h, w: h.post("/v1/tools/", json={"source_code": w["tool"]["source_code"]}),
        "already exists",
    ),
    (
        "user tool named like a built-in",
        lambda h, w: h.post(
            "/v1/tools/", json={"source_code": "def send_message(message: str) -> None:\n    pass"}
        ),
        "built-in",
    ),
    (
        "upsert over a built-in",
        lambda h, w: h.put(
            "/v1/tools/", json={"source_code": "def core_memory_append(x: str) -> None:\n  pass"}
        ),
        "built-in",
    ),
    (
        "modify a built-in tool",
        lambda h, w: h.patch(f"/v1/tools/{w['builtin']['id']}", json={"description": "mine"}),
        "built-in",
    ),
    (
        "delete a built-in tool",
        lambda h, w: h.delete(f"/v1/tools/{w['builtin']['id']}"),
        "built-in",
    ),
    (
        "modify a tool into a built-in's name",
        lambda h, w: h.patch(
            f"/v1/tools/{w['tool']['id']}", json={"source_code": tool_source("send_message")}
        ),
        "built-in",
    ),
    (
        "modify a tool into another tool's name",
        lambda h, w: h.patch(
            f"/v1/tools/{w['tool']['id']}", json={"source_code": w["tool2"]["source_code"]}
        ),
        "already exists",
    ),
    (
        "modify a tool to source that does not parse",
        lambda h, w: h.patch(f"/v1/tools/{w['tool']['id']}", json={"source_code": "def ("}),
        "does not parse",
    ),
    (
        "schema override without a name",
        lambda h, w: h.post(
            "/v1/tools/",
            json={"source_code": tool_source("nameless"), "json_schema": {"parameters": {}}},
        ),
        "name",
    ),
    (
        "schema override naming no function of the source",
        lambda h, w: h.post(
            "/v1/tools/",
            json={"source_code": tool_source("real"), "json_schema": {"name": "imaginary"}},
        ),
        "no function named 'imaginary'",
    ),
    (
        "schema override with non-object parameters",
        lambda h, w: h.post(
            "/v1/tools/",
            json={
                "source_code": tool_source("params"),
                "json_schema": {"name": "params", "parameters": [1]},
            },
        ),
        "parameters",
    ),
    (
        "schema override with a numeric description",
        lambda h, w: h.post(
            "/v1/tools/",
            json={
                "source_code": tool_source("described"),
                "json_schema": {"name": "described", "description": 5},
            },
        ),
        "description",
    ),
    (
        "return_char_limit 0",
        lambda h, w: h.post(
            "/v1/tools/", json={"source_code": tool_source("rcl"), "return_char_limit": 0}
        ),
        "return_char_limit",
    ),
]

TEXT_AND_BYTES: list[tuple[str, Call, str]] = [
    ("NUL in a name", lambda h, w: h.post("/v1/agents/", json={"name": "a\x00b"}), "\\\\u0000"),
    (
        "NUL in a block value",
        lambda h, w: h.patch(f"/v1/blocks/{w['shared']['id']}", json={"value": "\x00"}),
        "\\\\u0000",
    ),
    (
        "NUL in a tool source",
        lambda h, w: h.post("/v1/tools/", json={"source_code": "def f():\x00 pass"}),
        "\\\\u0000",
    ),
    (
        "NUL in a metadata key",
        lambda h, w: h.patch(agent_url(w), json={"metadata": {"k\x00": 1}}),
        "\\\\u0000",
    ),
    (
        "NUL in a tag",
        lambda h, w: h.patch(agent_url(w), json={"tags": ["ok", "b\x00d"]}),
        "\\\\u0000",
    ),
    (
        "unpaired surrogate in a block value",
        lambda h, w: raw_json(h, "POST", "/v1/blocks/", b'{"label": "l", "value": "\\ud800"}'),
        "\\\\ud800",
    ),
    (
        "unpaired surrogate in metadata",
        lambda h, w: raw_json(h, "POST", "/v1/agents/", b'{"metadata": {"\\udfff": 1}}'),
        "\\\\udfff",
    ),
    (
        "NaN in metadata",
        lambda h, w: raw_json(h, "POST", "/v1/agents/", b'{"metadata": {"x": NaN}}'),
        "nan",
    ),
    (
        "Infinity as a temperature",
        lambda h, w: raw_json(
            h, "PATCH", agent_url(w), b'{"llm_config": {"model": "m", "temperature": Infinity}}'
        ),
        "infinity",
    ),
    (
        "Infinity for an integer",
        lambda h, w: raw_json(h, "POST", "/v1/agents/", b'{"context_window_limit": 1e400}'),
        "finite",
    ),
    (
        "metadata nested 100 deep",
        lambda h, w: raw_json(
            h, "POST", "/v1/agents/", b'{"metadata": ' + b'{"a": ' * 100 + b"1" + b"}" * 101
        ),
        "nesting deeper than 64",
    ),
    (
        "JSON nested past the parser",
        lambda h, w: raw_json(
            h, "POST", "/v1/agents/", b'{"metadata": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
        ),
        "not valid JSON",
    ),
    (
        "non-UTF-8 bytes",
        lambda h, w: raw_json(h, "POST", "/v1/agents/", b'{"name": "\xff\xfe\xfd"}'),
        "UTF-8",
    ),
    (
        "a body over 8 MiB",
        lambda h, w: raw_json(
            h, "POST", "/v1/blocks/", b'{"label": "l", "value": "' + b"x" * (9 * MIB) + b'"}'
        ),
        "larger than",
    ),
    (
        "a body over 8 MiB sent in chunks without a length",
        lambda h, w: h.post(
            "/v1/blocks/",
            content=iter([b'{"label": "l", "value": "', *[b"x" * MIB] * 9, b'"}']),
            headers={"content-type": "application/json"},
        ),
        "larger than",
    ),
]

STATUS = {
    "unknown id": 404,
    "wrong shape": 422,
    "model": 422,
    "block limit": 422,
    "conflict": 409,
    "tool": 422,
    "text": 422,
}

CASES = [
    *[("unknown id", *c) for c in UNKNOWN_IDS],
    *[("wrong shape", *c) for c in WRONG_SHAPES],
    *[("model", *c) for c in MODELS],
    *[("block limit", *c) for c in BLOCK_LIMITS],
    *[("conflict", *c) for c in CONFLICTS],
    *[("tool", *c) for c in TOOLS],
    *[("text", *c) for c in TEXT_AND_BYTES],
]

# Where a kind's usual status does not apply.
EXCEPTIONS = {
    "body not declared JSON": 422,
    "duplicate tool name": 409,
    "user tool named like a built-in": 409,
    "upsert over a built-in": 409,
    "modify a built-in tool": 409,
    "delete a built-in tool": 409,
    "modify a tool into a built-in's name": 409,
    "modify a tool into another tool's name": 409,
    "two memory blocks with one label": 409,
    "JSON nested past the parser": 400,
    "non-UTF-8 bytes": 400,
    "a body over 8 MiB": 413,
    "a body over 8 MiB sent in chunks without a length": 413,
    "body truncated": 422,
}


@pytest.mark.parametrize(
    ("kind", "case", "call", "words"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES]
)
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    http: httpx.Client, world: dict[str, Any], kind: str, case: str, call: Call, words: str
) -> None:
    before = snapshot(http)
    refused(call(http, world), EXCEPTIONS.get(case, STATUS[kind]), words)
    assert snapshot(http) == before, f"{case} changed the state"


@pytest.mark.parametrize(
    "url",
    [
        "/v1/agents/agent-%00",
        "/v1/blocks/block-%00/agents",
        "/v1/tools/tool-%00",
        "/v1/agents/?name=%00",
        "/v1/agents/?tags=%00",
        "/v1/agents/?after=agent-%00",
        "/v1/blocks/?label=%00",
        "/v1/tools/?name=%00",
    ],
)
def test_a_nul_in_the_url_is_an_answer_not_a_crash(
    http: httpx.Client, world: dict[str, Any], url: str
) -> None:
    """SQLite can look the value up (and finds nothing); PostgreSQL cannot hold it in a query
    and the request is refused. Either way a 4xx or an empty answer, never a 5xx."""
    before = snapshot(http)
    response = http.get(url)
    if response.status_code == 200:
        assert response.json() == []
    else:
        refused(response, 404 if response.status_code == 404 else 422, "")
    assert snapshot(http) == before


def test_a_nul_in_a_path_refused_by_a_write_route_changes_nothing(
    http: httpx.Client, world: dict[str, Any]
) -> None:
    before = snapshot(http)
    for response in (
        http.patch(agent_url(world, "/core-memory/blocks/attach/block-%00")),
        http.patch(agent_url(world, "/core-memory/blocks/x%00"), json={"value": "v"}),
        http.delete("/v1/agents/agent-%00"),
    ):
        assert response.status_code in {404, 422}, response.text
        assert "detail" in response.json()
    assert snapshot(http) == before


def test_unknown_fields_are_ignored_and_known_ones_applied(http: httpx.Client) -> None:
    name = unique("extras")
    agent = http.post(
        "/v1/agents/",
        json={
            "name": name,
            "tags": ["x"],
            "from_template": "x",
            "enable_sleeptime": True,
            "nonsense": {"deep": [1]},
            "memory_blocks": [{"label": "persona", "value": "p", "preserve_on_migration": 1}],
        },
    )
    assert agent.status_code == 200, agent.text
    body = agent.json()
    assert (body["name"], body["tags"], body["blocks"][0]["value"]) == (name, ["x"], "p")
    assert "nonsense" not in body
    assert "from_template" not in body

    block = http.post("/v1/blocks/", json={"label": "l", "value": "v", "project_id": "p-1"})
    assert block.status_code == 200, block.text
    assert "project_id" not in block.json()

    tool = http.post(
        "/v1/tools/",
        json={"source_code": tool_source(unique("extra").replace("-", "_")), "pip": ["numpy"]},
    )
    assert tool.status_code == 200, tool.text

    patched = http.patch(f"/v1/agents/{body['id']}", json={"description": "d", "hidden": True})
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "d"


def test_a_refused_edit_leaves_the_block_value_and_version(
    http: httpx.Client, world: dict[str, Any]
) -> None:
    """The snapshot covers this too; spelled out, since it is the promise users rely on."""
    url = f"/v1/blocks/{world['shared']['id']}"
    before = http.get(url).json()
    refused(
        http.patch(url, json={"value": "v" * 11, "label": "renamed"}), 422, "over its limit of 10"
    )
    after = http.get(url).json()
    assert (after["value"], after["label"], after["version"]) == (
        before["value"],
        before["label"],
        before["version"],
    )


def test_a_request_head_too_large_to_parse_gets_a_json_400_too(http: httpx.Client) -> None:
    """A request the HTTP parser refuses never reaches the app (here a URL of ~200 KB, as
    the fuzzer once sent; HTTP clients refuse to send one, so it goes over a socket): it is
    answered as every error is, 400 with a JSON `detail`."""
    query = "&".join(f"agent_id=agent-{'%C3%A9' * 400}-{i}" for i in range(80))
    request = f"GET /v1/activity?{query} HTTP/1.1\r\nHost: troupe\r\n\r\n".encode()
    with socket.create_connection((http.base_url.host, http.base_url.port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), head
    assert b"content-type: application/json" in head.lower()
    assert "could not be parsed" in json.loads(body)["detail"]
    assert http.get("/v1/health").status_code == 200  # the server goes on
