"""`LocalModel`, what a `local/...` handle resolves to: a `Model` on the engine of its GGUF
file (one per file per process, whichever handle names it)."""

import asyncio
import importlib.util

from troupe.llm.base import ModelNotConfigured, ModelRequest, ModelResponse
from troupe.llm.handles import parse_handle
from troupe.llm.local.engine import StepStats, engine_for
from troupe.llm.local.weights import INSTALL_HINT, weights_for


class LocalModel:
    """A `Model` on an embedded llama.cpp: `local/smollm2-135m` or `local/<path.gguf>`."""

    def __init__(self, handle: str) -> None:
        _, name = parse_handle(handle)
        self.handle = handle
        self.path = weights_for(name)
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelNotConfigured(f"the embedded model needs llama.cpp: {INSTALL_HINT}")
        self._engine = engine_for(self.path)

    @property
    def last_step(self) -> StepStats | None:
        """The cost of the latest completion on this model file, whichever agent's."""
        return self._engine.last_step

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """One completion; when tools are offered, exactly one tool call that parses."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._engine.worker, self._engine.complete, request)
