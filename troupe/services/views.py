"""Rows to wire models: the one place storage shapes turn into Letta's shapes."""

import json
from typing import Any

from troupe.agent.messages import Message
from troupe.agent.token_stream import Piece
from troupe.runs.run_metadata import shown_metadata
from troupe.schemas.agents import AgentState, Memory
from troupe.schemas.blocks import Block
from troupe.schemas.common import EmbeddingConfig, LLMConfig
from troupe.schemas.groups import Group
from troupe.schemas.identities import Identity, IdentityProperty
from troupe.schemas.messages import (
    ApprovalRequestMessage,
    ApprovalResponseMessage,
    AssistantMessage,
    CompactionStats,
    EventMessage,
    LettaMessage,
    ReasoningMessage,
    Run,
    SummaryMessage,
    SystemMessage,
    ToolCallBody,
    ToolCallMessage,
    ToolReturn,
    ToolReturnMessage,
    UsageStatistics,
    UserMessage,
)
from troupe.schemas.steps import Step
from troupe.schemas.summaries import CompactionSettings
from troupe.schemas.tool_variables import AgentEnvironmentVariable
from troupe.schemas.tools import Tool
from troupe.services.folder_views import folder_view
from troupe.services.history_head import system_message_id
from troupe.services.model_settings_view import model_settings_of
from troupe.store.agents import AgentBundle
from troupe.store.groups import GroupBundle
from troupe.store.identities import LinkedIdentity
from troupe.store.tables import BlockRow, MessageRow, RunRow, StepRow, ToolRow
from troupe.store.variable_tables import AgentVariableRow

# What an agent created without an embedding stores (the column is not nullable): shown as null.
NO_EMBEDDING: dict[str, Any] = {}


