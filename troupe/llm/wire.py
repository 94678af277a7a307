"""Request bodies the adapters build themselves, as JSON text, converting each message once
and reusing the pieces of the history's last request (`Pieces`).

An agent's history is sent again at every step, and only its end is new. The vendor SDKs
walk every message of every request (the `openai` SDK transforms each one against its
TypedDicts, the `anthropic` SDK copies the whole tree) and serialize all of it again: with
a full window that was 40 ms of CPU a step, more than the rest of troupe. So each adapter
turns a message into its vendor's JSON once, keeps it in a `Converted` cache keyed by the
message object (messages are immutable, and the history window hands the same objects to
every step), and joins the pieces into the body it sends through its SDK's plain `post`
(retries, errors, authentication and the response's types stay the SDK's).
"""

import functools
import json
import operator
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from troupe.llm.base import InvalidModelAnswer
from troupe.llm.handles import parse_handle
from troupe.llm.http_pool import sdk_http_client
from troupe.llm.providers import Endpoint, endpoint_for

Key = TypeVar("Key")
Value = TypeVar("Value")
Client = TypeVar("Client")

# Once this many messages are held, the least recently sent go first: enough for the
# windows of the agents that talked lately (a full window is ~300 messages).
MAX_ENTRIES = 32_768
# The bodies' message parts kept for the histories sent lately (see `Pieces`).
MAX_HISTORIES = 256
# Tool specs kept as JSON per model (its agents' tools, as agent/offers.py hands them out).
MAX_TOOLS = 4096


def json_answer(handle: str, content: bytes) -> dict[str, Any]:
    """A provider's answer, read as plain JSON: the adapters take the few fields they use
    from it instead of having the SDK build its pydantic response models (about a fifth of
    the SDK's CPU per call with a full window)."""
    try:
        answer = json.loads(content)
    except ValueError:
        raise InvalidModelAnswer(f"{handle}: the provider's answer is not JSON") from None
    if not isinstance(answer, dict):
        raise InvalidModelAnswer(f"{handle}: the provider's answer is not a JSON object")
    return answer


# What `json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)` would
# build at each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> bytes:
    """JSON as the SDKs send it: compact, UTF-8, no NaN."""
    return _ENCODER.encode(value).encode()


class Converted(Generic[Key, Value]):
    """`convert(obj)` for immutable objects, computed once per object: a least recently used
    cache keyed by identity (no hashing of the object's fields), which holds the object it
    converted so that its id cannot be reused while the entry lives."""

    def __init__(self, convert: Callable[[Key], Value], max_entries: int = MAX_ENTRIES) -> None:
        self.convert = convert
        self.max_entries = max_entries
        self.conversions = 0  # how many objects were converted (not found): for tests
        self._entries: OrderedDict[int, tuple[Key, Value]] = OrderedDict()

    def __call__(self, obj: Key) -> Value:
        return self.each((obj,))[0]

    def each(self, objs: Iterable[Key]) -> list[Value]:
        """The conversions of `objs`, in order: one loop over a whole history (a full
        window is ~300 messages, nearly all found), not a call per message."""
        entries = self._entries
        found: list[Value] = []
        for obj in objs:
            key = id(obj)
            entry = entries.get(key)
            if entry is not None and entry[0] is obj:
                entries.move_to_end(key)
                found.append(entry[1])
                continue
            value = self.convert(obj)
            self.conversions += 1
            entries[key] = (obj, value)
            if len(entries) > self.max_entries:
                entries.popitem(last=False)
            found.append(value)
        return found

    def __len__(self) -> int:
        return len(self._entries)


class LastOne(Generic[Key, Value]):
    """`convert(obj)`, kept for the last object only and given again for an equal one: the
    system prompt, rendered afresh at every step, is most often the one before (no memory
    block changed). Kept in `Converted`, each step's copy would stay until evicted."""

    def __init__(self, convert: Callable[[Key], Value]) -> None:
        self.convert = convert
        self._last: tuple[Key, Value] | None = None

    def __call__(self, obj: Key) -> Value:
        last = self._last
        if last is not None and last[0] == obj:
            return last[1]
        value = self.convert(obj)
        self._last = (obj, value)
        return value


Join = Callable[[list[Value]], tuple[list[int], list[bytes]]]


class _Sent(NamedTuple):
    """The messages of a history's last request and its body's pieces: `texts[i]` covers
    the messages before `ends[i]` (and after the piece before it)."""

    objs: tuple[Any, ...]
    ends: tuple[int, ...]
    texts: tuple[bytes, ...]


