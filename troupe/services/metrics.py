"""/metrics: the Prometheus text of the metrics troupe counts as it works, with the gauges
of its state (mailbox depth, turns waiting on a lock, database pools) read at the scrape."""

from troupe.observability.metrics import PoolUse
from troupe.runs.executor import RunExecutor
from troupe.store import deliveries


async def exposition(executor: RunExecutor) -> bytes:
    db = executor.rt.db
    async with db.read() as session:
        depth = await deliveries.depth(session)
    return executor.rt.telemetry.metrics.exposition(
        mailbox_depth=depth,
        lock_waiters=executor.locks.waiting(),
        pools=[PoolUse(*use) for use in db.pools()],
    )
