"""A fake model provider for the benchmarks, in its own process on 127.0.0.1: an
OpenAI-compatible (POST /v1/chat/completions) or Anthropic-compatible (POST /v1/messages)
HTTP server that answers like the in-process test models of `troupe/llm/testing.py`.

    python -m benchmarks.model_server --wire openai      # prints "listening on <port>"

The request's `model` names the behaviour: `echo` or `scripted`, with an optional `@<N>ms`
latency, as in the `test/...` handles (so `openai/echo@200ms` over HTTP behaves like
`test/echo@200ms` in process). It is a raw asyncio HTTP/1.1 server (keep-alive, no
framework) so that its own time per request stays well under a millisecond plus the JSON
of the request, and it measures that time itself:

- `GET /stats`: requests answered and their service time (request read -> answer written,
  without the model's deliberate latency), median and p95 in ms;
- `POST /stats/reset`: start counting afresh;
- `GET /last-request`: the last model request's body, byte for byte, to replay directly;
- `GET /arrivals`: when each model request since the reset arrived and was answered (Unix
  time, s) and its model: a timeline of a broadcast's calls (benchmarks/broadcast_timeline.py).
"""

import argparse
import asyncio
import contextlib
import json
import statistics
import time
import uuid
from typing import Any

from troupe.llm.base import ChatMessage, ModelRequest, ModelResponse
from troupe.llm.testing import BY_NAME, LATENCY

MODEL_PATHS = {"openai": b"/v1/chat/completions", "anthropic": b"/v1/messages"}
NOTICE = "[system notice] "


class ModelServer:
    def __init__(self, wire: str) -> None:
        self.wire = wire
        self.path = MODEL_PATHS[wire]
        self.service_ms: list[float] = []
        self.last_request = b"{}"
        self.arrivals: list[tuple[float, float, str]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, _, header_text = head.partition(b"\r\n")
                method, path, _ = request_line.split(b" ", 2)
                length = 0
                for line in header_text.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                status, answer = await self.answer(method, path, body)
                writer.write(
                    b"HTTP/1.1 %d OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (status, len(answer), answer)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(self, method: bytes, path: bytes, body: bytes) -> tuple[int, bytes]:
        if method == b"POST" and path == self.path:
            arrived = time.time()
            started = time.perf_counter()
            self.last_request = body
            request = json.loads(body)
            name = LATENCY.sub("", request["model"])
            latency = LATENCY.search(request["model"])
            if name not in BY_NAME:
                return 404, json.dumps({"error": {"message": f"no model {name!r}"}}).encode()
            model_request = ModelRequest(messages=self.conversation(request), tools=[])
            result = BY_NAME[name](model_request)
            assert isinstance(result, ModelResponse)
            answer = json.dumps(self.render(result)).encode()
            spent = time.perf_counter() - started
            if latency:
                await asyncio.sleep(int(latency.group(1)) / 1000 - spent)
            self.service_ms.append(spent * 1000)
            self.arrivals.append((arrived, time.time(), request["model"]))
            return 200, answer
        if method == b"GET" and path == b"/stats":
            return 200, json.dumps(self.stats()).encode()
        if method == b"POST" and path == b"/stats/reset":
            self.service_ms.clear()
            self.arrivals.clear()
            return 200, b"{}"
        if method == b"GET" and path == b"/arrivals":
            return 200, json.dumps(self.arrivals).encode()
        if method == b"GET" and path == b"/last-request":
            return 200, self.last_request
        return 404, b'{"error": {"message": "not found"}}'

    def stats(self) -> dict[str, Any]:
        samples = sorted(self.service_ms)
        if not samples:
            return {"requests": 0, "service_ms": {"median": None, "p95": None}}
        p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples) + 0.5) - 1))]
        return {
            "requests": len(samples),
            "service_ms": {"median": round(statistics.median(samples), 3), "p95": round(p95, 3)},
        }

    def conversation(self, request: dict[str, Any]) -> list[ChatMessage]:
        """The request's messages as provider-neutral turns: what the test models read."""
        if self.wire == "openai":
            return [
                ChatMessage(role=m["role"], content=m.get("content") or None)
                for m in request["messages"]
            ]
        turns = [ChatMessage(role="system", content=request.get("system") or "")]
        for message in request["messages"]:
            if message["role"] == "assistant":
                turns.append(ChatMessage(role="assistant"))
                continue
            for block in message["content"]:
                if block["type"] == "tool_result":
                    turns.append(ChatMessage(role="tool", content=block.get("content")))
                elif block["type"] == "text":
                    text: str = block["text"]
                    if text.startswith(NOTICE):
                        turns.append(ChatMessage(role="system", content=text[len(NOTICE) :]))
                    else:
                        turns.append(ChatMessage(role="user", content=text))
        return turns

    def render(self, response: ModelResponse) -> dict[str, Any]:
        if self.wire == "openai":
            return _openai_completion(response)
        return _anthropic_message(response)


def _openai_completion(response: ModelResponse) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": response.content}
    if response.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in response.tool_calls
        ]
    usage = response.usage
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
    }


def _anthropic_message(response: ModelResponse) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if response.content:
        content.append({"type": "text", "text": response.content})
    for call in response.tool_calls:
        try:
            arguments = json.loads(call.arguments)
        except json.JSONDecodeError:
            arguments = {"_unparsed_arguments": call.arguments}
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments})
    return {
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "type": "message",
        "role": "assistant",
        "model": "fake",
        "content": content,
        "stop_reason": "tool_use" if response.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": response.usage.prompt_tokens,
            "output_tokens": response.usage.completion_tokens,
        },
    }


async def serve(wire: str, port: int) -> None:
    server = ModelServer(wire)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=1024)
    print(f"listening on {listener.sockets[0].getsockname()[1]}", flush=True)
    async with listener:
        await listener.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.model_server", description=__doc__)
    parser.add_argument("--wire", choices=sorted(MODEL_PATHS), required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.wire, args.port))


if __name__ == "__main__":
    main()
