"""Alembic environment for the Vigil catalog."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from vigil.storage.schema import declared_name, metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None

if context.is_offline_mode():
    context.configure(
        url=url, target_metadata=metadata, render_as_batch=True, literal_binds=True, include_name=declared_name
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, include_name=declared_name
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
