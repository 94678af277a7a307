"""Groups (Letta's multi-agent groups): what letta-client 0.1.x sends to create or change
one, and the Group shape both SDK lines read (1.x as an agent's `multi_agent_group`)."""

from typing import Literal

from pydantic import Field

from troupe.schemas.common import InputModel, OutputModel

# The manager types troupe runs; Letta also names "voice_sleeptime" and "swarm".
MANAGER_TYPES = ("round_robin", "supervisor", "dynamic", "sleeptime")
ManagerTypeName = Literal[
    "round_robin", "supervisor", "dynamic", "sleeptime", "voice_sleeptime", "swarm"
]
DEFAULT_TERMINATION_TOKEN = "DONE!"


class ManagerConfig(InputModel):
    """Any of Letta's manager configs (RoundRobinManager, SupervisorManager, DynamicManager,
    SleeptimeManager): one shape, the fields that apply depending on `manager_type`."""

    manager_type: ManagerTypeName = "round_robin"
    manager_agent_id: str | None = Field(default=None, max_length=64)
    termination_token: str | None = Field(default=None, max_length=255)
    max_turns: int | None = Field(default=None, ge=1, le=1000)
    sleeptime_agent_frequency: int | None = Field(default=None, ge=1)
    max_message_buffer_length: int | None = Field(default=None, ge=1)
    min_message_buffer_length: int | None = Field(default=None, ge=1)


class GroupCreate(InputModel):
    agent_ids: list[str]
    description: str = ""
    manager_config: ManagerConfig = Field(default_factory=ManagerConfig)
    project_id: str | None = None
    shared_block_ids: list[str] = Field(default_factory=list)
    hidden: bool | None = None


class GroupUpdate(InputModel):
    agent_ids: list[str] | None = None
    description: str | None = None
    manager_config: ManagerConfig | None = None
    project_id: str | None = None
    shared_block_ids: list[str] | None = None


class Group(OutputModel):
    id: str
    manager_type: str
    agent_ids: list[str]
    description: str
    project_id: str | None = None
    template_id: str | None = None
    base_template_id: str | None = None
    deployment_id: str | None = None
    shared_block_ids: list[str] = Field(default_factory=list)
    manager_agent_id: str | None = None
    termination_token: str | None = None
    max_turns: int | None = None
    sleeptime_agent_frequency: int | None = None
    turns_counter: int | None = None
    last_processed_message_id: str | None = None
    max_message_buffer_length: int | None = None
    min_message_buffer_length: int | None = None
    hidden: bool | None = None
