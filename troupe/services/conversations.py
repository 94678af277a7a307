"""Conversations (letta-client 1.x): histories of an agent's beside its default one. Each
has its own messages, summary, runs and turn lock; all share the agent's blocks, tools and
settings. The path id `default` with an `agent_id` names the agent's default history (what
`/v1/agents/{id}/messages` reads and writes); an agent id in its place does too (Letta's
deprecated spelling)."""

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.llm.handles import parse_handle
from troupe.runs.executor import RunExecutor
from troupe.schemas.conversations import (
    DEFAULT_CONVERSATION,
    Conversation,
    ConversationCreate,
    ConversationUpdate,
)
from troupe.services.history_head import system_message_id
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import conversations as conversation_store
from troupe.store.context_ids import in_context_ids
from troupe.store.conversations import ConversationFilter
from troupe.store.history_tables import ConversationRow
from troupe.store.messages import History
from troupe.store.paging import Page
from troupe.store.tables import utcnow


def conversation_view(row: ConversationRow, in_context: list[str]) -> Conversation:
    """`in_context`: the ids of the conversation's messages in context (store.context_ids)."""
    return Conversation(
        id=row.id,
        agent_id=row.agent_id,
        archived=row.archived,
        archived_at=row.archived_at,
        context_window_limit=row.context_window_limit,
        created_at=row.created_at,
        description=row.description,
        last_message_at=row.last_message_at,
        model=row.model,
        model_settings=row.model_settings,
        summary=row.summary,
        updated_at=row.updated_at,
        in_context_message_ids=[system_message_id(row.agent_id), *in_context],
    )


async def _views(session: AsyncSession, rows: list[ConversationRow]) -> list[Conversation]:
    """The conversations with their messages in context, read in one statement."""
    histories = [History(row.agent_id, row.id) for row in rows]
    context = await in_context_ids(session, histories)
    return [conversation_view(row, context[h]) for row, h in zip(rows, histories, strict=True)]


async def history_of(db: Database, conversation_id: str, agent_id: str | None) -> History:
    """The history a path id names (404 for an unknown conversation or agent; 422 for an
    `agent_id` that is not the conversation's own)."""
    async with db.read() as session:
        if conversation_id == DEFAULT_CONVERSATION:
            if not agent_id:
                raise InvalidInput(
                    "the `default` conversation is an agent's own history: send `agent_id` too"
                )
            await agent_store.get_agent_row(session, agent_id)
            return History(agent_id)
        if conversation_id.startswith("agent-"):
            await agent_store.get_agent_row(session, conversation_id)
            history = History(conversation_id)
        else:
            row = await conversation_store.get_conversation(session, conversation_id)
            history = History(row.agent_id, row.id)
        if agent_id and agent_id != history.agent_id:
            # Never run another agent than the conversation's own: say which is wrong.
            await agent_store.get_agent_row(session, agent_id)
            raise InvalidInput(
                f"conversation {conversation_id!r} belongs to agent {history.agent_id!r}, "
                f"not {agent_id!r}: leave `agent_id` out or send the conversation's own agent"
            )
        return history


async def listed_history(
    db: Database, agent_id: str, conversation_id: str | None
) -> History | None:
    """The history an agent's message list narrows to with `conversation_id` (Letta filters
    on the agent and the conversation both): the default one for none or `default`; None
    (nothing to list) for another agent's conversation; 404 for an unknown one."""
    if conversation_id is None or conversation_id == DEFAULT_CONVERSATION:
        return History(agent_id)
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        row = await conversation_store.get_conversation(session, conversation_id)
    return History(agent_id, row.id) if row.agent_id == agent_id else None


async def messages_filter(db: Database, conversation_id: str) -> tuple[str | None, str]:
    """The agent and history `GET /v1/messages?conversation_id=` lists: that conversation's
    (404 for an unknown one), or with `default` every agent's default history (None, "")."""
    if conversation_id == DEFAULT_CONVERSATION:
        return None, ""
    async with db.read() as session:
        row = await conversation_store.get_conversation(session, conversation_id)
    return row.agent_id, row.id


def _checked(body: ConversationCreate | ConversationUpdate) -> None:
    if body.model is not None:
        parse_handle(body.model)


async def create(db: Database, agent_id: str, body: ConversationCreate) -> Conversation:
    _checked(body)
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        row = await conversation_store.add_conversation(
            session,
            ConversationRow(
                id=new_id("conv"),
                agent_id=agent_id,
                **body.model_dump(exclude={"hidden"}),
                hidden=body.hidden,
            ),
        )
        return conversation_view(row, [])  # a new conversation has no messages


async def get(db: Database, conversation_id: str) -> Conversation:
    async with db.read() as session:
        row = await conversation_store.get_conversation(session, conversation_id)
        return (await _views(session, [row]))[0]


async def list_all(db: Database, found: ConversationFilter, page: Page) -> list[Conversation]:
    async with db.read() as session:
        if found.agent_id is not None:
            await agent_store.get_agent_row(session, found.agent_id)
        rows = await conversation_store.list_conversations(session, found, page)
        return await _views(session, rows)


async def update(db: Database, conversation_id: str, body: ConversationUpdate) -> Conversation:
    _checked(body)
    changes = body.model_dump(exclude_unset=True)
    async with db.write() as session:
        row = await conversation_store.get_conversation(session, conversation_id)
        if "archived" in changes:
            archived = bool(changes.pop("archived"))
            if archived != row.archived:
                row.archived, row.archived_at = archived, utcnow() if archived else None
        for field, value in changes.items():
            setattr(row, field, value)
        row.updated_at = utcnow()
        await session.flush()
        return (await _views(session, [row]))[0]


async def delete(executor: RunExecutor, conversation_id: str) -> None:
    async with executor.rt.db.write() as session:
        row = await conversation_store.get_conversation(session, conversation_id)
        history = History(row.agent_id, row.id)
        await conversation_store.delete_conversation(session, row)
    executor.rt.history.forget(history)  # the window this process kept of it


async def fork(
    db: Database,
    conversation_id: str,
    *,
    agent_id: str | None,
    message_id: str | None,
    hidden: bool,
) -> Conversation:
    """A new conversation of the same agent whose history is a copy of this one's (up to
    and including `message_id`, if given); the two go their own ways from then on."""
    source = await history_of(db, conversation_id, agent_id)
    async with db.write() as session:
        settings: dict[str, object] = {}
        if source.conversation_id:
            original = await conversation_store.get_conversation(session, source.conversation_id)
            settings = {
                name: getattr(original, name)
                for name in ("description", "summary", "model", "model_settings")
            }
            settings["context_window_limit"] = original.context_window_limit
        row = ConversationRow(
            id=new_id("conv"), agent_id=source.agent_id, hidden=hidden, **settings
        )
        await conversation_store.add_conversation(session, row)
        target = History(source.agent_id, row.id)
        await conversation_store.copy_history(session, source, target, message_id)
        return (await _views(session, [row]))[0]
