"""The composition root: settings in, a database and a running agent runtime out."""

import functools
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
from troupe.runs.callbacks import RunCallbacks
from troupe.runs.executor import RunExecutor
from troupe.runs.locks import AgentLocks
from troupe.services.providers import load_stored_keys
from troupe.services.tools import sync_builtin_tools
from troupe.store import Database
from troupe.store.advisory_locks import PostgresAgentLock
from troupe.tools.builtins import builtin_tools
from troupe.tools.core import core_registry
from troupe.tools.files.search import PassageSearch
from troupe.tools.files.tools import file_tools
from troupe.tools.mcp.connection import McpLimits
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


async def start_services(settings: Settings) -> Services:
    db = Database(settings.resolved_database_url(), sqlite_synchronous=settings.sqlite_synchronous)
    await db.migrate()
    await prepare_configured_providers()  # not at an agent's first step, on the event loop
    await load_stored_keys(db)
    messaging = settings.messaging()
    registry = core_registry()
    for tool in file_tools(PassageSearch(resolve_embedder)):
        registry.register(tool)
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
    )
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
    )
    locks = AgentLocks(
        settings.agent_queue_timeout,
        PostgresAgentLock(db.lock_engine) if db.lock_engine is not None else None,
    )
    executor = RunExecutor(
        runtime,
        locks,
        single_process=db.is_sqlite,
        callbacks=RunCallbacks(db, timeout_s=messaging.callback_timeout_s),
        upkeep=functools.partial(load_stored_keys, db),
    )
    # The registry is complete once the executor the cross-agent tools run turns with exists.
    CrossAgentTools(executor, messaging).register(registry)
    RemoteAgents(messaging, settings.a2a()).register(registry)
    await sync_builtin_tools(db, registry)
    dispatcher = Dispatcher(executor, messaging)
    await executor.start()
    await dispatcher.start()
    scheduler = Scheduler(executor, messaging)
    await scheduler.start()
    return Services(db, registry, runtime, executor, dispatcher, scheduler, mcp)


async def stop_services(services: Services) -> None:
    await services.scheduler.stop()
    await services.dispatcher.stop()
    await services.executor.stop()
    await services.mcp.close()
    await services.db.dispose()
