"""Base classes and the small config shapes that several resources share."""

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What JSON can spell but troupe cannot keep: NUL and unpaired surrogates (\u0000, \ud800:
# PostgreSQL refuses them and they are not Unicode text), NaN and Infinity (not JSON at all,
# though Python's parser reads them), and nesting past what the response serialiser handles.
# Refusing them here keeps both backends alike and every answer valid JSON.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_JSON_DEPTH = 64
MAX_HANDLE_LENGTH = 512  # a model handle, `provider/model`


def find_unstorable(value: Any) -> str | None:
    """What in a JSON-like value cannot be stored (e.g. "the character \\u0000"), or None.
    Iterative: bodies may nest as deep as the JSON parser allows."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if found := _UNSTORABLE.search(item):
                return f"the character \\u{ord(found.group()):04x}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "NaN" if math.isnan(item) else f"{'-' if item < 0 else ''}Infinity"
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_JSON_DEPTH:
                return f"nesting deeper than {MAX_JSON_DEPTH} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


class InputModel(BaseModel):
    """Request bodies: unknown fields are ignored, so any SDK version's extras are harmless."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if bad := find_unstorable(value):
            raise ValueError(
                f"the value holds {bad}, which cannot be stored; remove it (NUL characters, "
                "unpaired surrogates, NaN and Infinity are refused)"
            )
        return value


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
    parallel_tool_calls: bool | None = None
    enable_reasoner: bool | None = None
    reasoning_effort: str | None = None
    max_reasoning_tokens: int | None = None
    response_format: dict[str, Any] | None = None


class EmbeddingConfig(InputModel):
    """Letta's `embedding_config`: the model that embeds archival memory (llm/embeddings/)."""

    embedding_endpoint_type: str = "local"
    embedding_endpoint: str | None = None
    embedding_model: str = "keyword"
    embedding_dim: int = 0
    embedding_chunk_size: int | None = 300
    handle: str | None = None


Metadata = dict[str, Any]

# The serialisation context of an answer to the 0.1.x SDK, which requires some fields that
# Letta's newer answers leave null (troupe.server.sdk_line sets it).
LEGACY_SDK_CONTEXT: dict[str, Any] = {"sdk": "0.1"}


def for_legacy_sdk(info: Any) -> bool:
    """Whether a serialiser (given its `SerializationInfo`) answers the 0.1.x SDK."""
    return bool(info.context) and info.context.get("sdk") == LEGACY_SDK_CONTEXT["sdk"]


def metadata_field() -> Any:
    return Field(default=None, description="Free-form JSON kept with the object.")
