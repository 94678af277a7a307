"""The messages in a history's context, as Letta shows them (`AgentState.message_ids`, a
conversation's `in_context_message_ids`), and the one change of that list troupe honours.

Letta keeps the list on the agent and the loop reads it; troupe computes the context at
every step (troupe.agent.history), so the list is read from the store
(troupe.store.context_ids): the system message's fixed id, then the history rows the next
step gives the model, oldest first.

Changing it (`PATCH /v1/agents/{id}` with `message_ids`) is honoured when nothing is lost:
the system message, then a newest part of the list as it is, starting at a user or system
message. The rows before that part leave the context the way summarised rows do: a row of
`summaries` marks through which sequence number the history is out of the window, carrying
the summary before it unchanged (troupe.agent.history shows no note for an empty one). The
rows stay stored, listed and searchable. Any other list is refused and changes nothing."""

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.services.history_head import system_message_id
from troupe.store import summaries as summary_store
from troupe.store.context_ids import ContextRow, in_context_rows
from troupe.store.history_tables import SummaryRow
from troupe.store.messages import History

# `summaries.model` of a row that marks a cut made through `message_ids`: no model wrote it.
CUT_BY_CLIENT = ""


def shown_ids(agent_id: str, rows: list[ContextRow]) -> list[str]:
    """The list Letta shows: the system message first, then the rows, oldest first."""
    return [system_message_id(agent_id), *(row.id for row in rows)]


def _refused(problem: str, shown: list[str], openings: list[str]) -> InvalidInput:
    return InvalidInput(
        f"message_ids: {problem}. troupe honours only dropping the oldest messages from the "
        f"context: the system message {shown[0]!r}, then the newest messages of the current "
        "`message_ids` in their order, starting at a user or system message (so a tool call "
        f"keeps its result); it can start at any of {openings!r}, or be the system message "
        "alone. Nothing was changed."
    )


def cut_through(agent_id: str, rows: list[ContextRow], wanted: list[str]) -> int | None:
    """The newest sequence number that leaves the context for `wanted` to be what it holds;
    None when `wanted` is what it holds already. InvalidInput for a list that cannot be
    honoured without losing or inventing something."""
    shown = shown_ids(agent_id, rows)
    if wanted == shown:
        return None
    openings = [row.id for row in rows if row.opening]
    if not wanted or wanted[0] != shown[0]:
        raise _refused("the system message must come first and stay", shown, openings)
    kept = wanted[1:]
    unknown = [i for i in kept if i not in shown[1:]]
    if unknown:
        raise _refused(f"{unknown[:5]!r} are not in the context now", shown, openings)
    start = len(rows) - len(kept)
    if start < 0 or [row.id for row in rows[start:]] != kept:
        raise _refused("the messages kept are not the newest ones in order", shown, openings)
    if not kept:
        return rows[-1].seq
    if not rows[start].opening:
        raise _refused(f"{kept[0]!r} is not a user or system message", shown, openings)
    return rows[start].seq - 1


async def keep_in_context(session: AsyncSession, history: History, wanted: list[str]) -> bool:
    """Make `wanted` the history's context (see `cut_through`) in the caller's transaction,
    whose caller holds the history's lock; False when it was so already."""
    rows = (await in_context_rows(session, [history]))[history]
    through = cut_through(history.agent_id, rows, wanted)
    if through is None:
        return False
    previous = (await summary_store.current_summaries(session, [history])).get(history)
    covered = previous.through_seq if previous is not None else 0
    await summary_store.add_summary(
        session,
        SummaryRow(
            id=new_id("summary"),
            agent_id=history.agent_id,
            conversation_id=history.conversation_id,
            content=previous.content if previous is not None else "",
            through_seq=through,
            message_count=(previous.message_count if previous is not None else 0)
            + through
            - covered,
            model=CUT_BY_CLIENT,
        ),
    )
    return True
