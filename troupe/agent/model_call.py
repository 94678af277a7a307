"""One model call of a step: the answer and its time, or `ModelFailed` saying why not."""

import logging
import time

from troupe.agent.deps import LoopDeps
from troupe.errors import TroupeError
from troupe.llm.base import ModelRequest, ModelResponse
from troupe.store.step_reads import AgentProfile

log = logging.getLogger("troupe.agent")


class ModelFailed(Exception):
    pass


async def ask_model(
    deps: LoopDeps, agent: AgentProfile, handle: str, request: ModelRequest
) -> tuple[ModelResponse, int]:
    """The answer of the model `handle` names and how long it took (ms); `ModelFailed` if
    it could not answer."""
    started = time.monotonic()
    try:
        response = await deps.resolve_model(handle).complete(request)
    except TroupeError as exc:
        raise ModelFailed(exc.message) from exc
    except Exception as exc:  # a provider bug must not leave the turn hanging
        log.exception("model call failed for agent %s", agent.id)
        raise ModelFailed(f"model call failed: {exc!r}") from exc
    return response, int((time.monotonic() - started) * 1000)
