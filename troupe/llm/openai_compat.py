"""One adapter for every OpenAI-compatible chat completions API (OpenAI, OpenRouter, Ollama,
vLLM, LM Studio, llama.cpp's server), over the official `openai` SDK, whose retries with
backoff on 429, 5xx and timeouts we use rather than write our own."""

from typing import Any

import httpx2  # the SDK's own HTTP client: its raw response
import openai

from troupe.llm.base import (
    ChatMessage,
    ContextOverflow,
    DeltaSink,
    InvalidModelAnswer,
    ModelError,
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolSpec,
    Usage,
)
from troupe.llm.openai_stream import ChunkReader
from troupe.llm.providers import Endpoint
from troupe.llm.request_templates import TemplatedRequests
from troupe.llm.sse_events import STREAM_HEADERS, midway_failure, sse_events
from troupe.llm.wire import (
    MAX_TOOLS,
    Converted,
    LastOne,
    Pieces,
    SharedClients,
    array_text,
    dumps,
    each_alone,
    json_answer,
    json_object,
)


class OpenAICompatibleModel:
    def __init__(
        self, handle: str, model: str, endpoint: Endpoint, client: openai.AsyncOpenAI | None = None
    ) -> None:
        self.handle = handle
        self.model = model
        self.endpoint = endpoint
        self.client = client or _clients.get(endpoint)
        self._messages = Pieces(_message_json, each_alone)
        # A step offers the tool specs of the step before (agent/offers.py keeps them).
        self._tools = Converted(_tool_json, MAX_TOOLS)
        self._system = LastOne(_message_json)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        try:
            # The SDK's plain `post` with a body built here: what `chat.completions.create`
            # does, without walking every message of the history again (see llm/wire.py).
            # The answer comes back raw and is read below (no pydantic `ChatCompletion`).
            answer = await self.client.post(
                "/chat/completions",
                cast_to=httpx2.Response,
                content=self._body(request),
                options={"security": {"bearer_auth": True}},
            )
        except openai.OpenAIError as exc:
            raise self._failure(exc) from None
        return self._response(json_answer(self.handle, answer.content))

    async def complete_streaming(self, request: ModelRequest, sink: DeltaSink) -> ModelResponse:
        """The answer streamed (`stream: true`, usage in the last chunk): each piece handed to
        `sink` as its chunk arrives; the same `ModelResponse` as `complete`'s in the end.
        The SDK retries what fails before the first byte of the body; a failure midway
        ends the call (`ModelError`), as nothing can be taken back from the sink."""
        reader = ChunkReader(self.handle)
        try:
            answer = await self.client.post(
                "/chat/completions",
                cast_to=httpx2.Response,
                content=self._body(request, stream=True),
                # A header of its own: the call is built by the SDK, not from a template,
                # and its answer is not read whole (llm/http_pool.py, request_templates.py).
                options={"security": {"bearer_auth": True}, "headers": STREAM_HEADERS},
                stream=True,  # the answer unread: its body is read here as it arrives
            )
            try:
                async for event in sse_events(answer.aiter_bytes()):
                    if event.data.startswith("[DONE]"):
                        break
                    chunk = json_answer(self.handle, event.data.encode())
                    for delta in reader.read(chunk):
                        await sink(delta)
            finally:
                await answer.aclose()  # midway (a cancel, an error): closed
        except openai.OpenAIError as exc:
            raise self._failure(exc) from None
        except httpx2.HTTPError as exc:
            raise midway_failure(self.handle, exc) from None
        return reader.response()

    def _failure(self, exc: openai.OpenAIError) -> ModelError:
        """The SDK's error (after its retries) as the turn's reason to stop."""
        if isinstance(exc, openai.APIStatusError):
            error = ContextOverflow if _context_overflow(exc) else ModelError
            return error(
                f"{self.handle}: the provider answered HTTP {exc.status_code}: {error_detail(exc)}"
            )
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(
                f"{self.handle}: no answer within {self.endpoint.timeout_s:g} s "
                f"(after {self.endpoint.max_retries} retries)"
            )
        if isinstance(exc, openai.APIConnectionError):
            where = self.endpoint.base_url or "the OpenAI API"
            return ModelError(f"{self.handle}: cannot reach {where}: {exc}")
        return ModelError(f"{self.handle}: {exc}")

    def _response(self, completion: dict[str, Any]) -> ModelResponse:
        choices = completion.get("choices")
        if not choices:
            raise InvalidModelAnswer(f"{self.handle}: the provider returned no choices")
        message = choices[0].get("message") or {}
        calls = tuple(
            ToolCall(
                call.get("id") or "", function.get("name") or "", function.get("arguments") or ""
            )
            for call in message.get("tool_calls") or ()
            if (function := call.get("function")) is not None
        )
        usage = completion.get("usage") or {}
        return ModelResponse(
            content=message.get("content") or None,
            tool_calls=calls,
            reasoning=message.get("reasoning_content") or None,
            usage=Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0),
            cut_short=choices[0].get("finish_reason") == "length",
        )

    def _body(self, request: ModelRequest, *, stream: bool = False) -> bytes:
        fields: dict[str, Any] = {"model": self.model}
        if stream:
            fields["stream"] = True
            fields["stream_options"] = {"include_usage": True}
        if request.tools:
            fields["tools"] = array_text(self._tools.each(request.tools))
            fields["tool_choice"] = _tool_choice(request.tool_choice)
            if request.parallel_tool_calls is not None:
                fields["parallel_tool_calls"] = request.parallel_tool_calls
        if request.max_tokens:
            fields["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            fields["temperature"] = request.temperature
        if request.reasoning_effort:
            fields["reasoning_effort"] = request.reasoning_effort
        if request.response_format:
            fields["response_format"] = request.response_format
        fields["messages"] = array_text(self._messages_json(request))
        return json_object(fields)

    def _messages_json(self, request: ModelRequest) -> list[bytes]:
        """The system prompt, then the history, whose pieces are kept from the step before
        (llm/wire.py). The prompt is rendered afresh at every step, a new object each time:
        kept in the cache, each step's copy would stay there until evicted, uselessly."""
        messages = request.messages
        if messages and messages[0].role == "system":
            return [self._system(messages[0]), *self._messages(messages[1:])]
        return self._messages(messages)


def _tool_json(tool: ToolSpec) -> bytes:
    function = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
    return dumps({"type": "function", "function": function})


def _message_json(message: ChatMessage) -> bytes:
    return dumps(_message(message))


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": message.content or "",
        }
    payload: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.images:
        text = [{"type": "text", "text": message.content}] if message.content else []
        images = [{"type": "image_url", "image_url": {"url": i.as_url()}} for i in message.images]
        payload["content"] = text + images
    if message.tool_calls:
        payload["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    elif payload["content"] is None:
        payload["content"] = ""
    return payload


def _tool_choice(choice: str) -> Any:
    if choice in {"auto", "required", "none"}:
        return choice
    return {"type": "function", "function": {"name": choice}}


def _context_overflow(exc: openai.APIStatusError) -> bool:
    """A 400 refusing the prompt as too long: OpenAI's `context_length_exceeded` code, or the
    message OpenAI-compatible servers copy (the tests Letta's OpenAI client makes)."""
    if exc.status_code != 400:
        return False
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    code = error.get("code") if isinstance(error, dict) else None
    return code == "context_length_exceeded" or "maximum context length" in error_detail(exc)


def error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return exc.message


class AsyncOpenAI(TemplatedRequests, openai.AsyncOpenAI):
    """The SDK's client, building troupe's model calls from templates
    (llm/request_templates.py). Named as the SDK's class, which its User-Agent names."""

    not_given = openai.NotGiven
    options_class = openai._models.FinalRequestOptions
    sdk_log = openai._base_client.log

    def _sends_plainly(self) -> bool:
        return self._plain_auth() and self.custom_auth is None

    def _plain_auth(self) -> bool:
        """No workload identity, provider runtime or key provider: the SDK's own layers
        around `_prepare_options` and `_send_request` (`openai.lib._client_auth`) then do
        nothing but call the base client's, which these call directly."""
        return (
            self._workload_identity_auth is None
            and self._provider_runtime is None
            and self._api_key_provider is None
        )

    async def _prepare_options(self, options: Any) -> Any:
        if self._plain_auth() and not options.url.startswith(("ws://", "wss://")):
            return await openai._base_client.AsyncAPIClient._prepare_options(self, options)
        return await super()._prepare_options(options)

    async def _send_request(self, request: httpx2.Request, *, stream: bool, **kw: Any) -> Any:
        if self._plain_auth():
            return await openai._base_client.AsyncAPIClient._send_request(
                self, request, stream=stream, **kw
            )
        return await super()._send_request(request, stream=stream, **kw)


_clients = SharedClients(AsyncOpenAI)


def from_handle(handle: str) -> OpenAICompatibleModel:
    """The models of one provider share its SDK client (see llm/wire.py: SharedClients)."""
    return OpenAICompatibleModel(handle, *_clients.for_handle(handle))


prepare = _clients.prepare


def shared_client(endpoint: Endpoint) -> AsyncOpenAI:
    """The provider's one SDK client, for its embeddings too (llm/embeddings/)."""
    return _clients.get(endpoint)
