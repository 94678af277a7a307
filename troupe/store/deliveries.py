"""The mailbox queue. Claims take a lease; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several
troupe processes claim side by side without taking the same delivery. An enqueue wakes the
dispatchers when it commits (troupe.store.delivery_wake)."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.ids import new_id
from troupe.store.delivery_wake import wake_on_commit
from troupe.store.tables import AgentRow, AgentToolRow, DeliveryRow, ToolRow


async def depth(session: AsyncSession) -> int:
    """Deliveries not delivered yet: waiting (or waiting to retry) and in progress."""
    stmt = select(func.count()).where(DeliveryRow.status.in_(("pending", "processing")))
    return int((await session.execute(stmt)).scalar_one())


async def enqueue(session: AsyncSession, row: DeliveryRow) -> None:
    """Queue a delivery in the caller's transaction; the dispatchers wake when it commits."""
    session.add(row)
    await wake_on_commit(session)


async def enqueue_message(
    session: AsyncSession,
    *,
    target_agent_id: str,
    sender_agent_id: str,
    sender_run_id: str,
    trace_id: str | None,
    message: str,
    kind: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> str:
    """Queue a new delivery of `message` (its id is also its idempotency key, what the
    receiver's processing is recorded under); its id."""
    delivery_id = new_id("delivery")
    await enqueue(
        session,
        DeliveryRow(
            id=delivery_id,
            target_agent_id=target_agent_id,
            sender_agent_id=sender_agent_id,
            sender_run_id=sender_run_id,
            trace_id=trace_id,
            traceparent=traceparent,
            tracestate=tracestate,
            chain=[],
            message=message,
            status="pending",
            attempts=0,
            idempotency_key=delivery_id,
            kind=kind,
        ),
    )
    return delivery_id


async def claim(
    session: AsyncSession,
    *,
    limit: int,
    token: str,
    now: datetime,
    lease_until: datetime,
    exclude: Collection[str] = (),
) -> list[DeliveryRow]:
    due = or_(
        (DeliveryRow.status == "pending") & (DeliveryRow.available_at <= now),
        (DeliveryRow.status == "processing") & (DeliveryRow.claimed_until < now),
    )
    due_ids = select(DeliveryRow.id).where(due)
    if exclude:
        due_ids = due_ids.where(DeliveryRow.id.not_in(list(exclude)))
    due_ids = (
        due_ids.order_by(DeliveryRow.created_at, DeliveryRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # One statement (it was a SELECT, an UPDATE and a SELECT again): a claim is on the path
    # of every delivery, between the sender's commit and the receiver's turn.
    stmt = (
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(due_ids.scalar_subquery()))
        .values(
            status="processing",
            claim_token=token,
            claimed_until=lease_until,
            attempts=DeliveryRow.attempts + 1,
        )
        .returning(DeliveryRow)
        .execution_options(populate_existing=True)
    )
    claimed = list((await session.execute(stmt)).scalars())
    return sorted(claimed, key=lambda row: (row.created_at, row.id))


async def mark_done(
    session: AsyncSession, delivery_id: str, token: str, run_id: str, now: datetime
) -> bool:
    """Done, if this claim still holds it; False means another worker took it over."""
    result = await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id == delivery_id,
            DeliveryRow.claim_token == token,
            DeliveryRow.status == "processing",
        )
        .values(status="done", result_run_id=run_id, completed_at=now, claimed_until=None)
    )
    return bool(getattr(result, "rowcount", 0))


async def release(
    session: AsyncSession,
    delivery_id: str,
    token: str,
    *,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """Give a claimed delivery back (to retry at `retry_at`), or fail it for good."""
    values: dict[str, object] = {"error": error, "claim_token": None, "claimed_until": None}
    if retry_at is None:
        values |= {"status": "failed", "completed_at": now}
    else:
        values |= {"status": "pending", "available_at": retry_at}
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, DeliveryRow.claim_token == token)
        .values(**values)
    )


async def renew(
    session: AsyncSession, delivery_ids: list[str], token: str, until: datetime
) -> None:
    """Extend this process's leases on deliveries it is still working on."""
    if delivery_ids:
        await session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.id.in_(delivery_ids),
                DeliveryRow.claim_token == token,
                DeliveryRow.status == "processing",
            )
            .values(claimed_until=until)
        )


async def reset_orphans(session: AsyncSession) -> None:
    """Single-process start-up: whatever was in flight belonged to a process that is gone."""
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.status == "processing")
        .values(status="pending", claim_token=None, claimed_until=None)
    )


@dataclass(frozen=True)
class Parties:
    """What a delivered message says about its two ends."""

    sender_name: str | None  # None: the sender was deleted since it sent
    receiver_tools: set[str]


async def parties(session: AsyncSession, delivery: DeliveryRow) -> Parties:
    sender = await session.get(AgentRow, delivery.sender_agent_id or "")
    stmt = (
        select(ToolRow.name)
        .join(AgentToolRow, AgentToolRow.tool_id == ToolRow.id)
        .where(AgentToolRow.agent_id == delivery.target_agent_id)
    )
    tools = set((await session.execute(stmt)).scalars())
    return Parties(sender.name if sender else None, tools)
