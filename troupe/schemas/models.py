"""`GET /v1/models` and `/v1/models/embedding`: one shape both SDK lines read (1.x's `Model`
and `EmbeddingModel`, 0.1.x's `LLMConfig` and `EmbeddingConfig` are subsets of it)."""

from typing import Literal

from troupe.schemas.common import EmbeddingConfig, LLMConfig


class ModelEntry(LLMConfig):
    name: str
    display_name: str
    max_context_window: int
    provider_name: str
    provider_type: str
    provider_category: Literal["base", "byok"] = "base"
    model_type: Literal["llm"] = "llm"


class EmbeddingEntry(EmbeddingConfig):
    name: str
    display_name: str
    provider_name: str
    provider_type: str
    model_type: Literal["embedding"] = "embedding"
