"""Agents' variables for their tools in Agent Files. Export writes each agent's names with
empty values, as Letta's export does: a file is made to be shared, and the values are the
agent's secrets. Import gives each agent the names its file lists (Letta's
`tool_exec_environment_variables`, or `secrets`) and, over them, the values the request
sends (`secrets`, or the older `env_vars_json`)."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from troupe.errors import InvalidInput
from troupe.schemas.agent_file import AgentSchema
from troupe.schemas.tool_variables import check_tool_variables
from troupe.store.variable_tables import AgentVariableRow


def exported_variables(rows: Sequence[AgentVariableRow]) -> dict[str, str]:
    """The names, never the values."""
    return {row.key: "" for row in rows}


def form_variables(secrets: str | None, env_vars_json: str | None) -> dict[str, str]:
    """The import request's variables: `secrets` wins over the older `env_vars_json` when
    both are sent (as on agent create). Either is a JSON object of names to text."""
    for field, text in (("secrets", secrets), ("env_vars_json", env_vars_json)):
        if text:
            return _checked(field, _parsed(field, text))
    return {}


def imported_variables(agent: AgentSchema, given: Mapping[str, str]) -> dict[str, str]:
    """What one imported agent gets: the names its file lists, with the file's values
    (Letta's export leaves them empty), then every variable the request gives."""
    listed = {**(agent.tool_exec_environment_variables or {}), **(agent.secrets or {})}
    from_file = {name: _text(agent.name, name, value) for name, value in listed.items()}
    return _checked(f"agent {agent.name!r}", {**from_file, **given})


def _parsed(field: str, text: str) -> dict[str, Any]:
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        raise InvalidInput(f"{field} is not JSON: send an object of names to values") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise InvalidInput(f"{field} must be a JSON object of names to text values")
    return parsed


def _text(agent: str, name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"agent file: agent {agent!r}: the value of {name} is not text")
    return value


def _checked(where: str, values: dict[str, str]) -> dict[str, str]:
    try:
        check_tool_variables(values)
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    return values
