"""`AgentState.model_settings` through letta-client 1.12.1 (which names the attribute
`api_model_settings`: pydantic reserves `model_`): the agent's model settings as the SDK's
typed union reads them (by `provider_type`), built from its `llm_config` on create,
retrieve, update and list, however the agent was made."""

from typing import Any

import httpx

from tests.server.helpers import make_agent, unique


def test_model_settings_given_on_create_are_shown_on_every_view(client: Any) -> None:
    name = unique("tuned")
    created = client.agents.create(
        name=name,
        model="openai/gpt-4o-mini",
        model_settings={
            "provider_type": "openai",
            "temperature": 0.2,
            "max_output_tokens": 321,
            "parallel_tool_calls": False,
            "reasoning": {"reasoning_effort": "low"},
            "response_format": {"type": "json_object"},
        },
    )
    assert created.llm_config.temperature == 0.2
    for agent in (
        created,
        client.agents.retrieve(created.id),
        next(a for a in client.agents.list(name=name)),
    ):
        settings = agent.api_model_settings
        assert type(settings).__name__ == "OpenAIModelSettings"
        assert settings.provider_type == "openai"
        assert settings.temperature == 0.2
        assert settings.max_output_tokens == 321
        assert settings.parallel_tool_calls is False
        assert settings.reasoning.reasoning_effort == "low"
        assert settings.response_format.type == "json_object"

    updated = client.agents.update(
        created.id,
        model="anthropic/claude-sonnet-4-5",
        model_settings={
            "provider_type": "anthropic",
            "max_output_tokens": 2048,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
        },
    )
    for agent in (updated, client.agents.retrieve(created.id)):
        settings = agent.api_model_settings
        assert type(settings).__name__ == "AnthropicModelSettings"
        assert settings.provider_type == "anthropic"
        assert settings.max_output_tokens == 2048
        assert (settings.thinking.type, settings.thinking.budget_tokens) == ("enabled", 1024)
        assert settings.temperature == agent.llm_config.temperature


def test_model_settings_follow_an_llm_config_or_the_defaults(
    client: Any, http: httpx.Client
) -> None:
    plain = client.agents.retrieve(make_agent(http)["id"])
    assert plain.api_model_settings is not None
    assert plain.api_model_settings.provider_type == "openai"  # test models speak OpenAI's API
    assert plain.api_model_settings.temperature == plain.llm_config.temperature
    assert plain.api_model_settings.max_output_tokens == plain.llm_config.max_tokens

    configured = client.agents.create(
        name=unique("configured"),
        llm_config={
            "model": "claude-sonnet-4-5",
            "model_endpoint_type": "anthropic",
            "context_window": 200_000,
            "temperature": 0.4,
            "max_tokens": 1000,
        },
    )
    settings = configured.api_model_settings
    assert settings.provider_type == "anthropic"
    assert (settings.temperature, settings.max_output_tokens) == (0.4, 1000)
    assert settings.thinking is None  # nothing said about thinking: the model's default
    raw = http.get(f"/v1/agents/{configured.id}").json()["model_settings"]
    assert raw["provider_type"] == "anthropic"
