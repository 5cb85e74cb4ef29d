"""The merchant's refund of an after-sales case in Shopify's admin fails at the gateway (its
transaction pending, then `failure`): the buyer is not paid back. Finance must see the case
once, saying the refund failed in the admin and is to be made again — not the case's
`refund_in_admin` and a `refund_failed` of the same ¥39.90 beside it (following the list paid
it twice) — and the merchant's redo in the admin settles the case. A failed refund that gave
back the case's tin and the tea set is split: the tin's part owed by the case, the tea set's
by the order (`refund_failed`). Both arrival orders of the failure and its refund. Real HTTP
server, webhooks signed as Shopify signs them, both stores."""

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
    tin_and_tea_set,
    units_refunded,
)
from tests.integration.connect.test_shopify_case_refunds import (
    amount_only_refund,
    events,
    operations,
)
from tests.integration.connect.test_shopify_chargeback_admin_refunds import progress

FAILING = 702  # the Shopify transaction of the merchant's refund in the admin


def failure(http: Any, amount: str, webhook_id: str = "wh-3") -> Any:
    return send(http, "order_transactions/create", {
        "id": FAILING, "order_id": TEA, "kind": "refund", "status": "failure",
        "amount": amount, "currency": "CNY"}, webhook_id)


def failed_in_the_admin(http: Any, arrival: str, refund: dict[str, Any], amount: str) -> None:
    """The merchant's refund `refund` in the admin failing at the gateway: its refund arriving
    with the transaction pending, then the failure; or the failure first (order_transactions/
    create), then its refund naming the failed transaction."""
    if arrival == "refund, then its failure":
        noted = send(http, "refunds/create", refund, "wh-2")
        assert noted.status_code == 200 and noted.json()["applied"] is False, noted.text
        failed = failure(http, amount)
    else:
        failed = failure(http, amount, "wh-2")
        refund["transactions"][0]["status"] = "failure"
        noted = send(http, "refunds/create", refund, "wh-3")
        assert noted.status_code == 200, noted.text
    assert failed.status_code == 200 and failed.json()["applied"] is True, failed.text


ARRIVALS = ["refund, then its failure", "the failure, then its refund"]


def pending(pilot: OrderPilot) -> list[tuple[str, str, str, int]]:
    """The refunds still asked for. (A failure that came before its refund was owed again in
    full by the order — `refund-again:shopify:<id>` — until its refund said whose it was: that
    operation then asks less, or is closed `failed` when it was all the case's.)"""
    return [op for op in operations(pilot) if op[1] == "pending"]


def owed(pilot: OrderPilot) -> list[tuple[str, int]]:
    return sorted((r["kind"], r["owed"]) for r in pilot.payments.refunds_owed())


@pytest.mark.parametrize("arrival", ARRIVALS)
@pytest.mark.parametrize("redo", ["naming the tin again", "as an amount"])
def test_a_failed_admin_refund_of_a_case_is_listed_once_and_its_redo_settles_the_case(
        shop, arrival, redo):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)  # one tin (¥39.90) owed in Shopify's admin
    # When the merchant refunds the case's tin in the admin and the gateway fails it
    failed_in_the_admin(http, arrival, refund_of(TIN, "39.90", transactions=[
        (FAILING, "39.90", "pending")]), "39.90")
    # Then the case is listed once, saying the refund failed in the admin and is to be made
    # again (before: refund_in_admin ¥39.90 and refund_failed ¥39.90 — finance following the
    # list paid the tin twice)
    rows = pilot.payments.refunds_owed()
    assert [(r["kind"], r["owed"]) for r in rows] == [("refund_in_admin", 3990)], rows
    assert f"after-sales {case_id}" in rows[0]["reason"], rows
    assert "failed" in rows[0]["reason"] and "again in Shopify's admin" in rows[0]["reason"]
    assert pending(pilot) == [("refund", "pending", "shopify", 3990)]
    assert ledger(pilot)[-1] == ("refund_failed", 3990, f"shopify:transaction:{FAILING}")
    [told] = events(pilot, "orderpilot.order.refund_failed")
    assert told["amount"] == 3990, told
    if arrival == "refund, then its failure":  # (the other way, its refund was unknown)
        assert f"refund:{case_id}" in told["reason"], told
    # And the case's progress waits for nothing (before: for the failed transaction)
    assert progress(pilot, f"refund:{case_id}").get("waiting", []) == []
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == (
        "approved", 0)
    # When the merchant makes the refund again in the admin, and it succeeds
    again = refund_of(TIN, "39.90", REFUND + 1) if redo == "naming the tin again" \
        else amount_only_refund(REFUND + 1, "39.90")
    redone = send(http, "refunds/create", again, "wh-5")
    # Then it settles the case, once; nothing is owed (before: the case stayed owed for ever)
    assert redone.status_code == 200 and redone.json()["applied"] is True, redone.text
    case = pilot.cases.get(case_id)
    assert (case.state, case.refunded) == ("refunded", 3990)
    assert operations(pilot)[0] == ("refund", "succeeded", "shopify", 3990)
    assert pending(pilot) == [] and pilot.payments.refunds_owed() == []
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (3990, [1, 0])
    assert ledger(pilot)[-1] == ("refund", 3990, f"shopify:{REFUND + 1}")


