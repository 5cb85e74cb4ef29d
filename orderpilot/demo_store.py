"""Demos play on demo stores only: a store that already holds orders no demo made is refused,
so a demo can never decide real reviews or write fake history next to real orders."""

from __future__ import annotations

from integrations.notifications.masking import mask_url
from orderpilot.api import OrderPilot
from statemachine.errors import InvalidInput

MARK = "demo:store"


def claim_demo_store(pilot: OrderPilot, url_hint: str) -> None:
    """Mark the store as a demo store; InvalidInput (naming `db`) if it holds real orders."""
    with pilot.context.tx() as tx:
        marked = tx.store.inbox_get(MARK)
        orders = tx.store.count_orders()
        if marked is None and orders:
            shown = mask_url(url_hint, keep_path=True) if "://" in url_hint else url_hint
            raise InvalidInput({"db": f"{shown} holds {orders} order(s) no demo made; the "
                                      "demo plays only on a new or demo store (pass --db "
                                      "sqlite:///demo.db)"})
        if marked is None:
            tx.store.inbox_put(MARK, "demo", {}, pilot.clock.now())