class Pieces(Generic[Key, Value]):
    """A history's messages as the JSON pieces of a body, extended at each step instead of
    assembled again. Each step sends the messages of the step before (the same objects: the
    history window hands them out) and a few new ones; even found in the `Converted` cache,
    looking up and joining ~300 messages one by one was a tenth of the model call's CPU.
    So the pieces of each history's last request are kept: the messages it shares with
    this one (compared by identity, in C) keep their pieces, and only the rest is converted
    and joined. `join(values)` turns conversions into pieces and where each ends (relative
    to its first value); a piece ends where the message that closed it starts (Anthropic
    merges neighbours of one role into one turn), and the last piece is never reused."""

    def __init__(
        self,
        convert: Callable[[Key], Value],
        join: Join[Value],
        max_histories: int = MAX_HISTORIES,
    ) -> None:
        self.converted = Converted(convert)
        self.join = join
        self.max_histories = max_histories
        self.reused = 0  # messages whose pieces came from the request before: for tests
        self._sent: OrderedDict[int, _Sent] = OrderedDict()

    def __call__(self, history: Sequence[Key]) -> list[bytes]:
        objs = tuple(history)
        # Keyed by the history's first message: the entry holds it, so its id is unique.
        key = id(objs[0]) if objs else 0
        sent = self._sent.pop(key, None)
        kept, start = 0, 0
        if sent is not None:
            shared = len(sent.objs)
            if objs[:shared] != sent.objs:  # in C; equal messages convert alike
                same = list(map(operator.is_, sent.objs, objs))
                shared = same.index(False) if False in same else len(same)
            kept = bisect_left(sent.ends, shared)  # the pieces closed before it
            start = sent.ends[kept - 1] if kept else 0
            self.reused += start
        ends, texts = self.join(self.converted.each(objs[start:]))
        if sent is not None and kept:
            ends = [*sent.ends[:kept], *(start + end for end in ends)]
            texts = [*sent.texts[:kept], *texts]
        if objs:
            self._sent[key] = _Sent(objs, tuple(ends), tuple(texts))
            if len(self._sent) > self.max_histories:
                self._sent.popitem(last=False)
        return texts


def each_alone(values: list[bytes]) -> tuple[list[int], list[bytes]]:
    """`Pieces.join` for a wire where each message is one piece of the body."""
    return list(range(1, len(values) + 1)), values


class JSONText(NamedTuple):
    """A value that is JSON text already, in pieces: `json_object` puts them in as they
    are, joined once with the rest (a full window's 46 KB of messages were copied seven
    times over by nested joins and concatenations)."""

    parts: tuple[bytes, ...]


def array_text(items: Iterable[bytes]) -> JSONText:
    """A JSON array of items that are JSON text already, for `json_object`."""
    return JSONText((b"[", b",".join(items), b"]"))


def json_object(fields: dict[str, Any]) -> bytes:
    """A JSON object of `fields`, in their order, serialized here but for `JSONText`."""
    parts = [b"{"]
    for key, value in fields.items():
        if len(parts) > 1:
            parts.append(b",")
        parts.append(_key(key))
        if type(value) is JSONText:
            parts += value.parts
        else:
            parts.append(dumps(value))
    parts.append(b"}")
    return b"".join(parts)


@functools.cache
def _key(name: str) -> bytes:
    """A field's name and its colon: the adapters' few field names, serialized once."""
    return dumps(name) + b":"


def json_array(items: Iterable[bytes]) -> bytes:
    """A JSON array of items that are JSON text already."""
    return b"[" + b",".join(items) + b"]"


class SharedClients(Generic[Client]):
    """One SDK client per endpoint, shared by all the models of that provider (one per
    handle): building a client takes 35-140 ms here (its HTTP client and TLS context), on
    the event loop at a model's first step, and a shared one keeps one connection pool."""

    def __init__(self, make: Callable[..., Client]) -> None:
        """`make`: the SDK's client class (both SDKs take the same four settings)."""
        self.make = make
        self._clients: dict[Endpoint, Client] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: Endpoint) -> Client:
        with self._lock:
            client = self._clients.get(endpoint)
            if client is None:
                client = self._clients[endpoint] = self.make(
                    api_key=endpoint.api_key,
                    base_url=endpoint.base_url,
                    timeout=endpoint.timeout_s,
                    max_retries=endpoint.max_retries,
                    http_client=sdk_http_client(),  # llm/http_pool.py: a lean transport
                )
            return client

    def for_handle(self, handle: str) -> tuple[str, Endpoint, Client]:
        """What a model of `handle` is built with: its model name, endpoint and client."""
        provider, model = parse_handle(handle)
        endpoint = endpoint_for(provider)
        return model, endpoint, self.get(endpoint)

    def prepare(self, provider: str) -> None:
        """Build the provider's client before the server takes requests (llm/warm.py)."""
        self.get(endpoint_for(provider))
