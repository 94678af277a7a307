"""The Anthropic Messages API over the official `anthropic` SDK (honours ANTHROPIC_BASE_URL
and ANTHROPIC_API_KEY), with the SDK's own retries with backoff."""

import json
from typing import Any

import anthropic
from anthropic import AsyncAnthropic

from troupe.llm.base import ChatMessage, ModelError, ModelRequest, ModelResponse, ToolCall, Usage
from troupe.llm.handles import parse_handle
from troupe.llm.providers import Endpoint, endpoint_for

DEFAULT_MAX_TOKENS = 2048


class AnthropicModel:
    def __init__(self, handle: str, model: str, endpoint: Endpoint) -> None:
        self.handle = handle
        self.model = model
        self.endpoint = endpoint
        self.client = AsyncAnthropic(
            api_key=endpoint.api_key,
            base_url=endpoint.base_url,
            timeout=endpoint.timeout_s,
            max_retries=endpoint.max_retries,
        )

    async def complete(self, request: ModelRequest) -> ModelResponse:
        system, messages = _conversation(request.messages)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "system": system,
            "messages": messages,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if request.tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
            kwargs["tool_choice"] = _tool_choice(request.tool_choice)
        # No temperature: the current Messages API (SDK 2.x) has no sampling parameters.
        try:
            message = await self.client.messages.create(**kwargs)
        except anthropic.APIStatusError as exc:
            raise ModelError(
                f"{self.handle}: the provider answered HTTP {exc.status_code}: {exc.message}"
            ) from None
        except anthropic.APITimeoutError:
            raise ModelError(
                f"{self.handle}: no answer within {self.endpoint.timeout_s:g} s"
            ) from None
        except anthropic.APIConnectionError as exc:
            raise ModelError(f"{self.handle}: cannot reach the API: {exc}") from None
        except anthropic.AnthropicError as exc:
            raise ModelError(f"{self.handle}: {exc}") from None
        texts, thoughts, calls = [], [], []
        for block in message.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "thinking":
                thoughts.append(block.thinking)
            elif block.type == "tool_use":
                calls.append(ToolCall(block.id, block.name, json.dumps(block.input)))
        return ModelResponse(
            content="\n".join(texts) or None,
            tool_calls=tuple(calls),
            reasoning="\n".join(thoughts) or None,
            usage=Usage(message.usage.input_tokens, message.usage.output_tokens),
        )


def _conversation(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """Anthropic takes the system prompt apart, wants user and assistant turns to alternate,
    and carries tool results as user content: convert, then merge neighbours of one role."""
    system = messages[0].content or "" if messages and messages[0].role == "system" else ""
    rest = messages[1:] if messages and messages[0].role == "system" else messages
    turns: list[dict[str, Any]] = []
    for message in rest:
        blocks: list[dict[str, Any]]
        if message.role == "tool":
            role, blocks = (
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": message.tool_call_id,
                        "content": message.content or "",
                    }
                ],
            )
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
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns or turns[0]["role"] != "user":
        turns.insert(
            0, {"role": "user", "content": [{"type": "text", "text": "(conversation start)"}]}
        )
    return system, turns


def _json_object(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {"_unparsed_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def _tool_choice(choice: str) -> dict[str, str]:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


def from_handle(handle: str) -> AnthropicModel:
    provider, model = parse_handle(handle)
    return AnthropicModel(handle, model, endpoint_for(provider))
