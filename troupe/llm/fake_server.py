"""A fake model provider for tests: a real HTTP server on 127.0.0.1 speaking OpenAI's and
Anthropic's wire formats, so the real adapters and SDKs (retries, timeouts) are exercised
without a real provider."""

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any


class FakeLLMServer:
    """A real HTTP server on 127.0.0.1 speaking OpenAI's chat completions (POST
    /v1/chat/completions) and Anthropic's messages (POST /v1/messages) from one script.

    Queue replies with `push`: {"tool": name, "arguments": {...} or "<raw text>"} (a tool
    call), {"text": "..."} (plain text; with "cut": True, stopped at the output limit),
    {"status": 429 or 500} (an HTTP error; "code" and "message" set its error's), {"body":
    "<raw text>"} (a 200 answer of that body, as it is), or {"hang": seconds} (answer
    late). A request with `"stream": true` is answered in the vendor's SSE format, several
    chunks per text and per tool call's arguments ({"reasoning": "..."} adds reasoning:
    OpenAI-compatible servers' `reasoning_content`, Anthropic's thinking); "break_after": n
    cuts the connection after n chunks, "error_after": n sends the vendor's error event
    then, and "stall" pauses after the first half of the chunks instead of before the
    body. With the queue empty it answers `respond(body)` (the
    request's JSON body; a reply of the same kinds), or by default calls
    send_message("fake reply"). A reply with "stall": True goes out slowly: its head at
    once, then a blank byte every 0.2 s (JSON allows them) until `resume` is set, then its
    body; `stalled` is set once its head went out (its push clears both). Every request
    body is kept in `requests`, and the key it came with (OpenAI's bearer token,
    Anthropic's `x-api-key`) in `keys`."""

    def __init__(
        self,
        respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        tls: tuple[str, str] | None = None,
    ) -> None:
        """`tls`: a certificate file and its key file, to serve HTTPS."""
        self.respond = respond
        self.tls = tls
        self.queue: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.embedding_dim = 8  # of /v1/embeddings' vectors unless a request asks `dimensions`
        self.embedding_requests: list[dict[str, Any]] = []
        self.models = ["fake-chat", "fake-embed"]  # what GET /v1/models lists
        self.stalled = threading.Event()
        self.resume = threading.Event()
        self.port = 0
        self._server: Any = None
        self._thread: Any = None

    @property
    def openai_base_url(self) -> str:
        return f"{self.anthropic_base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def push(self, *replies: dict[str, Any]) -> None:
        if any(reply.get("stall") for reply in replies):
            self.stalled.clear()  # until this one's head went out
            self.resume.clear()
        self.queue.extend(replies)

    def __enter__(self) -> "FakeLLMServer":
        import socket
        import time

        import uvicorn
        from starlette.applications import Starlette
        from starlette.routing import Route

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._openai, methods=["POST"]),
                Route("/v1/messages", self._anthropic, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )
        certificate, key = self.tls or (None, None)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ssl_certfile=certificate,
            ssl_keyfile=key,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.resume.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def _next(self, request: Any) -> tuple[dict[str, Any], Any]:
        from starlette.responses import JSONResponse

        body = await request.json()
        self.requests.append(body)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.keys.append(request.headers.get("x-api-key") or bearer)
        if self.queue:
            item = self.queue.pop(0)
        elif self.respond is not None:
            item = self.respond(body)
        else:
            item = {"tool": "send_message", "arguments": {"message": "fake reply"}}
        if "hang" in item:  # answer too late: the client has given up on this one by then
            await asyncio.sleep(item["hang"])
            item = {"text": "late"}
        if "status" in item:
            message = item.get("message", f"injected HTTP {item['status']}")
            error = {"error": {"message": message, "type": "fake", "code": item.get("code")}}
            headers = {"retry-after": "0"} if item["status"] == 429 else None
            return item, JSONResponse(error, status_code=item["status"], headers=headers)
        if "body" in item:
            from starlette.responses import Response

            return item, Response(item["body"], media_type="application/json")
        return item, None

    async def _openai(self, request: Any) -> Any:

        item, error = await self._next(request)
        if error is not None:
            return error
        if self.requests[-1].get("stream"):
            return self._streamed(item, openai_chunks(item, self.requests[-1]), OPENAI_ERROR)
        message: dict[str, Any] = {"role": "assistant", "content": item.get("text")}
        if item.get("reasoning"):
            message["reasoning_content"] = item["reasoning"]
        finish = "length" if item.get("cut") else "tool_calls" if "tool" in item else "stop"
        if "tool" in item:
            arguments = item.get("arguments", {})
            message["tool_calls"] = [
                {
                    "id": f"call_{uuid.uuid4().hex[:10]}",
                    "type": "function",
                    "function": {
                        "name": item["tool"],
                        "arguments": arguments
                        if isinstance(arguments, str)
                        else json.dumps(arguments),
                    },
                }
            ]
        return self._answer(
            item,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:10]}",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
            },
        )

    def _answer(self, item: dict[str, Any], body: dict[str, Any]) -> Any:
        from starlette.responses import JSONResponse, StreamingResponse

        if not item.get("stall"):
            return JSONResponse(body)

        async def slowly() -> Any:
            self.stalled.set()
            for _ in range(150):  # 30 s at most
                if self.resume.is_set():
                    break
                yield b" "
                await asyncio.sleep(0.2)
            yield json.dumps(body).encode()

        return StreamingResponse(slowly(), media_type="application/json")

    def _streamed(self, item: dict[str, Any], events: list[bytes], error: bytes) -> Any:
        """The events as SSE, each in a write of its own, as a provider sends them."""
        from starlette.responses import StreamingResponse

        half = len(events) // 2

        async def chunks() -> Any:
            for number, event in enumerate(events):
                if number == item.get("break_after"):
                    raise ConnectionAbortedError("the fake provider breaks off")  # no last chunk
                if number == item.get("error_after"):
                    yield error
                    return
                if item.get("stall") and number == half:
                    self.stalled.set()
                    for _ in range(600):  # 30 s at most
                        if self.resume.is_set():
                            break
                        await asyncio.sleep(0.05)
                yield event
                await asyncio.sleep(0.005)

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def _embeddings(self, request: Any) -> Any:
        """Deterministic vectors: each word of a text adds 1 at a slot chosen by its hash."""
        import hashlib

        from starlette.responses import JSONResponse

        body = await request.json()
        self.embedding_requests.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dim = int(body.get("dimensions") or self.embedding_dim)
        data = []
        for index, text in enumerate(texts):
            vector = [0.0] * dim
            for word in str(text).lower().split():
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dim] += 1.0
            data.append({"object": "embedding", "index": index, "embedding": vector})
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return JSONResponse(
            {"object": "list", "data": data, "model": body["model"], "usage": usage}
        )

    async def _models(self, _request: Any) -> Any:
        from starlette.responses import JSONResponse

        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return JSONResponse({"object": "list", "data": data})

    async def _anthropic(self, request: Any) -> Any:

        item, error = await self._next(request)
        if error is not None:
            return error
        if self.requests[-1].get("stream"):
            return self._streamed(item, anthropic_events(item), ANTHROPIC_ERROR)
        content: list[dict[str, Any]] = []
        if item.get("reasoning"):
            content.append({"type": "thinking", "thinking": item["reasoning"], "signature": "s"})
        if item.get("text"):
            content.append({"type": "text", "text": item["text"]})
        if "tool" in item:
            arguments = item.get("arguments", {})
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{uuid.uuid4().hex[:10]}",
                    "name": item["tool"],
                    "input": json.loads(arguments) if isinstance(arguments, str) else arguments,
                }
            )
        return self._answer(
            item,
            {
                "id": f"msg_{uuid.uuid4().hex[:10]}",
                "type": "message",
                "role": "assistant",
                "model": "fake",
                "content": content,
                "stop_reason": "max_tokens"
                if item.get("cut")
                else "tool_use"
                if "tool" in item
                else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 7},
            },
        )


