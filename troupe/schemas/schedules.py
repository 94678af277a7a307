"""Scheduled messages in letta-client 1.12.1's shapes (`client.agents.schedule`)."""

from typing import Literal

from pydantic import Field

from troupe.schemas.common import InputModel, OutputModel
from troupe.schemas.messages import MAX_MAX_STEPS, HttpUrlText, MessageCreate


class OneTimeSchedule(InputModel):
    type: Literal["one-time"] = "one-time"
    scheduled_at: float = Field(description="When to send, in Unix milliseconds.")


class RecurringSchedule(InputModel):
    type: Literal["recurring"]
    cron_expression: str = Field(
        min_length=1,
        max_length=200,
        description="Five cron fields (minute hour day-of-month month day-of-week), in UTC; "
        "a sixth field gives seconds.",
    )


Schedule = RecurringSchedule | OneTimeSchedule


class ScheduledMessageBody(InputModel):
    """What is sent when the schedule fires (also the create request, with `schedule`)."""

    messages: list[MessageCreate] = Field(min_length=1)
    callback_url: HttpUrlText | None = None
    include_return_message_types: list[str] | None = None
    max_steps: int | None = Field(default=None, ge=1, le=MAX_MAX_STEPS)


class ScheduleCreate(ScheduledMessageBody):
    schedule: Schedule


class ScheduleCreated(OutputModel):
    id: str
    next_scheduled_at: str | None = None


class ScheduledMessage(OutputModel):
    id: str
    agent_id: str
    message: ScheduledMessageBody
    next_scheduled_time: str | None = None
    schedule: Schedule


class ScheduleList(OutputModel):
    has_next_page: bool
    scheduled_messages: list[ScheduledMessage]


class ScheduleDeleted(OutputModel):
    success: Literal[True] = True
