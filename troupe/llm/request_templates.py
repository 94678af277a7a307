"""The vendor SDKs' HTTP requests for troupe's model calls, built by the SDK once per client
and path, then copied with each call's own values.

For every call the SDK built its request from scratch: the URL parsed and merged with the
base URL, the default headers merged into an `httpx2.Headers`, then `httpx2` building URL
and headers again for its `Request` (about 40% of the SDK's CPU per model call). Between two
of troupe's POSTs to one path of one client, all that differs is the body (its length in
`Content-Length`), the retry count header and the idempotency key: the client's settings
never change after it is built (`wire.SharedClients` builds one per `Endpoint`).

So the first call to a path is built by the SDK, and its request becomes a template whose
three per-call values are found by their values. Before it is used, the template is checked
against the SDK: what it renders must equal what the SDK builds, for that call and for a
second one with another body, key and retry count; if not (an SDK upgrade that builds its
requests differently), that path keeps the SDK's own `_build_request`. Calls of any other
shape (JSON bodies, query parameters, files, per-call headers or timeout) always take the
SDK's path. The retry loop, the send, errors and responses stay the SDK's.

Relies on the SDKs' private `_build_request(options, *, retries_taken)` and the fields of
their `FinalRequestOptions` read below (pinned by tests/llm/test_request_templates.py).
"""

import contextvars
import logging
from typing import Any, NamedTuple

import httpx2

from troupe.llm.lean_transport import Wire, framing, request_head

RETRY_COUNT_HEADER = b"x-stainless-retry-count"
UNSENT_KEY = "unsent"  # the idempotency key of a client that sends none


class RenderedRequest(httpx2.Request):
    """A request rendered from a template, with its head as it goes out: the lean transport
    sends it as it is while the headers are still the ones it was made of
    (llm/lean_transport.py), and the lean client reads its answer whole (llm/http_pool.py):
    a call whose answer is streamed (token streaming) has a header of its own, and so is
    never rendered."""

    wire: Wire


class Template(NamedTuple):
    """One path's request with the slots of its per-call values (-1: none): its headers as
    `httpx2.Headers` keeps them (name, lowered name, value), and the lines of its head."""

    method: str
    url: httpx2.URL
    items: tuple[tuple[bytes, bytes, bytes], ...]
    lines: tuple[bytes, ...]  # the request line, a line per header, the empty line
    length_at: int
    retries_at: int
    key_at: int
    encoding: str
    extensions: dict[str, Any]
    closing: bool  # its headers ask to close the connection after the answer

    def render(self, content: bytes, key: str | None, retries_taken: int) -> httpx2.Request:
        items, lines = list(self.items), list(self.lines)
        _put(items, lines, self.length_at, b"%d" % len(content))
        _put(items, lines, self.retries_at, b"%d" % retries_taken)
        if key is not None:
            _put(items, lines, self.key_at, key.encode())
        extensions = {k: v.copy() if isinstance(v, dict) else v for k, v in self.extensions.items()}
        request = RenderedRequest(
            self.method, self.url, stream=httpx2.ByteStream(content), extensions=extensions
        )
        # As `httpx2.Headers(raw)` would hold them, without normalising each again nor
        # walking them for their encoding (its private list is pinned by tests).
        headers = request.headers = httpx2.Headers(encoding=self.encoding)
        headers._list = items
        request.read()  # the body as `content=` leaves it: read (no copy: one piece)
        request.wire = Wire(b"".join(lines), items.copy(), self.closing)
        return request


def _put(
    items: list[tuple[bytes, bytes, bytes]], lines: list[bytes], at: int, value: bytes
) -> None:
    if at >= 0:
        name, lowered, _ = items[at]
        items[at] = (name, lowered, value)
        lines[at + 1] = b"%s: %s\r\n" % (name, value)


def template_of(request: httpx2.Request, key: str | None, retries_taken: int) -> Template | None:
    """`request` (built by the SDK) as a template: None when its body is not plain bytes."""
    try:
        content = request.content
    except httpx2.RequestNotRead:
        return None
    raw = request.headers.raw
    chunked, closing = framing(raw)
    if chunked:
        return None
    return Template(
        request.method,
        request.url,
        tuple((name, name.lower(), value) for name, value in raw),
        (
            b"%s %s HTTP/1.1\r\n" % (request.method.encode(), request.url.raw_path),
            *(b"%s: %s\r\n" % header for header in raw),
            b"\r\n",
        ),
        _slot(raw, b"content-length", b"%d" % len(content)),
        _slot(raw, RETRY_COUNT_HEADER, b"%d" % retries_taken),
        -1 if key is None else _slot(raw, None, key.encode()),
        request.headers.encoding,
        dict(request.extensions),
        closing,
    )


