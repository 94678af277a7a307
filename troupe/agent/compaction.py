"""Summaries when the context fills. When a step's history no longer fits its budget (or
rows fell out of the window the process keeps), the oldest exchanges are evicted from the
context: a model folds them into the agent's summary (recursively: the new summary includes
the one before), the summary is stored, and it heads the context from then on. The evicted
rows stay stored, and `conversation_search` finds them.

Enough is evicted at once that the kept history fills only a share of the budget (Letta's
`sliding_window_percentage`), so a summary is written every so many turns, not at every
step. A step with no summary due does nothing more than before: the window says so itself
(`Window.fit`). `compact` is also what `POST /v1/agents/{id}/summarize` runs."""

import logging
from dataclasses import dataclass, field

from troupe.agent.deps import LoopDeps
from troupe.agent.history import HeldSummary, Window
from troupe.agent.messages import Message
from troupe.agent.request import context_window, history_budget, system_prompt
from troupe.agent.summarizer import DEFAULT_PROMPT, write_summary
from troupe.errors import TroupeError
from troupe.ids import new_id
from troupe.llm.base import Usage
from troupe.llm.handles import llm_config_for
from troupe.schemas.summaries import CompactionSettings
from troupe.store import messages as message_store
from troupe.store import summaries as summary_store
from troupe.store.history_tables import SummaryRow
from troupe.store.messages import History, StoredMessage
from troupe.store.step_reads import AgentProfile

log = logging.getLogger("troupe.agent")

DEFAULT_CLIP_CHARS = 50_000  # Letta's default `clip_chars`
SUMMARY_SHARE = 0.35  # of the history budget, the most a summary may take
MIN_SUMMARY_CHARS = 400
SELF_MODES = frozenset({"self_compact_all", "self_compact_sliding_window"})
ALL_MODES = frozenset({"all", "self_compact_all"})


@dataclass(frozen=True)
class Compaction:
    """How one agent's history is summarised, all defaults resolved."""

    model: str
    evict_all: bool
    keep: float
    clip_chars: int
    prompt: str


def settings_for(
    deps: LoopDeps, agent: AgentProfile, override: CompactionSettings | None = None
) -> Compaction:
    """The agent's `compaction_settings`, with the fields `override` sets taking their place."""
    settings = CompactionSettings.model_validate(agent.compaction_settings or {})
    if override is not None:
        settings = settings.model_copy(update=override.model_dump(exclude_unset=True))
    mode = settings.mode or "sliding_window"
    own = mode in SELF_MODES
    return Compaction(
        model=(None if own else settings.model) or deps.settings.summary_model or agent.model,
        evict_all=mode in ALL_MODES,
        keep=settings.sliding_window_percentage or deps.settings.summary_keep,
        clip_chars=settings.clip_chars or DEFAULT_CLIP_CHARS,
        prompt=settings.prompt or DEFAULT_PROMPT,
    )


@dataclass(frozen=True)
class Outcome:
    """Messages in context before and after (the system prompt and summary included), the
    summary now heading it, and the tokens the summariser took to write it."""

    before: int
    after: int
    summary: str
    usage: Usage = field(default_factory=Usage)


def step_usage(model_usage: Usage, compacted: Outcome | None) -> Usage:
    """A step's tokens: its model call's, and the summariser's if it wrote a summary first
    (a run's usage and its steps' metrics count what summarising cost)."""
    if compacted is None:
        return model_usage
    return Usage(
        model_usage.prompt_tokens + compacted.usage.prompt_tokens,
        model_usage.completion_tokens + compacted.usage.completion_tokens,
    )


def compaction_notes(
    outcome: Outcome, agent: AgentProfile, run_id: str, step_id: str
) -> list[Message]:
    """What a turn asked for `include_compaction_messages` shows of the summary its step
    wrote, as Letta: an event message, then the summary message. Neither is stored."""
    stats = {
        "trigger": "context_window_exceeded",
        "context_window": context_window(agent),
        "messages_count_before": outcome.before,
        "messages_count_after": outcome.after,
    }
    event = Message("event_message", run_id=run_id, step_id=step_id, compaction=stats)
    summary = Message("summary_message", content=outcome.summary, run_id=run_id, step_id=step_id)
    summary.compaction = stats
    return [event, summary]


