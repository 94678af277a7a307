"""The one table from domain errors to HTTP statuses. Every error body is `{"detail": ...}`."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from troupe.errors import Conflict, InvalidInput, NotFound, TroupeError, Unauthorized

log = logging.getLogger("troupe.server")

STATUS: dict[type[TroupeError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    Unauthorized: 401,
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TroupeError)
    async def _domain(_request: Request, exc: TroupeError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": exc.message}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's words for bytes that are not UTF-8, JSON nested past Python's limit...
            detail = "the request body is not valid JSON: send UTF-8 encoded JSON"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

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
