"""A tool given the JSON schema of its arguments (`args_json_schema`): letta-client 0.1.x
`tools.create_from_function(func=..., args_schema=Model)` / `upsert_from_function`, and 1.x
`tools.create/upsert/update(source_code=..., args_json_schema=...)`. The SDK's own example:
`manage_inventory(data: InventoryEntry, quantity_change: int)`, whose source is sent without
the class. The model is offered the nested object, the tool runs with the classes made from
the schema, and `data` arrives as an InventoryEntry."""

import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from letta_client import Letta
from pydantic import BaseModel, Field

from tests.server.helpers import SCRIPTED, script, unique


class InventoryItem(BaseModel):
    sku: str = Field(..., description="Stock keeping unit.")
    name: str
    price: float = Field(..., ge=0)
    category: str


class InventoryEntry(BaseModel):
    timestamp: int
    item: InventoryItem
    transaction_id: str


class InventoryEntryData(BaseModel):
    data: InventoryEntry
    quantity_change: int


ARGS_SCHEMA = InventoryEntryData.model_json_schema()

# Only the function: what `inspect.getsource(func)` gives the SDK, so no class in it.
MANAGE_INVENTORY = '''
def manage_inventory_{suffix}(data: InventoryEntry, quantity_change: int) -> str:
    """Implementation of the manage_inventory tool.

    Args:
        data: The inventory entry to change.
        quantity_change: By how much.
    """
    return " ".join(
        [type(data).__name__, type(data.item).__name__, data.item.sku, str(quantity_change)]
    )
'''

ENTRY = {
    "timestamp": 1700000000,
    "item": {"sku": "sku-1", "name": "Widget", "price": 2.5, "category": "tools"},
    "transaction_id": "tx-1",
}


def answer(quantity_change: int) -> str:
    """What the tool returns for ENTRY: `data` and `data.item` arrived as instances."""
    return f"InventoryEntry InventoryItem sku-1 {quantity_change}"


def inventory_function(tmp_path: Path) -> Any:
    """A `manage_inventory_<unique>` defined in a module file, as a user's script has it
    (create_from_function reads the function's source from its file)."""
    suffix = unique("inv").replace("-", "_")
    path = tmp_path / f"inventory_{suffix}.py"
    header = "from tests.server.test_tool_args_schema import InventoryEntry\n"
    path.write_text(header + MANAGE_INVENTORY.format(suffix=suffix))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, f"manage_inventory_{suffix}")


def called(client: Any, agent_id: str, tool_name: str, args: dict[str, Any]) -> Any:
    """The tool return message of a turn in which the scripted model calls the tool."""
    turn = client.agents.messages.create(
        agent_id=agent_id,
        messages=[{"role": "user", "content": script({"tool": tool_name, "args": args})}],
    )
    [returned] = [m for m in turn.messages if m.message_type == "tool_return_message"]
    return returned


def assert_offers_the_nested_object(json_schema: dict[str, Any]) -> None:
    parameters = json_schema["parameters"]
    assert parameters["required"] == ["data", "quantity_change"]
    data = parameters["properties"]["data"]
    assert data["type"] == "object"
    assert data["description"] == "The inventory entry to change."  # from the docstring
    assert data["required"] == ["timestamp", "item", "transaction_id"]
    item = data["properties"]["item"]
    assert item["type"] == "object"
    assert item["properties"]["sku"] == {"type": "string", "description": "Stock keeping unit."}
    assert item["properties"]["price"] == {"type": "number", "minimum": 0}
    assert parameters["properties"]["quantity_change"] == {
        "type": "integer",
        "description": "By how much.",
    }
    assert "$ref" not in json.dumps(parameters)
    assert "$defs" not in json.dumps(parameters)


