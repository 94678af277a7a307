"""Finding tools by what they do (1.x), agents by name and tags (0.1.x), and an agent's
system prompt as its next step compiles it (recompile)."""

from dataclasses import replace

from troupe.agent.prompt import render_system_prompt
from troupe.errors import InvalidInput
from troupe.schemas.searches import (
    AgentSearchRequest,
    AgentSearchResponse,
    ToolSearchRequest,
    ToolSearchResult,
)
from troupe.services.agents import list_agents
from troupe.services.views import tool_view
from troupe.store import Database, step_reads
from troupe.store import agents as agent_store
from troupe.store import tools as tool_store
from troupe.store.agents import AgentFilter
from troupe.store.paging import Page
from troupe.store.tables import ToolRow


async def search_tools(db: Database, request: ToolSearchRequest) -> list[ToolSearchResult]:
    """By text: the share of the query's words in a tool's name and description (a word in
    the name counts double), best first; tools with none of them are left out. Search by
    meaning uses the same ranking until an embedder is configured."""
    async with db.read() as session:
        rows = await tool_store.tools_of_types(session, request.tool_types)
    if request.tags:
        rows = [r for r in rows if set(request.tags) & set(r.tags)]
    words = (request.query or "").lower().split()
    scored = [(_score(row, words), row) for row in rows]
    if words:
        scored = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])
    return [
        ToolSearchResult(
            tool=tool_view(row),
            combined_score=score,
            fts_rank=rank if words else None,
            embedded_text=f"{row.name}: {row.description or ''}",
        )
        for rank, (score, row) in enumerate(scored[: request.limit], start=1)
    ]


def _score(row: ToolRow, words: list[str]) -> float:
    if not words:
        return 0.0
    name, description = row.name.lower(), (row.description or "").lower()
    found = sum(2 if w in name else 1 if w in description else 0 for w in words)
    return round(found / (2 * len(words)), 4)


async def search_agents(db: Database, request: AgentSearchRequest) -> AgentSearchResponse:
    filters = AgentFilter()
    for condition in request.search:
        field, value = condition.get("field"), condition.get("value")
        operator = condition.get("operator", "eq" if field == "name" else "contains")
        if field == "name" and isinstance(value, str) and operator in ("eq", "contains"):
            if operator == "eq":
                filters = replace(filters, name=value)
            else:
                filters = replace(filters, name_contains=value)
        elif field == "tags" and isinstance(value, list):
            filters = replace(filters, tags=[str(v) for v in value], match_all_tags=True)
        elif field != "version":  # template versions: troupe has no templates
            raise InvalidInput(
                f"unknown search condition {condition!r}: use name (eq or contains) or tags"
            )
    page = Page(limit=request.limit, after=request.after, order="asc")
    agents = await list_agents(db, page, filters)
    cursor = agents[-1].id if len(agents) == request.limit else None
    return AgentSearchResponse(agents=agents, next_cursor=cursor)


async def recompile(db: Database, agent_id: str) -> str:
    """The system prompt with the memory blocks as they are now. troupe compiles it afresh
    at every step, so there is nothing to store: `dry_run` or not, this is what the agent's
    next step will see."""
    async with db.read() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
        blocks = await step_reads.prompt_blocks(session, agent_id)
    return render_system_prompt(agent.system, blocks)
