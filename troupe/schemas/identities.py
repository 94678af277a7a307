"""Identities (0.1.x `identities`; letta-client 1.x attaches them to agents): the users or
organisations of an application, each with its own key, linked to agents and blocks."""

from typing import Any, Literal

from pydantic import Field

from troupe.schemas.common import InputModel, OutputModel

IdentityType = Literal["org", "user", "other"]


class IdentityProperty(InputModel):
    """A property of an identity."""

    key: str = Field(min_length=1, max_length=255)
    value: str | int | float | bool | dict[str, Any]
    type: Literal["string", "number", "boolean", "json"]


class IdentityCreate(InputModel):
    """Body of POST and PUT (upsert by `identifier_key` and `project_id`)."""

    identifier_key: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    identity_type: IdentityType
    project_id: str | None = Field(default=None, max_length=255)
    agent_ids: list[str] | None = None
    block_ids: list[str] | None = None
    properties: list[IdentityProperty] | None = None


class IdentityUpdate(InputModel):
    """Body of PATCH: properties merge by key, agents and blocks are added to the links."""

    identifier_key: str | None = Field(default=None, min_length=1, max_length=255)
    name: str | None = Field(default=None, min_length=1, max_length=255)
    identity_type: IdentityType | None = None
    agent_ids: list[str] | None = None
    block_ids: list[str] | None = None
    properties: list[IdentityProperty] | None = None


class Identity(OutputModel):
    id: str
    identifier_key: str
    name: str
    identity_type: IdentityType
    project_id: str | None = None
    agent_ids: list[str]
    block_ids: list[str]
    properties: list[IdentityProperty] = Field(default_factory=list)