def _slot(raw: list[tuple[bytes, bytes]], name: bytes | None, value: bytes) -> int:
    """Where the one header of `name` (any name: None) with `value` is; -1 if not exactly one."""
    found = [
        index
        for index, (key, item) in enumerate(raw)
        if item == value and (name is None or key.lower() == name)
    ]
    return found[0] if len(found) == 1 else -1


def same_request(a: httpx2.Request, b: httpx2.Request) -> bool:
    """Whether two requests go out alike: method, URL, headers in order, body, extensions."""
    return (
        a.method == b.method
        and a.url == b.url
        and a.headers.raw == b.headers.raw
        and a.headers.encoding == b.headers.encoding
        and a.content == b.content
        and a.extensions == b.extensions
        and _head(a) == _head(b)
    )


def _head(request: httpx2.Request) -> bytes:
    """The head the lean transport sends for `request`: its own for a rendered one."""
    wire = getattr(request, "wire", None)
    if wire is not None:
        return wire.head
    return request_head(request.method, request.url, request.headers.raw)


class Attempt(NamedTuple):
    """A first attempt sent past the SDK's loop: its answer, or what it raised."""

    response: httpx2.Response | None
    error: Exception | None


# The first attempt of the SDK call running in this context, when troupe sent it and it
# did not succeed: the HTTP client (llm/http_pool.py: `LeanClient`) gives it back as the
# answer to the loop's first send, so that the SDK's own loop decides what comes of it
# (a retry after its backoff, its error), exactly as if it had sent it.
REPLAYED: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "troupe_replayed_attempt", default=None
)


