"""The system message at the head of an agent's history, as Letta lists it: the first
message of `GET /v1/agents/{id}/messages` is a `system_message` holding the agent's system
prompt with its memory blocks. troupe compiles the prompt at every step rather than storing
it, so the list shows it as it is now, under a fixed id of the agent's; it is never part of
the history the model is given (the prompt is), nor of searches and summaries.

Paging treats it as the oldest message: it leads the first page in ascending order and ends
the last one in descending order, and a cursor naming it pages on from there."""

import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import TypeVar

from troupe.agent.prompt import render_system_prompt
from troupe.ids import otid_at
from troupe.schemas.messages import SystemMessage
from troupe.store.paging import Page
from troupe.store.step_reads import PromptBlock
from troupe.store.tables import AgentRow, BlockRow

T = TypeVar("T")
_NAMESPACE = uuid.UUID("6f1c2a52-1d2e-4f0e-9b0a-7e5d3c1a9b42")  # troupe's, for these ids


def system_message_id(agent_id: str) -> str:
    return f"message-{uuid.uuid5(_NAMESPACE, agent_id)}"


def may_head_a_history(message_id: str) -> bool:
    """Whether the id has the form of a head's (a version-5 UUID; stored messages have
    random ones), so that a wrong id costs no walk over the agents."""
    prefix, _, rest = message_id.partition("-")
    try:
        return prefix == "message" and uuid.UUID(rest).version == 5
    except ValueError:
        return False


def agent_headed_by(message_id: str, agent_ids: Iterable[str]) -> str | None:
    """The agent among `agent_ids` whose history's head has this id, if any (the id is a
    hash of the agent's: found by trying them)."""
    return next((a for a in agent_ids if system_message_id(a) == message_id), None)


def system_message(agent: AgentRow, blocks: list[BlockRow]) -> SystemMessage:
    message_id = system_message_id(agent.id)
    return SystemMessage(
        id=message_id,
        date=agent.created_at,
        otid=otid_at(message_id, 0),
        seq_id=0,
        content=render_system_prompt(
            agent.system,
            [
                PromptBlock(b.label, b.value, b.char_limit, b.read_only, b.description)
                for b in blocks
            ],
        ),
    )


class HeadPlan:
    """How one page of the history is read with the head in it: the page of stored rows to
    read (None: the page is empty), and where the head goes in what they give."""

    def __init__(self, page: Page, head_id: str, *, with_head: bool = True) -> None:
        """`with_head` False: a page of a list narrowed to types the head is not of; a
        cursor naming the head still pages on from where it stands."""
        self.limit = page.limit
        self.with_head = with_head
        self.ascending = page.order == "asc"
        self.reverse = False  # read oldest first, shown newest first
        self.place: str | None = None  # "front", "front-cut" (then cut to limit), "back"
        self.rows_page: Page | None = self._plan(page, head_id)

    def _plan(self, page: Page, head_id: str) -> Page | None:
        if page.after == head_id:  # pages on past the head: in ascending order, the rows
            return replace(page, after=None) if self.ascending else None
        if page.before == head_id:  # before the head: nothing older; newest first, all rows
            if self.ascending:
                return None
            self.reverse = True
            return replace(page, before=None, order="asc", from_end=False)
        if self.with_head:
            if self.ascending and page.after is None:
                self.place = "front" if page.backwards else "front-cut"
            elif not self.ascending and page.before is None:
                self.place = "back"
        return page

    def shown(self, rows: list[T], head: T) -> list[T]:
        """The page: the rows read, with the head where the oldest end was reached."""
        if self.reverse:
            return rows[::-1]
        if self.place == "front-cut":
            return [head, *rows][: self.limit]
        if self.place == "front" and len(rows) < self.limit:
            return [head, *rows]
        if self.place == "back" and len(rows) < self.limit:
            return [*rows, head]
        return rows
