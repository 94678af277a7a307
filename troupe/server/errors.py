"""The one table from domain errors to HTTP statuses. Every error body is `{"detail": ...}`."""

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from troupe.errors import (
    BadRequest,
    Conflict,
    DependencyFailed,
    InvalidInput,
    NotFound,
    TooLarge,
    TroupeError,
    Unauthorized,
    Unavailable,
    Unsupported,
)
from troupe.schemas.common import find_unstorable

log = logging.getLogger("troupe.server")

STATUS: dict[type[TroupeError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    BadRequest: 400,
    Unauthorized: 401,
    Unavailable: 503,
    TooLarge: 413,
    Unsupported: 415,
    DependencyFailed: 424,
}

DATA_EXCEPTION = "the database refused a value of this request; check the values you sent"
DATA_EXCEPTIONS = {
    "22001": "a value of this request is longer than its field allows; shorten it",
    "22021": "the request holds a NUL character (\\u0000), which cannot be stored; remove it",
    "22P05": "the request holds a NUL character (\\u0000), which cannot be stored; remove it",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TroupeError)
    async def _domain(_request: Request, exc: TroupeError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        headers = None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(exc, Unavailable):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse({"detail": exc.message}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's words for bytes that are not UTF-8, JSON nested past Python's limit...
            detail = "the request body is not valid JSON: send UTF-8 encoded JSON"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes each bad input, which fails to render when that input
        # is NaN, an unpaired surrogate or nested past the encoder's limit.
        return JSONResponse({"detail": [_renderable(e) for e in exc.errors()]}, status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness race that the services' own checks could not see coming.
        log.info("integrity conflict: %s", exc.orig)
        return JSONResponse(
            {"detail": "the request conflicts with a concurrent change; retry it"},
            status_code=409,
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": f"internal error ({type(exc).__name__}); this is a troupe bug"},
            status_code=500,
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # SQLSTATE class 22 is "data exception": a value the database refuses to store or
        # compare (a NUL in a query parameter, text longer than its column). The request's
        # fault, and its transaction is rolled back; anything else is ours.
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        if sqlstate.startswith("22"):
            log.warning("data refused by the database: %s", exc.orig)
            return JSONResponse({"detail": DATA_EXCEPTIONS.get(sqlstate, DATA_EXCEPTION)}, 422)
        return await _bug(request, exc)


def _holds_a_key(loc: Any, raw: Any) -> bool:
    return "api_key" in tuple(loc) or (isinstance(raw, dict) and "api_key" in raw)


def _renderable(error: Any) -> dict[str, Any]:
    """One validation error, keeping its `input` and `ctx` only where they render as JSON."""
    kept = {key: error[key] for key in ("type", "loc", "msg") if key in error}
    for key in ("input", "ctx"):
        if key not in error:
            continue
        raw = error[key]
        if key == "input" and _holds_a_key(error.get("loc", ()), raw):
            continue  # API keys are write-only: an error never echoes one
        if key == "ctx":  # drop the exception object behind a value_error: it renders as {}
            raw = {k: v for k, v in raw.items() if not isinstance(v, Exception)} or None
            if raw is None:
                continue
        try:
            value = jsonable_encoder(raw)
            if find_unstorable(value) is None:
                json.dumps(value, allow_nan=False)
                kept[key] = value
        except (ValueError, TypeError, RecursionError):
            pass
    return kept
