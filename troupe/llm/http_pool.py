"""The HTTP client under the vendor SDKs: `httpx2.AsyncClient`, as the SDKs want it, over
troupe's lean transport (llm/lean_transport.py).

The SDKs' default stack below the client (httpcore2, h11, anyio) took ~1,500 Python calls
per model call, half its CPU; its connection pool also walked all its connections at every
request sent and response closed (a quarter of the server's CPU in a broadcast to 100,
which had been split over 16 pools). The lean transport's pool takes and gives back a
connection without walking anything.

Above the transport, `httpx2.AsyncClient.send` runs for every request its auth flow (an
async generator, with no auth), its redirect and event-hook loop, a stream wrapper timing
the answer, the cookie jar's parsing of the answer, and reads the body through its decoder
and chunker generators: a fifth of a model call's CPU. `LeanClient.send` does what those
amount to for troupe's model calls (requests rendered from a template, nothing else asked
per call) when the client has no auth, hooks, mounts or logging on: the answer read whole,
its cookies kept (when it sets any), its content decoded (when encoded), a redirect
followed by httpx's own `send`. Anything else is httpx's own `send`.
"""

import datetime
import logging
import time
import urllib.request

import httpx2  # the vendor SDKs' HTTP client
from httpx2._client import ClientState  # its state: opened by a first `send`
from httpx2._client import logger as httpx_logger

from troupe.llm.lean_transport import LeanTransport, read_whole
from troupe.llm.request_templates import REPLAYED, RenderedRequest

# The SDKs' own default (`openai` and `anthropic` both: 1000 connections, 100 kept alive).
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT: httpx2._client.UseClientDefault = httpx2.USE_CLIENT_DEFAULT


def sdk_http_client() -> httpx2.AsyncClient:
    """What the SDKs' own default client is (redirects followed; the timeout is the SDK's,
    sent with each request) over the lean transport. With a proxy variable set, over
    httpx's own transports instead, which honour them (as the SDKs' default client does;
    a transport given to the client would not)."""
    if set(urllib.request.getproxies_environment()) - {"no"}:  # NO_PROXY alone: none
        return httpx2.AsyncClient(limits=LIMITS, follow_redirects=True)
    return LeanClient(transport=LeanTransport(), follow_redirects=True)


class LeanClient(httpx2.AsyncClient):
    """`httpx2.AsyncClient` whose `send` of a request rendered from a template (troupe's
    model calls; a token stream's call is never rendered) goes straight to the lean
    transport and reads the answer whole; see the module's docstring."""

    replays = True  # gives the SDK's loop a first attempt troupe sent (REPLAYED)

    async def send(
        self,
        request: httpx2.Request,
        *,
        stream: bool = False,
        auth: httpx2._types.AuthTypes | httpx2._client.UseClientDefault | None = DEFAULT,
        follow_redirects: bool | httpx2._client.UseClientDefault = DEFAULT,
    ) -> httpx2.Response:
        replayed = REPLAYED.get()
        if replayed is not None:  # the loop's first send: the attempt troupe sent
            REPLAYED.set(None)
            if replayed.error is not None:
                raise replayed.error
            assert replayed.response is not None
            return replayed.response
        transport = self._transport
        if (
            type(request) is not RenderedRequest
            or auth is not DEFAULT
            or follow_redirects is not DEFAULT
            or self._state is not ClientState.OPENED  # the first goes httpx's way
            or type(transport) is not LeanTransport
            or self._mounts
            or self._auth is not None
            or self._event_hooks["request"]
            or self._event_hooks["response"]
            or "timeout" not in request.extensions
            or request.url.userinfo
            or httpx_logger.isEnabledFor(logging.INFO)
        ):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        start = time.perf_counter()
        try:
            response = await transport.handle_async_request(request)
            body = await read_whole(response)
        except httpx2.RequestError as exc:
            exc.request = request  # as httpx's `request_context` does
            raise
        response.request = request
        response.default_encoding = self._default_encoding
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        names = {name.lower() for name, _ in response.headers.raw}
        response.stream = httpx2.ByteStream(body)
        if b"content-encoding" in names:
            response.read()  # through its decoder, as `aread` would
        else:  # what `read` leaves, without its generators (pinned by tests)
            response._content = body
            response.is_stream_consumed = response.is_closed = True
        if b"set-cookie" in names:
            self.cookies.extract_cookies(response)
        if response.status_code in REDIRECTS and b"location" in names:
            return await self._redirected(request, response, stream)
        return response

    async def _redirected(
        self, request: httpx2.Request, response: httpx2.Response, stream: bool
    ) -> httpx2.Response:
        """What httpx does with a redirect: its next request, sent its way."""
        next_request = self._build_redirect_request(request, response)
        if not self.follow_redirects:
            response.next_request = next_request
            return response
        redirected = await super().send(next_request, stream=stream)
        redirected.history = [response, *redirected.history]
        return redirected
