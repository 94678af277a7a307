"""Drill: SIGKILL the server during 50 send-and-wait chains. After the restart every chain
completes: a child that had answered delivers its reply to its waiting parent, which goes
on; a child that had not answered runs on; nothing runs twice (each agent's stored steps
are exactly those of one chain, each child has one run), and the model was asked again
only for calls the kill cut before their answers were stored."""

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.chains import check_completed, start_chain, wait_until_ended
from tests.support.servers import ServerProcess

CHAINS = 50


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_during_50_chains_completes_every_chain_once(
    backend: str, database_factory: Any, tmp_path: Path
) -> None:
    calls = tmp_path / "model-calls.log"
    calls.touch()
    server = ServerProcess(database_factory(backend), tmp_path, env={"CHAIN_CALL_LOG": str(calls)})
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            # Children answer at spread-out times, so the kill finds chains at every stage.
            chains = [start_chain(http, n, child_latency_ms=300 + 60 * n) for n in range(CHAINS)]
            at_kill = wait_until_ended(http, chains, 8, timeout=60)
        server.kill()
        calls_at_kill = Counter(calls.read_text().splitlines())
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            ended = wait_until_ended(http, chains, CHAINS, timeout=120)
            for chain in chains:
                check_completed(http, chain)
    finally:
        server.stop()
    seen = Counter(line.split(" ")[0] for line in calls.read_text().splitlines())
    # Chains whose parent had asked (its first model call answered) while its child had not
    # answered yet: the kill cut them mid-wait.
    waiting_at_kill = [
        n
        for n in range(CHAINS)
        if calls_at_kill[f"parent chain-{n}"] == 1 and not calls_at_kill[f"child chain-{n}"]
    ]
    print(  # the drill's numbers, for the report (pytest -s)
        f"\n[{backend}] chains {CHAINS}, kills 1, finished at the kill {at_kill['completed']}, "
        f"waiting on their child at the kill {len(waiting_at_kill)}; model calls expected "
        f"{3 * CHAINS} (parents {2 * CHAINS}, children {CHAINS}), answered "
        f"{sum(seen.values())} ({dict(seen)}), of them before the kill "
        f"{sum(calls_at_kill.values())}"
    )
    assert 8 <= at_kill["completed"] < CHAINS, f"the kill should land mid-drill: {at_kill}"
    assert waiting_at_kill, "the kill should cut some chains mid-wait"
    assert ended == Counter({"completed": CHAINS}), ended
    # Asked again only where the kill cut a call before its answer was stored: at most
    # once per agent.
    assert 3 * CHAINS <= sum(seen.values()) <= 3 * CHAINS + 2 * CHAINS