def test_legacy_create_from_function_with_args_schema_runs_with_its_models(
    legacy_client: Any, tmp_path: Path
) -> None:
    """The docstring example of 0.1.x `create_from_function`."""
    function = inventory_function(tmp_path)
    tool = legacy_client.tools.create_from_function(func=function, args_schema=InventoryEntryData)
    assert tool.name == function.__name__
    assert tool.args_json_schema == ARGS_SCHEMA
    assert_offers_the_nested_object(tool.json_schema)
    assert legacy_client.tools.retrieve(tool.id).args_json_schema == ARGS_SCHEMA

    agent = legacy_client.agents.create(
        name=unique("stock"), model=SCRIPTED, embedding="letta/letta-free", tool_ids=[tool.id]
    )
    returned = called(legacy_client, agent.id, tool.name, {"data": ENTRY, "quantity_change": 3})
    assert (returned.status, returned.tool_return) == ("success", answer(3))

    # A nested argument that does not fit is the tool's error, back to the model.
    cheap = {**ENTRY, "item": {**ENTRY["item"], "price": "cheap"}}
    returned = called(legacy_client, agent.id, tool.name, {"data": cheap, "quantity_change": 1})
    assert returned.status == "error"
    assert "data.item.price" in returned.tool_return
    assert "valid number" in returned.tool_return
    negative = {**ENTRY, "item": {**ENTRY["item"], "price": -1}}
    returned = called(legacy_client, agent.id, tool.name, {"data": negative, "quantity_change": 1})
    assert returned.status == "error"
    assert "greater than or equal to 0" in returned.tool_return


def test_legacy_upsert_from_function_keeps_one_tool(legacy_client: Any, tmp_path: Path) -> None:
    function = inventory_function(tmp_path)
    first = legacy_client.tools.upsert_from_function(func=function, args_schema=InventoryEntryData)
    again = legacy_client.tools.upsert_from_function(
        func=function, args_schema=InventoryEntryData, tags=["stock"]
    )
    assert again.id == first.id
    assert again.args_json_schema == ARGS_SCHEMA
    assert_offers_the_nested_object(again.json_schema)
    run = legacy_client.tools.run_tool_from_source(
        source_code=again.source_code,
        args={"data": ENTRY, "quantity_change": 2},
        args_json_schema=ARGS_SCHEMA,
    )
    assert (run.status, run.tool_return) == ("success", answer(2))


def test_sdk_1x_create_upsert_and_update_take_args_json_schema(client: Letta) -> None:
    suffix = unique("inv").replace("-", "_")
    source = MANAGE_INVENTORY.format(suffix=suffix)
    tool = client.tools.create(source_code=source, args_json_schema=ARGS_SCHEMA)
    assert tool.args_json_schema == ARGS_SCHEMA
    assert_offers_the_nested_object(tool.json_schema)
    [listed] = [t for t in client.tools.list(name=tool.name)]
    assert listed.args_json_schema == ARGS_SCHEMA

    agent = client.agents.create(name=unique("stock"), model=SCRIPTED, tool_ids=[tool.id])
    returned = called(client, agent.id, tool.name, {"data": ENTRY, "quantity_change": 5})
    assert (returned.status, returned.tool_return) == ("success", answer(5))
    direct = client.agents.tools.run(
        tool.name, agent_id=agent.id, args={"data": ENTRY, "quantity_change": 4}
    )
    assert (direct.status, direct.func_return) == ("success", answer(4))
    missing = client.agents.tools.run(
        tool.name, agent_id=agent.id, args={"data": {"timestamp": 1}, "quantity_change": 4}
    )
    assert missing.status == "error"
    assert "data.item: Field required" in str(missing.func_return)

    # An upsert that leaves the schema out keeps it (as Letta's); one that names it changes it.
    kept = client.tools.upsert(source_code=source, description="Stock changes.")
    assert (kept.id, kept.args_json_schema, kept.description) == (
        tool.id,
        ARGS_SCHEMA,
        "Stock changes.",
    )
    assert_offers_the_nested_object(kept.json_schema)
    described = json.loads(json.dumps(ARGS_SCHEMA))
    described["properties"]["quantity_change"]["description"] = "Units added (negative: taken)."
    updated = client.tools.update(tool.id, args_json_schema=described)
    assert updated.args_json_schema == described
    quantity = updated.json_schema["parameters"]["properties"]["quantity_change"]
    assert quantity["description"] == "Units added (negative: taken)."
    # Dropped, the parameters come from the source again.
    dropped = client.tools.update(tool.id, args_json_schema=None)
    assert dropped.args_json_schema is None
    assert dropped.json_schema["parameters"]["properties"]["data"] == {
        "description": "The inventory entry to change."
    }


