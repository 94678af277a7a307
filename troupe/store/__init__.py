"""Persistence: tables, migrations and small async repository functions per resource."""

from troupe.store.db import Database

__all__ = ["Database"]
