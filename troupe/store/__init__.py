"""Persistence: tables, migrations and small async repository functions per resource."""

from troupe.store import (  # noqa: F401  (their tables join Base.metadata)
    file_tables,
    group_tables,
    history_tables,
    identity_tables,
    mcp_tables,
    passage_change_table,
    schedule_tables,
    variable_tables,
)
from troupe.store.db import Database

__all__ = ["Database"]