OWN_CLASSES = '''
from pydantic import BaseModel


class InventoryItem(BaseModel):
    sku: str
    name: str
    price: float
    category: str


class InventoryEntry(BaseModel):
    timestamp: int
    item: InventoryItem
    transaction_id: str


def stock_{suffix}(data: InventoryEntry, quantity_change: int) -> str:
    """Change the stock."""
    return f"{{isinstance(data, InventoryEntry)}} {{isinstance(data.item, InventoryItem)}}"
'''


def test_a_source_with_its_own_models_gets_instances_of_them(client: Letta) -> None:
    """Letta's docs send the whole module (classes and function) with the schema too: the
    source's own classes are the ones the arguments become."""
    source = OWN_CLASSES.format(suffix=unique("own").replace("-", "_"))
    tool = client.tools.create(source_code=source, args_json_schema=ARGS_SCHEMA)
    agent = client.agents.create(name=unique("own"), model=SCRIPTED, tool_ids=[tool.id])
    returned = called(client, agent.id, tool.name, {"data": ENTRY, "quantity_change": 1})
    assert (returned.status, returned.tool_return) == ("success", "True True")


def test_a_schema_that_is_not_an_object_is_refused_and_stores_nothing(
    http: httpx.Client, client: Letta
) -> None:
    suffix = unique("bad").replace("-", "_")
    source = MANAGE_INVENTORY.format(suffix=suffix)
    name = f"manage_inventory_{suffix}"
    bad_schemas: list[Any] = [
        "InventoryEntryData",
        [ARGS_SCHEMA],
        {"type": "string"},
        {"type": "object", "properties": ["data"]},
        {"type": "object", "properties": {"data": {"$ref": "#/$defs/Missing"}}},
        {"type": "object", "properties": {"data": {"$ref": "https://example.invalid/x"}}},
        {"$defs": {"not a name": {"type": "object"}}, "type": "object", "properties": {}},
        {"type": "object", "properties": {"not-a-parameter": {"type": "string"}}},
        {"type": "object", "properties": {}, "required": "data"},
    ]
    for bad in bad_schemas:
        body = {"source_code": source, "args_json_schema": bad}
        for method in ("POST", "PUT"):
            response = http.request(method, "/v1/tools/", json=body)
            assert response.status_code == 422, (bad, response.text)
            assert "detail" in response.json()
    assert http.get("/v1/tools/", params={"name": name}).json() == []

    tool = client.tools.create(source_code=source, args_json_schema=ARGS_SCHEMA)
    response = http.patch(f"/v1/tools/{tool.id}", json={"args_json_schema": {"type": "array"}})
    assert response.status_code == 422, response.text
    assert client.tools.retrieve(tool.id).args_json_schema == ARGS_SCHEMA
    run = http.post(
        "/v1/tools/run",
        json={"source_code": source, "args": {}, "args_json_schema": {"type": "integer"}},
    )
    assert run.status_code == 422, run.text


def test_agent_files_carry_the_args_schema(client: Letta) -> None:
    source = MANAGE_INVENTORY.format(suffix=unique("af").replace("-", "_"))
    tool = client.tools.create(source_code=source, args_json_schema=ARGS_SCHEMA)
    agent = client.agents.create(name=unique("stock"), model=SCRIPTED, tool_ids=[tool.id])
    text = client.agents.export_file(agent.id)
    [exported] = [t for t in json.loads(text)["tools"] if t["name"] == tool.name]
    assert exported["args_json_schema"] == ARGS_SCHEMA

    client.tools.delete(tool.id)  # the import makes the tool again, from the file alone
    imported = client.agents.import_file(
        file=("a.af", io.BytesIO(text.encode()), "application/json")
    )
    [copy_id] = imported.agent_ids
    [made] = [t for t in client.agents.tools.list(copy_id) if t.name == tool.name]
    assert made.id != tool.id
    assert made.args_json_schema == ARGS_SCHEMA
    returned = called(client, copy_id, tool.name, {"data": ENTRY, "quantity_change": 7})
    assert (returned.status, returned.tool_return) == ("success", answer(7))
