"""troupe's SDK clients build their model calls' requests from templates
(llm/request_templates.py): what goes out must be, byte for byte, what the vendor SDK's own
client sends, first tries and retries alike (retry count, idempotency key), and the
errors after the retries the same. Captured by a raw HTTP server on 127.0.0.1.

These also pin the SDK internals the templates rely on: the SDKs' private
`_build_request(options, *, retries_taken)` called for every attempt, and the fields of
their `FinalRequestOptions` it reads. An SDK upgrade that changes them fails here (no
template in use, or other bytes sent), not silently in production."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from troupe.llm.anthropic import AnthropicModel
from troupe.llm.anthropic import AsyncAnthropic as TroupeAnthropic
from troupe.llm.base import ChatMessage, ModelError, ModelRequest, ToolCall, ToolSpec
from troupe.llm.http_pool import sdk_http_client
from troupe.llm.lean_transport import _request_bytes, bytes_headers, request_head
from troupe.llm.openai_compat import AsyncOpenAI as TroupeOpenAI
from troupe.llm.openai_compat import OpenAICompatibleModel
from troupe.llm.providers import Endpoint

ANSWERS = {
    "openai": {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    },
    "anthropic": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 3, "output_tokens": 1},
    },
}
CLASSES: dict[str, tuple[Any, Any, Any]] = {  # the SDK's class, troupe's, the adapter
    "openai": (openai.AsyncOpenAI, TroupeOpenAI, OpenAICompatibleModel),
    "anthropic": (anthropic.AsyncAnthropic, TroupeAnthropic, AnthropicModel),
}
TOOL = ToolSpec("note", "Takes a note.", {"type": "object", "properties": {}})
FIRST = ModelRequest([ChatMessage("system", "Be brief. ü"), ChatMessage("user", "hello")], [TOOL])
LONGER = ModelRequest(
    [
        *FIRST.messages,
        ChatMessage("assistant", None, tool_calls=(ToolCall("c1", "note", "{}"),)),
        ChatMessage("tool", "noted", tool_call_id="c1", name="note"),
    ],
    [TOOL],
)


class Capture:
    """HTTP/1.1 by hand: keeps each request's bytes as they came, answers 200 with `answer`
    or the next status of `faults` (an error body; retry after 1 ms)."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.faults: list[int] = []
        self.answer = b""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *(\d+)\r$", head)
                body = await reader.readexactly(int(length.group(1)) if length else 0)
                self.requests.append(head + body)
                status = self.faults.pop(0) if self.faults else 200
                payload = (
                    self.answer
                    if status == 200
                    else b'{"error": {"message": "injected %d", "type": "fake"}}' % status
                )
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nretry-after-ms: 1\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (status, len(payload), payload)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def capture() -> AsyncIterator[tuple[Capture, str]]:
    server = Capture()
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    yield server, f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    listener.close()


async def calls(
    provider: str, make: Any, server: Capture, url: str, idempotency_header: str | None
) -> tuple[list[bytes], list[str], Any]:
    """The same calls through a client of class `make`: the bytes sent, the errors seen."""
    base_url = f"{url}/v1" if provider == "openai" else url
    endpoint = Endpoint(provider, base_url, "sk-bytes", 30, 2)
    client = make(
        api_key="sk-bytes",
        base_url=base_url,
        timeout=30,
        max_retries=2,
        http_client=sdk_http_client(),
    )
    client._idempotency_header = idempotency_header  # the SDKs send none; some servers do
    model = CLASSES[provider][2](f"{provider}/m", "m", endpoint, client)
    sdk_request = client.request
    loops: list[int] = []  # the calls that ran the SDK's retry loop, by number

    async def counted(*args: Any, **kwargs: Any) -> Any:
        loops.append(len(errors) + len(server.requests))
        return await sdk_request(*args, **kwargs)

    client.request = counted
    server.requests.clear()
    server.answer = json.dumps(ANSWERS[provider]).encode()
    errors = []
    assert (await model.complete(FIRST)).content == "hi"
    server.faults = [429, 500]  # retried by the SDK: the third try answers
    assert (await model.complete(FIRST)).content == "hi"
    assert (await model.complete(LONGER)).content == "hi"
    server.faults = [400]
    with pytest.raises(ModelError) as error:
        await model.complete(LONGER)
    errors.append(str(error.value))
    server.faults = [401]  # the SDK's AuthenticationError, not retried
    with pytest.raises(ModelError) as error:
        await model.complete(FIRST)
    errors.append(str(error.value))
    server.faults = [503, 503, 503]  # retries run out
    with pytest.raises(ModelError) as error:
        await model.complete(FIRST)
    errors.append(str(error.value))
    await client.close()
    client.loops = loops
    return _numbered_keys(server.requests), errors, client


def _numbered_keys(requests: list[bytes]) -> list[bytes]:
    """Each call's random idempotency key as its number in order of first use."""
    keys: dict[bytes, bytes] = {}
    return [
        re.sub(
            rb"stainless-python-retry-[0-9a-f-]+",
            lambda m: keys.setdefault(m.group(0), b"<key %d>" % len(keys)),
            request,
        )
        for request in requests
    ]


