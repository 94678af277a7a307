"""FastAPI's router, that turns a request away at once when its path cannot be one of its
routes.

FastAPI (0.16x) keeps each included router as one entry of the app's route list and, for
every request, walks those entries in order, trying each route of each router with a few
bookkeeping steps around every regex. With a few hundred routes that walk cost about as much
CPU as a cheap route's own work (~50 µs to reach the messages route, ~400 µs to answer a
404). Every route path begins with its literal part (up to its first `{`), so a router whose
routes' literal parts are none of them a prefix of the path has no route for it: it answers
"no match" after one `str.startswith`, and the walk stays FastAPI's own, in the same order,
with the same results."""

from typing import Any

import fastapi
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


class APIRouter(fastapi.APIRouter):
    """Use it as `fastapi.APIRouter`; routes are declared on it the same way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._heads_of: tuple[int, tuple[str, ...] | None] = (-1, None)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not scope.get("root_path"):
            heads = self._heads()
            if heads is not None and not scope["path"].startswith(heads):
                return Match.NONE, {}
        return super().matches(scope)

    def _heads(self) -> tuple[str, ...] | None:
        """The literal start of every route's path; None (no shortcut) when a route is not
        one with a path template of its own (a mount, a nested router)."""
        count, heads = self._heads_of
        if count != len(self.routes):  # routes were added since: work them out again
            heads = _literal_heads(self.routes)
            self._heads_of = (len(self.routes), heads)
        return heads


def _literal_heads(routes: list[BaseRoute]) -> tuple[str, ...] | None:
    heads: set[str] = set()
    for route in routes:
        if not isinstance(route, fastapi.routing.APIRoute):
            return None
        heads.add(route.path.split("{", 1)[0])
    return tuple(sorted(heads))
