"""The composition root: settings in, a database and a running agent runtime out."""

from dataclasses import dataclass
from typing import Any

from troupe.agent.builtins import TransactionalTool
from troupe.agent.runtime import AgentRuntime
from troupe.config import Settings
from troupe.llm.registry import resolve_model
from troupe.messaging.cross_agent_tools import CrossAgentTools
from troupe.messaging.dispatcher import Dispatcher
from troupe.runs.executor import RunExecutor
from troupe.runs.locks import AgentLocks
from troupe.services.tools import sync_builtin_tools
from troupe.store import Database
from troupe.store.advisory_locks import PostgresAgentLock
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.registry import ToolRegistry
from troupe.tools.runner import SandboxToolRunner
from troupe.tools.sandbox import SandboxLimits
from troupe.tools.tokens import tool_token_secret


@dataclass
class Services:
    db: Database
    runtime: AgentRuntime
    executor: RunExecutor
    dispatcher: Dispatcher


async def start_services(settings: Settings) -> Services:
    db = Database(settings.resolved_database_url(), sqlite_synchronous=settings.sqlite_synchronous)
    await db.migrate()
    await sync_builtin_tools(db)
    messaging = settings.messaging()
    registry = ToolRegistry()
    runtime = AgentRuntime(
        db=db,
        resolve_model=resolve_model,
        user_tools=SandboxToolRunner(
            server_url=settings.server_url(),
            token_secret=tool_token_secret(settings),
            limits=SandboxLimits(
                timeout_s=settings.tool_timeout,
                memory_mb=settings.tool_memory_mb,
                max_processes=settings.tool_max_processes,
                max_disk_mb=settings.tool_max_disk_mb,
            ),
        ),
        cross_agent=_RegistryTools(registry),
    )
    locks = AgentLocks(
        settings.agent_queue_timeout,
        PostgresAgentLock(db.lock_engine) if db.lock_engine is not None else None,
    )
    executor = RunExecutor(runtime, locks, single_process=db.is_sqlite)
    CrossAgentTools(executor, messaging).register(registry)
    dispatcher = Dispatcher(executor, messaging)
    await executor.start()
    await dispatcher.start()
    return Services(db, runtime, executor, dispatcher)


async def stop_services(services: Services) -> None:
    await services.dispatcher.stop()
    await services.executor.stop()
    await services.db.dispose()


class _RegistryTools:
    """The registry's tools as `AgentRuntime.cross_agent`, until the loop consults the
    registry itself (the lead's change; then this goes)."""

    def __init__(self, registry: ToolRegistry) -> None:
        self.registry = registry

    @property
    def transactional(self) -> dict[str, TransactionalTool]:
        return {t.name: t.run_in_step for t in self.registry if t.run_in_step is not None}

    def handles(self, tool_name: str) -> bool:
        tool = self.registry.get(tool_name)
        return tool is not None and tool.run is not None

    def ends_turn(self, tool_name: str) -> bool:
        tool = self.registry.get(tool_name)
        return tool is not None and tool.ends_turn

    async def call(self, ctx: ToolCaller, tool_name: str, arguments: dict[str, Any]) -> ToolOutcome:
        tool = self.registry.get(tool_name)
        assert tool is not None
        assert tool.run is not None
        return await tool.run(ctx, arguments)