class TemplatedRequests:
    """Mixed into an SDK client class (before it): `_build_request` from templates for
    troupe's calls (a body of bytes, nothing else per call), the SDK's for the rest; and
    `post`'s options for those calls copied instead of constructed. `not_given`: the SDK's
    `NotGiven` class; `options_class`: its `FinalRequestOptions`."""

    not_given: type = type(None)
    options_class: Any = None
    sdk_log = logging.getLogger("troupe.llm.unused")  # the SDK's `_base_client` logger

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request_templates: dict[tuple[Any, ...], Template | None] = {}
        self._post_options: dict[tuple[Any, ...], tuple[Any, tuple[str, ...]]] = {}

    async def post(
        self,
        path: str,
        *,
        cast_to: Any,
        body: Any = None,
        content: Any = None,
        files: Any = None,
        options: Any = None,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> Any:
        """The SDK's `post`. For a body of bytes with no per-call option but `security`,
        the options are a copy of the first such call's: `FinalRequestOptions.construct`,
        which `post` calls, works out every field's default afresh (~30 us a call)."""
        given = options or {}
        plain = body is None and files is None and not stream and stream_cls is None
        if plain and type(content) is bytes and not given.keys() - {"security"}:
            # Sent only in its header: without one, the SDK would draw a uuid4 for nothing.
            no_header = self._idempotency_header is None  # type: ignore[attr-defined]
            key = UNSENT_KEY if no_header else self._idempotency_key()  # type: ignore[attr-defined]
            template = self._first_attempt_template(path, given, cast_to)
            outcome = None
            if template is not None:
                outcome = await self._first_attempt(template, content, key)
                if outcome.response is not None and outcome.response.is_success:
                    return outcome.response  # what the SDK's loop returns for it
            options = self._copied_options(path, content, given)
            options.idempotency_key = key
            token = REPLAYED.set(outcome)
            try:
                return await self.request(cast_to, options)  # type: ignore[attr-defined]
            finally:
                REPLAYED.reset(token)
        return await super().post(  # type: ignore[misc]
            path,
            cast_to=cast_to,
            body=body,
            content=content,
            files=files,
            options=given,
            stream=stream,
            stream_cls=stream_cls,
        )

    def _first_attempt_template(
        self, path: str, given: dict[str, Any], cast_to: Any
    ) -> Template | None:
        """The path's template when a first attempt may be sent past the SDK's loop: a
        raw answer asked for, the SDK's debug log off, its per-attempt hooks idle
        (`_sends_plainly`), an HTTP client that replays the attempt into the SDK's loop."""
        if (
            cast_to is not httpx2.Response
            or not getattr(self._client, "replays", False)  # type: ignore[attr-defined]
            or self.sdk_log.isEnabledFor(logging.DEBUG)
            or not self._sends_plainly()
        ):
            return None
        security = given.get("security")
        return self._request_templates.get(("post", path, *(security.items() if security else ())))

    def _sends_plainly(self) -> bool:
        """Whether the SDK's loop would do nothing per attempt but build, send and read
        (no auth provider, tracing, middleware or custom auth): SDK-specific."""
        return False

    async def _first_attempt(self, template: Template, content: bytes, key: str) -> "Attempt":
        """The first attempt as the SDK's loop would send it (the template renders what its
        `_build_request` builds, retry count 0), sent through the client's `send`."""
        request = template.render(content, key, 0)
        try:
            response = await self._client.send(request)  # type: ignore[attr-defined]
        except Exception as exc:  # what the SDK's loop makes of it, when replayed there
            return Attempt(None, exc)
        return Attempt(response, None)

    def _copied_options(self, path: str, content: bytes, given: dict[str, Any]) -> Any:
        """What `post` would construct, copied: its dicts copied too, as each construction
        has its own."""
        security = given.get("security")
        where = (path, *(security.items() if security else ()))
        first = self._post_options.get(where)
        if first is None:
            options = self.options_class.construct(
                method="post", url=path, json_data=None, content=b"", files=None, **given
            )
            mutable = tuple(k for k, v in options.__dict__.items() if type(v) in (dict, list))
            first = self._post_options[where] = (options, mutable)
        options, mutable = first
        copied = options.model_copy(update={"content": content})
        # Its own dicts, left out of the fields set (as `update=` would not).
        copied.__dict__.update({name: getattr(options, name).copy() for name in mutable})
        return copied

    async def _process_response(self, *, cast_to: Any, response: httpx2.Response, **kw: Any) -> Any:
        """The SDK's, but for the raw answer to a rendered request (which never asks for a
        raw-response wrapper: it has no per-call header), returned as it is, as the SDK's
        returns a `cast_to=httpx2.Response` answer."""
        rendered = type(response.request) is RenderedRequest
        if cast_to is httpx2.Response and rendered and not kw.get("stream"):
            return response
        return await super()._process_response(  # type: ignore[misc]
            cast_to=cast_to, response=response, **kw
        )

    def _build_request(self, options: Any, *, retries_taken: int = 0) -> httpx2.Request:
        build = super()._build_request  # type: ignore[misc]
        content = options.content
        if (
            type(content) is not bytes
            or not content
            or options.json_data is not None
            or options.extra_json is not None
            or options.files is not None
            or options.params
            or options.headers
            or not isinstance(options.timeout, self.not_given)
        ):
            return build(options, retries_taken=retries_taken)
        security = getattr(options, "security", None)  # `openai` has it, `anthropic` not
        where = (options.method, options.url, *(security.items() if security else ()))
        try:
            template = self._request_templates[where]
        except KeyError:
            request: httpx2.Request = build(options, retries_taken=retries_taken)
            self._request_templates[where] = self._checked_template(options, request, retries_taken)
            return request
        if template is None:
            return build(options, retries_taken=retries_taken)
        return template.render(content, options.idempotency_key, retries_taken)

    def _checked_template(
        self, options: Any, request: httpx2.Request, retries_taken: int
    ) -> Template | None:
        """The template of the SDK's `request` if it renders what the SDK builds, for this
        call and for another body, idempotency key and retry count."""
        template = template_of(request, options.idempotency_key, retries_taken)
        if template is None:
            return None
        other = options.model_copy(
            update={
                "content": options.content + b" ",
                "idempotency_key": f"{options.idempotency_key or ''}-checked",
            }
        )
        expected = super()._build_request(other, retries_taken=retries_taken + 1)  # type: ignore[misc]
        if same_request(
            template.render(options.content, options.idempotency_key, retries_taken), request
        ) and same_request(
            template.render(other.content, other.idempotency_key, retries_taken + 1), expected
        ):
            return template
        return None
