"""The log of passage changes per archive version (kept apart from tables.py, which holds
the rest of the storage shape; the store package imports this module, so the table is
always part of `Base.metadata`)."""

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from troupe.store.tables import Base


class PassageChangeRow(Base):
    """Which passage changed at one version of its archive (`vectors_version`): written by
    the triggers that move the version (migration 0019), read by the in-memory search to
    catch up from the version it holds; the last 10,000 versions of an archive are kept."""

    __tablename__ = "passage_changes"

    archive_id: Mapped[str] = mapped_column(
        ForeignKey("archives.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    passage_id: Mapped[str] = mapped_column(String(64))
