"""Serialise pydantic models straight to JSON bytes.

Routes still declare `response_model` for the OpenAPI document, but return this response so
FastAPI does not validate and re-encode what our own models just produced."""

from collections.abc import Sequence

from fastapi import Response
from pydantic import BaseModel

from troupe.server.sdk_line import serialization_context


def json_response(
    value: BaseModel | Sequence[BaseModel], status_code: int = 200, *, exclude_none: bool = False
) -> Response:
    """`exclude_none`: leave out empty fields (where a union's variants differ by fields)."""
    context = serialization_context()
    if isinstance(value, BaseModel):
        body = value.model_dump_json(context=context, exclude_none=exclude_none)
    else:
        body = (
            "["
            + ",".join(
                item.model_dump_json(context=context, exclude_none=exclude_none) for item in value
            )
            + "]"
        )
    return Response(body, status_code=status_code, media_type="application/json")
