"""Sleep-time agents: after every N turns of a primary agent (its sleep-time group's
`sleeptime_agent_frequency`; every turn when unset), what happened since the last hand-over
goes to its sleep-time agents through the durable mailbox. The dispatcher runs each one as
a background run in the primary's trace (troupe's, and OpenTelemetry's: its run span is a
child of the primary's), so the primary's answer never waits for it; their memory edits are
the ordinary versioned block edits, so racing the primary loses nothing."""

from troupe.agent.turn import TurnResult
from troupe.runs.executor import RunExecutor
from troupe.store import deliveries
from troupe.store import groups as group_store
from troupe.store.tables import MessageRow, RunRow

KIND = "sleeptime"  # the deliveries' kind: the text is the sleep-time agent's input as it is
MAX_STEPS = 6  # a sleep-time turn: a few edits (its tool rules end it after one, by default)
TRANSCRIPT_MESSAGES = 50  # at most this many of the primary's newest messages are handed over
SHOWN = {
    "user_message": "user",
    "assistant_message": "assistant",
    "system_message": "system",
}


def sleeptime_text(messages: list[MessageRow]) -> str:
    """What a sleep-time agent is given (Letta's wording): its role, then the conversation."""
    lines = [
        f"{SHOWN[m.message_type]}: {m.content}"
        for m in messages
        if m.message_type in SHOWN and m.content
    ]
    return (
        "<system-reminder>\n"
        "You are a sleeptime agent - a background agent that asynchronously processes "
        "conversations after they occur.\n\n"
        "IMPORTANT: You are NOT the primary agent. You are reviewing a conversation that "
        "already happened between a primary agent and its user:\n"
        '- Messages labeled "assistant" are from the primary agent (not you)\n'
        '- Messages labeled "user" are from the primary agent\'s user\n\n'
        "Your primary role is memory management. Review the conversation and use your memory "
        "tools to update any relevant memory blocks with information worth preserving.\n"
        "</system-reminder>\n\n"
        "Messages:\n" + "\n".join(lines)
    )


class SleeptimeTrigger:
    """Listens to every turn's end; hands a primary's turns over to its sleep-time agents."""

    def __init__(self, executor: RunExecutor) -> None:
        self.db = executor.rt.db
        self.telemetry = executor.rt.telemetry
        executor.turn_listeners.append(self)

    def wants(self, run: RunRow, result: TurnResult) -> bool:
        """A turn that produced something, of an agent with a sleep-time group (most have
        none: the turn's start read it with the agent)."""
        produced = any(not r.is_input for r in result.rows)
        return produced and result.stop_reason != "cancelled" and result.sleeptime_group

    async def after_turn(self, run: RunRow, result: TurnResult) -> None:
        # The executor spawns this task inside the primary's `invoke_agent` span, so the span
        # now current is the primary's run: stored with the delivery, as an async send stores
        # its tool call's, it makes the sleep-time run that span's child wherever it runs.
        traceparent, tracestate = self.telemetry.traceparent(), self.telemetry.tracestate()
        produced = [r for r in result.rows if not r.is_input]
        async with self.db.read() as session:
            group = await group_store.sleeptime_group_of(session, run.agent_id)
        if group is None or not group.agent_ids:
            return
        async with self.db.write() as session:
            count = await group_store.count_turn(session, group.group.id)
            every = group.group.sleeptime_agent_frequency
            if every and count % every:
                return
            last = produced[-1].id
            previous = await group_store.hand_over(session, group.group.id, last)
            messages = await group_store.messages_up_to(
                session, run.agent_id, previous, last, TRANSCRIPT_MESSAGES
            )
            text = sleeptime_text(messages)
            for agent_id in group.agent_ids:
                await deliveries.enqueue_message(
                    session,
                    target_agent_id=agent_id,
                    sender_agent_id=run.agent_id,
                    sender_run_id=run.id,
                    trace_id=run.trace_id,
                    message=text,
                    kind=KIND,
                    traceparent=traceparent,
                    tracestate=tracestate,
                )
