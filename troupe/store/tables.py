"""SQLAlchemy tables: the storage shape, with file_tables.py, history_tables.py and
mcp_tables.py; migrations mirror it (`tests/store/test_migrations.py` proves it)."""

from array import array
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    REAL,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way out, whatever the dialect stores (SQLite keeps it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _when_set(column: str) -> Index:  # partial: for columns most rows leave empty
    where = text(f"{column} IS NOT NULL")  # (each query on them compares them with a value)
    return Index(None, column, sqlite_where=where, postgresql_where=where)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        datetime: UTCDateTime,
    }


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    system: Mapped[str] = mapped_column(Text)
    agent_type: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(512))
    llm_config: Mapped[dict[str, Any]]
    embedding_config: Mapped[dict[str, Any]]
    tool_rules: Mapped[list[Any]]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Letta's `compaction_settings`: how this agent's history is summarised (None: defaults).
    compaction_settings: Mapped[dict[str, Any] | None]
    # The `memory_variables` the agent was created with (GET .../core-memory/variables).
    memory_variables: Mapped[dict[str, Any] | None]

    __table_args__ = (Index(None, "created_at", "id"),)


class BlockRow(Base):
    __tablename__ = "blocks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(255), index=True)
    value: Mapped[str] = mapped_column(Text)
    char_limit: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    is_template: Mapped[bool] = mapped_column(Boolean, default=False)
    template_name: Mapped[str | None] = mapped_column(String(255))
    # Bumped on every change of the value; compare-and-set edits and racing memory tools use it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "created_at", "id"),)


class AgentBlockRow(Base):
    """A block attached to an agent. The label is copied here so that the database itself
    refuses two blocks with one label on one agent, even under concurrent attaches."""

    __tablename__ = "agent_blocks"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    block_id: Mapped[str] = mapped_column(
        ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    label: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("agent_id", "label"),)


