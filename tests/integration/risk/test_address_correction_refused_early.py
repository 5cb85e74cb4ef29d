"""A correction the order's state refuses (shipped, cancelled …) is refused before any work:
before, the promise for the new address was worked out first — the order's holds and the
stock of its skus read under the order's lock — and thrown away with the refusal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from integrations.db.sql import Sql
from orderpilot import OrderPilot
from statemachine.errors import InvalidTransition
from tests.factories import shipped_order, stock
from tests.integration.risk.test_address_corrections import CORRECTED, NANSHAN
from tests.integration.test_order_lifecycle import row_counts

WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def statements(pilot: OrderPilot, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL the store runs meanwhile: through its own helper on the DBAPI connection
    (`Sql`, every statement of the store's adapters) and through SQLAlchemy."""
    ran: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        ran.append(" ".join(statement.split()))

    as_sent = Sql._text

    def recorded(self: Sql, sql: str) -> str:
        ran.append(" ".join(sql.split()))
        return as_sent(self, sql)

    engine = pilot.context.units.engine  # the one units of work run on
    event.listen(engine, "before_cursor_execute", record)
    monkeypatch.setattr(Sql, "_text", recorded)
    try:
        yield ran
    finally:
        monkeypatch.undo()
        event.remove(engine, "before_cursor_execute", record)


def test_a_shipped_orders_correction_is_refused_before_its_promise_is_worked_out(any_pilot,
                                                                                monkeypatch):
    # Given a shipped order to 深圳 (its stock sold in WH-1)
    stock(any_pilot)
    order = shipped_order(any_pilot, shipping_address=NANSHAN)
    before = (row_counts(any_pilot), any_pilot.orders.get(order.id),
              any_pilot.orders.history(order.id))
    # When ops try to send it to 杭州
    with statements(any_pilot, monkeypatch) as ran, pytest.raises(InvalidTransition) as refused:
        any_pilot.orders.correct_address(order.id, address=CORRECTED, by="ops:mei")
    assert f"order {order.id} cannot correct_address from shipped" in str(refused.value)
    # Then the refusal came first: no hold or inventory row was read for a promise (before:
    # stock_holds and inventory were read after the order, under its lock)
    assert ran and not [s for s in ran if "stock_holds" in s or "inventory" in s]
    # and nothing was written: no statement, no row, the same order, version and history
    assert not [s for s in ran if s.upper().startswith(WRITES)]
    assert (row_counts(any_pilot), any_pilot.orders.get(order.id),
            any_pilot.orders.history(order.id)) == before
