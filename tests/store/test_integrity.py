"""The integrity check passes on a store the server wrote, and catches each kind of damage
done to it (it must be able to fail), on SQLite and PostgreSQL; `troupe check` says so too."""

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.server.helpers import make_agent, script, send
from tests.support.servers import REPO_ROOT, ServerProcess
from troupe.store import Database
from troupe.store.integrity import IntegrityReport, check_session, check_store
from troupe.store.tables import AgentBlockRow, BlockRow, DeliveryRow, MessageRow, RunRow

PONGER = "test/function:tests.support.models:ponger"
Corruption = Callable[[AsyncSession], Awaitable[None]]


def _write_a_busy_store(server: ServerProcess) -> None:
    """Tool calls and returns, a shared block, a ping delivered and answered by mail, and a
    run the provider failed."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        ponger = make_agent(http, model=PONGER, include_multi_agent_tools=True)
        asker = make_agent(
            http,
            include_multi_agent_tools=True,
            memory_blocks=[{"label": "human", "value": "Ada"}],
        )
        send(
            http,
            asker["id"],
            script(
                {"tool": "core_memory_append", "args": {"label": "human", "content": "x"}},
                {
                    "tool": "send_message_to_agent_async",
                    "args": {"message": "ping", "other_agent_id": ponger["id"]},
                },
            ),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            history = http.get(f"/v1/agents/{asker['id']}/messages").json()
            if any("pong" in (m.get("content") or "") for m in history):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the pong never came back")
        time.sleep(0.5)  # the asker's answer to the pong finishes
        # A conversation numbers its own history; its fork copies its tool call and return.
        conversation = http.post("/v1/conversations", params={"agent_id": asker["id"]}).json()
        told = http.post(
            f"/v1/conversations/{conversation['id']}/messages",
            json={
                "streaming": False,
                "input": script(
                    {"tool": "core_memory_append", "args": {"label": "human", "content": "y"}},
                    {"tool": "send_message", "args": {"message": "ok"}},
                ),
            },
        )
        assert told.status_code == 200, told.text
        forked = http.post(f"/v1/conversations/{conversation['id']}/fork")
        assert forked.status_code == 200, forked.text
        # A turn that waits for a human's approval: its run ends with `requires_approval`.
        careful = make_agent(
            http,
            memory_blocks=[{"label": "human", "value": "Ada"}],
            tool_rules=[{"type": "requires_approval", "tool_name": "core_memory_append"}],
        )
        asked = script({"tool": "core_memory_append", "args": {"label": "human", "content": "z"}})
        waiting = send(http, careful["id"], asked)
        assert waiting["stop_reason"]["stop_reason"] == "requires_approval"
        # A run the provider failed: status failed with Letta's stop reason for it.
        down = make_agent(http, model="test/function:tests.support.models:unreachable")
        assert send(http, down["id"], "hi")["stop_reason"]["stop_reason"] == "llm_api_error"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store_url(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> str:
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("integrity"))
    server.start()
    try:
        _write_a_busy_store(server)
    finally:
        server.stop()
    return server.database_url


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[Database]:
    database = Database(store_url)
    yield database
    await database.dispose()


async def test_a_store_the_server_wrote_is_intact(db: Database) -> None:
    report = await check_store(db, idle=True)
    assert report.ok, report.summary()
    assert report.counts["messages"] > 5
    assert report.counts["deliveries"] >= 2
    assert report.summary().startswith("store intact")


async def _first(session: AsyncSession, stmt: Any) -> Any:
    row = (await session.execute(stmt.limit(1))).scalars().first()
    assert row is not None, "the busy store has what this corruption needs"
    return row


def _of_type(message_type: str) -> Any:
    return select(MessageRow).where(MessageRow.message_type == message_type)


async def drop_a_run(session: AsyncSession) -> None:
    message = await _first(session, _of_type("user_message"))
    await session.execute(delete(RunRow).where(RunRow.id == message.run_id))


async def move_a_message_to_another_agents_run(session: AsyncSession) -> None:
    message = await _first(session, _of_type("user_message"))
    other = await _first(session, select(RunRow).where(RunRow.agent_id != message.agent_id))
    message.run_id = other.id


async def leave_a_gap_in_a_history(session: AsyncSession) -> None:
    newest = await _first(session, select(MessageRow).order_by(MessageRow.seq.desc()))
    newest.seq += 5


async def lose_a_tool_return(session: AsyncSession) -> None:
    returned = await _first(session, _of_type("tool_return_message"))
    await session.delete(returned)


async def lose_a_tool_call(session: AsyncSession) -> None:
    call = await _first(session, _of_type("tool_call_message"))
    await session.delete(call)


async def leave_a_run_running(session: AsyncSession) -> None:
    run = await _first(session, select(RunRow).where(RunRow.status == "completed"))
    run.status = "running"


async def finish_a_run_without_a_stop_reason(session: AsyncSession) -> None:
    run = await _first(session, select(RunRow).where(RunRow.status == "completed"))
    run.stop_reason = None


async def complete_a_run_that_failed(session: AsyncSession) -> None:
    run = await _first(session, select(RunRow).where(RunRow.stop_reason == "llm_api_error"))
    run.status = "completed"


async def give_a_delivery_an_unknown_status(session: AsyncSession) -> None:
    await session.execute(update(DeliveryRow).values(status="lost"))


async def reopen_a_done_delivery(session: AsyncSession) -> None:
    delivery = await _first(session, select(DeliveryRow).where(DeliveryRow.status == "done"))
    delivery.status = "pending"


async def process_a_delivery_twice(session: AsyncSession) -> None:
    """Another run of the target (one that recorded messages) claims the delivery too."""
    other = (
        select(RunRow, DeliveryRow.id)
        .join(DeliveryRow, DeliveryRow.target_agent_id == RunRow.agent_id)
        .where(DeliveryRow.status == "done", RunRow.id != DeliveryRow.result_run_id)
        .limit(1)
    )
    found = (await session.execute(other)).first()
    assert found is not None, "the asker got its pong after a run of its own"
    run, delivery_id = found
    run.request = {**run.request, "delivery_id": delivery_id}


async def leave_a_delivery_undelivered(session: AsyncSession) -> None:
    agent = await _first(session, select(RunRow))
    session.add(
        DeliveryRow(
            id="delivery-left",
            target_agent_id=agent.agent_id,
            chain=[],
            message="never delivered",
            status="pending",
            idempotency_key="delivery-left",
        )
    )


async def give_up_on_a_delivery(session: AsyncSession) -> None:
    delivery = await _first(session, select(DeliveryRow))
    delivery.status, delivery.result_run_id = "failed", None


async def zero_a_block_version(session: AsyncSession) -> None:
    block = await _first(session, select(BlockRow))
    block.version = 0


async def overfill_a_block(session: AsyncSession) -> None:
    block = await _first(session, select(BlockRow))
    block.value = "x" * (block.char_limit + 1)


async def rename_a_block_behind_its_attachments(session: AsyncSession) -> None:
    attached = await _first(session, select(AgentBlockRow))
    attached.label = attached.label + "-stale"


CORRUPTIONS: list[tuple[Corruption, str]] = [
    (drop_a_run, "message without a run"),
    (move_a_message_to_another_agents_run, "message in another agent's run"),
    (leave_a_gap_in_a_history, "history sequence with gaps"),
    (lose_a_tool_return, "tool call without exactly one return"),
    (lose_a_tool_call, "tool return without a call"),
    (leave_a_run_running, "run still unfinished on an idle server"),
    (finish_a_run_without_a_stop_reason, "finished run without a consistent stop reason"),
    (complete_a_run_that_failed, "finished run without a consistent stop reason"),
    (give_a_delivery_an_unknown_status, "delivery with an unknown status"),
    (reopen_a_done_delivery, "delivery processed but not marked done"),
    (process_a_delivery_twice, "delivery processed more than once"),
    (leave_a_delivery_undelivered, "delivery still undelivered on an idle server"),
    (give_up_on_a_delivery, "delivery given up on"),
    (zero_a_block_version, "block with an invalid version"),
    (overfill_a_block, "block over its limit"),
    (rename_a_block_behind_its_attachments, "attachment with a stale label"),
]


class _Undo(Exception):
    """Raised to roll the corruption back: every case starts from the intact store."""


async def _damaged_report(db: Database, corrupt: Corruption) -> IntegrityReport:
    """The report on the store with `corrupt` applied, in a transaction rolled back after."""
    report = IntegrityReport()
    try:
        async with db.write() as session:
            await corrupt(session)
            await session.flush()
            report = await check_session(session, idle=True)
            raise _Undo
    except _Undo:
        pass
    return report


@pytest.mark.parametrize(("corrupt", "kind"), CORRUPTIONS, ids=[k for _, k in CORRUPTIONS])
async def test_each_kind_of_damage_is_reported(
    db: Database, corrupt: Corruption, kind: str
) -> None:
    report = await _damaged_report(db, corrupt)
    assert not report.ok
    assert kind in report.problem_counts, report.summary()
    assert kind in report.summary()
    assert (await check_store(db, idle=True)).ok, "the damage was rolled back"


def _troupe_check(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "troupe", "check", "--db", url, *extra],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )


async def test_troupe_check_exits_zero_on_an_intact_store_and_one_on_damage(
    store_url: str, db: Database, tmp_path: Path
) -> None:
    intact = _troupe_check(store_url, "--idle")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "store intact" in intact.stdout

    async with db.write() as session:
        await zero_a_block_version(session)
    try:
        damaged = _troupe_check(store_url)
        assert damaged.returncode == 1, damaged.stdout + damaged.stderr
        assert "block with an invalid version: 1" in damaged.stdout
    finally:
        async with db.write() as session:
            await session.execute(update(BlockRow).where(BlockRow.version == 0).values(version=1))
    assert _troupe_check(store_url).returncode == 0


def test_troupe_check_writes_nothing_and_explains_a_url_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "troupe.db"
    result = _troupe_check(f"sqlite:///{missing}")
    assert result.returncode == 2
    assert "no SQLite store" in result.stderr
    assert not missing.parent.exists()
    bogus = _troupe_check("bogus://x")
    assert bogus.returncode == 2
    assert "Traceback" not in bogus.stderr
    assert "cannot read a troupe store" in bogus.stderr
