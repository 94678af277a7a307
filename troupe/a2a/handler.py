"""The A2A operations of one troupe agent, as the SDK's `RequestHandler`: SendMessage and
SendStreamingMessage start a run of the agent (a task), GetTask reads it back, CancelTask
cancels it as DELETE/cancel does. The SDK's JSON-RPC dispatcher calls these for the 1.0 and
the 0.3 method names alike; the agent is the one of the endpoint's path
(`context.state["agent_id"]`, set by the route)."""

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from a2a.server.context import ServerCallContext
from a2a.server.events.event_queue import Event
from a2a.server.request_handlers.request_handler import RequestHandler
from a2a.types.a2a_pb2 import (
    AgentCard,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskArtifactUpdateEvent,
    TaskPushNotificationConfig,
    TaskStatusUpdateEvent,
)
from a2a.utils.errors import (
    ExtendedAgentCardNotConfiguredError,
    InvalidParamsError,
    InvalidRequestError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from google.protobuf.json_format import MessageToDict
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.a2a.tasks import Link, replies, reply_artifact, task_of
from troupe.agent.approvals import AwaitingApproval, awaiting_calls
from troupe.agent.messages import Message as Said
from troupe.agent.turn import InputMessage, TurnResult
from troupe.config import MessagingSettings
from troupe.errors import NotFound
from troupe.messaging.chain_guard import chain_refusal
from troupe.runs.executor import RunExecutor
from troupe.runs.new_runs import new_runs
from troupe.runs.request import RunRequest
from troupe.store import agents as agent_store
from troupe.store import conversations as conversation_store
from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store.messages import History
from troupe.store.paging import Page
from troupe.store.tables import RunRow

ALL_MESSAGES = Page(limit=10_000, order="asc")


class AgentTasks(RequestHandler):
    def __init__(self, executor: RunExecutor, settings: MessagingSettings) -> None:
        self.executor = executor
        self.settings = settings

    # -- messages: a run each ----------------------------------------------------------------

    async def on_message_send(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> Task | Message:
        """The task when the run has ended; at once (working) if the client asked not to
        wait (`returnImmediately`, 0.3's `blocking: false`)."""
        length = _history_length(params)  # refused before anything is recorded
        run = await self._start(params, context)
        work = _quiet(self.executor.spawn(self.executor.execute(run)))
        if not params.configuration.return_immediately:
            # Shielded: a client that goes away does not cut the turn in half.
            await asyncio.wait([asyncio.shield(work)])
        return await self._task(run.id, length)

    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        """The task (working), the agent's replies as they come (one artifact, appended
        to), then its final status."""
        run = await self._start(params, context)
        queue: asyncio.Queue[list[Said] | None] = asyncio.Queue()

        async def observe(rows: list[Said]) -> None:
            await queue.put(rows)

        async def execute() -> TurnResult:
            try:
                return await self.executor.execute(run, observe)
            finally:
                await queue.put(None)

        work = _quiet(self.executor.spawn(execute()))
        task = await self._task(run.id)
        yield task
        said = 0
        while (rows := await queue.get()) is not None:
            for text in replies(rows):
                yield TaskArtifactUpdateEvent(
                    task_id=run.id,
                    context_id=task.context_id,
                    artifact=reply_artifact([text]),
                    append=said > 0,
                )
                said += 1
        await asyncio.wait([work])  # its failure is the run's, read back below
        ended = await self._task(run.id)
        yield TaskStatusUpdateEvent(
            task_id=run.id, context_id=ended.context_id, status=ended.status
        )

    async def _start(self, params: SendMessageRequest, context: ServerCallContext) -> RunRow:
        """Record the run of the message for the endpoint's agent; refused, recording
        nothing, when it continues a task or would break the chain's limits."""
        agent_id = _agent_id(context)
        message = params.message
        if message.task_id:
            raise UnsupportedOperationError(
                message="a troupe task is one turn and takes no further message: send a new "
                "message (same contextId) without taskId"
            )
        text = _text_of(message)
        try:
            link = Link.of(message)
        except ValueError as bad:
            raise InvalidParamsError(message=str(bad)) from None
        async with self.executor.rt.db.read() as session:
            name = (await agent_store.names_of_agents(session, [agent_id])).get(agent_id)
            history = await _history(session, agent_id, message.context_id)
            waiting = awaiting_calls(await message_store.newest_step(session, history))
        if name is None:
            raise InvalidParamsError(message=f"there is no agent with id {agent_id!r}")
        if waiting:  # its input-required task is answered through the Letta API first
            raise InvalidRequestError(message=str(AwaitingApproval(agent_id, waiting)))
        refusal = chain_refusal(link.chain, agent_id, name, self.settings.max_hops)
        if refusal:
            raise InvalidRequestError(message=refusal)
        request = RunRequest(inputs=[InputMessage(role="user", text=text)], chain=link.chain)
        (run,) = new_runs(
            [(agent_id, request)],
            background=False,
            trace_id=link.trace_id,
            parent_run_id=link.parent_run_id,
            conversation_id=history.conversation_id or None,
            # The request's span (which joined the caller's `traceparent`): the run's parent.
            traceparent=self.executor.rt.telemetry.traceparent(),
            tracestate=self.executor.rt.telemetry.tracestate(),
        )
        run.metadata_ = {
            "a2a": {"context_id": message.context_id or None, "message_id": message.message_id}
        }
        try:
            (run,) = await self.executor.record([run])
        except NotFound as gone:  # deleted since the lookup
            raise InvalidParamsError(message=str(gone)) from None
        return run

    # -- tasks: runs read back -----------------------------------------------------------------

    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task | None:
        length = _checked_length(params.history_length, params.HasField("history_length"))
        run = await self._run(params.id, context)
        return await self._task(run.id, length)

    async def on_cancel_task(
        self, params: CancelTaskRequest, context: ServerCallContext
    ) -> Task | None:
        """Cancel the run and the runs it started, as the REST cancel does."""
        run = await self._run(params.id, context)
        if run.status not in run_store.ACTIVE:
            raise TaskNotCancelableError(
                message=f"task {run.id!r} has already ended ({run.status})"
            )
        await self.executor.cancellations.cancel([run.id])
        return await self._task(run.id)

    async def _run(self, task_id: str, context: ServerCallContext) -> RunRow:
        """The run of that id, if it is one of the endpoint's agent's."""
        async with self.executor.rt.db.read() as session:
            try:
                run = await run_store.get_run(session, task_id)
            except NotFound:
                raise TaskNotFoundError(message=f"there is no task {task_id!r}") from None
        if run.agent_id != _agent_id(context):
            raise TaskNotFoundError(message=f"task {task_id!r} is not one of this agent's")
        return run

    async def _task(self, run_id: str, history_length: int | None = None) -> Task:
        async with self.executor.rt.db.read() as session:
            run = await run_store.get_run(session, run_id)
            messages = await run_store.run_messages(session, run_id, ALL_MESSAGES)
        return task_of(run, messages, history_length)

    # -- what troupe does not offer over A2A -------------------------------------------------

    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        raise UnsupportedOperationError(message="list an agent's runs with GET /v1/runs")

    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        raise UnsupportedOperationError(
            message="follow a run with GET /v1/runs/{run_id}/stream (troupe's resumable stream)"
        )
        yield  # an async generator, as the interface declares

    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise PushNotificationNotSupportedError

    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        raise PushNotificationNotSupportedError

    async def on_delete_task_push_notification_config(
        self, params: DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        raise PushNotificationNotSupportedError

    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        raise ExtendedAgentCardNotConfiguredError


async def _history(session: AsyncSession, agent_id: str, context_id: str) -> History:
    """A context id naming one of the agent's conversations is that conversation; any
    other (or none) is the agent's default history."""
    if context_id.startswith("conv-"):
        try:
            conversation = await conversation_store.get_conversation(session, context_id)
        except NotFound:
            return History(agent_id)
        if conversation.agent_id == agent_id:
            return History(agent_id, conversation.id)
    return History(agent_id)


def _quiet(work: "asyncio.Task[TurnResult]") -> "asyncio.Task[TurnResult]":
    """A turn whose failure is the run's (recorded, and read back into the task), so its
    exception is taken here rather than logged as never retrieved."""
    work.add_done_callback(lambda done: done.cancelled() or done.exception())
    return work


def _agent_id(context: ServerCallContext) -> str:
    return str(context.state["agent_id"])


def _history_length(params: SendMessageRequest) -> int | None:
    config = params.configuration
    return _checked_length(config.history_length, config.HasField("history_length"))


def _checked_length(length: int, given: bool) -> int | None:
    """`historyLength` as asked (None: all of it); a negative one is refused."""
    if not given:
        return None
    if length < 0:
        raise InvalidParamsError(message=f"historyLength must be 0 or more, not {length}")
    return length


def _text_of(message: Message) -> str:
    """The message as the text the agent reads: text parts as they are, data parts as
    JSON. Files are not taken (troupe agents read files through folders)."""
    texts: list[str] = []
    for part in message.parts:
        kind = part.WhichOneof("content")
        if kind == "text":
            texts.append(part.text)
        elif kind == "data":
            data: Any = MessageToDict(part).get("data")
            texts.append(json.dumps(data, ensure_ascii=False))
        else:
            raise InvalidParamsError(
                message=f"a {kind} part is not taken: send text or data parts (upload files "
                "to a folder attached to the agent)"
            )
    text = "\n".join(texts)
    if not text.strip():
        raise InvalidParamsError(message="the message has no text: send a text part")
    return text
