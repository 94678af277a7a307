"""Searches of tools (1.x) and agents (0.1.x) in Letta's request and result shapes."""

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from troupe.schemas.agents import AgentState
from troupe.schemas.common import InputModel, OutputModel
from troupe.schemas.search_limits import MAX_NAME_FILTER_CHARS
from troupe.schemas.tools import Tool


class ToolSearchRequest(InputModel):
    """Body of POST /v1/tools/search."""

    query: str | None = None
    search_mode: Literal["vector", "fts", "hybrid"] = "hybrid"
    tags: list[str] | None = None
    tool_types: list[str] | None = None
    limit: int = Field(default=50, ge=1, le=1000)


class ToolSearchResult(OutputModel):
    tool: Tool
    combined_score: float
    fts_rank: int | None = None
    vector_rank: int | None = None
    embedded_text: str | None = None


class AgentSearchRequest(InputModel):
    """Body of POST /v1/agents/search (0.1.x): conditions on `name` (`eq` or `contains`),
    `tags` (`contains`: has every one) and `version` (of templates: ignored), all to hold."""

    search: list[dict[str, Any]] = Field(default_factory=list)
    project_id: str | None = None
    combinator: Literal["AND"] = "AND"
    limit: int = Field(default=50, ge=1, le=1000)
    after: str | None = None

    @field_validator("search")
    @classmethod
    def _values_bounded(cls, search: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for condition in search:
            value = condition.get("value")
            if isinstance(value, str) and len(value) > MAX_NAME_FILTER_CHARS:
                raise ValueError(f"a search value is over {MAX_NAME_FILTER_CHARS} characters")
        return search


class AgentSearchResponse(OutputModel):
    model_config = ConfigDict(serialize_by_alias=True)

    agents: list[AgentState]
    next_cursor: str | None = Field(default=None, serialization_alias="nextCursor")
