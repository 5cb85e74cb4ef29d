"""The money sweep's look-up of abandoned payments reads only open checkouts (0015) and finds
exactly what the whole-history query before it found, on both stores: checkouts released,
refunded, captured, failed, capture failed, paid orders, payable orders, payments the order
started, before and after the sweep sets closed checkouts aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from integrations.db.money_store import MoneyStore
from integrations.db.schema import BuyerRow, OrderRow
from orderpilot import OrderPilot
from statemachine.money import OperationStatus

AT = datetime(2026, 11, 20, tzinfo=UTC)
# the look-up before 0015: every succeeded checkout and every unpayable order, each sweep
UNTOUCHED = ("NOT EXISTS (SELECT 1 FROM payment_operations v WHERE v.order_id = o.id AND "
             "(v.kind IN ('void', 'refund') OR v.kind = 'capture' AND v.status <> 'failed') "
             "AND v.payment_ref = {ref})")
UNPAYABLE = "o.paid = 0 AND o.state IN ('expired', 'cancelled', 'rejected')"
BEFORE = (
    "SELECT c.order_id, c.provider_ref FROM payment_operations c JOIN orders o ON o.id = "
    "c.order_id WHERE c.kind = 'checkout' AND c.status = 'succeeded' AND c.provider_ref IS NOT "
    f"NULL AND {UNPAYABLE} AND {UNTOUCHED.format(ref='c.provider_ref')} ORDER BY c.id",
    f"SELECT o.id, o.payment_ref FROM orders o WHERE {UNPAYABLE} AND o.payment_ref IS NOT "
    f"NULL AND {UNTOUCHED.format(ref='o.payment_ref')} ORDER BY o.id")

# state, paid, refunded, the order's payment ref, operations (kind, status, payment ref)
MIX: dict[int, tuple[str, int, int, str | None, list[tuple[str, str, str | None]]]] = {
    1: ("expired", 0, 0, None, [("checkout", "succeeded", "A")]),  # abandoned
    2: ("cancelled", 0, 0, None, [("checkout", "succeeded", "B"), ("void", "pending", "B")]),
    3: ("expired", 0, 0, None, [("checkout", "succeeded", "C"), ("capture", "pending", "C")]),
    4: ("expired", 0, 0, None, [("checkout", "succeeded", "D"), ("capture", "failed", "D")]),
    5: ("rejected", 0, 0, None, [("checkout", "succeeded", "E"), ("refund", "succeeded", "E")]),
    6: ("completed", 100, 0, "F", [("checkout", "succeeded", "F"), ("capture", "succeeded", "F")]),
    7: ("cancelled", 100, 100, "G", [("checkout", "succeeded", "G"),
                                     ("capture", "succeeded", "G"), ("refund", "succeeded", "G")]),
    8: ("expired", 0, 0, None, [("checkout", "failed", "H")]),
    9: ("expired", 0, 0, None, [("checkout", "succeeded", None)]),
    10: ("awaiting_payment", 0, 0, None, [("checkout", "succeeded", "J")]),
    11: ("cancelled", 0, 0, "K", []),  # an authorisation kept for capture at shipping
    12: ("cancelled", 0, 0, "L", [("void", "succeeded", "L")]),
    13: ("expired", 0, 0, "M", [("checkout", "succeeded", "M")]),  # found by both reads
    14: ("expired", 0, 0, None, [("checkout", "succeeded", "N"), ("void", "failed", "N2")]),
    15: ("paid", 0, 0, "P", [("checkout", "succeeded", "P")]),  # authorised, payable
    16: ("cancelled", 0, 0, None, [("checkout", "succeeded", "Q"), ("checkout", "succeeded", "R"),
                                   ("void", "succeeded", "Q")]),
}
OPEN = [(1, "A"), (4, "D"), (13, "M"), (14, "N"), (16, "R"), (11, "K")]


def _fill(pilot: OrderPilot) -> None:
    order = OrderRow.__table__
    with pilot.context.tx() as tx:
        tx.connection.execute(insert(BuyerRow.__table__).values(id="b", created_at=AT))
        for n, (state, paid, refunded, ref, operations) in MIX.items():
            tx.connection.execute(insert(order).values(
                id=n, buyer_id="b", state=state, version=1, currency="CNY", total=100,
                paid=paid, refunded=refunded, payment_ref=ref, attrs={}, created_at=AT,
                updated_at=AT))
            for i, (kind, status, pay_ref) in enumerate(operations):
                values: dict[str, Any] = {
                    "order_id": n, "kind": kind, "status": status, "amount": 100,
                    "currency": "CNY", "idem_key": f"{kind}:o-{n}:{i}", "provider": "stripe",
                    "actor": "t", "created_at": AT}
                values.update({"provider_ref": pay_ref, "payment_ref": None} if kind ==
                              "checkout" else {"payment_ref": pay_ref})
                MoneyStore(tx.store.sql).add(values)


def _found(pilot: OrderPilot) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(what the look-up finds, what the query before 0015 finds)."""
    with pilot.context.tx(readonly=True) as tx:
        now = MoneyStore(tx.store.sql).abandoned_checkouts(1000)
        rows = [r for q in BEFORE for r in tx.store.sql.all(q)]
    return now, list(dict.fromkeys((int(r[0]), str(r[1])) for r in rows))


def test_the_open_checkout_lookup_finds_what_the_whole_history_query_found(any_url, clock):
    # Given a store with payments in every standing
    pilot = OrderPilot(any_url, clock=clock)
    _fill(pilot)
    # Then, before any sweep and after the sweep sets closed checkouts aside, the look-up
    # finds the same payments in the same order as the query that read the whole history
    for sweep in (False, True):
        if sweep:
            with pilot.context.tx() as tx:
                assert MoneyStore(tx.store.sql).sweep_checkouts(AT) == 6  # B E F G H Q
        now, before = _found(pilot)
        assert now == before == OPEN
    # When a capture the sweep left alone fails, its checkout is open again and found
    with pilot.context.tx() as tx:
        MoneyStore(tx.store.sql).settle("capture:o-3:1", OperationStatus.FAILED,
                                        AT + timedelta(minutes=1))
        assert MoneyStore(tx.store.sql).sweep_checkouts(AT) == 0
    now, before = _found(pilot)
    assert now == before == [(1, "A"), (3, "C"), *OPEN[1:]]
    pilot.close()

