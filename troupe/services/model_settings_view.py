"""An agent's `model_settings` as Letta's AgentState shows them: the settings object of its
provider (letta-client 1.x reads it as a union told apart by `provider_type`), made from the
agent's `llm_config`, where troupe keeps what `model_settings` set. Letta builds it the same
way (`LLMConfig._to_model_settings`), so an agent made with `llm_config`, a handle or
nothing shows one too; nothing is read but the config already at hand."""

from typing import Any

from troupe.schemas.common import LLMConfig

# letta-client 1.x's provider types for troupe's adapters: Anthropic's own; OpenRouter's
# by its handle (its endpoint type is OpenAI's); every other provider troupe runs (OpenAI,
# the self-hosted OpenAI-compatible servers, the embedded and test models) takes OpenAI's
# settings, which are what troupe's OpenAI-compatible adapter sends.
_ANTHROPIC = "anthropic"
_OPENROUTER_PREFIX = "openrouter/"


def provider_type(config: LLMConfig) -> str:
    if config.model_endpoint_type == _ANTHROPIC:
        return _ANTHROPIC
    if (config.handle or "").startswith(_OPENROUTER_PREFIX):
        return "openrouter"
    return "openai"


def model_settings_of(config: LLMConfig) -> dict[str, Any]:
    """The settings troupe applies, with their provider's names: what the config leaves
    unset (the provider's default) is null, and reasoning or thinking only where set."""
    kind = provider_type(config)
    settings: dict[str, Any] = {
        "provider_type": kind,
        "temperature": config.temperature,
        "max_output_tokens": config.max_tokens,
        "parallel_tool_calls": config.parallel_tool_calls,
        "response_format": config.response_format,
    }
    if kind == "openai" and config.reasoning_effort:
        settings["reasoning"] = {"reasoning_effort": config.reasoning_effort}
    if kind == _ANTHROPIC and config.enable_reasoner is not None:
        thinking: dict[str, Any] = {"type": "enabled" if config.enable_reasoner else "disabled"}
        if config.max_reasoning_tokens is not None:
            thinking["budget_tokens"] = config.max_reasoning_tokens
        settings["thinking"] = thinking
    return settings
