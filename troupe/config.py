"""Settings from the environment (`TROUPE_*`), with defaults that work on a fresh machine."""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8283


def default_data_dir() -> Path:
    """`$TROUPE_HOME`, else `$XDG_DATA_HOME/troupe`, else `~/.local/share/troupe`."""
    if home := os.environ.get("TROUPE_HOME"):
        return Path(home)
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "troupe"


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs people paste (`postgresql://`, `sqlite:///`) and pick async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TROUPE_", extra="ignore")

    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite in the data directory."
    )
    api_key: str | None = Field(
        default=None, description="When set, every /v1 route needs `Authorization: Bearer <key>`."
    )
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024, description="Requests with a larger body get 413."
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        default="NORMAL",
        description="SQLite `synchronous` pragma. NORMAL (WAL) survives a process crash; "
        "FULL also survives power loss at the cost of an fsync per commit.",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        data_dir = default_data_dir()
        data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{data_dir / 'troupe.db'}"
