"""Demos play on demo stores only: a store that already holds orders no demo made is refused,
so a demo can never decide real reviews or write fake history next to real orders."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from integrations.db.schema import InboxRow, OrderRow
from orderpilot.api import OrderPilot
from statemachine.errors import InvalidInput

MARK = "demo:store"
INBOX, ORDERS = InboxRow.__table__, OrderRow.__table__


def claim_demo_store(pilot: OrderPilot, url_hint: str) -> None:
    """Mark the store as a demo store; InvalidInput (naming `db`) if it holds real orders."""
    with pilot.context.tx() as tx:
        marked = tx.connection.execute(select(INBOX.c.key).where(INBOX.c.key == MARK)).first()
        orders = tx.connection.execute(select(func.count()).select_from(ORDERS)).scalar_one()
        if marked is None and orders:
            raise InvalidInput({"db": f"{url_hint} holds {orders} order(s) no demo made; the "
                                      "demo plays only on a new or demo store (pass --db "
                                      "sqlite:///demo.db)"})
        if marked is None:
            tx.connection.execute(insert(INBOX).values(key=MARK, kind="demo", result={},
                                                       created_at=pilot.clock.now()))