@pytest.mark.parametrize("arrival", ARRIVALS)
def test_a_failed_admin_refund_of_the_case_tin_and_the_tea_set_is_split_between_them(
        shop, arrival):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When the merchant refunds the case's tin and the tea set in one refund (¥99.80) and
    # the gateway fails it
    failed_in_the_admin(http, arrival, tin_and_tea_set(REFUND, "pending", FAILING), "99.80")
    # Then the ¥99.80 is owed once: the tin's ¥39.90 by the case (its refund failed in the
    # admin), the tea set's ¥59.90 by the order as a failed refund (before: the case ¥39.90
    # and the whole ¥99.80 failed — ¥139.70 listed, the tin twice)
    assert owed(pilot) == [("refund_failed", 5990), ("refund_in_admin", 3990)]
    [told] = events(pilot, "orderpilot.order.refund_failed")
    assert told["amount"] == 9980, told
    # When the merchant refunds both again, and it succeeds
    redone = send(http, "refunds/create", tin_and_tea_set(REFUND + 1, "success", 703), "wh-5")
    # Then the case is settled for its tin, the order's own refund for the tea set, nothing
    # is owed
    assert redone.status_code == 200 and redone.json()["applied"] is True, redone.text
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 3990)
    assert pilot.payments.refunds_owed() == []
    assert (pilot.orders.get("o-1").refunded, units_refunded(pilot)) == (9980, [1, 1])


def test_a_failed_part_of_a_case_refund_in_the_admin_leaves_the_rest_owed_once(
        shop):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    # When the merchant's refund of the case's tin is paid in two parts, ¥20.00 at once and
    # ¥19.90 pending, and the pending part fails
    refund = refund_of(TIN, "39.90", transactions=[(700, "20.00", "success"),
                                                   (FAILING, "19.90", "pending")])
    assert send(http, "refunds/create", refund, "wh-2").json()["applied"] is True
    assert failure(http, "19.90").json()["applied"] is True
    # Then the case is refunded what Shopify gave (¥20.00) and its rest, ¥19.90, is owed
    # once, saying the refund failed (before: the case ¥19.90 and refund_failed ¥19.90)
    rows = pilot.payments.refunds_owed()
    assert [(r["kind"], r["owed"]) for r in rows] == [("refund_in_admin", 1990)], rows
    assert "failed" in rows[0]["reason"], rows
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "refunded", 2000)
    # When the merchant refunds the ¥19.90 again as an amount, it settles the rest
    redone = send(http, "refunds/create", amount_only_refund(REFUND + 1, "19.90"), "wh-5")
    assert redone.json()["applied"] is True, redone.text
    assert pilot.payments.refunds_owed() == []
    assert pilot.orders.get("o-1").refunded == 3990


@pytest.mark.parametrize("arrival", ARRIVALS)
def test_a_redo_in_the_admin_that_fails_too_leaves_the_case_listed_once(
        shop, arrival):  # noqa: F811
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)  # one tin (¥39.90) owed in Shopify's admin
    # Given the merchant's refund of the case's tin in the admin failed at the gateway
    failed_in_the_admin(http, "refund, then its failure", refund_of(TIN, "39.90", transactions=[
        (FAILING, "39.90", "pending")]), "39.90")
    assert owed(pilot) == [("refund_in_admin", 3990)]
    # When the merchant makes it again in the admin (transaction 703) and that fails as well
    redo = refund_of(TIN, "39.90", REFUND + 1, transactions=[(FAILING + 1, "39.90", "pending")])
    if arrival == "refund, then its failure":
        noted = send(http, "refunds/create", redo, "wh-5")
        assert noted.status_code == 200 and noted.json()["applied"] is False, noted.text
    failed = send(http, "order_transactions/create", {
        "id": FAILING + 1, "order_id": TEA, "kind": "refund", "status": "failure",
        "amount": "39.90", "currency": "CNY"}, "wh-6")
    assert failed.status_code == 200 and failed.json()["applied"] is True, failed.text
    if arrival == "the failure, then its refund":
        redo["transactions"][0]["status"] = "failure"
        assert send(http, "refunds/create", redo, "wh-7").status_code == 200
    # Then the tin is still owed once, by the case (before: the case's ¥39.90 and a
    # refund_failed of the same ¥39.90 — the second failure was counted the order's own, as if
    # the case lacked nothing more after its first failure; finance paid the tin twice)
    assert owed(pilot) == [("refund_in_admin", 3990)]
    assert (pilot.cases.get(case_id).state, pilot.orders.get("o-1").refunded) == (
        "approved", 0)
    # And a third refund in the admin that succeeds settles it, nothing owed
    done = send(http, "refunds/create", refund_of(TIN, "39.90", REFUND + 2), "wh-8")
    assert done.status_code == 200 and done.json()["applied"] is True, done.text
    assert pilot.cases.get(case_id).state == "refunded"
    assert pilot.payments.refunds_owed() == [] and pilot.orders.get("o-1").refunded == 3990