class ToolRow(Base):
    __tablename__ = "tools"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]]
    source_code: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(32))
    json_schema: Mapped[dict[str, Any]]
    args_json_schema: Mapped[dict[str, Any] | None]  # see tools/args_schema.py
    tool_type: Mapped[str] = mapped_column(String(64))
    return_char_limit: Mapped[int] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Attaching it adds a `requires_approval` rule to the agent (Letta's default_requires_approval).
    default_requires_approval: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    __table_args__ = (Index(None, "created_at", "id"),)


class AgentToolRow(Base):
    __tablename__ = "agent_tools"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    tool_id: Mapped[str] = mapped_column(
        ForeignKey("tools.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)


class AgentTagRow(Base):
    __tablename__ = "agent_tags"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class RunRow(Base):
    """One request to an agent (a user message, an async call, a delivery) and its outcome."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    # What to run, kept so an async run can start (or restart) from the store alone.
    request: Mapped[dict[str, Any]]
    usage: Mapped[dict[str, Any]]
    parent_run_id: Mapped[str | None] = mapped_column(String(64))
    trace_id: Mapped[str | None] = mapped_column(String(64), index=True)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    # Liveness of the process executing the run; a stale one means that process died.
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Letta's run callback: POSTed to when the run ends; the attempt's outcome is kept.
    callback_url: Mapped[str | None] = mapped_column(Text)
    callback_sent_at: Mapped[datetime | None]
    callback_status_code: Mapped[int | None] = mapped_column(Integer)
    callback_error: Mapped[str | None] = mapped_column(Text)
    # A send-and-wait's run: the id of the parent's call it answers (see messaging.waits).
    reply_to_call: Mapped[str | None] = mapped_column(String(128))
    # The process executing the run (its id; see store.process_liveness).
    owner: Mapped[str | None] = mapped_column(String(64))
    # The conversation whose history the run's turn reads and writes (None: the default).
    conversation_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index(None, "created_at", "id"), *map(_when_set, ("parent_run_id",
                      "reply_to_call", "conversation_id")))  # fmt: skip


class StepRow(Base):
    """One model call of a run, with its token usage."""

    __tablename__ = "steps"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(512))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    model_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Timings beyond the model's: the step's start, its tool calls, and its write to the
    # store (recorded after that write commits, by the executor's maintenance round).
    started_at: Mapped[datetime | None]
    tools_ms: Mapped[int | None] = mapped_column(Integer)
    store_ms: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[str | None] = mapped_column(String(16))  # "positive" or "negative"
    tags: Mapped[list[Any] | None]

    __table_args__ = (Index(None, "created_at", "id"),)


class MessageRow(Base):
    """One message in Letta's sense (user, system, reasoning, assistant, tool call, tool
    return): one row each, so ids and paging map one to one onto the API. Rows of one model
    reply share `step_id` and are regrouped into one assistant turn for the model."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    message_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[Any] | None]  # a user message's image sources ({url} or {data, media_type})
    name: Mapped[str | None] = mapped_column(String(255))
    tool_call_id: Mapped[str | None] = mapped_column(String(128))
    tool_name: Mapped[str | None] = mapped_column(String(255))
    tool_arguments: Mapped[str | None] = mapped_column(Text)
    tool_status: Mapped[str | None] = mapped_column(String(16))
    stdout: Mapped[str | None] = mapped_column(Text)
    stderr: Mapped[str | None] = mapped_column(Text)
    sender_agent_id: Mapped[str | None] = mapped_column(String(64))
    otid: Mapped[str | None] = mapped_column(String(128))
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    step_id: Mapped[str | None] = mapped_column(String(64))
    # Not indexed: no query looks messages up by trace (a trace's messages are found through
    # its runs), and a random trace id cost every message insert a page of its own (0020).
    trace_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Its history: "" the agent's default one, else a conversation's id (numbered apart).
    conversation_id: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (UniqueConstraint("agent_id", "conversation_id", "seq"),)


class Vector(TypeDecorator[list[float]]):
    """An embedding: float32 bytes on SQLite (what sqlite-vec's functions read), `real[]` on
    PostgreSQL (what its exact search multiplies in SQL)."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(REAL()))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: list[float] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return array("f", value).tobytes()

    def process_result_value(self, value: Any, dialect: Dialect) -> list[float] | None:
        if value is None or dialect.name == "postgresql":
            return value
        return array("f", bytes(value)).tolist()


class ArchiveRow(Base):
    """Archival memory: a collection of passages one or more agents search and add to."""

    __tablename__ = "archives"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    # Every vector in the archive comes from this embedding: one dimension, one model.
    embedding_config: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Moves on whenever a passage of the archive is added, re-embedded or deleted: triggers
    # keep it (migration 0018), and searches' in-memory vectors (store.vector_cache) are
    # read again when it has moved.
    vectors_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index(None, "created_at", "id"),)


class AgentArchiveRow(Base):
    """An archive attached to an agent; the first attached takes the agent's inserts."""

    __tablename__ = "agent_archives"

    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    archive_id: Mapped[str] = mapped_column(
        ForeignKey("archives.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PassageRow(Base):
    """A passage of archival memory, with its embedding (None for keyword-only agents)."""

    __tablename__ = "passages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    archive_id: Mapped[str] = mapped_column(ForeignKey("archives.id", ondelete="CASCADE"))
    # The agent that stored it, if one did; the passage stays with the archive.
    agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    embedding: Mapped[list[float] | None] = mapped_column(Vector())
    embedding_handle: Mapped[str | None] = mapped_column(String(512))
    embedding_dim: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "archive_id", "created_at"),)


class PassageTagRow(Base):
    """One tag of one passage: what tag filters of archival search join on."""

    __tablename__ = "passage_tags"

    passage_id: Mapped[str] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class DeliveryRow(Base):
    """The durable mailbox: a message on its way to an agent, written in the sender's step
    transaction, marked done in the one recording it in the target's history: done once."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    sender_agent_id: Mapped[str | None] = mapped_column(String(64))
    sender_run_id: Mapped[str | None] = mapped_column(String(64))
    trace_id: Mapped[str | None] = mapped_column(String(64), index=True)
    traceparent: Mapped[str | None] = mapped_column(String(64))  # the send's span (W3C)
    tracestate: Mapped[str | None] = mapped_column(Text)  # its W3C tracestate, if any
    chain: Mapped[list[Any]]
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    result_run_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # What it carries: null, a message from another agent; "sleeptime", a primary agent's
    # recent conversation for its sleep-time agent (given as it is, not as a message).
    kind: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index(None, "status", "available_at"),)
