"""Runs user tools for the agent loop: in the sandbox, with the agent's own variables and
its scoped credentials to call this server back."""

from collections.abc import Awaitable, Callable
from typing import Any

from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.sandbox import SANDBOX_VARIABLES, SandboxLimits, run_tool_in_sandbox
from troupe.tools.tokens import issue_tool_token
from troupe.tools.tool_env import tool_environment

AgentVariables = Callable[[str], Awaitable[dict[str, str]]]


class SandboxToolRunner:
    """`agent_variables`: reads an agent's variables for its tools (its `secrets`), asked
    only when one of its tools is about to run, so a turn without one never reads them."""

    def __init__(
        self,
        *,
        server_url: str,
        token_secret: str,
        limits: SandboxLimits,
        agent_variables: AgentVariables | None = None,
    ) -> None:
        self.server_url = server_url
        self.token_secret = token_secret
        self.limits = limits
        self.agent_variables = agent_variables

    async def run(
        self,
        ctx: ToolCaller,
        source_code: str,
        function_name: str,
        arguments: dict[str, Any],
        args_schema: dict[str, Any] | None = None,
    ) -> ToolOutcome:
        """`args_schema`: the tool's `args_json_schema`, whose models the tool runs with."""
        token = issue_tool_token(self.token_secret, ctx.agent_id)
        own = tool_environment(server_url=self.server_url, agent_id=ctx.agent_id, token=token)
        env = {**await self._variables_of(ctx.agent_id), **own}  # troupe's own names win
        agent = {"id": ctx.agent_id, "name": ctx.agent_name}
        return await self._run(source_code, function_name, arguments, env, agent, args_schema)

    async def _variables_of(self, agent_id: str) -> dict[str, str]:
        """The agent's variables, less those the sandbox sets itself (its PATH, HOME, ...):
        they keep each run in its own directory with its own packages."""
        if self.agent_variables is None:
            return {}
        found = await self.agent_variables(agent_id)
        return {k: v for k, v in found.items() if k not in SANDBOX_VARIABLES}

    async def run_unbound(
        self,
        source_code: str,
        function_name: str,
        arguments: dict[str, Any],
        env_vars: dict[str, str],
        args_schema: dict[str, Any] | None = None,
    ) -> ToolOutcome:
        """The caller's variables, then where the server is (no agent, so no token)."""
        env = {**env_vars, "TROUPE_URL": self.server_url, "LETTA_BASE_URL": self.server_url}
        return await self._run(source_code, function_name, arguments, env, None, args_schema)

    async def _run(
        self,
        source_code: str,
        function_name: str,
        arguments: dict[str, Any],
        env: dict[str, str],
        agent: dict[str, str] | None = None,
        args_schema: dict[str, Any] | None = None,
    ) -> ToolOutcome:
        result = await run_tool_in_sandbox(
            source_code=source_code,
            function_name=function_name,
            arguments=arguments,
            env=env,
            limits=self.limits,
            agent=agent,
            args_schema=args_schema,
        )
        # "" (not None) when the tool printed nothing: Letta's sandbox answers `[]` then, and
        # null only for tools that never ran in one.
        if not result.raised:
            return ToolOutcome(result.status, result.return_value, result.stdout, result.stderr)
        # As Letta words a tool that raised; what the tool wrote to stderr, then its frames.
        stderr = "\n".join(part for part in (result.stderr.rstrip(), result.traceback) if part)
        return ToolOutcome(
            "error",
            f"Error executing function {function_name}: {result.return_value}",
            result.stdout,
            stderr,
        )
