"""The HTTP client under the vendor SDKs: their connection pool split into shards.

`httpcore`'s connection pool, at every request sent and every response closed, walks all
its connections (`_assign_requests_to_connections`). A broadcast to 100 workers has 100
model calls in flight at once, so 100 connections, 200 passes over all of them, on the
event loop, on the broadcast's critical path: 26% of the server's CPU during a broadcast to
100 workers over OpenAI (cProfile, 2026-12-06). Spread over `SHARDS` pools of the same
total limits, each pass walks a sixteenth as many connections. A request goes to the pool
with the fewest responses open, the first such: a burst is dealt out evenly, and calls one
after another all take the first pool's kept-alive connection (dealt round robin, they
would each find their pool's connection expired and open, with TLS, a new one).
"""

import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2  # the vendor SDKs' HTTP client

SHARDS = 16
# The SDKs' own default (`openai` and `anthropic` both: 1000 connections, 100 kept alive).
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


class ShardedTransport(httpx2.AsyncBaseTransport):
    """`shards` connection pools sharing `limits` between them; each request goes to the
    first of those with the fewest responses open."""

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
        self.open = [0] * shards  # responses not yet closed, by pool

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        index = min(range(len(self.pools)), key=self.open.__getitem__)
        self.open[index] += 1
        try:
            response = await self.pools[index].handle_async_request(request)
        except BaseException:
            self.open[index] -= 1
            raise
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Closing(response.stream, lambda: self._closed(index)),
            extensions=response.extensions,
        )

    def _closed(self, index: int) -> None:
        self.open[index] -= 1

    async def aclose(self) -> None:
        for pool in self.pools:
            await pool.aclose()


class _Closing(httpx2.AsyncByteStream):
    """A response's body that tells `closed` once, when it is closed."""

    def __init__(self, stream: Any, closed: Callable[[], None]) -> None:
        self.stream = stream
        self.closed: Callable[[], None] | None = closed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        finally:
            closed, self.closed = self.closed, None
            if closed is not None:
                closed()


def sdk_http_client() -> httpx2.AsyncClient:
    """What the SDKs' own default client is (redirects followed; the timeout is the SDK's,
    sent with each request) over the sharded pools."""
    return httpx2.AsyncClient(transport=ShardedTransport(), follow_redirects=True)
