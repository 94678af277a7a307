"""The Anthropic Messages API over the official `anthropic` SDK (honours ANTHROPIC_BASE_URL
and ANTHROPIC_API_KEY), with the SDK's own retries with backoff."""

import json
from typing import Any

import anthropic
import httpx2  # the SDK's own HTTP client: its raw response

from troupe.llm.anthropic_stream import EventReader
from troupe.llm.base import (
    ChatMessage,
    ContextOverflow,
    DeltaSink,
    ImagePart,
    ModelError,
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolSpec,
    Usage,
)
from troupe.llm.providers import Endpoint
from troupe.llm.request_templates import TemplatedRequests
from troupe.llm.sse_events import STREAM_HEADERS, midway_failure, sse_events
from troupe.llm.wire import (
    MAX_TOOLS,
    Converted,
    JSONText,
    LastOne,
    Pieces,
    SharedClients,
    array_text,
    dumps,
    json_answer,
    json_array,
    json_object,
)

DEFAULT_MAX_TOKENS = 2048


class AnthropicModel:
    def __init__(
        self,
        handle: str,
        model: str,
        endpoint: Endpoint,
        client: anthropic.AsyncAnthropic | None = None,
    ) -> None:
        self.handle = handle
        self.model = model
        self.endpoint = endpoint
        self.client = client or _clients.get(endpoint)
        self._turns = Pieces(_blocks, _merged_turns)
        # A step offers the tool specs of the step before (agent/offers.py keeps them).
        self._tools = Converted(_tool_json, MAX_TOOLS)
        self._system = LastOne(_json_text)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        # No temperature: the current Messages API (SDK 2.x) has no sampling parameters.
        try:
            # The SDK's plain `post` with a body built here: what `messages.create` does,
            # without copying every message of the history again (see llm/wire.py).
            # The answer comes back raw and is read below (no pydantic `Message`).
            answer = await self.client.post(
                "/v1/messages", cast_to=httpx2.Response, content=self._body(request)
            )
        except anthropic.AnthropicError as exc:
            raise self._failure(exc) from None
        return _response(json_answer(self.handle, answer.content))

    async def complete_streaming(self, request: ModelRequest, sink: DeltaSink) -> ModelResponse:
        """The message streamed (`stream: true`): each piece handed to `sink` as its event
        arrives; the same `ModelResponse` as `complete`'s in the end. The SDK retries what
        fails before the first byte of the body; a failure midway (an `error` event, a
        broken connection) ends the call (`ModelError`)."""
        reader = EventReader(self.handle)
        try:
            answer = await self.client.post(
                "/v1/messages",
                cast_to=httpx2.Response,
                content=self._body(request, stream=True),
                # A header of its own: the call is built by the SDK, not from a template,
                # and its answer is not read whole (llm/http_pool.py, request_templates.py).
                options={"headers": STREAM_HEADERS},
                stream=True,  # the answer unread: its body is read here as it arrives
            )
            try:
                async for event in sse_events(answer.aiter_bytes()):
                    data = json_answer(self.handle, event.data.encode())
                    for delta in reader.read(event.name, data):
                        await sink(delta)
                    if event.name == "message_stop":
                        break
            finally:
                await answer.aclose()  # midway (a cancel, an error): closed
        except anthropic.AnthropicError as exc:
            raise self._failure(exc) from None
        except httpx2.HTTPError as exc:
            raise midway_failure(self.handle, exc) from None
        return reader.response()

    def _failure(self, exc: anthropic.AnthropicError) -> ModelError:
        """The SDK's error (after its retries) as the turn's reason to stop."""
        if isinstance(exc, anthropic.APIStatusError):
            # Anthropic refuses a prompt longer than the context window with a 400 saying so.
            too_long = exc.status_code == 400 and "prompt is too long" in exc.message
            return (ContextOverflow if too_long else ModelError)(
                f"{self.handle}: the provider answered HTTP {exc.status_code}: {exc.message}"
            )
        if isinstance(exc, anthropic.APITimeoutError):
            return ModelError(
                f"{self.handle}: no answer within {self.endpoint.timeout_s:g} s "
                f"(after {self.endpoint.max_retries} retries)"
            )
        if isinstance(exc, anthropic.APIConnectionError):
            where = self.endpoint.base_url or "the Anthropic API"
            return ModelError(f"{self.handle}: cannot reach {where}: {exc}")
        return ModelError(f"{self.handle}: {exc}")

    def _body(self, request: ModelRequest, *, stream: bool = False) -> bytes:
        messages = request.messages
        opens_with_system = bool(messages) and messages[0].role == "system"
        fields: dict[str, Any] = {
            "model": self.model,
            "system": self._system((messages[0].content or "") if opens_with_system else ""),
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if request.tools:
            fields["tools"] = array_text(self._tools.each(request.tools))
            fields["tool_choice"] = _tool_choice(request.tool_choice)
            if request.parallel_tool_calls is False:
                fields["tool_choice"]["disable_parallel_tool_use"] = True
        if request.thinking_budget:
            fields["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
        rest = messages[1:] if opens_with_system else messages
        fields["messages"] = _opening_with_user(self._turns(rest))
        if stream:
            fields["stream"] = True
        return json_object(fields)


def _response(message: dict[str, Any]) -> ModelResponse:
    texts, thoughts, calls = [], [], []
    for block in message.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "thinking":
            thoughts.append(block.get("thinking") or "")
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input") or {})
            calls.append(ToolCall(block.get("id") or "", block.get("name") or "", arguments))
    usage = message.get("usage") or {}
    return ModelResponse(
        content="\n".join(texts) or None,
        tool_calls=tuple(calls),
        reasoning="\n".join(thoughts) or None,
        usage=Usage(usage.get("input_tokens") or 0, usage.get("output_tokens") or 0),
        cut_short=message.get("stop_reason") == "max_tokens",
    )


def _json_text(value: str) -> JSONText:
    return JSONText((dumps(value),))


def _tool_json(tool: ToolSpec) -> bytes:
    schema = tool.parameters
    return dumps({"name": tool.name, "description": tool.description, "input_schema": schema})


def _blocks(message: ChatMessage) -> tuple[str, bytes]:
    """A message as the role of its Anthropic turn and its content blocks (JSON text, empty
    when it has none): the loop's notices go in as user text, tool results as user content."""
    blocks: list[dict[str, Any]]
    if message.role == "tool":
        role = "user"
        blocks = [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content or "",
            }
        ]
    elif message.role == "assistant":
        role, blocks = "assistant", []
        if message.content:
            blocks.append({"type": "text", "text": message.content})
        for call in message.tool_calls:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.name,
                    "input": _json_object(call.arguments),
                }
            )
    else:  # user, and notices the loop adds mid-conversation
        prefix = "[system notice] " if message.role == "system" else ""
        role, blocks = "user", [{"type": "text", "text": prefix + (message.content or "")}]
        if message.images:
            blocks = blocks if message.content else []  # Anthropic refuses empty text
            blocks += [{"type": "image", "source": _image_source(i)} for i in message.images]
    return role, b",".join(dumps(block) for block in blocks)


