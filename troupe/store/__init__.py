"""Persistence: tables, migrations and small async repository functions per resource."""

from troupe.store import file_tables, mcp_tables  # noqa: F401  (their tables join Base.metadata)
from troupe.store.db import Database

__all__ = ["Database"]
