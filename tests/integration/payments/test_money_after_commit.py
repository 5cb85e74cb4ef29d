"""Money moved right after the commit that recorded it — a lost or returned parcel's
compensation, a case refund, a goodwill refund, the capture made at ship — goes through one
entry (money.execute_after_commit): a collision settling the provider's answer leaves the
operation pending, its `error` saying why, and the caller is answered with what was committed
instead of a Contention raised over it; the money sweep then pays it once, under its key.
Collisions are injected into money.settle as 1519ab8 and 2ae96b4 do (a Contention past the
settling transaction's retries); `settle`'s own retry is driven by a driver's collision
inside its transaction. Both stores."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from integrations.db.money_store import MoneyStore
from integrations.service import contention, money, refunds
from integrations.service.checkout import capture_order, open_checkout
from integrations.service.money_refunds import refund_case, refund_order
from integrations.service.money_sweep import sweep_money
from statemachine.errors import InvalidInput
from statemachine.money import OperationKind
from tests.factories import order_request, stock
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_lost_return_parcels import delivered_order
from tests.integration.integ.test_http_events import collide_once_settling
from tests.integration.payments.test_refunds_under_chargeback import shipped_order

LEFT = ("left to the money sweep: settling the refund collided with concurrent writers 6 "
        "time(s) (deadlock)")


@pytest.fixture
def shop(any_url, clock):
    pilot = make_pilot(any_url, clock)
    yield pilot
    pilot.close()


def operations(shop, order_id: str, kind: OperationKind = OperationKind.REFUND) -> list:
    with shop.context.tx(readonly=True) as tx:
        return [op for op in MoneyStore(tx.store.sql).of_order(int(order_id[2:]))
                if op.kind is kind]


def swept_once(shop, order_id: str, kind: OperationKind = OperationKind.REFUND) -> None:
    """The money sweep, past its retry delay, settles the operation left pending."""
    assert sweep_money(shop.context, shop.clock.now() + timedelta(minutes=5))["retried"] == 1
    made_once(shop, order_id, kind)


def made_once(shop, order_id: str, kind: OperationKind = OperationKind.REFUND) -> None:
    """The operation succeeded, and the provider made the call once (its books: a capture is
    a charge there), under the same key."""
    assert [op.status.value for op in operations(shop, order_id, kind)] == ["succeeded"]
    booked = "charge" if kind is OperationKind.CAPTURE else kind.value
    assert [b.kind for b in shop.context.gateway.books].count(booked) == 1


@pytest.mark.parametrize("how", ["lost", "returned"])
def test_a_parcels_compensation_that_collides_settling_is_answered_and_swept_once(
        shop, monkeypatch, how):
    # Given a shipped order (¥258.00 of mugs) and our store colliding once settling the refund
    order, parcel = shipped_order(shop)
    if how == "returned":
        shop.shipments.fire(parcel.id, "return_to_sender", reason="收件人拒收")
    collisions = collide_once_settling(monkeypatch)
    # When the parcel is reported lost, or comes back and is received intact
    if how == "lost":
        claim = shop.claims.report_lost(parcel.id, reason="顺丰: 分拣中心遗失", settle="refund")
    else:
        claim = shop.claims.receive_return(parcel.id, result="ok", settle="refund")
    # Then the committed claim is answered (before: Contention raised over it), its refund
    # pending with the collision as its error
    assert collisions == []
    assert claim["compensated"] == 25_800
    [refund] = operations(shop, order.id)
    assert (refund.status.value, refund.error) == ("pending", LEFT)
    assert shop.orders.get(order.id).refunded == 0
    # And the sweep pays it once
    swept_once(shop, order.id)
    assert shop.orders.get(order.id).refunded == 25_800


def test_a_case_refund_that_collides_settling_is_answered_pending_and_swept_once(
        shop, monkeypatch):
    # Given an approved refund-only case on one mug (¥129.00) of a delivered order
    order = delivered_order(shop)
    case = shop.cases.open(order.id, kind="refund_only", reason="杯口有裂纹",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    collisions = collide_once_settling(monkeypatch)
    # When finance refunds it, and our store collides settling the provider's answer
    done = refund_case(shop.context, int(case.id[2:]), "finance:li")
    # Then the recorded refund is answered pending, saying why (before: Contention raised
    # after the refund was recorded and paid at the provider)
    assert collisions == []
    assert (done.key, done.status.value, done.error) == (f"refund:{case.id}", "pending", LEFT)
    assert shop.cases.get(case.id).state == "auto_approved"
    # And the sweep pays it once: the case refunded
    swept_once(shop, order.id)
    assert shop.cases.get(case.id).state == "refunded"


def test_a_goodwill_refund_that_collides_is_retried_with_its_answered_key_as_one_refund(
        shop, monkeypatch):
    # Given a delivered order, and our store colliding once settling a refund
    order = delivered_order(shop)
    number = int(order.id[2:])
    collisions = collide_once_settling(monkeypatch)
    # When finance refunds ¥5.00 as goodwill (no key of its own)
    first = refund_order(shop.context, number, 500, "物流延误补偿", "finance:li")
    # Then it is answered pending, saying why (before: Contention raised over it)
    assert collisions == []
    assert (first.status.value, first.error) == ("pending", LEFT)
    # When finance's tool retries with the key it was answered (refund:o-1:1), and then with
    # its own part of it
    again = refund_order(shop.context, number, 500, "物流延误补偿", "finance:li",
                         key=first.key)
    suffix = first.key.removeprefix(f"refund:{order.id}:")
    once_more = refund_order(shop.context, number, 500, "物流延误补偿", "finance:li",
                             key=suffix)
    # Then each is the one refund, the retry paying it under its key (before: the answered
    # key made `refund:o-1:refund:o-1:1`, a second refund the sweep paid too)
    assert again.key == once_more.key == first.key
    assert (again.status.value, once_more.status.value) == ("succeeded", "succeeded")
    assert [op.key for op in operations(shop, order.id)] == [first.key]
    made_once(shop, order.id)
    assert shop.orders.get(order.id).refunded == 500


def test_a_refund_key_of_another_order_is_refused_naming_it(shop):
    order = delivered_order(shop)
    with pytest.raises(InvalidInput, match="'refund:o-9:1' is a refund key of order o-9"):
        refund_order(shop.context, int(order.id[2:]), 500, "物流延误补偿", "finance:li",
                     key="refund:o-9:1")
    assert operations(shop, order.id) == []


def test_the_capture_at_ship_that_collides_settling_is_left_for_the_sweep(shop, monkeypatch):
    # Given an order whose payment was only authorised, and our store colliding once
    # settling the capture that shipping asks for
    stock(shop, "SKU-1", "WH-A", 2)
    order = shop.orders.place(**order_request(quantity=1))
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref="stripe-pi-9",
                     authorised_only=True)
    shop.orders.fire(order.id, "start_picking")
    shop.orders.fire(order.id, "pack")
    collisions = collide_once_settling(monkeypatch)
    # When it ships
    shipped = shop.orders.fire(order.id, "ship")
    # Then the shipment is answered, the capture pending with the collision as its error
    # (before: Contention raised over the committed ship)
    assert collisions == []
    assert shipped.state == "shipped"
    [capture] = operations(shop, order.id, OperationKind.CAPTURE)
    assert (capture.status.value, capture.error) == ("pending", LEFT)
    # And the sweep captures it once
    swept_once(shop, order.id, OperationKind.CAPTURE)


def test_settling_a_providers_answer_is_run_again_after_a_collision(shop, monkeypatch):
    # Given an approved refund-only case, and the store's busy timeout running out once while
    # its refund is settled (a real driver error inside the settling transaction)
    order = delivered_order(shop)
    case = shop.cases.open(order.id, kind="refund_only", reason="杯口有裂纹",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    real, busy = MoneyStore.settle, [sqlite3.OperationalError("database is locked")]

    def settle(self, *args, **kwargs):
        if busy:
            raise busy.pop()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MoneyStore, "settle", settle)
    retried = contention.retries()
    # When finance refunds it
    done = refund_case(shop.context, int(case.id[2:]), "finance:li")
    # Then the settlement is run again and books it (before: Contention, the refund left
    # pending though the provider had paid it)
    assert busy == [] and contention.retries() - retried == 1
    assert (done.status.value, done.error) == ("succeeded", None)
    assert shop.cases.get(case.id).state == "refunded"
    assert shop.orders.get(order.id).refunded == 12_900


def test_the_settle_jobs_case_refund_that_collides_settling_is_answered_and_swept_once(
        shop, monkeypatch):
    # Given an approved refund-only case on one mug (¥129.00) of a delivered order, and our
    # store colliding once settling the refund
    order = delivered_order(shop)
    case = shop.cases.open(order.id, kind="refund_only", reason="杯口有裂纹",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    collisions = collide_once_settling(monkeypatch)
    # When the console's settle job refunds it
    outcome = refunds.settle(shop.context, int(case.id[2:]), shop.context.gateway)
    # Then it answers the refund pending, saying why (before: Contention raised over the
    # recorded refund the provider had paid), with nothing for staff to do
    assert collisions == []
    assert outcome == f"auto_approved: refund pending: {LEFT}", outcome
    assert refunds.NOT_REFUNDED not in outcome
    [refund] = operations(shop, order.id)
    assert (refund.status.value, refund.error) == ("pending", LEFT)
    # And the sweep pays it once: the case refunded
    swept_once(shop, order.id)
    assert shop.cases.get(case.id).state == "refunded"


def test_a_capture_that_collides_settling_is_answered_pending_and_swept_once(
        shop, monkeypatch):
    # Given an order awaiting payment (¥129.00 of mugs) and its checkout opened, and our
    # store colliding once settling the capture
    stock(shop, "SKU-1", "WH-A", 2)
    order = shop.orders.place(**order_request(quantity=1, unit_price=12_900))
    open_checkout(shop.context, int(order.id[2:]))
    collisions = collide_once_settling(monkeypatch)
    # When the shop captures it
    captured = capture_order(shop.context, int(order.id[2:]))
    # Then the recorded capture is answered pending, saying why (before: Contention raised
    # after the provider had taken the money)
    assert collisions == []
    assert (captured.kind, captured.status.value) == (OperationKind.CAPTURE, "pending")
    assert captured.error == LEFT  # the injected collision names itself so
    assert shop.orders.get(order.id).paid == 0
    # And the sweep settles it once: the order paid
    swept_once(shop, order.id, OperationKind.CAPTURE)
    assert shop.orders.get(order.id).paid == 12_900


def test_a_callers_own_numeric_key_never_names_a_refund_numbered_for_another(shop):
    # Given a delivered order refunded ¥5.00 as goodwill without a key of the caller's (the
    # store numbered it)
    order = delivered_order(shop)
    number = int(order.id[2:])
    first = refund_order(shop.context, number, 500, "物流延误补偿", "finance:li")
    numbered = "".join(ch for ch in first.key.rsplit(":", 1)[1] if ch.isdigit())
    # When finance's tool refunds ¥5.00 more under its own key, its ticket number — the same
    # number
    second = refund_order(shop.context, number, 500, "包装破损补偿", "finance:li",
                          key=numbered)
    # Then it is a refund of its own (before: the answer was the first refund, silently —
    # `refund:o-1:<n>` both ways — and nothing more was refunded)
    assert second.key != first.key
    assert second.key == f"refund:{order.id}:{numbered}"
    assert [op.status.value for op in operations(shop, order.id)] == ["succeeded"] * 2
    assert shop.orders.get(order.id).refunded == 1_000


def test_a_key_in_the_stores_own_numbering_that_names_no_refund_is_refused(shop):
    # Given a delivered order with no refund
    order = delivered_order(shop)
    # When a caller picks a key of the form the store numbers its own refunds with
    with pytest.raises(InvalidInput) as refused:
        refund_order(shop.context, int(order.id[2:]), 500, "物流延误补偿", "finance:li",
                     key="auto-7")
    # Then it is refused naming the key, nothing written: such keys are only the store's
    assert "numbers its own refunds" in refused.value.problems["key"]
    assert operations(shop, order.id) == []


def test_a_refund_numbered_before_keeps_its_key_readable(shop):
    # Given a ¥5.00 goodwill refund the store numbered before (`refund:o-1:1`, recorded and
    # pending)
    order = delivered_order(shop)
    with shop.context.tx() as tx:
        locked = tx.store.get_order(int(order.id[2:]), lock=True)
        money.request(shop.context, tx, locked, OperationKind.REFUND, 500,
                      f"refund:{order.id}:1", "finance:li", reason="物流延误补偿",
                      at=shop.clock.now())
    # When finance's tool retries with the key it was answered then
    again = refund_order(shop.context, int(order.id[2:]), 500, "物流延误补偿", "finance:li",
                         key=f"refund:{order.id}:1")
    # Then it is that refund, paid once
    assert (again.key, again.status.value) == (f"refund:{order.id}:1", "succeeded")
    made_once(shop, order.id)
