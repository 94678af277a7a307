"""One adapter for every OpenAI-compatible chat completions API (OpenAI, OpenRouter, Ollama,
vLLM, LM Studio, llama.cpp's server), over the official `openai` SDK, whose retries with
backoff on 429, 5xx and timeouts we use rather than write our own."""

from typing import Any

import openai
from openai import AsyncOpenAI

from troupe.llm.base import ChatMessage, ModelError, ModelRequest, ModelResponse, ToolCall, Usage
from troupe.llm.handles import parse_handle
from troupe.llm.providers import Endpoint, endpoint_for


class OpenAICompatibleModel:
    def __init__(self, handle: str, model: str, endpoint: Endpoint) -> None:
        self.handle = handle
        self.model = model
        self.endpoint = endpoint
        self.client = AsyncOpenAI(
            api_key=endpoint.api_key,
            base_url=endpoint.base_url,
            timeout=endpoint.timeout_s,
            max_retries=endpoint.max_retries,
        )

    async def complete(self, request: ModelRequest) -> ModelResponse:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [_message(m) for m in request.messages],
        }
        if request.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
            kwargs["tool_choice"] = _tool_choice(request.tool_choice)
        if request.max_tokens:
            kwargs["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        try:
            completion = await self.client.chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            raise ModelError(
                f"{self.handle}: the provider answered HTTP {exc.status_code}: {_detail(exc)}"
            ) from None
        except openai.APITimeoutError:
            raise ModelError(
                f"{self.handle}: no answer within {self.endpoint.timeout_s:g} s "
                f"(after {self.endpoint.max_retries} retries)"
            ) from None
        except openai.APIConnectionError as exc:
            where = self.endpoint.base_url or "the OpenAI API"
            raise ModelError(f"{self.handle}: cannot reach {where}: {exc}") from None
        except openai.OpenAIError as exc:
            raise ModelError(f"{self.handle}: {exc}") from None
        if not completion.choices:
            raise ModelError(f"{self.handle}: the provider returned no choices")
        message = completion.choices[0].message
        calls = tuple(
            ToolCall(call.id, call.function.name, call.function.arguments or "")
            for call in message.tool_calls or []
            if getattr(call, "function", None) is not None
        )
        usage = completion.usage
        return ModelResponse(
            content=message.content or None,
            tool_calls=calls,
            reasoning=getattr(message, "reasoning_content", None) or None,
            usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
        )


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": message.content or "",
        }
    payload: dict[str, Any] = {"role": message.role, "content": message.content}
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


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return exc.message


def from_handle(handle: str) -> OpenAICompatibleModel:
    provider, model = parse_handle(handle)
    return OpenAICompatibleModel(handle, model, endpoint_for(provider))
