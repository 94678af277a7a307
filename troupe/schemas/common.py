"""Base classes and the small config shapes that several resources share."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class InputModel(BaseModel):
    """Request bodies: unknown fields are ignored, so any SDK version's extras are harmless."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class LLMConfig(InputModel):
    """Letta's `llm_config`: which model an agent uses and how it is reached."""

    model: str
    model_endpoint_type: str = "openai"
    model_endpoint: str | None = None
    model_wrapper: str | None = None
    context_window: int = 32_000
    put_inner_thoughts_in_kwargs: bool = True
    handle: str | None = None
    temperature: float = 0.7
    max_tokens: int | None = None


class EmbeddingConfig(InputModel):
    """Letta's `embedding_config`. Stored and echoed; archival search is keyword-based today."""

    embedding_endpoint_type: str = "local"
    embedding_endpoint: str | None = None
    embedding_model: str = "keyword"
    embedding_dim: int = 0
    embedding_chunk_size: int | None = 300
    handle: str | None = None


Metadata = dict[str, Any]


def metadata_field() -> Any:
    return Field(default=None, description="Free-form JSON kept with the object.")
