"""Alembic environment: runs on the connection orderpilot hands it (see integrations.db.migrate)."""

from alembic import context

from integrations.db.engine import make_engine
from integrations.db.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # called from the alembic command line
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        try:
            with engine.begin() as connection:
                _run(connection)
        finally:  # an engine left to the garbage collector drops its pooled connection open
            engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
