"""One llama.cpp context per model file, shared by every `LocalModel` naming it, running one
completion at a time; the prompt cache lets each agent's step read only what is new."""

import atexit
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from troupe.errors import TroupeError
from troupe.llm.base import (
    ContextOverflow,
    ModelError,
    ModelRequest,
    ModelResponse,
    ToolSpec,
    Usage,
)
from troupe.llm.local import llama
from troupe.llm.local.answer_format import answer_schema, as_reply_text, shaped_tools
from troupe.llm.local.grammar import answer_grammar, call_grammar
from troupe.llm.local.prompt import STOP, chat_template, compact_turns, render, tool_sets
from troupe.llm.local.prompt_cache import PromptCache, common_prefix
from troupe.llm.local.repair import complete_json, parse_call
from troupe.llm.providers import PROVIDERS

MAX_NEW_TOKENS = 256
TEMPERATURE = PROVIDERS["local"].temperature  # a 135M model stays on task near greedy
GRAMMARS_KEPT = 64


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


class Engine:
    """One llama.cpp context on one GGUF file. One worker thread runs its completions
    (llama.cpp contexts are not re-entrant): concurrent requests queue there, from any event
    loop, without holding default-executor threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="troupe-local")
        self.last_step: StepStats | None = None
        self._lock = threading.Lock()  # load and every use of the context
        self._llm: Any = None
        self._template: Any = None
        self._cache = PromptCache()
        self._grammars: OrderedDict[str, Any] = OrderedDict()

    def complete(self, request: ModelRequest) -> ModelResponse:
        with self._lock:
            llm = self._loaded()
            try:
                return self._complete(llm, request)
            except TroupeError:
                raise
            except Exception as exc:  # llama.cpp raises RuntimeError, ValueError, ...
                llm.reset()  # the KV cache may be half-written: start clean
                self._cache.lose_live()
                raise ModelError(f"the local model {self.path.name} failed: {exc!r}") from exc

    def _loaded(self) -> Any:
        if self._llm is None:
            self._llm = llama.load(self.path)
            self._template = chat_template(self._llm)
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
                self._cache.clear()
                self._grammars.clear()  # built against this model

    def _complete(self, llm: Any, request: ModelRequest) -> ModelResponse:
        offered, callable_ = tool_sets(request)
        tokens = llama.tokenize(
            llm, render(self._template, compact_turns(request.messages, offered))
        )
        room = llm.n_ctx() - len(tokens)
        if room < 16:
            raise ContextOverflow(
                f"the prompt is {len(tokens)} tokens and {self.path.name} holds {llm.n_ctx()}: "
                "shorten the memory blocks or the history (lower the agent's context_window)"
            )
        restored = self._cache.switch_to(llm, request.cache_key, tokens)
        reused = min(common_prefix(llama.live_tokens(llm), tokens), len(tokens) - 1)
        budget = min(request.max_tokens or MAX_NEW_TOKENS, room)
        options: dict[str, Any] = {
            "max_tokens": budget,
            "temperature": TEMPERATURE if request.temperature is None else request.temperature,
            "repeat_penalty": 1.1,
            "stop": STOP,
        }
        answer = answer_schema(request.response_format)
        if callable_ and answer is not None:
            callable_ = shaped_tools(callable_, answer)
        if callable_:
            options["grammar"] = self._grammar(llm, callable_, budget)
        elif answer is not None:
            options["grammar"] = self._answer_grammar(llm, answer, budget)
        before = llama.perf(llm)
        output = llm.create_completion(tokens, **options)
        after = llama.perf(llm)
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
            if answer is not None:  # closed if the budget cut it off, so it parses
                value = complete_json(text.strip())
                text = json.dumps({} if value is None else value, ensure_ascii=False)
            return ModelResponse(content=text.strip(), usage=usage)
        call = parse_call(text, callable_)
        return ModelResponse(tool_calls=(as_reply_text(call),), usage=usage)

    def _grammar(self, llm: Any, tools: list[ToolSpec], budget: int) -> Any:
        key = json.dumps([[t.name, t.parameters] for t in tools], sort_keys=True) + f"/{budget}"
        return self._kept(key, lambda: call_grammar(llm, tools, budget))

    def _answer_grammar(self, llm: Any, schema: dict[str, Any], budget: int) -> Any:
        key = "answer:" + json.dumps(schema, sort_keys=True) + f"/{budget}"
        return self._kept(key, lambda: answer_grammar(llm, schema, budget))

    def _kept(self, key: str, build: Callable[[], Any]) -> Any:
        """The grammar kept under `key`, built on first use (the newest GRAMMARS_KEPT stay)."""
        if key not in self._grammars:
            self._grammars[key] = build()
            while len(self._grammars) > GRAMMARS_KEPT:
                self._grammars.popitem(last=False)
        self._grammars.move_to_end(key)
        return self._grammars[key]


_engines: dict[Path, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(path: Path) -> Engine:
    """One engine, so one loaded copy of the weights, per model file per process."""
    key = path.resolve()
    with _engines_lock:
        if key not in _engines:
            _engines[key] = Engine(key)
        return _engines[key]
