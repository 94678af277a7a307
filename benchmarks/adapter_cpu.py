"""CPU time of one model call through troupe's provider adapters, with a full window.

    python -m benchmarks.adapter_cpu                 # both wires, 600 calls each
    python -m benchmarks.adapter_cpu --calls 2000 --wire openai
    python -m benchmarks.adapter_cpu --in-flight 100     # 100 calls at a time
    python -m benchmarks.adapter_cpu --transport httpx   # the SDKs' own HTTP stack
    python -m benchmarks.adapter_cpu --client sdk        # the SDKs' plain client classes

The window benchmark's server CPU per message moves with other load on the machine (on a
shared 2-core machine, twice the quiet figure). This measures only what an HTTP model adds
to a step: the adapter building the body, the vendor SDK's request path and HTTP client,
and reading the answer, in this process (user + system CPU), against the fake model server
of the benchmarks (its own process). The request: a system prompt, 100 exchanges (user
message, assistant tool call, tool result) and a last user message, 302 messages, eight
tools; the same objects at every call, as the history window hands them to every step.
"""

import argparse
import asyncio
import os
import time
from typing import Any

import httpx2

from benchmarks.models import FakeModelServer
from troupe.llm.base import ChatMessage, Model, ModelRequest, ToolCall, ToolSpec
from troupe.llm.http_pool import LIMITS, sdk_http_client
from troupe.llm.providers import endpoint_for


def full_window() -> ModelRequest:
    messages = [ChatMessage("system", "You are a helpful agent. " * 40)]
    for i in range(100):
        call = ToolCall(f"call_{i}", "send_message", f'{{"message": "noted {i}"}}')
        messages += [
            ChatMessage("user", f"filling the window {i}: " + "words " * 8),
            ChatMessage("assistant", "thinking it over", tool_calls=(call,)),
            ChatMessage("tool", '{"status": "OK"}', tool_call_id=call.id, name=call.name),
        ]
    messages.append(ChatMessage("user", "the last message"))
    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    tools = [ToolSpec(f"tool_{n}", "does one thing " * 10, schema) for n in range(8)]
    return ModelRequest(messages=messages, tools=tools, tool_choice="required")


# The HTTP client under the SDK: troupe's (llm/http_pool.py), the SDK's default httpx
# stack, or its documented aiohttp one (needs `aiohttp` installed).
TRANSPORTS = ("troupe", "httpx", "aiohttp")


def http_client(transport: str) -> Any:
    if transport == "troupe":
        return sdk_http_client()
    if transport == "httpx":
        return httpx2.AsyncClient(limits=LIMITS, follow_redirects=True)
    import openai

    return openai.DefaultAioHttpClient()


# The SDK client class: troupe's (the SDK's own with llm/request_templates.py mixed in)
# or the vendor SDK's plain one, to compare the two.
CLIENTS = ("troupe", "sdk")


def adapter(wire: str, transport: str, client_class: str = "troupe") -> Model:
    if wire == "openai":
        import openai

        from troupe.llm.openai_compat import AsyncOpenAI as TroupeOpenAI
        from troupe.llm.openai_compat import OpenAICompatibleModel as Adapter

        make: Any = TroupeOpenAI if client_class == "troupe" else openai.AsyncOpenAI
    else:
        import anthropic

        from troupe.llm.anthropic import AnthropicModel as Adapter  # type: ignore[assignment]
        from troupe.llm.anthropic import AsyncAnthropic as TroupeAnthropic

        make = TroupeAnthropic if client_class == "troupe" else anthropic.AsyncAnthropic
    endpoint = endpoint_for(wire)
    client = make(
        api_key=endpoint.api_key,
        base_url=endpoint.base_url,
        timeout=endpoint.timeout_s,
        max_retries=endpoint.max_retries,
        http_client=http_client(transport),
    )
    return Adapter(f"{wire}/echo@0ms", "echo@0ms", endpoint, client)


async def cpu_ms_per_call(
    wire: str, calls: int, in_flight: int, transport: str, client_class: str = "troupe"
) -> float:
    server = FakeModelServer(wire).start()
    try:
        os.environ.update(server.env())
        model, request = adapter(wire, transport, client_class), full_window()

        async def rounds(count: int) -> None:
            for _ in range(max(1, count // in_flight)):
                await asyncio.gather(*(model.complete(request) for _ in range(in_flight)))

        await rounds(50 * in_flight)  # warm: connections, conversion cache, lazy imports
        started = time.process_time()
        await rounds(calls)
        return (time.process_time() - started) * 1000 / (max(1, calls // in_flight) * in_flight)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.adapter_cpu", description=__doc__)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--wire", choices=["openai", "anthropic"], action="append")
    parser.add_argument("--in-flight", type=int, default=1, help="calls at a time")
    parser.add_argument("--transport", choices=TRANSPORTS, default="troupe")
    parser.add_argument("--client", choices=CLIENTS, default="troupe", help="SDK client class")
    args = parser.parse_args()
    for wire in args.wire or ["openai", "anthropic"]:
        ms = asyncio.run(
            cpu_ms_per_call(wire, args.calls, args.in_flight, args.transport, args.client)
        )
        load = os.getloadavg()[0]
        print(
            f"{wire} over {args.transport} ({args.client} client): {ms:.2f} ms of CPU per call "
            f"({args.calls} calls, {args.in_flight} in flight, load {load:.1f})"
        )


if __name__ == "__main__":
    main()
