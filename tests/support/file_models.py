"""A model for the file tools' tests (handle `test/function:tests.support.file_models:...`):
it follows the script in the message like `test/scripted`, then answers with the files
section of the system prompt it was last given: what it 'sees' of the files."""

import json

from troupe.llm.base import ModelRequest, ModelResponse
from troupe.llm.testing import SCRIPT_MARKER, call, scripted, turn_input


def read_files(request: ModelRequest) -> ModelResponse:
    text, after = turn_input(request)
    step = sum(1 for m in after if m.role == "assistant")
    script = (
        json.loads(text.split(SCRIPT_MARKER, 1)[1].strip().splitlines()[0])
        if SCRIPT_MARKER in text
        else []
    )
    if step < len(script):
        return scripted(request)
    system = request.messages[0].content or ""
    start = system.find("<directories>")
    return call("send_message", {"message": system[start:] if start >= 0 else "no files"})
