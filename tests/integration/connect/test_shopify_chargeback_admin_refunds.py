"""A chargeback lost while the merchant's refund of a case in Shopify's admin is still on its
way: the refund's transaction was pending at the gateway when the bank paid the buyer back and
the chargeback settled the case. When that transaction later succeeds the buyer has been paid
twice for the same units: the money is booked once, the case is not refunded again, nothing
is owed, the order counts what it can and finance is told. When it fails, nothing is owed
again. Real HTTP server, webhooks signed as Shopify signs them, both stores."""

from __future__ import annotations

from typing import Any

import pytest

from orderpilot import OrderPilot
from tests.integration.connect.shopify_http import ledger, send
from tests.integration.connect.test_shopify_case_refund_lines import (  # noqa: F401 - fixture
    REFUND,
    TEA,
    TIN,
    owed_case,
    refund_of,
    shop,
    units_refunded,
)
from tests.integration.connect.test_shopify_case_refunds import events, operations
from tests.integration.connect.test_shopify_disputes import DISPUTE, shopify_dispute

CHARGEBACK = f"dispute:shopify:{DISPUTE}"
PENDING = 702  # the Shopify transaction of the merchant's refund of the case's tin


def progress(pilot: OrderPilot, key: str) -> dict[str, Any]:
    """What the store keeps of a refund of ours settled in parts (`admin-refund:<key>`)."""
    with pilot.context.tx(readonly=True) as tx:
        return tx.store.inbox_get(f"admin-refund:{key}") or {}


def refunded_in_the_admin_pending(pilot: OrderPilot, http: Any) -> str:
    """A case on one tin (¥39.90) owed in Shopify's admin, and the merchant's refund of that
    tin there, its one transaction still pending at the gateway."""
    case_id = owed_case(pilot, http)
    refund = refund_of(TIN, "39.90", transactions=[(PENDING, "39.90", "pending")])
    noted = send(http, "refunds/create", refund, "wh-2")
    assert noted.status_code == 200 and noted.json()["applied"] is False, noted.text
    return case_id


def lose(http: Any, amount: str) -> None:
    send(http, "disputes/create", shopify_dispute(TEA, amount=amount), "wh-d1")
    lost = send(http, "disputes/update", shopify_dispute(TEA, amount=amount, status="lost"),
                "wh-d2")
    assert lost.json()["dispute"]["state"] == "lost", lost.text


def transaction(http: Any, status: str, webhook_id: str = "wh-3") -> Any:
    return send(http, "order_transactions/create", {
        "id": PENDING, "order_id": TEA, "kind": "refund", "status": status, "amount": "39.90",
        "currency": "CNY"}, webhook_id)


def assert_paid_twice(pilot: OrderPilot, case_id: str, booked: int, counted: int) -> None:
    """How a case's ¥39.90 tin refunded in the admin after a lost chargeback paid it back ends,
    whichever came first: the case not refunded again, nothing owed, the tin marked refunded
    once; the order counting the second payment as far as what was paid lets it (order
    refunded = ledger out, less what passes what was paid); finance told the units were paid
    twice, by whom, and what the order could not count."""
    case = pilot.cases.get(case_id)
    assert (case.state, case.refunded) == ("refunded", 3990)
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert pilot.payments.refunds_owed() == []
    assert units_refunded(pilot) == [1, 0]
    assert pilot.orders.get("o-1").refunded == booked + counted
    [told] = events(pilot, "orderpilot.order.refund_paid_twice")
    assert {k: told[k] for k in ("amount", "counted", "beyond_order", "operation", "case",
                                 "paid_back_by", "refund", "transaction")} == {
        "amount": 3990, "counted": counted, "beyond_order": 3990 - counted,
        "operation": f"refund:{case_id}", "case": case_id, "paid_back_by": CHARGEBACK,
        "refund": f"shopify:{REFUND}", "transaction": str(PENDING)}


