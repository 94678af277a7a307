"""Server-sent events as a provider streams them (`event:` and `data:` lines, a blank line
ending each event), read as the bytes arrive: the token streams of the OpenAI-compatible
and Anthropic adapters (llm/openai_stream.py, llm/anthropic_stream.py)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2  # the vendor SDKs' HTTP client: its errors

from troupe.llm.base import ModelError


@dataclass(frozen=True)
class Event:
    name: str  # "message" when the event named none
    data: str


async def sse_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[Event]:
    """Each event as soon as its blank line arrives. Lines are split on bytes (a newline is
    never part of a UTF-8 character), so a character cut between two chunks is whole again
    before it is decoded. Comments (`: ...`) and fields other than event and data are
    skipped; an event left unfinished by the end of the body is dropped, as the spec says."""
    pending = b""
    name, data = "", list[str]()
    async for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.removesuffix(b"\r").decode()
            if not line:
                if data:
                    yield Event(name or "message", "\n".join(data))
                name, data = "", []
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                name = value


# Sent with a streamed model call. Besides saying what is wanted, a per-call header makes
# the SDK build the request itself (llm/request_templates.py renders only calls without
# one), so the lean client hands the answer over as it arrives (llm/http_pool.py).
STREAM_HEADERS = {"Accept": "text/event-stream"}


def midway_failure(handle: str, exc: httpx2.HTTPError) -> ModelError:
    """A streamed answer that broke off after it began (the SDK retries only before)."""
    if isinstance(exc, httpx2.TimeoutException):
        return ModelError(f"{handle}: the answer stopped midway ({exc})")
    return ModelError(f"{handle}: the answer broke off midway: {exc or type(exc).__name__}")