def block_view(row: BlockRow) -> Block:
    return Block(
        id=row.id,
        label=row.label,
        value=row.value,
        limit=row.char_limit,
        description=row.description,
        metadata=row.metadata_,
        read_only=row.read_only,
        is_template=row.is_template,
        name=row.template_name,
        template_name=row.template_name,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def tool_view(row: ToolRow) -> Tool:
    return Tool(
        id=row.id,
        name=row.name,
        description=row.description,
        tags=list(row.tags),
        source_code=row.source_code,
        source_type=row.source_type,
        json_schema=row.json_schema,
        args_json_schema=row.args_json_schema,
        tool_type=row.tool_type,
        return_char_limit=row.return_char_limit,
        metadata=row.metadata_,
        default_requires_approval=bool(row.default_requires_approval),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def identity_view(linked: LinkedIdentity) -> Identity:
    row = linked.row
    return Identity(
        id=row.id,
        identifier_key=row.identifier_key,
        name=row.name,
        identity_type=row.identity_type,  # type: ignore[arg-type]  # checked when written
        project_id=row.project_id,
        agent_ids=linked.agent_ids,
        block_ids=linked.block_ids,
        properties=[IdentityProperty.model_validate(p) for p in row.properties],
    )


def variable_view(row: AgentVariableRow) -> AgentEnvironmentVariable:
    return AgentEnvironmentVariable(
        id=row.id,
        agent_id=row.agent_id,
        key=row.key,
        value=row.value,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def agent_view(bundle: AgentBundle, tool_cache: dict[str, Tool] | None = None) -> AgentState:
    """`tool_cache` lets a page of agents share one Tool object per distinct tool."""
    agent = bundle.agent
    cache = tool_cache if tool_cache is not None else {}
    tools = [cache.get(t.id) or cache.setdefault(t.id, tool_view(t)) for t in bundle.tools]
    blocks = [block_view(b) for b in bundle.blocks]
    embedding = (
        EmbeddingConfig.model_validate(agent.embedding_config) if agent.embedding_config else None
    )
    managed = group_view(bundle.managed_group) if bundle.managed_group else None
    variables = [variable_view(v) for v in bundle.variables]
    llm_config = LLMConfig.model_validate(agent.llm_config)
    return AgentState(
        id=agent.id,
        name=agent.name,
        description=agent.description,
        system=agent.system,
        agent_type=agent.agent_type,
        model=agent.model,
        embedding=embedding.handle if embedding else None,
        llm_config=llm_config,
        model_settings=model_settings_of(llm_config),
        response_format=llm_config.response_format,
        embedding_config=embedding,
        tags=bundle.tags,
        tools=tools,
        tool_rules=list(agent.tool_rules),
        memory=Memory(blocks=blocks),
        blocks=blocks,
        sources=[folder_view(f) for f in bundle.folders],
        identity_ids=bundle.identity_ids,
        identities=[identity_view(i) for i in bundle.identities],
        metadata=agent.metadata_,
        compaction_settings=(
            CompactionSettings.model_validate(agent.compaction_settings)
            if agent.compaction_settings
            else None
        ),
        enable_sleeptime=managed is not None and managed.manager_type == "sleeptime",
        multi_agent_group=managed,
        managed_group=managed,
        message_ids=[system_message_id(agent.id), *bundle.message_ids],
        secrets=variables,
        tool_exec_environment_variables=variables,
        created_at=agent.created_at,
        updated_at=agent.updated_at,
    )


def _compaction(row: MessageRow | Message, common: dict[str, Any]) -> LettaMessage:
    stats = getattr(row, "compaction", None) or {}
    if row.message_type == "event_message":
        return EventMessage(event_data=stats, **common)
    figures = CompactionStats(**stats) if stats else None
    return SummaryMessage(summary=row.content or "", compaction_stats=figures, **common)


def group_view(bundle: GroupBundle) -> Group:
    group = bundle.group
    return Group(
        id=group.id,
        manager_type=group.manager_type,
        agent_ids=bundle.agent_ids,
        description=group.description,
        project_id=group.project_id,
        shared_block_ids=bundle.block_ids,
        manager_agent_id=group.manager_agent_id,
        termination_token=group.termination_token,
        max_turns=group.max_turns,
        sleeptime_agent_frequency=group.sleeptime_agent_frequency,
        turns_counter=group.turns_counter,
        last_processed_message_id=group.last_processed_message_id,
        max_message_buffer_length=group.max_message_buffer_length,
        min_message_buffer_length=group.min_message_buffer_length,
        hidden=group.hidden,
    )


def _user_content(row: MessageRow | Message) -> str | list[dict[str, Any]]:
    """The text, or with images the parts as the client sent them: text, then images."""
    if not row.images:
        return row.content or ""
    text = [{"type": "text", "text": row.content}] if row.content else []
    return text + [{"type": "image", "source": source} for source in row.images]


def common_fields(row: MessageRow | Message) -> dict[str, Any]:
    """The fields every Letta message type has, in the models' order."""
    return {
        "id": row.id,
        "date": row.created_at,
        "name": row.name,
        "otid": row.otid,
        "run_id": row.run_id,
        "step_id": row.step_id,
        "sender_id": row.sender_agent_id,
        "seq_id": row.seq,
    }


def message_view(row: MessageRow | Message) -> LettaMessage:
    """One message (stored, or just produced by a step) as the Letta message type it is."""
    common = common_fields(row)
    kind = row.message_type
    if kind == "user_message":
        return UserMessage(content=_user_content(row), **common)
    if kind == "system_message":
        return SystemMessage(content=row.content or "", **common)
    if kind == "assistant_message":
        return AssistantMessage(content=row.content or "", **common)
    if kind == "reasoning_message":
        return ReasoningMessage(reasoning=row.content or "", **common)
    if kind == "tool_call_message":
        call = ToolCallBody(
            name=row.tool_name or "",
            arguments=row.tool_arguments or "{}",
            tool_call_id=row.tool_call_id or "",
        )
        return ToolCallMessage(tool_call=call, tool_calls=[call], **common)
    if kind == "approval_request_message":
        call = ToolCallBody(
            name=row.tool_name or "",
            arguments=row.tool_arguments or "{}",
            tool_call_id=row.tool_call_id or "",
        )
        return ApprovalRequestMessage(tool_call=call, tool_calls=[call], **common)
    if kind == "approval_response_message":
        return _approval_response(row, common)
    if kind in ("summary_message", "event_message"):
        return _compaction(row, common)
    returned = ToolReturn(
        tool_return=row.content or "",
        status="error" if row.tool_status == "error" else "success",
        tool_call_id=row.tool_call_id or "",
        stdout=output_lines(row.stdout),
        stderr=output_lines(row.stderr),
    )
    fields = returned.model_dump(exclude={"type"})
    return ToolReturnMessage(**fields, tool_returns=[returned], **common)


def output_lines(output: str | None) -> list[str] | None:
    """A tool's captured output as Letta shows it: null when nothing was captured (a built-in
    tool, run in the server), `[]` when a sandboxed tool printed nothing, else the text."""
    if output is None:
        return None
    return [output] if output else []


def _approval_response(row: MessageRow | Message, common: dict[str, Any]) -> LettaMessage:
    """The answers as sent (stored as JSON), with the older single-answer fields filled from
    the first one, as Letta shows them."""
    approvals = json.loads(row.content or "[]")
    first = approvals[0] if approvals else {}
    return ApprovalResponseMessage(
        approvals=approvals,
        approval_request_id=first.get("tool_call_id"),
        approve=first.get("approve", True) if first.get("type") == "approval" else True,
        reason=first.get("reason"),
        **common,
    )


def run_view(row: RunRow) -> Run:
    usage = UsageStatistics(**row.usage) if row.usage else None
    duration = None
    if row.started_at and row.completed_at:
        duration = int((row.completed_at - row.started_at).total_seconds() * 1e9)
    return Run(
        id=row.id,
        agent_id=row.agent_id,
        status=row.status,  # type: ignore[arg-type]
        stop_reason=row.stop_reason,
        error=row.error,
        parent_run_id=row.parent_run_id,
        trace_id=row.trace_id,
        metadata=shown_metadata(row),
        usage=usage,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        total_duration_ns=duration,
        callback_url=row.callback_url,
        callback_sent_at=row.callback_sent_at,
        callback_status_code=row.callback_status_code,
        callback_error=row.callback_error,
        conversation_id=row.conversation_id,
    )


def step_view(row: StepRow, trace_id: str | None) -> Step:
    return Step(
        id=row.id,
        run_id=row.run_id,
        job_id=row.run_id,
        agent_id=row.agent_id,
        trace_id=trace_id,
        model=row.model,
        model_handle=row.model,
        provider_name=row.model.split("/", 1)[0] if "/" in row.model else None,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        total_tokens=row.prompt_tokens + row.completion_tokens,
        feedback=row.feedback,  # type: ignore[arg-type]
        tags=list(row.tags or []),
        created_at=row.created_at,
    )


def piece_view(piece: Piece) -> dict[str, Any]:
    """A piece of a message being written (token streaming) as Letta streamed it: the
    message's fields, with a piece of its content, reasoning, or call's arguments (a
    `ToolCallDelta`: the tool's name on the first piece only)."""
    fields: dict[str, Any] = {
        "id": piece.id,
        "date": piece.date.isoformat(),
        "name": piece.name,
        "otid": piece.otid,
        "run_id": piece.run_id,
        "step_id": piece.step_id,
        "sender_id": None,
        "seq_id": None,
        "message_type": piece.message_type,
    }
    if piece.message_type == "reasoning_message":
        fields.update(reasoning=piece.text, source="reasoner_model")
    elif piece.message_type == "assistant_message":
        fields["content"] = piece.text
    else:
        fields["tool_call"] = {
            "name": piece.tool_name,
            "arguments": piece.text or None,
            "tool_call_id": piece.tool_call_id,
        }
    return fields
