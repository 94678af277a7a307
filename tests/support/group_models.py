"""Deterministic models for group tests, resolved in the server process by the handle
`test/function:tests.support.group_models:<name>`."""

import re

from troupe.llm.base import ModelRequest, ModelResponse
from troupe.llm.testing import call, turn_input

OPTIONS = re.compile(r"from the following options: (.*?)\. Do not")


def chooser(request: ModelRequest) -> ModelResponse:
    """A dynamic group's manager: names the first option it is offered."""
    text, after = turn_input(request)
    found = OPTIONS.search(text)
    if after or not found:
        return call("send_message", {"message": "nobody"})
    first = found.group(1).split(" (")[0]
    return call("send_message", {"message": f"{first} should speak next"})


def finisher(request: ModelRequest) -> ModelResponse:
    """A member that ends a dynamic group's chat with the termination token."""
    return call("send_message", {"message": "that settles it, DONE!"})


def sleeper(request: ModelRequest) -> ModelResponse:
    """A sleep-time agent: notes the conversation's last user line in the "human" block."""
    text, after = turn_input(request)
    if after:  # the tool rules end the turn after the edit; this is never asked
        return call("send_message", {"message": "done"})
    said = [line[len("user: ") :] for line in text.splitlines() if line.startswith("user: ")]
    line = said[-1] if said else "nothing"
    return call("memory_insert", {"label": "human", "new_str": f"noted: {line}"})