def pieces(text: str, size: int = 4) -> list[str]:
    """`text` in pieces of `size` characters: a streamed text's deltas."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _arguments_text(item: dict[str, Any]) -> str:
    arguments = item.get("arguments", {})
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def openai_chunks(item: dict[str, Any], body: dict[str, Any]) -> list[bytes]:
    """A chat completion as OpenAI streams it: `data:` chunks, usage last when asked
    (`stream_options.include_usage`), then `data: [DONE]`."""
    base: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:10]}",
        "object": "chat.completion.chunk",
    }
    base |= {"created": 0, "model": "fake"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"reasoning_content": p}) for p in pieces(item.get("reasoning") or "") if p]
    chunks += [chunk({"content": p}) for p in pieces(item.get("text") or "") if p]
    if "tool" in item:
        call = {"index": 0, "id": f"call_{uuid.uuid4().hex[:10]}", "type": "function"}
        chunks.append(chunk({"tool_calls": [{**call, "function": {"name": item["tool"]}}]}))
        chunks += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
            for p in pieces(_arguments_text(item))
        ]
    finish = "length" if item.get("cut") else "tool_calls" if "tool" in item else "stop"
    chunks.append(chunk({}, finish))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        chunks.append({**base, "choices": [], "usage": usage})
    return [b"data: %s\n\n" % json.dumps(c).encode() for c in chunks] + [b"data: [DONE]\n\n"]


def anthropic_events(item: dict[str, Any]) -> list[bytes]:
    """A message as Anthropic streams it: named events, each block started, its deltas,
    stopped; the stop reason and output tokens in `message_delta`."""
    events: list[tuple[str, dict[str, Any]]] = []
    message: dict[str, Any] = {"id": f"msg_{uuid.uuid4().hex[:10]}", "type": "message"}
    message["role"] = "assistant"
    message |= {"model": "fake", "content": [], "stop_reason": None, "stop_sequence": None}
    message["usage"] = {"input_tokens": 11, "output_tokens": 1}
    events.append(("message_start", {"message": message}))
    events.append(("ping", {}))
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if item.get("reasoning"):
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(item["reasoning"])]
        blocks.append(({"type": "thinking", "thinking": ""}, deltas))
    if item.get("text"):
        deltas = [{"type": "text_delta", "text": p} for p in pieces(item["text"])]
        blocks.append(({"type": "text", "text": ""}, deltas))
    if "tool" in item:
        start = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:10]}", "name": item["tool"]}
        deltas = [
            {"type": "input_json_delta", "partial_json": p} for p in pieces(_arguments_text(item))
        ]
        blocks.append(({**start, "input": {}}, deltas))
    for index, (block, deltas) in enumerate(blocks):
        events.append(("content_block_start", {"index": index, "content_block": block}))
        events += [("content_block_delta", {"index": index, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"index": index}))
    stop = "max_tokens" if item.get("cut") else "tool_use" if "tool" in item else "end_turn"
    delta = {"stop_reason": stop, "stop_sequence": None}
    events.append(("message_delta", {"delta": delta, "usage": {"output_tokens": 7}}))
    events.append(("message_stop", {}))
    return [
        b"event: %s\ndata: %s\n\n" % (name.encode(), json.dumps({"type": name, **data}).encode())
        for name, data in events
    ]


# The vendors' errors midway: OpenAI's chunk with an `error`, Anthropic's `error` event.
OPENAI_ERROR = (
    b"data: %s\n\n"
    % json.dumps(
        {"error": {"message": "the fake provider failed midway", "type": "server_error"}}
    ).encode()
)
ANTHROPIC_ERROR = (
    b"event: error\ndata: %s\n\n"
    % json.dumps(
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    ).encode()
)
