"""The ADE (agent development environment): a web UI served by the troupe server itself.

Plain HTML, CSS and ES modules from this package, with no build step and nothing fetched
from the network at run time. The pages hold no data, so they need no key; every /v1 call
the UI makes sends the key the user gave it. Kept out of the OpenAPI document, which
describes the API only."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install_ade(app: FastAPI) -> None:
    app.mount("/ade", StaticFiles(directory=STATIC), name="ade")

    @app.get("/", include_in_schema=False)
    async def ade_index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
