"""Runs user tools for the agent loop: in the sandbox, with the calling agent's scoped
credentials to call this server back."""

from typing import Any

from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.sandbox import SandboxLimits, run_tool_in_sandbox
from troupe.tools.tokens import issue_tool_token
from troupe.tools.tool_env import tool_environment


class SandboxToolRunner:
    def __init__(self, *, server_url: str, token_secret: str, limits: SandboxLimits) -> None:
        self.server_url = server_url
        self.token_secret = token_secret
        self.limits = limits

    async def run(
        self, ctx: ToolCaller, source_code: str, function_name: str, arguments: dict[str, Any]
    ) -> ToolOutcome:
        token = issue_tool_token(self.token_secret, ctx.agent_id)
        env = tool_environment(server_url=self.server_url, agent_id=ctx.agent_id, token=token)
        agent = {"id": ctx.agent_id, "name": ctx.agent_name}
        return await self._run(source_code, function_name, arguments, env, agent)

    async def run_unbound(
        self,
        source_code: str,
        function_name: str,
        arguments: dict[str, Any],
        env_vars: dict[str, str],
    ) -> ToolOutcome:
        """The caller's variables, then where the server is (no agent, so no token)."""
        env = {**env_vars, "TROUPE_URL": self.server_url, "LETTA_BASE_URL": self.server_url}
        return await self._run(source_code, function_name, arguments, env)

    async def _run(
        self,
        source_code: str,
        function_name: str,
        arguments: dict[str, Any],
        env: dict[str, str],
        agent: dict[str, str] | None = None,
    ) -> ToolOutcome:
        result = await run_tool_in_sandbox(
            source_code=source_code,
            function_name=function_name,
            arguments=arguments,
            env=env,
            limits=self.limits,
            agent=agent,
        )
        if not result.raised:
            return ToolOutcome(
                result.status, result.return_value, result.stdout or None, result.stderr or None
            )
        # As Letta words a tool that raised; what the tool wrote to stderr, then its frames.
        stderr = "\n".join(part for part in (result.stderr.rstrip(), result.traceback) if part)
        return ToolOutcome(
            "error",
            f"Error executing function {function_name}: {result.return_value}",
            result.stdout or None,
            stderr or None,
        )
