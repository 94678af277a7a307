"""The composition root: settings in, a database and a running agent runtime out."""

import functools
import gc
from dataclasses import dataclass

from troupe.a2a.outbound import RemoteAgents
from troupe.agent.deps import LoopDeps, LoopSettings
from troupe.config import Settings
from troupe.llm.embeddings import resolve_embedder
from troupe.llm.registry import resolve_model
from troupe.llm.warm import prepare_configured_providers
from troupe.messaging.cross_agent_tools import CrossAgentTools
from troupe.messaging.dispatcher import Dispatcher
from troupe.messaging.scheduler import Scheduler
from troupe.messaging.sleeptime import SleeptimeTrigger
from troupe.observability.telemetry import Telemetry
from troupe.runs.callbacks import RunCallbacks
from troupe.runs.executor import RunExecutor
from troupe.runs.locks import AgentLocks
from troupe.runs.takeover import Takeover
from troupe.services.providers import load_stored_keys
from troupe.services.tools import sync_builtin_tools
from troupe.store import Database
from troupe.store.advisory_locks import PostgresAgentLock
from troupe.store.agent_variables import environment_of
from troupe.store.process_liveness import ProcessLiveness
from troupe.tools.builtins import builtin_tools
from troupe.tools.core import core_registry
from troupe.tools.files.search import PassageSearch
from troupe.tools.files.tools import file_tools
from troupe.tools.mcp.limits import McpLimits
from troupe.tools.mcp.pool import McpPool
from troupe.tools.mcp.runner import McpToolRunner
from troupe.tools.registry import ToolRegistry
from troupe.tools.runner import SandboxToolRunner
from troupe.tools.sandbox import SandboxLimits
from troupe.tools.tokens import tool_token_secret


@dataclass
class Services:
    db: Database
    registry: ToolRegistry
    runtime: LoopDeps
    executor: RunExecutor
    dispatcher: Dispatcher
    scheduler: Scheduler
    mcp: McpPool
    takeover: Takeover | None = None


def _sandbox(settings: Settings, db: Database) -> tuple[SandboxLimits, SandboxToolRunner]:
    """The user tools' sandbox and its limits (MCP stdio servers run under them too)."""
    limits = SandboxLimits(
        timeout_s=settings.tool_timeout,
        memory_mb=settings.tool_memory_mb,
        max_processes=settings.tool_max_processes,
        max_disk_mb=settings.tool_max_disk_mb,
    )
    sandbox = SandboxToolRunner(
        server_url=settings.server_url(),
        token_secret=tool_token_secret(settings),
        limits=limits,
        agent_variables=functools.partial(environment_of, db),
    )
    return limits, sandbox


async def start_services(settings: Settings) -> Services:
    db = Database(settings.resolved_database_url(), sqlite_synchronous=settings.sqlite_synchronous)
    await db.migrate()
    await prepare_configured_providers()  # not at an agent's first step, on the event loop
    await load_stored_keys(db)
    messaging = settings.messaging()
    registry = core_registry()
    for tool in file_tools(PassageSearch(resolve_embedder)):
        registry.register(tool)
    limits, sandbox = _sandbox(settings, db)
    mcp = McpPool(
        McpLimits(
            call_timeout_s=settings.mcp_timeout,
            connect_timeout_s=settings.mcp_connect_timeout,
            sandbox=limits,
        )
    )
    for tool in builtin_tools(sandbox, settings.web()):
        registry.register(tool)
    runtime = LoopDeps(
        db=db,
        resolve_model=resolve_model,
        user_tools=sandbox,
        registry=registry,
        mcp_tools=McpToolRunner(db, mcp),
        settings=LoopSettings(
            summary_model=settings.summary_model, summary_keep=settings.summary_keep
        ),
        telemetry=Telemetry.from_environment(),
    )
    executor = RunExecutor(
        runtime,
        _agent_locks(settings, db),
        single_process=db.is_sqlite,
        stale_after_s=settings.run_stale_after,
        stream_ping_s=settings.stream_ping_interval,
        callbacks=RunCallbacks(db, timeout_s=messaging.callback_timeout_s),
        upkeep=functools.partial(load_stored_keys, db),
    )
    # The registry is complete once the executor the cross-agent tools run turns with exists.
    CrossAgentTools(executor, messaging).register(registry)
    SleeptimeTrigger(executor)  # hands primaries' turns over to their sleep-time agents
    RemoteAgents(messaging, settings.a2a()).register(registry)
    await sync_builtin_tools(db, registry)
    dispatcher = Dispatcher(executor, messaging)
    takeover = await _takeover(db, executor, dispatcher)
    await executor.start()
    await dispatcher.start()
    if takeover is not None:
        await takeover.start()
    scheduler = Scheduler(executor, messaging)
    await scheduler.start()
    settle_garbage_collector()
    return Services(db, registry, runtime, executor, dispatcher, scheduler, mcp, takeover)


# Allocations between young collections (Python's default: 700). A broadcast to 100 made
# ~40 young and ~4 middle collections, promoting the turns' short-lived objects (alive across
# their 200 ms model calls) into older generations to be walked again; at 10,000 its
# collections cost 57-75 ms of CPU over four broadcasts instead of 96-108, and the later
# broadcasts' median ratio went 3.35 -> 3.08 and 3.46 -> 2.88 × ideal (alternate runs,
# load 16, 2026-12-06).
YOUNG_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Fewer young collections (YOUNG_THRESHOLD), and start-up's objects frozen."""
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    freeze_start_up_objects()


def freeze_start_up_objects() -> None:
    """Leave what start-up made (modules, the SDKs, the app: ~340,000 objects) out of every
    later garbage collection. A full collection walks every tracked object: 0.2-0.3 s of CPU
    here, which lands on whatever is running, e.g. a broadcast to 100 workers (+0.4-0.5 x
    its ideal time). With these frozen it walks what was made since start: 0.03 s after
    six broadcasts to 100 (`gc.callbacks` in the server, 2026-12-06). Freed by reference
    counting as before; only cycles among them would no longer be collected, and what
    start-up makes lives as long as the process."""
    gc.collect()  # start-up's own garbage goes first, not into the frozen generation
    gc.freeze()


def _agent_locks(settings: Settings, db: Database) -> AgentLocks:
    cross_process = PostgresAgentLock(db.lock_engine) if db.lock_engine is not None else None
    return AgentLocks(settings.agent_queue_timeout, cross_process)


async def _takeover(db: Database, executor: RunExecutor, dispatcher: Dispatcher) -> Takeover | None:
    """On PostgreSQL: hold this process's liveness lock before it owns anything, and take
    over the work of processes that died (see troupe.runs.takeover)."""
    if db.lock_engine is None:
        return None
    liveness = ProcessLiveness(db.lock_engine, executor.owner)
    await liveness.start()

    async def recover() -> None:
        await executor.recover()
        dispatcher.wake()

    return Takeover(db, liveness, recover)


async def stop_services(services: Services) -> None:
    if services.takeover is not None:
        await services.takeover.stop()
    await services.scheduler.stop()
    await services.dispatcher.stop()
    await services.executor.stop()
    if services.takeover is not None:
        await services.takeover.close()
    await services.mcp.close()
    await services.db.dispose()
    services.runtime.telemetry.shutdown()  # export what is still batched