@pytest.mark.parametrize("idempotency_header", [None, "Idempotency-Key"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_troupes_client_sends_what_the_sdks_own_sends_tries_and_retries(
    provider: str, idempotency_header: str | None, capture: tuple[Capture, str]
) -> None:
    server, url = capture
    sdk, troupe, _ = CLASSES[provider]
    sent, errors, sdk_client = await calls(provider, sdk, server, url, idempotency_header)
    sent_here, errors_here, client = await calls(provider, troupe, server, url, idempotency_header)
    assert len(sent) == 1 + 3 + 1 + 1 + 1 + 3
    assert sent_here == sent  # byte for byte, heads and bodies
    assert errors_here == errors
    assert "HTTP 400" in errors[0]
    assert "injected 400" in errors[0]
    assert "HTTP 401" in errors[1]
    assert "HTTP 503" in errors[2]
    retries = [re.search(rb"x-stainless-retry-count: (\d)", r).group(1) for r in sent[1:4]]
    assert retries == [b"0", b"1", b"2"]
    if idempotency_header:  # one key per call, the same on its retries
        keys = [re.search(rb"(?i)idempotency-key: (<key \d>)", r).group(1) for r in sent]
        assert keys[1] == keys[2] == keys[3] != keys[0]
    # A first attempt that succeeds (the third call) is sent past the SDK's loop; the
    # others' answers (429, 400, 401, 503) went to the SDK's loop as its first attempt,
    # which retried or raised as the plain SDK client did above.
    assert len(client.loops) == 5
    assert len(sdk_client.loops) == 6
    # Every call after the first was built from the path's one template, its options
    # copied from the first call's.
    assert [t is not None for t in client._request_templates.values()] == [True]
    assert len(client._post_options) == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_rendered_requests_headers_are_what_httpx_makes_of_them(provider: str) -> None:
    """A rendered request's headers are set as httpx2's private list (no normalising
    again): they must read as `httpx2.Headers` built from the same bytes, and its head be
    what the lean transport would send for them."""
    client = CLASSES[provider][1](api_key="sk-x", base_url="http://127.0.0.1:9")
    build = sdk_options(provider)
    for body in (b"{}", b'{"a": 1}'):  # the first builds the template, the second renders
        request = client._build_request(
            build(method="post", url="/x", content=body), retries_taken=1
        )
    assert type(request).__name__ == "RenderedRequest"
    made = httpx2.Headers(request.headers.raw)
    assert list(request.headers.multi_items()) == list(made.multi_items())
    assert request.headers["Content-Length"] == made["content-length"] == "8"
    assert request.headers["X-Stainless-Retry-Count"] == "1"
    assert request.headers.encoding == made.encoding
    assert request.wire.head == request_head(request.method, request.url, made.raw)
    assert asyncio.run(_request_bytes(request))[0] == request.wire.head
    request.headers["X-Signed"] = "after rendering"  # e.g. a hook's: the head made again
    assert b"X-Signed: after rendering\r\n" in asyncio.run(_request_bytes(request))[0]
    answer = [
        (b"Content-Type", b"application/json"),
        (b"X-Request-Id", b"r\xc3\xa9"),
        (b"x-a", b"1"),
    ]
    for encoding in (None, "utf-8"):  # an answer's headers (lean_transport), a request's
        fast, slow = bytes_headers(answer, encoding), httpx2.Headers(answer, encoding)
        assert (fast.raw, fast.encoding, dict(fast)) == (slow.raw, slow.encoding, dict(slow))
        assert fast["x-request-id"] == slow["X-REQUEST-ID"] == "ré"


def sdk_options(provider: str) -> Any:
    return (openai if provider == "openai" else anthropic)._models.FinalRequestOptions.construct


def test_a_path_its_template_cannot_render_keeps_the_sdks_own_build() -> None:
    """A header that changes at every build (as an SDK upgrade might add): the check at
    first use finds the template wrong, and that path keeps the SDK's `_build_request`."""

    class AsyncOpenAI(TroupeOpenAI):
        builds = 0

        @property
        def default_headers(self) -> dict[str, Any]:
            self.builds += 1
            return {**super().default_headers, "X-Build": str(self.builds)}

    client = AsyncOpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    options = openai._models.FinalRequestOptions.construct
    sent = [
        client._build_request(options(method="post", url="/x", content=b"{}"), retries_taken=0)
        for _ in range(3)
    ]
    assert [r.headers["x-build"] for r in sent] == ["1", "3", "4"]  # 2: the check's own
    assert list(client._request_templates.values()) == [None]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_posts_options_are_copies_of_what_the_sdk_constructs(provider: str) -> None:
    """troupe's `post` copies its first options instead of constructing them: a copy must
    equal what the SDK's `post` constructs (`FinalRequestOptions.construct`), dicts apart."""
    _, troupe_class, _ = CLASSES[provider]
    sdk = openai if provider == "openai" else anthropic
    client = troupe_class(api_key="sk-x", base_url="http://127.0.0.1:9")
    given = {"security": {"bearer_auth": True}} if provider == "openai" else {}
    copies = [client._copied_options("/p", body, given) for body in (b"{}", b"[1]")]
    # No span name: the `anthropic` SDK's tracing starts no span for them (which the
    # first attempt sent past its loop relies on: `_sends_plainly`).
    assert not getattr(copies[0], "span_name", None)
    for copy, body in zip(copies, (b"{}", b"[1]"), strict=True):
        made = sdk._models.FinalRequestOptions.construct(
            method="post", url="/p", json_data=None, content=body, files=None, **given
        )
        assert fields(copy) == fields(made)
        assert copy.model_fields_set == made.model_fields_set
    assert copies[0].params is not copies[1].params  # each its own, as constructed


def fields(options: Any) -> dict[str, Any]:
    """The options' fields; a `NotGiven` (a new one in each construction) as its class."""
    return {
        name: type(value) if type(value).__name__ == "NotGiven" else value
        for name, value in options.__dict__.items()
    }
