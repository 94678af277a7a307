"""CPU time of one model call through troupe's provider adapters, with a full window.

    python -m benchmarks.adapter_cpu                 # both wires, 600 calls each
    python -m benchmarks.adapter_cpu --calls 2000 --wire openai

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

from benchmarks.models import FakeModelServer
from troupe.llm.base import ChatMessage, Model, ModelRequest, ToolCall, ToolSpec


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


def adapter(wire: str) -> Model:
    if wire == "openai":
        from troupe.llm import openai_compat

        return openai_compat.from_handle("openai/echo@0ms")
    from troupe.llm import anthropic

    return anthropic.from_handle("anthropic/echo@0ms")


async def cpu_ms_per_call(wire: str, calls: int) -> float:
    server = FakeModelServer(wire).start()
    try:
        os.environ.update(server.env())
        model, request = adapter(wire), full_window()
        for _ in range(50):  # warm: connection, conversion cache, the SDK's lazy imports
            await model.complete(request)
        started = time.process_time()
        for _ in range(calls):
            await model.complete(request)
        return (time.process_time() - started) * 1000 / calls
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.adapter_cpu", description=__doc__)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--wire", choices=["openai", "anthropic"], action="append")
    args = parser.parse_args()
    for wire in args.wire or ["openai", "anthropic"]:
        ms = asyncio.run(cpu_ms_per_call(wire, args.calls))
        load = os.getloadavg()[0]
        print(f"{wire}: {ms:.2f} ms of CPU per call ({args.calls} calls, load {load:.1f})")


if __name__ == "__main__":
    main()
