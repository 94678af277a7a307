"""/v1/health: is the server up and its database reachable."""

from troupe import __version__
from troupe.server.deps import DatabaseDep
from troupe.server.routing import APIRouter
from troupe.services import health as service

router = APIRouter(prefix="/v1/health", tags=["health"])


@router.get("")
async def health(db: DatabaseDep) -> dict[str, str]:
    await service.check_database(db)
    return {"version": __version__, "status": "ok"}
