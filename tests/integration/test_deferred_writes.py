"""Deferred writes (db/sql.py `Sql.later`): on PostgreSQL they travel with the next statement
that needs an answer or with the COMMIT; on SQLite they run at once. Either way a version
conflict is still `ConcurrentUpdate` with nothing written, and a write the store refuses fails
its own unit of work — in a group-commit batch, its own savepoint only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from integrations.db.errors import is_integrity_error
from integrations.db.sql import Sql
from integrations.db.units import Savepoints, Units
from integrations.service import orders
from statemachine.errors import ConcurrentUpdate
from tests.factories import paid_order, stock
from tests.integration.test_order_lifecycle import row_counts

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
INBOX = "INSERT INTO inbox (key, kind, result, created_at) VALUES (:key, 'test', :result, :at)"


@pytest.mark.parametrize("trigger", ["start_picking", "cancel"])
def test_a_stale_step_raises_concurrent_update_and_writes_nothing(any_pilot, trigger):
    # Given a paid order read before someone else started picking it
    stock(any_pilot)
    view = paid_order(any_pilot)
    with any_pilot.context.tx() as tx:
        stale = tx.store.get_order(int(view.id[2:]))
    any_pilot.orders.fire(view.id, "start_picking")
    before = row_counts(any_pilot)
    # When the stale copy fires a step: start_picking writes no stock (its version check is
    # still pending at COMMIT), cancel reads the holds to restock (it travels with that read)
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"), \
            any_pilot.context.tx() as tx:
        orders.fire(any_pilot.context, tx, stale, trigger, "ops", {},
                    now=any_pilot.context.clock.now())
    # Then nothing of it was written
    assert row_counts(any_pilot) == before
    assert any_pilot.orders.get(view.id).state == "picking"


def test_a_refused_deferred_write_fails_its_own_savepoint_only(any_url):
    # Given one transaction with three savepoints, as a group-commit batch runs its commands
    units = Units(any_url)
    failed = []
    with units.begin() as connection:
        savepoints = Savepoints(connection)
        for key in ("k-1", "k-1", "k-2"):  # the second repeats the first's key
            try:
                with savepoints.begin() as joined:
                    Sql(joined).later(INBOX, [{"key": key, "result": {"n": 1}, "at": T0}],
                                      bind=True)
            except Exception as error:  # noqa: BLE001 - the driver's own, as before
                failed.append(is_integrity_error(error))
    # Then the repeated key failed in its own block, and the others committed
    assert failed == [True]
    with units.begin(readonly=True) as connection:
        keys = connection.execute(text("SELECT key FROM inbox WHERE kind = 'test' ORDER BY key"))
        assert [k for (k,) in keys] == ["k-1", "k-2"]
    units.close()


def test_a_rolled_back_unit_leaves_no_deferred_write_for_the_next(any_url):
    # Given a unit of work that deferred a write and then failed before commit
    units = Units(any_url)
    with pytest.raises(RuntimeError), units.begin() as connection:
        Sql(connection).later(INBOX, [{"key": "gone", "result": {}, "at": T0}], bind=True)
        raise RuntimeError("the command failed")
    # When the same connection runs the next unit of work
    with units.begin() as connection:
        Sql(connection).later(INBOX, [{"key": "kept", "result": {}, "at": T0}], bind=True)
    # Then only the second unit's row exists
    with units.begin(readonly=True) as connection:
        keys = connection.execute(text("SELECT key FROM inbox WHERE kind = 'test'"))
        assert [k for (k,) in keys] == ["kept"]
    units.close()
