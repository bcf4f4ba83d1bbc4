"""Alembic environment: runs migrations on the connection `bot.storage.store.migrate` hands over.

Run from the command line too (`alembic -c alembic.ini upgrade head`), where the URL comes from
DATABASE_URL. Never edit an applied revision; add a new one.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage.models import Base
from bot.storage.store import default_url, make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    engine = make_engine(default_url())
    with engine.begin() as connection:
        _run(connection)
