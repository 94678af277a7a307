"""The composition root: settings in, a database and a running agent runtime out."""

from dataclasses import dataclass

from troupe.agent.deps import LoopDeps
from troupe.agent.executor import RunExecutor
from troupe.config import Settings
from troupe.llm.registry import resolve_model
from troupe.llm.warm import prepare_configured_providers
from troupe.messaging.dispatcher import Dispatcher
from troupe.messaging.locks import AgentLocks, PostgresAgentLock
from troupe.messaging.tools import CrossAgentToolset
from troupe.services.tools import sync_builtin_tools
from troupe.store import Database
from troupe.tools import registry as tool_registry
from troupe.tools.builtin import BUILTIN_TOOLS
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.core import core_registry
from troupe.tools.registry import RunBefore, ToolRegistry
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


async def start_services(settings: Settings) -> Services:
    db = Database(settings.resolved_database_url(), sqlite_synchronous=settings.sqlite_synchronous)
    await db.migrate()
    await prepare_configured_providers()  # not at an agent's first step, on the event loop
    messaging = settings.messaging()
    registry = core_registry()
    runtime = LoopDeps(
        db=db,
        resolve_model=resolve_model,
        locks=AgentLocks(
            settings.agent_queue_timeout,
            PostgresAgentLock(db.lock_engine) if db.lock_engine is not None else None,
        ),
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
        registry=registry,
    )
    executor = RunExecutor(runtime, single_process=db.is_sqlite)
    cross_agent = CrossAgentToolset(messaging)
    cross_agent.bind(executor)
    _register_cross_agent(registry, cross_agent)
    await sync_builtin_tools(db, registry)
    dispatcher = Dispatcher(executor, messaging)
    await executor.start()
    await dispatcher.start()
    return Services(db, registry, runtime, executor, dispatcher)


def _register_cross_agent(registry: ToolRegistry, toolset: CrossAgentToolset) -> None:
    """Until the cross-agent tools register themselves (messaging), their records here."""

    def waiting(name: str) -> RunBefore:
        async def run(caller: ToolCaller, arguments: dict[str, object]) -> ToolOutcome:
            return await toolset.call(caller, name, dict(arguments))

        return run

    defaults = (
        "send_message_to_agent_async",
        "send_message_to_agent_and_wait_for_reply",
        "send_message_to_agents_matching_all_tags",
    )
    for name in (*defaults, "send_message_to_agents_matching_tags"):
        declared = BUILTIN_TOOLS[name]
        in_step = toolset.transactional.get(name)
        registry.register(
            tool_registry.BuiltinTool(
                name=name,
                tool_type=declared.tool_type,
                description=declared.description,
                source_code=declared.source_code,
                json_schema=declared.json_schema,
                run=None if in_step else waiting(name),
                run_in_step=in_step,
                ends_turn=in_step is not None,
                heartbeat=in_step is None,
                default_set="multi_agent" if name in defaults else None,
            )
        )


async def stop_services(services: Services) -> None:
    await services.dispatcher.stop()
    await services.executor.stop()
    await services.runtime.locks.close()
    await services.db.dispose()
