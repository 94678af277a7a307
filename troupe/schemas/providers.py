"""Model provider settings (0.1.x `providers`). The API key is write-only: a request sets
it, no answer shows it (`api_key` is always null), and it is never logged."""

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from troupe.schemas.common import InputModel, OutputModel


class ProviderCreate(InputModel):
    name: str = Field(min_length=1, max_length=255)
    api_key: SecretStr = Field(max_length=10_000)


class ProviderUpdate(InputModel):
    id: str
    api_key: SecretStr = Field(max_length=10_000)


class Provider(OutputModel):
    id: str
    name: str
    api_key: None = Field(default=None, description="Write-only: never returned.")
    source: Literal["api", "environment"] = Field(
        description="troupe: set through this API, or configured by the server's environment."
    )
    updated_at: datetime | None = None
