"""/metrics (troupe only): Prometheus metrics. Behind the API key like /v1, when one is set:
they name agents' tools and models and show the traffic (see docs/observability.md for
the scrape configuration that sends the key)."""

from fastapi import Response

from troupe.observability.metrics import CONTENT_TYPE
from troupe.server.deps import ExecutorDep
from troupe.server.routing import APIRouter
from troupe.services import metrics as service

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(executor: ExecutorDep) -> Response:
    return Response(await service.exposition(executor), media_type=CONTENT_TYPE)
