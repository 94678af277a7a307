"""Serialise pydantic models straight to JSON bytes.

Routes still declare `response_model` for the OpenAPI document, but return this response so
FastAPI does not validate and re-encode what our own models just produced."""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Response
from pydantic import BaseModel

from troupe.server.sdk_line import serialization_context
from troupe.services.messages import TurnAnswer

RUN_HEADER, TRACE_HEADER = "X-Troupe-Run-Id", "X-Troupe-Trace-Id"


def json_response(
    value: BaseModel | Sequence[BaseModel],
    status_code: int = 200,
    *,
    exclude_none: bool = False,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`exclude_none`: leave out empty fields (where a union's variants differ by fields)."""
    context = serialization_context()
    if isinstance(value, BaseModel):
        body = _json_bytes(value, context, exclude_none)
    else:
        body = b"[" + b",".join(_json_bytes(item, context, exclude_none) for item in value) + b"]"
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def _json_bytes(value: BaseModel, context: dict[str, Any] | None, exclude_none: bool) -> bytes:
    """What `model_dump_json` gives, as the bytes its serialiser makes (it decodes them to a
    str, which the response would then encode back)."""
    return value.__pydantic_serializer__.to_json(value, context=context, exclude_none=exclude_none)


def turn_response(answer: TurnAnswer) -> Response:
    """A turn's whole answer, its run and trace ids also as headers."""
    return TurnJson(answer.json(serialization_context()), answer.run_id, answer.trace_id or "")


class TurnJson(Response):
    """`Response(body, headers={RUN_HEADER: run_id, TRACE_HEADER: trace_id},
    media_type="application/json")`, its headers (the same, in the same order) written at
    once instead of lowered, encoded and searched by Starlette's `init_headers` (a turn's
    answer is sent with every message)."""

    media_type = "application/json"

    def __init__(self, body: bytes, run_id: str, trace_id: str) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"x-troupe-run-id", run_id.encode("latin-1")),
            (b"x-troupe-trace-id", trace_id.encode("latin-1")),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]
