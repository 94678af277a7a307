"""The HTTP client under the vendor SDKs: `httpx2.AsyncClient`, as the SDKs want it, over
troupe's lean transport (llm/lean_transport.py).

The SDKs' default stack below the client (httpcore2, h11, anyio) took ~1,500 Python calls
per model call, half its CPU; its connection pool also walked all its connections at every
request sent and response closed (a quarter of the server's CPU in a broadcast to 100,
which had been split over 16 pools). The lean transport's pool takes and gives back a
connection without walking anything.
"""

import urllib.request

import httpx2  # the vendor SDKs' HTTP client

from troupe.llm.lean_transport import LeanTransport

# The SDKs' own default (`openai` and `anthropic` both: 1000 connections, 100 kept alive).
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


def sdk_http_client() -> httpx2.AsyncClient:
    """What the SDKs' own default client is (redirects followed; the timeout is the SDK's,
    sent with each request) over the lean transport. With a proxy variable set, over
    httpx's own transports instead, which honour them (as the SDKs' default client does;
    a transport given to the client would not)."""
    if set(urllib.request.getproxies_environment()) - {"no"}:  # NO_PROXY alone: none
        return httpx2.AsyncClient(limits=LIMITS, follow_redirects=True)
    return httpx2.AsyncClient(transport=LeanTransport(), follow_redirects=True)
