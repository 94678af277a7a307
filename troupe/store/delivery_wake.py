"""How a dispatcher learns, at once, that a delivery was enqueued: right after the enqueuing
transaction commits. On PostgreSQL a NOTIFY, which reaches every troupe process on the
database (this one too) through LISTEN; on SQLite, which one process serves, a hook on the
committing session that calls this process's watchers. Without it a delivery waits for the
dispatcher's next poll."""

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from troupe.store import notices
from troupe.store.db import Database

CHANNEL = "troupe_mailbox"
_HOOKED = "troupe_wakes_mailbox"  # session.info key: the commit hook is already set

# SQLite: the callbacks of this process's dispatchers, by the engine their writes go through.
_watchers: dict[Engine, list[Callable[[], None]]] = {}


class Watch(Protocol):
    async def close(self) -> None: ...


async def wake_on_commit(session: AsyncSession) -> None:
    """Wake the dispatchers once `session`'s transaction commits (not if it rolls back)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Delivered to listeners when (and only if) this transaction commits.
        await notices.notify(session, CHANNEL)
        return
    sync_session = session.sync_session
    if sync_session.info.get(_HOOKED):
        return  # several sends in one step wake the dispatcher once
    sync_session.info[_HOOKED] = True
    event.listen(sync_session, "after_commit", _wake_watchers, once=True)


def _wake_watchers(session: Session) -> None:
    session.info.pop(_HOOKED, None)
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    for wake in list(_watchers.get(engine, ())):
        wake()


async def watch(db: Database, on_enqueued: Callable[[], None]) -> Watch:
    """Call `on_enqueued` after each commit that enqueued a delivery, until `close()`."""
    if db.is_sqlite:
        return _InProcessWatch(db.writer.sync_engine, on_enqueued)
    # Other processes' sends wake us too.
    return await notices.listen(db, CHANNEL, lambda _: on_enqueued())


class _InProcessWatch:
    def __init__(self, engine: Engine, on_enqueued: Callable[[], None]) -> None:
        self._engine, self._callback = engine, on_enqueued
        _watchers.setdefault(engine, []).append(on_enqueued)

    async def close(self) -> None:
        callbacks = _watchers.get(self._engine, [])
        if self._callback in callbacks:
            callbacks.remove(self._callback)
        if not callbacks:
            _watchers.pop(self._engine, None)
