"""An agent's variables for its tools (Letta's `secrets`, formerly
`tool_exec_environment_variables`): what a request may set, and how an agent shows them."""

import re
from collections.abc import Mapping
from datetime import datetime

from troupe.schemas.common import OutputModel

# A POSIX shell's name for a variable: what `os.environ["X"]` and every tool that reads its
# environment can rely on (a name with `=` or a space cannot even be passed to a process).
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_CHARS = 255
MAX_VALUE_CHARS = 32_768
# The kernel refuses to start a process whose environment is too large (about 2 MB in all,
# 128 KB a variable): the limits keep any accepted set runnable, UTF-8 at its widest.
MAX_TOTAL_CHARS = 262_144
MAX_VARIABLES = 200


def check_tool_variables(values: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """The variables as sent, or a ValueError naming what is wrong (a 422 that changes
    nothing). Values are text; an empty value is a variable set to ""."""
    if values is None:
        return None
    if len(values) > MAX_VARIABLES:
        raise ValueError(f"at most {MAX_VARIABLES} variables an agent")
    bad = [name for name in values if not _valid_name(name)]
    if bad:
        raise ValueError(
            f"not valid environment variable names: {', '.join(repr(n) for n in bad[:5])}; "
            f"a name is letters, digits and _, not starting with a digit, at most "
            f"{MAX_NAME_CHARS} characters"
        )
    long = [name for name, value in values.items() if len(value) > MAX_VALUE_CHARS]
    if long:
        raise ValueError(f"the value of {long[0]} is longer than {MAX_VALUE_CHARS} characters")
    if sum(len(k) + len(v) for k, v in values.items()) > MAX_TOTAL_CHARS:
        raise ValueError(f"the variables hold more than {MAX_TOTAL_CHARS} characters in all")
    return values


def _valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_CHARS and VARIABLE_NAME.fullmatch(name) is not None


class AgentEnvironmentVariable(OutputModel):
    """One of an agent's variables, as both SDK lines read it."""

    id: str
    agent_id: str
    key: str
    value: str
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
