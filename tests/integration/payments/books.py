"""The money invariants of one Alipay order, checked against the fake Alipay's own books:
what the ledger says came in and went out is what Alipay took and gave back, nothing is left
pending, and the store's audit finds nothing wrong."""

from __future__ import annotations

from integrations.db.audit import audit
from integrations.db.money_store import MoneyStore
from integrations.db.records import payments_of
from integrations.db.sql import Sql
from tests.integration.payments.test_alipay_notify import Shop


def ledger(shop: Shop, order_id: str) -> list[tuple[str, int]]:
    with shop.pilot.context.engine.connect() as connection:
        return [(r.kind, r.amount) for r in payments_of(connection, int(order_id[2:]))]


def assert_books_balance(shop: Shop, order_id: str) -> None:
    """Ledger in = Alipay's trade total, ledger out = Alipay's refunds (each once), all in the
    trade's currency, as every refund we asked Alipay for; the order's own money (paid −
    refunded) = what Alipay keeps, no operation pending, audit clean."""
    trade, number = shop.alipay.trades[order_id], int(order_id[2:])
    booked = ledger(shop, order_id)
    priced_in = trade.get("currency", "CNY")
    with shop.pilot.context.engine.connect() as connection:
        currencies = {r.currency for r in payments_of(connection, number)}
    assert currencies <= {priced_in}, (currencies, priced_in)
    assert set(trade["refund_currencies"].values()) <= {priced_in}, trade
    taken = sum(a for kind, a in booked if kind in ("capture", "late_capture"))
    given = sum(a for kind, a in booked if kind == "refund")
    assert (taken, given) == (trade["total"], sum(trade["refunds"].values())), (booked, trade)
    order = shop.pilot.orders.get(order_id)
    assert order.paid - order.refunded == taken - given, (order, booked)
    with shop.pilot.context.engine.connect() as connection:
        pending = [op.key for op in MoneyStore(Sql(connection)).of_order(number)
                   if op.status == "pending"]
        assert (pending, audit(connection, [number])) == ([], [])
