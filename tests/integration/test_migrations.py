"""The migrations build exactly the schema the models describe, and run both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, current_revision, head_revision, upgrade
from integrations.db.schema import Base


def test_upgrading_an_empty_database_reaches_head_with_no_drift_from_the_models(empty_url):
    engine = make_engine(empty_url)
    assert upgrade(engine) == head_revision()
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert drift == []
    engine.dispose()


def test_downgrading_to_nothing_and_back_works(empty_url):
    engine = make_engine(empty_url)
    upgrade(engine)
    config = alembic_config(empty_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert current_revision(engine) is None
    assert upgrade(engine) == head_revision()
    engine.dispose()
