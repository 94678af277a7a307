"""The HTTP client under the vendor SDKs: their connection pool split into shards.

`httpcore`'s connection pool, at every request sent and every response closed, walks all
its connections (`_assign_requests_to_connections`). A broadcast to 100 workers has 100
model calls in flight at once, so 100 connections, 200 passes over all of them, on the
event loop, on the broadcast's critical path: 26% of the server's CPU during a broadcast to
100 workers over OpenAI (cProfile, 2026-12-06). Spread round robin over `SHARDS` pools of
the same total limits, each pass walks a sixteenth as many connections; a lone agent's
calls reuse one kept-alive connection per shard as before.
"""

import itertools
import math

import httpx2  # the vendor SDKs' HTTP client

SHARDS = 16
# The SDKs' own default (`openai` and `anthropic` both: 1000 connections, 100 kept alive).
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


class ShardedTransport(httpx2.AsyncBaseTransport):
    """`shards` connection pools sharing `limits` between them, requests dealt out in turn."""

    def __init__(self, shards: int = SHARDS, limits: httpx2.Limits = LIMITS) -> None:
        def part(total: int | None) -> int | None:
            return None if total is None else math.ceil(total / shards)

        each = httpx2.Limits(
            max_connections=part(limits.max_connections),
            max_keepalive_connections=part(limits.max_keepalive_connections),
            keepalive_expiry=limits.keepalive_expiry,
        )
        tls = httpx2.create_ssl_context()  # one for all: each takes milliseconds to build
        self.pools = [httpx2.AsyncHTTPTransport(verify=tls, limits=each) for _ in range(shards)]
        self._turn = itertools.count()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        pool = self.pools[next(self._turn) % len(self.pools)]
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self.pools:
            await pool.aclose()


def sdk_http_client() -> httpx2.AsyncClient:
    """What the SDKs' own default client is (redirects followed; the timeout is the SDK's,
    sent with each request) over the sharded pools."""
    return httpx2.AsyncClient(transport=ShardedTransport(), follow_redirects=True)
