"""send_message_to_a2a_agent: a troupe agent asks a remote A2A agent and waits for its
reply, with the official SDK's client. Held to the cross-agent tools' limits: the chain of
waiting agents (hop limit; the remote troupe checks it again, and its loop guard), and the
reply timeout, past which the remote task goes on and the caller hears it did not answer.
The call joins the caller's trace: the message carries the trace and the calling run
(`troupe.a2a.tasks.Link`), so a remote troupe records its run in the same trace, as a child
of the caller's run; the tool's answer names the remote task (= run) and trace.

Like fetch_webpage, it reaches only public addresses unless TROUPE_A2A_ALLOW_PRIVATE is on:
the URL is the model's choice, and the card it fetches names a second URL (the endpoint),
both checked."""

import asyncio
import json
import uuid
from typing import Any

import httpx
from a2a.types.a2a_pb2 import (
    ROLE_USER,
    TASK_STATE_CANCELED,
    TASK_STATE_COMPLETED,
    TASK_STATE_FAILED,
    TASK_STATE_INPUT_REQUIRED,
    TASK_STATE_REJECTED,
    AgentCard,
    GetTaskRequest,
    Message,
    Part,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError

from troupe.a2a import declaration
from troupe.a2a.tasks import Link
from troupe.config import A2ASettings, MessagingSettings
from troupe.messaging.chain_guard import chain_refusal
from troupe.messaging.cross_agent_tools import TOOL_TYPE, message_argument
from troupe.observability.context import current_traceparent, current_tracestate
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.registry import ToolRegistry, declare
from troupe.tools.web import checked_url
from troupe.tools.web_guard import Refused, refuse_private

# States after which a task changes no more, or waits for someone else than its caller.
SETTLED = {
    TASK_STATE_COMPLETED,
    TASK_STATE_FAILED,
    TASK_STATE_CANCELED,
    TASK_STATE_REJECTED,
    TASK_STATE_INPUT_REQUIRED,
}
POLL_S = 0.5  # reading back a task whose stream ended before it settled
PRIVATE_HINT = (
    "send_message_to_a2a_agent only reaches public addresses (TROUPE_A2A_ALLOW_PRIVATE=1 "
    "lets it reach agents on private networks)"
)


class RemoteAgents:
    def __init__(self, messaging: MessagingSettings, settings: A2ASettings) -> None:
        self.messaging = messaging
        self.settings = settings

    def register(self, registry: ToolRegistry) -> None:
        registry.register(declare(declaration.send_message_to_a2a_agent, TOOL_TYPE, run=self._send))

    async def _send(self, ctx: ToolCaller, arguments: dict[str, Any]) -> ToolOutcome:
        # The SDK's client (grpc and all: 19 MB and 0.3 s of CPU) is loaded by the first call,
        # not at every server's start: most servers never call a remote agent.
        from a2a.client import A2AClientError

        message = message_argument(arguments)
        url = str(arguments.get("agent_card_url") or "").strip()
        if message is None:
            return ToolOutcome.error("`message` must be non-empty text")
        chain = (*ctx.chain, ctx.agent_id)
        refusal = chain_refusal(chain, url, url, self.messaging.max_hops)
        if refusal:
            return ToolOutcome.error(refusal)
        timeout = self.messaging.reply_timeout_s
        link = Link(trace_id=ctx.trace_id, parent_run_id=ctx.run_id, chain=chain)
        started: list[str] = []  # the remote task's id, once it is known
        try:
            async with asyncio.timeout(timeout):
                return await self._ask(url, message, link, started)
        except TimeoutError:
            task = f" (task {started[0]})" if started else ""
            return ToolOutcome.error(
                f"no reply from the A2A agent at {url} within {timeout:g} s; "
                f"its task{task} may still go on"
            )
        except Refused as refused:
            return ToolOutcome.error(str(refused))
        except (A2AClientError, A2AError, httpx.HTTPError, ValueError) as exc:
            return ToolOutcome.error(f"the A2A agent at {url} could not be asked: {exc}")

    async def _ask(self, url: str, message: str, link: Link, started: list[str]) -> ToolOutcome:
        """Stream the message (so the task's id is known at once), then read the task back
        as it ended: its state, and all the agent said."""
        from a2a.client import A2ACardResolver, ClientConfig, ClientFactory  # see _send

        await self._check(url)
        token = self.settings.token_for(url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if traceparent := current_traceparent():  # the tool call's span: the remote's parent
            headers["traceparent"] = traceparent
            if tracestate := current_tracestate():
                headers["tracestate"] = tracestate
        async with httpx.AsyncClient(
            headers=headers, timeout=self.messaging.reply_timeout_s, trust_env=False
        ) as http:
            card = await A2ACardResolver(http, url, agent_card_path="").get_agent_card()
            for interface in card.supported_interfaces:
                await self._check(interface.url)
            # Streams when the card says the agent can; else the SDK sends and answers once.
            client = ClientFactory(ClientConfig(httpx_client=http)).create(card)
            request = SendMessageRequest(
                message=Message(
                    message_id=str(uuid.uuid4()),
                    role=ROLE_USER,
                    parts=[Part(text=message)],
                    metadata=link.to_metadata(),
                )
            )
            async for event in client.send_message(request):
                if event.HasField("message"):  # a stateless agent's direct answer
                    return ToolOutcome.ok(_answer(card, None, _texts(event.message)))
                if not started and (task_id := _task_id(event)):
                    started.append(task_id)
            if not started:
                raise ValueError("it answered neither a task nor a message")
            task = await client.get_task(GetTaskRequest(id=started[0]))
            while task.status.state not in SETTLED:
                await asyncio.sleep(POLL_S)
                task = await client.get_task(GetTaskRequest(id=task.id))
        return _outcome(card, task)

    async def _check(self, url: str) -> None:
        target = checked_url(url)
        if not self.settings.allow_private:
            await refuse_private(target, PRIVATE_HINT)


def _outcome(card: AgentCard, task: Task) -> ToolOutcome:
    said = [text for artifact in task.artifacts for text in _part_texts(artifact.parts)]
    if not said and task.status.HasField("message"):
        said = _texts(task.status.message)
    answer = _answer(card, task, said)
    ok = task.status.state == TASK_STATE_COMPLETED
    return ToolOutcome.ok(answer) if ok else ToolOutcome.error(answer)


def _answer(card: AgentCard, task: Task | None, said: list[str]) -> str:
    entry: dict[str, Any] = {"agent": card.name, "response": said}
    if task is not None:
        entry.update(task_id=task.id, state=_state_name(task.status.state))
        trace = dict(task.metadata).get("troupe_trace_id")
        if trace:
            entry["trace_id"] = trace
    return json.dumps(entry, ensure_ascii=False)


def _task_id(event: StreamResponse) -> str | None:
    if event.HasField("task"):
        return event.task.id
    if event.HasField("status_update"):
        return event.status_update.task_id
    if event.HasField("artifact_update"):
        return event.artifact_update.task_id
    return None


def _state_name(state: TaskState) -> str:
    return TaskState.Name(state).removeprefix("TASK_STATE_").lower().replace("_", "-")


def _texts(message: Message) -> list[str]:
    return _part_texts(message.parts)


def _part_texts(parts: Any) -> list[str]:
    return [part.text for part in parts if part.WhichOneof("content") == "text"]
