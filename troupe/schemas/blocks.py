"""Memory blocks: labelled pieces of text rendered into an agent's context."""

from datetime import datetime

from pydantic import Field, field_validator

from troupe.schemas.common import InputModel, Metadata, OutputModel, metadata_field

# Letta's current default (its CORE_MEMORY_BLOCK_CHAR_LIMIT); the 0.1.x era's was 5,000.
DEFAULT_BLOCK_LIMIT = 20_000
MAX_BLOCK_LIMIT = 1_000_000
MAX_LABEL_LENGTH = 255


def over_limit(label: str, value: str, limit: int) -> str | None:
    """Why `value` cannot be the value of block `label` with `limit` (None when it fits): the
    one check of REST edits and memory tools; each caller adds what its user can do."""
    if len(value) <= limit:
        return None
    return f"memory block {label!r} would hold {len(value)} characters, over its limit of {limit}"


def check_label(label: str) -> str:
    stripped = label.strip()
    if not stripped:
        raise ValueError("a block label cannot be empty")
    if len(stripped) > MAX_LABEL_LENGTH:
        raise ValueError(f"a block label has at most {MAX_LABEL_LENGTH} characters")
    if any(ch < " " for ch in stripped):
        raise ValueError("a block label cannot contain control characters")
    return stripped


class BlockCreate(InputModel):
    label: str
    value: str  # required, as in both SDKs' CreateBlock / block create params
    limit: int | None = Field(default=None, ge=1, le=MAX_BLOCK_LIMIT)
    description: str | None = None
    metadata: Metadata | None = metadata_field()
    read_only: bool = False
    is_template: bool = False
    name: str | None = Field(default=None, alias="template_name", max_length=255)

    _label = field_validator("label")(check_label)


class BlockUpdate(InputModel):
    label: str | None = None
    value: str | None = None
    limit: int | None = Field(default=None, ge=1, le=MAX_BLOCK_LIMIT)
    description: str | None = None
    metadata: Metadata | None = None
    read_only: bool | None = None
    is_template: bool | None = None
    name: str | None = Field(default=None, alias="template_name", max_length=255)
    expected_version: int | None = Field(
        default=None,
        description="troupe: apply only if the block still has this version (else 409).",
    )

    @field_validator("label")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        return None if v is None else check_label(v)


class Block(OutputModel):
    id: str
    label: str
    value: str
    limit: int
    description: str | None = None
    metadata: Metadata | None = None
    read_only: bool = False
    is_template: bool = False
    name: str | None = None
    template_name: str | None = None
    version: int = Field(description="troupe: increases with every change of the block.")
    created_at: datetime | None = None
    updated_at: datetime | None = None
