"""One model call of a step: the answer and its time, or `ModelFailed` saying why not."""

import logging
import time

from troupe.agent.deps import LoopDeps
from troupe.agent.spans import model_answer, model_request
from troupe.agent.turn import Turn
from troupe.errors import TroupeError
from troupe.llm.base import ModelRequest, ModelResponse
from troupe.store.step_reads import AgentProfile

log = logging.getLogger("troupe.agent")


class ModelFailed(Exception):
    pass


async def ask_model(
    deps: LoopDeps,
    agent: AgentProfile,
    handle: str,
    request: ModelRequest,
    turn: Turn,
    step_id: str,
) -> tuple[ModelResponse, int]:
    """The answer of the model `handle` names and how long it took (ms), in the step's
    `chat` span; `ModelFailed` if it could not answer."""
    started = time.monotonic()
    history = turn.conversation_id or agent.id
    try:
        with deps.telemetry.chat(
            handle=handle, agent_id=agent.id, conversation_id=history, step_id=step_id
        ) as span:
            if span.capture:
                span.asked(model_request(request))
            response = await deps.resolve_model(handle).complete(request)
            tokens = (response.usage.prompt_tokens, response.usage.completion_tokens)
            finish = "tool_calls" if response.tool_calls else "stop"
            span.answered(tokens, finish, model_answer(response, finish) if span.capture else None)
    except TroupeError as exc:
        raise ModelFailed(exc.message) from exc
    except Exception as exc:  # a provider bug must not leave the turn hanging
        log.exception("model call failed for agent %s", agent.id)
        raise ModelFailed(f"model call failed: {exc!r}") from exc
    return response, int((time.monotonic() - started) * 1000)
