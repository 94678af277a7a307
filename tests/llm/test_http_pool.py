"""The vendor SDKs' connection pool, split in shards (llm/http_pool.py): calls one after
another keep to one kept-alive connection; concurrent model calls through the real
adapters and SDKs all come back, spread evenly over the shards."""

import asyncio
from typing import Any

import pytest

from troupe.llm.base import ChatMessage, ModelRequest
from troupe.llm.fake_server import FakeLLMServer
from troupe.llm.http_pool import SHARDS, ShardedTransport
from troupe.llm.registry import resolve_model

IN_FLIGHT = 2 * SHARDS


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_concurrent_model_calls_are_dealt_over_the_shards(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLMServer() as fake:
        prefix = provider.upper()
        base_url = fake.openai_base_url if provider == "openai" else fake.anthropic_base_url
        monkeypatch.setenv(f"{prefix}_BASE_URL", base_url)
        monkeypatch.setenv(f"{prefix}_API_KEY", "sk-shards")
        model: Any = resolve_model(f"{provider}/fake-chat")
        transport = model.client._client._transport  # the SDK client's httpx transport
        assert isinstance(transport, ShardedTransport)
        request = ModelRequest(messages=[ChatMessage("system", "be brief")], tools=[])
        for _ in range(3):
            await model.complete(request)
        one_after_another = connections(transport)
        # Every answer waits, so all the calls are in flight at once, each on a connection.
        fake.push(*[{"hang": 0.3}] * IN_FLIGHT)
        answers = await asyncio.gather(*(model.complete(request) for _ in range(IN_FLIGHT)))
        together = connections(transport)
    assert one_after_another == [1] + [0] * (SHARDS - 1)
    assert [answer.content for answer in answers] == ["late"] * IN_FLIGHT
    assert together == [2] * SHARDS  # the first pool's kept connection among its two
    assert transport.open == [0] * SHARDS  # every response closed
    assert len(fake.requests) == 3 + IN_FLIGHT


def connections(transport: ShardedTransport) -> list[int]:
    return [len(pool._pool.connections) for pool in transport.pools]
