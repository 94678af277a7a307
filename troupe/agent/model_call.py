"""One model call of a step: the answer and its time, or `ModelFailed` saying why not."""

import logging
import time

from troupe.agent.deps import LoopDeps
from troupe.agent.spans import model_answer, model_request
from troupe.agent.turn import Turn
from troupe.agent.verdict import StopReason
from troupe.errors import TroupeError
from troupe.llm.base import (
    ContextOverflow,
    DeltaSink,
    InvalidModelAnswer,
    ModelError,
    ModelNotConfigured,
    ModelRequest,
    ModelResponse,
)
from troupe.store.step_reads import AgentProfile

log = logging.getLogger("troupe.agent")


class ModelFailed(Exception):
    """The model could not answer; `stop_reason` is Letta's for the cause."""

    def __init__(self, message: str, stop_reason: StopReason) -> None:
        super().__init__(message)
        self.stop_reason = stop_reason


def failure_reason(error: TroupeError) -> StopReason:
    """Letta's stop reason for a model call that failed with `error` (letta_agent_v3.py):
    a provider that could not be used (HTTP errors, timeouts, a missing or refused key) is
    `llm_api_error`, an answer that is no model's answer `invalid_llm_response`; a prompt
    too long for the model stays `error`, as Letta's does once summarising did not help."""
    if isinstance(error, ContextOverflow):
        return "error"
    if isinstance(error, InvalidModelAnswer):
        return "invalid_llm_response"
    if isinstance(error, (ModelError, ModelNotConfigured)):
        return "llm_api_error"
    return "error"


async def ask_model(
    deps: LoopDeps,
    agent: AgentProfile,
    handle: str,
    request: ModelRequest,
    turn: Turn,
    step_id: str,
    sink: DeltaSink | None = None,
) -> tuple[ModelResponse, int]:
    """The answer of the model `handle` names and how long it took (ms), in the step's
    `chat` span; `ModelFailed` if it could not answer. With a `sink` (token streaming), a
    model that can stream hands it each piece as it comes; any other answers whole."""
    started = time.monotonic()
    history = turn.conversation_id or agent.id
    try:
        with deps.telemetry.chat(
            handle=handle, agent_id=agent.id, conversation_id=history, step_id=step_id
        ) as span:
            if span.capture:
                span.asked(model_request(request))
            model = deps.resolve_model(handle)
            streaming = getattr(model, "complete_streaming", None) if sink else None
            if streaming is None:
                response = await model.complete(request)
            else:
                response = await streaming(request, sink)
            tokens = (response.usage.prompt_tokens, response.usage.completion_tokens)
            finish = "tool_calls" if response.tool_calls else "stop"
            finish = "length" if response.cut_short else finish
            span.answered(tokens, finish, model_answer(response, finish) if span.capture else None)
    except TroupeError as exc:
        raise ModelFailed(exc.message, failure_reason(exc)) from exc
    except Exception as exc:  # a provider bug must not leave the turn hanging
        log.exception("model call failed for agent %s", agent.id)
        raise ModelFailed(f"model call failed: {exc!r}", "error") from exc
    return response, int((time.monotonic() - started) * 1000)