def _image_source(image: ImagePart) -> dict[str, Any]:
    """Anthropic's image source: base64 data (a `data:` URL's too), or an http(s) URL."""
    if image.data is not None:
        return {"type": "base64", "media_type": image.media_type, "data": image.data}
    url = image.url or ""
    if url.startswith("data:") and ";base64," in url:
        media_type, data = url[5:].split(";base64,", 1)
        return {"type": "base64", "media_type": media_type, "data": data}
    return {"type": "url", "url": url}


def _merged_turns(blocks: list[tuple[str, bytes]]) -> tuple[list[int], list[bytes]]:
    """Anthropic wants user and assistant turns to alternate: neighbours of one role are
    merged into one turn. The turns, and where each ends: at the message that closed it
    (`Pieces.join`; messages without content blocks belong to the turn before them)."""
    ends: list[int] = []
    turns: list[bytes] = []
    content: list[bytes] = []
    role = ""
    for index, (block_role, text) in enumerate(blocks):
        if not text:
            continue
        if block_role != role and content:
            turns.append(_turn(role, content))
            ends.append(index)
            content = []
        role = block_role
        content.append(text)
    if content:
        turns.append(_turn(role, content))
        ends.append(len(blocks))
    return ends, turns


def _opening_with_user(turns: list[bytes]) -> JSONText:
    """The turns as a JSON array that opens with a user turn, as Anthropic wants."""
    if not turns or not turns[0].startswith(_USER_TURN):
        turns = [_CONVERSATION_START, *turns]
    return array_text(turns)


_USER_TURN = b'{"role":"user",'
_CONVERSATION_START = dumps(
    {"role": "user", "content": [{"type": "text", "text": "(conversation start)"}]}
)


def _turn(role: str, content: list[bytes]) -> bytes:
    return b'{"role":"%s","content":%s}' % (role.encode(), json_array(content))


def _json_object(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {"_unparsed_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def _tool_choice(choice: str) -> dict[str, Any]:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


class AsyncAnthropic(TemplatedRequests, anthropic.AsyncAnthropic):
    """The SDK's client, building troupe's model calls from templates
    (llm/request_templates.py). Named as the SDK's class, which its User-Agent names."""

    not_given = anthropic.NotGiven
    options_class = anthropic._models.FinalRequestOptions
    sdk_log = anthropic._base_client.log

    def _sends_plainly(self) -> bool:
        """No middleware or custom auth: the SDK's attempt is build, send, read. (Its
        tracing starts no span for a plain `post`, whose options name none.)"""
        return not self._middleware and self.custom_auth is None


_clients = SharedClients(AsyncAnthropic)


def from_handle(handle: str) -> AnthropicModel:
    """The models of one provider share its SDK client (see llm/wire.py: SharedClients)."""
    return AnthropicModel(handle, *_clients.for_handle(handle))


prepare = _clients.prepare


def shared_client(endpoint: Endpoint) -> AsyncAnthropic:
    """The provider's one SDK client, for listing its models too (llm/catalog.py)."""
    return _clients.get(endpoint)
