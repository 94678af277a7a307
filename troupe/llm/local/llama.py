"""llama-cpp-python at the level the engine needs: loading a model file, tokens, and the
ctypes-level calls the `Llama` class does not wrap (KV state bytes, perf counters). Imports
llama.cpp only when called."""

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from troupe.config import ModelSettings
from troupe.llm.base import ModelNotConfigured
from troupe.llm.local.weights import INSTALL_HINT
from troupe.llm.providers import PROVIDERS

CONTEXT_TOKENS = PROVIDERS["local"].context_window  # what llm_config reports for local/

_params_lock = threading.Lock()


def load(path: Path) -> Any:
    """A `llama_cpp.Llama` on the file, with the context size and threads troupe uses."""
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
    configured = ModelSettings().local_threads
    if configured is not None:
        return configured
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def tokenize(llm: Any, prompt: str) -> list[int]:
    tokens: list[int] = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    if len(tokens) > 1 and tokens[0] == tokens[1] == llm.token_bos():  # template wrote one too
        tokens = tokens[1:]
    return tokens


def live_tokens(llm: Any) -> list[int]:
    """The tokens whose KV state the context holds right now."""
    return [int(t) for t in llm.input_ids[: llm.n_tokens]]


def state_bytes(llm: Any) -> bytes:
    """The context's KV state. Not `Llama.save_state`: that also copies a logits array of
    up to 512 x vocabulary floats (100 MB for SmolLM2) that sampling never reads."""
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llm.ctx)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_get_data(llm.ctx, buffer, size)
    return ctypes.string_at(buffer, written)


def load_state(llm: Any, tokens: list[int], data: bytes, usable: int) -> bool:
    """Put a saved KV state (of `tokens`) back, keeping its first `usable` tokens. False,
    with the context reset, when llama.cpp does not take it."""
    import llama_cpp

    buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    if llama_cpp.llama_state_set_data(llm.ctx, buffer, len(data)) != len(data):
        llm.reset()
        return False
    llm.input_ids[: len(tokens)] = tokens
    # Keep only the shared prefix, always short of the whole prompt: llama-cpp-python then
    # decodes at least one token, so it samples from fresh logits.
    llm.n_tokens = usable
    llm._requires_eval = True
    return True


def perf(llm: Any) -> tuple[int, int, float, float]:
    """llama.cpp's counters: (tokens decoded in batches, tokens decoded singly, ms, ms)."""
    import llama_cpp

    data = llama_cpp.llama_perf_context(llm.ctx)
    return data.n_p_eval, data.n_eval, data.t_p_eval_ms, data.t_eval_ms
