"""The migrations build exactly the schema the models describe, and run both ways."""

from __future__ import annotations

import warnings

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import SAWarning
from sqlalchemy.schema import CreateIndex

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, current_revision, head_revision, upgrade
from integrations.db.schema import SHIPMENTS_BY_WAYBILL, Base


def test_upgrading_an_empty_database_reaches_head_with_no_drift_from_the_models(empty_url):
    engine = make_engine(empty_url)
    assert upgrade(engine) == head_revision()
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite's reflection skips an index on expressions (SQLAlchemy says so): the waybill
        # key's is compared by the next test there
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based",
                                SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression",
                                UserWarning)
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert drift == []
    engine.dispose()


def test_the_waybill_key_index_is_the_models_and_the_lookups_use_it(empty_url):
    # Given a store upgraded to the head
    engine = make_engine(empty_url)
    upgrade(engine)
    lookup = ("SELECT id FROM shipments WHERE {k} = 'SF-0000050' AND {c} = 'ZTO' "
              "ORDER BY id DESC")
    with engine.begin() as conn:
        key = str(SHIPMENTS_BY_WAYBILL.expressions[0].compile(dialect=conn.dialect))
        carrier = str(SHIPMENTS_BY_WAYBILL.expressions[1].compile(dialect=conn.dialect))
        query = lookup.format(k=key, c=carrier)
        if conn.dialect.name == "sqlite":
            # Then the index is built as the model builds it (migration 0032 = models)
            made = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = "
                                     "'ix_shipments_waybill_key'")).scalar()
            assert made == str(CreateIndex(SHIPMENTS_BY_WAYBILL).compile(
                dialect=conn.dialect)).strip()
            plan = " ".join(r[-1] for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
        else:
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table: else a scan
            plan = " ".join(r[0] for r in conn.execute(text(f"EXPLAIN {query}")))
    # And a lookup by the waybill's key (records.shipment_by_tracking's) reads the index
    assert "ix_shipments_waybill_key" in plan, plan
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