@pytest.mark.parametrize(("chargeback", "booked", "counted"), [
    ("59.90", 5990, 3990),  # the order has room for the second payment: it counts all of it
    ("139.70", 13970, 0),  # refunded in full by the chargeback: the second payment is a loss
])
def test_an_admin_refund_that_succeeds_after_a_lost_chargeback_paid_its_case_is_paid_twice(
        shop, chargeback, booked, counted):  # noqa: F811
    pilot, http, _ = shop
    case_id = refunded_in_the_admin_pending(pilot, http)
    # When the buyer's bank takes the money back and the merchant loses, the refund still
    # pending: the chargeback pays the case back (settled, nothing owed in the admin)
    lose(http, chargeback)
    assert pilot.cases.get(case_id).state == "refunded"
    assert pilot.payments.refunds_owed() == []
    # When the merchant's refund then succeeds at the gateway
    paid = transaction(http, "success")
    # Then it is answered and booked once (before, with the order refunded in full by the
    # chargeback: 422 "refunds 3990 but only 0 of o-1 is left to refund", the ¥39.90 that
    # left Shopify never booked, and Shopify retrying the webhook)
    assert paid.status_code == 200 and paid.json()["applied"] is True, paid.text
    assert transaction(http, "success", "wh-4").json()["applied"] is False  # once
    assert ledger(pilot)[1:] == [("chargeback", booked, str(DISPUTE)),
                                 ("refund", 3990, f"shopify:{REFUND}")]
    assert_paid_twice(pilot, case_id, booked, counted)
    # And the progress of the case's refund says it waits for nothing more
    kept = progress(pilot, f"refund:{case_id}")
    assert (kept["waiting"], kept["twice"], kept["settled_by"]) == ([], 3990, CHARGEBACK)


def test_an_admin_refund_that_fails_after_a_lost_chargeback_paid_its_case_is_not_owed_again(
        shop):  # noqa: F811
    pilot, http, _ = shop
    case_id = refunded_in_the_admin_pending(pilot, http)
    lose(http, "59.90")
    # When the merchant's refund, still pending when the chargeback settled the case, fails
    failed = transaction(http, "failure")
    # Then the failure is recorded and told, and nothing is owed again: the bank paid the
    # case back (before: `refund-again:shopify:702` listed as refund_failed ¥39.90 — finance
    # following the list paid the tin a second time)
    assert failed.status_code == 200, failed.text
    assert "nothing owed again" in failed.json()["note"], failed.text
    assert pilot.payments.refunds_owed() == []
    assert operations(pilot) == [("refund", "succeeded", "shopify", 3990)]
    assert ledger(pilot)[-1] == ("refund_failed", 3990, f"shopify:transaction:{PENDING}")
    [told] = events(pilot, "orderpilot.order.refund_failed")
    assert CHARGEBACK in told["reason"], told
    # And delivered again under another webhook id, it records nothing more
    again = transaction(http, "failure", "wh-4")
    assert "recorded already" in again.json()["note"], again.text
    assert [k for k, _, _ in ledger(pilot)].count("refund_failed") == 1
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == (
        "refunded", 5990)


def test_a_lost_chargeback_leaves_the_progress_of_the_refund_it_settled_saying_so(
        shop):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http, tins=2)  # ¥79.80 owed in Shopify's admin
    # Given one of the case's two tins refunded in the admin (¥39.90, held for the case)
    one = send(http, "refunds/create", refund_of(TIN, "39.90"), "wh-2")
    assert one.json()["applied"] is True, one.text
    assert progress(pilot, f"refund:{case_id}")["given"] == 3990
    # When a lost chargeback settles the case for the ¥39.90 it still lacked
    lose(http, "109.80")
    assert pilot.cases.get(case_id).state == "refunded"
    # Then its progress says all of it was given, the chargeback's part and by whom (before:
    # still `given` ¥39.90 of ¥79.80, as if the case waited for the rest)
    kept = progress(pilot, f"refund:{case_id}")
    assert (kept["given"], kept["paid_back"], kept["settled_by"]) == (7980, 3990, CHARGEBACK)
