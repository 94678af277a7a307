"""Alembic environment: troupe always hands it an open connection (see `Database.migrate`)."""

from alembic import context

from troupe.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("troupe migrations run through troupe.store.Database.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
