"""Messages across agents: list, read one, search; and the edit of one stored message."""

from collections.abc import Awaitable, Callable, Sequence

from troupe.errors import InvalidInput, NotFound
from troupe.runs.executor import RunExecutor
from troupe.schemas.message_search import (
    SEARCHED_TYPES,
    MessageEdit,
    MessageSearchRequest,
    MessageSearchResult,
)
from troupe.schemas.messages import LettaMessage
from troupe.services.conversations import messages_filter
from troupe.services.history_head import agent_headed_by, may_head_a_history, system_message
from troupe.services.message_groups import grouped
from troupe.services.views import message_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import all_messages as all_message_store
from troupe.store import messages as message_store
from troupe.store.all_messages import MessageQuery
from troupe.store.messages import History
from troupe.store.paging import Page
from troupe.store.tables import MessageRow

# The seam for search by meaning: given the request, the ids of the messages nearest to its
# query, best first. None until an embedder is configured; then `vector` and `hybrid`
# searches use it (hybrid: by meaning first, then by text for what it did not find).
MeaningSearch = Callable[[MessageSearchRequest], Awaitable[list[str]]]

EDITABLE = ("user_message", "system_message", "assistant_message", "reasoning_message")


async def list_all(
    db: Database, page: Page, types: Sequence[str] | None, conversation_id: str | None = None
) -> list[LettaMessage]:
    """Every agent's messages; with `conversation_id`, only that conversation's (`default`:
    those of every agent's default history)."""
    agent_id: str | None = None
    history: str | None = None
    if conversation_id is not None:
        agent_id, history = await messages_filter(db, conversation_id)
    async with db.read() as session:
        rows = await all_message_store.list_all_messages(
            session, page, types=types, agent_id=agent_id, conversation_id=history
        )
    return grouped([message_view(r) for r in rows])


async def get_one(db: Database, message_id: str) -> list[LettaMessage]:
    """Letta answers with the Letta messages a stored message makes: here always one. The
    system message that heads an agent's history (services.history_head) is not stored: it
    is served as the history shows it, now."""
    async with db.read() as session:
        try:
            return [message_view(await message_store.get_message(session, message_id))]
        except NotFound:
            # Only a miss with a head's form of id pays for this walk over the agents' ids.
            if not may_head_a_history(message_id):
                raise
            agent_id = agent_headed_by(message_id, await agent_store.all_agent_ids(session))
            if agent_id is None:
                raise
            bundle = await agent_store.load_bundle(session, agent_id)
    return [system_message(bundle.agent, bundle.blocks)]


async def search(
    db: Database, request: MessageSearchRequest, by_meaning: MeaningSearch | None = None
) -> list[MessageSearchResult]:
    """By text (any of the query's words, any case), newest first; by meaning too once an
    embedder is configured (`by_meaning`)."""
    found: list[MessageRow] = []
    async with db.read() as session:
        if by_meaning is not None and request.search_mode != "fts":
            for message_id in await by_meaning(request):
                found.append(await message_store.get_message(session, message_id))
        if request.search_mode != "vector" or by_meaning is None:
            query = MessageQuery(
                words=request.query.split() or [request.query],
                types=SEARCHED_TYPES,
                agent_id=request.agent_id,
                start=request.start_date,
                end=request.end_date,
            )
            seen = {row.id for row in found}
            found += [
                row
                for row in await all_message_store.find_messages(session, query, request.limit)
                if row.id not in seen
            ]
    return [_result(row) for row in found[: request.limit]]


def _result(row: MessageRow) -> MessageSearchResult:
    text_field = "reasoning" if row.message_type == "reasoning_message" else "content"
    return MessageSearchResult(
        message_type=row.message_type,
        message_id=row.id,
        agent_id=row.agent_id,
        created_at=row.created_at,
        **{text_field: row.content or ""},
    )


async def edit(
    executor: RunExecutor, agent_id: str, message_id: str, change: MessageEdit
) -> LettaMessage:
    """Change the text of one of an agent's messages (0.1.x); tool calls and returns stay as
    they ran."""
    if not change.sends_text():
        raise InvalidInput("send the new `content` (or `reasoning` for a reasoning message)")
    async with executor.rt.db.write() as session:
        row = await message_store.get_message(session, message_id)
        if row.agent_id != agent_id:
            raise NotFound(f"agent {agent_id} has no message {message_id}")
        if row.message_type not in EDITABLE:
            raise InvalidInput(f"a {row.message_type} cannot be edited; only {', '.join(EDITABLE)}")
        if change.message_type is not None and change.message_type != row.message_type:
            raise InvalidInput(
                f"message {message_id} is a {row.message_type}, not a {change.message_type}"
            )
        text = change.text_for(row.message_type)
        if text is None:
            field = "reasoning" if row.message_type == "reasoning_message" else "content"
            raise InvalidInput(
                f"message {message_id} is a {row.message_type}: send its new text as "
                f"`{field}` (`reasoning` edits a reasoning_message, `content` the others)"
            )
        row.content = text
        await session.flush()
        view = message_view(row)
        history = History(row.agent_id, row.conversation_id)
    executor.rt.history.forget(history)  # its next turn reads the edited text
    return view
