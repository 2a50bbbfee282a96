"""Alembic environment: the connection is handed over by etcbook.models.store."""

from alembic import context
from sqlmodel import SQLModel

from etcbook.models import register_all_tables

register_all_tables()

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("etcbook migrations run through etcbook.models.store.open_store")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