def in_context(window: Window) -> int:
    shown = window.summary is not None and window.summary.message is not None
    return 1 + shown + window.rows


def evictable(window: Window, how: Compaction, budget: int, protect_newest: bool) -> int:
    """How many of the oldest exchanges go: all that may (`evict_all`), else enough that the
    rest fills at most `keep` of the budget (or of the history, when it fits already) and of
    the window's row bound. A turn in progress keeps its own exchange."""
    exchanges = window.exchanges
    candidates = max(0, len(exchanges) - 1) if protect_newest else len(exchanges)
    if how.evict_all:
        return candidates
    tokens, rows = sum(e.tokens for e in exchanges), window.rows
    keep_tokens = how.keep * min(budget, tokens)
    keep_rows = how.keep * window.limit_rows
    count = 0
    while count < candidates and (tokens > keep_tokens or rows > keep_rows):
        tokens -= exchanges[count].tokens
        rows -= len(exchanges[count].rows)
        count += 1
    return count


async def compact(
    deps: LoopDeps,
    agent: AgentProfile,
    history: History,
    window: Window,
    budget: int,
    how: Compaction,
    *,
    protect_newest: bool,
) -> Outcome:
    """Evict and summarise (see the module docstring); nothing happens when nothing is to go."""
    before = in_context(window)
    count = evictable(window, how, budget, protect_newest)
    rows: list[StoredMessage] = [row for e in window.exchanges[:count] for row in e.rows]
    previous = window.summary
    if window.first_seq > window.summarized_seq + 1:  # rows that already left the window
        async with deps.db.read() as session:
            gap = await message_store.messages_between(
                session, history, window.summarized_seq, window.first_seq, window.limit_rows
            )
        rows = [*gap, *rows]
    if not rows:
        return Outcome(before, before, previous.text if previous is not None else "")
    through = window.exchanges[count - 1].rows[-1].seq if count else window.first_seq - 1
    text, usage = await write_summary(
        deps.resolve_model(how.model),
        prompt=how.prompt,
        previous=previous.text if previous is not None else "",
        rows=rows,
        limit_chars=min(how.clip_chars, max(MIN_SUMMARY_CHARS, int(budget * 4 * SUMMARY_SHARE))),
        context_window=_context_window(agent, how.model),
    )
    total = (previous.count if previous is not None else 0) + through - window.summarized_seq
    async with deps.db.write() as session:
        await summary_store.add_summary(
            session,
            SummaryRow(
                id=new_id("summary"),
                agent_id=agent.id,
                conversation_id=history.conversation_id,
                content=text,
                through_seq=through,
                message_count=total,
                model=how.model,
            ),
        )
    deps.history.summarized(history, window, HeldSummary.of(text, through, total), count)
    return Outcome(before, in_context(window), text, usage)


async def compact_for_step(
    deps: LoopDeps,
    agent: AgentProfile,
    history: History,
    window: Window,
    budget: int,
    *,
    turn_started: bool,
) -> Outcome | None:
    """A step's summary when one is due; None if it could not be written (the step goes on
    with its history trimmed, and the next step tries again: nothing is lost, the rows are
    stored)."""
    try:
        how = settings_for(deps, agent)
        return await compact(deps, agent, history, window, budget, how, protect_newest=turn_started)
    except TroupeError as exc:
        log.warning("no summary for agent %s: %s", agent.id, exc.message)
    except Exception:  # a summariser's bug must not end the agent's turn
        log.exception("no summary for agent %s", agent.id)
    return None


def _context_window(agent: AgentProfile, handle: str) -> int:
    if handle == agent.model:
        return context_window(agent)
    return llm_config_for(handle).context_window


async def compact_now(
    deps: LoopDeps, history: History, override: CompactionSettings | None = None
) -> Outcome:
    """A history summarised on demand (`POST /v1/agents/{id}/summarize`, a conversation's
    `.../compact`), with `override` in place of the agent's settings where it sets them.
    Callers hold the history's lock, and no turn of it is in progress: nothing is protected
    from eviction."""
    start = await deps.starts.read(history)
    system = system_prompt(start.agent, start.blocks, start.folders)
    budget = history_budget(deps, start.agent, system, start.tools.values())
    how = settings_for(deps, start.agent, override)
    return await compact(
        deps, start.agent, history, start.window, budget, how, protect_newest=False
    )
