"""The router that turns away paths none of its routes can match (troupe/server/routing.py):
every route is still found, in FastAPI's order, and what matches nothing still answers 404
or 405 as before."""

import httpx
from fastapi import FastAPI

from troupe.server.routing import APIRouter


async def test_router_shortcut_keeps_every_answer() -> None:
    items = APIRouter(prefix="/v1/items")
    loose = APIRouter()  # no prefix: its routes' own paths tell where they live

    @items.get("/{item_id}")
    async def get_item(item_id: str) -> dict[str, str]:
        return {"item": item_id}

    @loose.get("/v1/things/{thing_id}/parts")
    async def parts(thing_id: str) -> dict[str, str]:
        return {"parts_of": thing_id}

    @loose.post("/v1/other")
    async def other() -> dict[str, str]:
        return {"other": "yes"}

    app = FastAPI()
    app.include_router(items)
    app.include_router(loose)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        assert (await http.get("/v1/items/a1")).json() == {"item": "a1"}
        assert (await http.get("/v1/things/t1/parts")).json() == {"parts_of": "t1"}
        assert (await http.post("/v1/other")).json() == {"other": "yes"}
        assert (await http.get("/v1/other")).status_code == 405  # path known, method not
        assert (await http.get("/v1/nothing")).status_code == 404
        assert (await http.get("/v1/items")).status_code == 404

        @loose.get("/v1/late/{x}")  # a route added after requests were served is found too
        async def late(x: str) -> dict[str, str]:
            return {"late": x}

        assert (await http.get("/v1/late/z")).json() == {"late": "z"}

    # Behind a proxy's path prefix (the server's root path) the paths are still found.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, root_path="/prefixed"),
        base_url="http://test",
    ) as http:
        assert (await http.get("/prefixed/v1/items/b2")).json() == {"item": "b2"}


def test_every_route_module_uses_the_shortcut_router() -> None:
    """A module on FastAPI's own router would still work, but every request to a route after
    it would walk all its routes again."""
    import importlib
    import pkgutil

    import troupe.server.routes as routes

    for info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        assert isinstance(module.router, APIRouter), info.name
