"""Refunds staff make by hand in Alipay's merchant portal, for money orderpilot owes back but
whose order cannot count it with its own refund step: late money (paid after the order
expired), a cancelled order's money while our cancel-refund job is asking Alipay for it; and a
trade refunded in full before it shipped. End to end: a real uvicorn server, notices signed as
Alipay signs them, python-alipay-sdk checking them and calling the fake Alipay. Both stores;
the books balance against Alipay's after every story."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from integrations.console.jobs import Ports, settle_cancel
from integrations.db.money_store import MoneyStore
from integrations.db.repository import OUTBOX
from integrations.db.sql import Sql
from integrations.notifications.templates import render
from integrations.service import settlement
from integrations.service.checkout import open_checkout
from statemachine.errors import GuardRejected
from statemachine.ports import PaymentResult
from tests.factories import stock
from tests.integration.payments.books import assert_books_balance, ledger
from tests.integration.payments.test_alipay_notify import ADDRESS, Shop, alipay_shop
from tests.integration.payments.test_alipay_refund_notices import (
    cancel_refund_job,
    money_events,
    paid_then_cancelled,
)


@pytest.fixture
def shop(any_url, clock) -> Iterator[Shop]:
    with alipay_shop(any_url, clock) as shop:
        yield shop


def expired_then_paid(shop: Shop, clock, currency: str | None = None) -> str:
    """An order of ¥88.88 whose hold expired while the buyer still had the QR code open; the
    buyer pays anyway (`currency`: a cross-border trade of 88.88 in it)."""
    stock(shop.pilot, quantity=5)
    order = shop.pilot.orders.place(
        buyer_id="b-late-1", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 8888}],
        shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
    open_checkout(shop.pilot.context, int(order.id[2:]))
    clock.advance(minutes=21)
    shop.pilot.sweep()
    assert shop.pilot.orders.get(order.id).state == "expired"
    shop.alipay.pay(order.id, currency=currency)
    return order.id


@pytest.mark.parametrize("currency", ["CNY", "USD"])
def test_a_portal_refund_of_late_money_before_its_notices_is_booked_and_the_rest_refunded(
        shop, clock, currency):
    # Given late money (¥88.88 paid after the order expired — or US$88.88, a cross-border
    # trade) of which staff refunded 20.00 in the merchant portal before any notice reached
    # us (an outage)
    order_id = expired_then_paid(shop, clock, None if currency == "CNY" else currency)
    shop.alipay.portal_refund(order_id, "portal-late-1", 2000)
    refund = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(),
                                refund=("portal-late-1", 2000))
    # When Alipay's refund notice comes (it says the trade was paid), and is resent
    answers = [shop.post(refund) for _ in range(2)]
    # Then both are answered `success` (before: 409 at every resend for 25 hours, and our
    # late refund of the whole ¥88.88 asked in between was refused, staff told)
    assert [(r.status_code, r.text) for r in answers] == [(200, "success")] * 2
    # And the portal's ¥20.00 is booked toward the late money; the ¥68.88 left is refunded
    # under a request number of ours, once — the whole ¥88.88 is never asked for
    assert shop.alipay.trades[order_id]["refunds"] == {
        "portal-late-1": 2000, f"late-refund:alipay:{order_id}:2": 6888}
    assert ledger(shop, order_id) == [("late_capture", 8888), ("refund", 2000),
                                      ("refund", 6888)]
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.refunded) == ("expired", 0, 0)
    # And the event stream says what happened, and no failure was reported to staff
    told = money_events(shop, order_id, since="orderpilot.order.late_payment")
    assert ("orderpilot.order.refund_made_outside", {
        "amount": 2000, "provider": "alipay", "toward": "late",
        "operation": f"late-refund:alipay:{order_id}@alipay:{refund['notify_id']}",
        "superseded": f"late-refund:alipay:{order_id}",
        "rest": f"late-refund:alipay:{order_id}:2"}) in told
    assert "orderpilot.order.money_failed" not in [name for name, _ in told]
    # And the payment notice, when it comes, books nothing more
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    assert len(ledger(shop, order_id)) == 3
    # all of it in the currency the buyer paid in: booked, asked of Alipay (refund_currency),
    # told (before: dollars booked and asked as yuan)
    assert_books_balance(shop, order_id)
    assert shop.alipay.trades[order_id]["refund_currencies"] == {
        f"late-refund:alipay:{order_id}:2": currency}
    told = outbox(shop, order_id, "orderpilot.order.refund_made_outside")
    assert [p["currency"] for p in told] == [currency]


def test_a_portal_refund_while_our_late_refund_waits_for_a_retry_supersedes_it(shop, clock):
    # Given late money whose automatic refund could not be made (Alipay unreachable: it waits
    # for the money sweep), and staff who refunded ¥20.00 of it in the portal meanwhile
    order_id = expired_then_paid(shop, clock)
    shop.alipay.fail_next(times=3, status=503)
    paid = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())
    assert shop.post(paid).text == "success"
    assert shop.alipay.trades[order_id]["refunds"] == {}
    shop.alipay.portal_refund(order_id, "portal-late-2", 2000)
    # When the portal refund's notice comes
    refund = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(),
                                refund=("portal-late-2", 2000))
    assert shop.post(refund).text == "success"  # before: 409, for 25 hours
    # And the money sweep runs later
    clock.advance(minutes=5)
    shop.pilot.payments.sweep()
    # Then our waiting refund of ¥88.88 is not made (Alipay would refuse it): the ¥68.88 left
    # is refunded instead, once
    assert shop.alipay.trades[order_id]["refunds"] == {
        "portal-late-2": 2000, f"late-refund:alipay:{order_id}:2": 6888}
    assert ledger(shop, order_id) == [("late_capture", 8888), ("refund", 2000),
                                      ("refund", 6888)]
    assert_books_balance(shop, order_id)


def test_late_money_refunded_in_full_in_the_portal_before_its_notices_is_not_refunded_again(
        shop, clock):
    # Given late money refunded in full by staff in the portal before any notice reached us
    order_id = expired_then_paid(shop, clock)
    shop.alipay.portal_refund(order_id, "portal-late-3", 8888)
    refund = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-late-3", 8888))
    # When its notice comes (before: our late refund was asked of a closed trade, refused and
    # reported to staff, and the notice answered 409 for 25 hours)
    assert [shop.post(refund).text for _ in range(2)] == ["success"] * 2
    # Then the late money is paid back by the portal's refund; Alipay is asked nothing
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-late-3": 8888}
    assert ledger(shop, order_id) == [("late_capture", 8888), ("refund", 8888)]
    told = [name for name, _ in money_events(shop, order_id, "orderpilot.order.late_payment")]
    assert "orderpilot.order.money_failed" not in told
    assert_books_balance(shop, order_id)


@pytest.mark.parametrize("payment_notice", ["never came", "came first"])
def test_a_trade_refunded_in_full_in_the_portal_before_it_shipped_cancels_the_order(
        shop, clock, payment_notice):
    # Given an order of ¥88.88 the buyer paid, which staff refunded in full in the merchant
    # portal (Alipay closes the trade) — before any notice reached us, or after the payment's
    stock(shop.pilot, quantity=5)
    order_id = shop.order_paid_at_alipay()
    if payment_notice == "came first":
        assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text \
            == "success"
    shop.alipay.portal_refund(order_id, "portal-full-1", 8888)
    refund = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-full-1", 8888))
    # When the refund notice comes (and is resent)
    assert [shop.post(refund).text for _ in range(2)] == ["success"] * 2
    # Then the order is cancelled, not left `paid` for the warehouse to ship with the money
    # given back (before: paid, refunded in full); the system cancelled it, not the buyer
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.refunded, order.payment_status) == (
        "cancelled", 8888, 8888, "refunded")
    cancel = shop.pilot.orders.history(order_id)[-1]
    assert (cancel.trigger, cancel.actor) == ("cancel", "system:refunded-at-alipay")
    # And its stock is back on the shelf
    level = shop.pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    assert (level.on_hand, level.reserved) == (10, 0)
    # And the refund is the cancellation's: the cancel-refund job asks Alipay nothing
    assert cancel_refund_job(shop, order_id) == "already settled"
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-full-1": 8888}
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 8888)]
    # And a late payment notice books nothing more
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 8888)]
    assert_books_balance(shop, order_id)


class StaffRefundInThePortal:
    """The shop's Alipay gateway, with staff refunding ¥20.00 of the trade in the merchant
    portal just before our refund call reaches Alipay; Alipay's notice of it is posted at
    once (`notice="before our call"`) or kept for the test to post later."""

    provider = "alipay"

    def __init__(self, shop: Shop, order_id: str, clock, notice: str):
        self.shop, self.order_id, self.clock, self.notice = shop, order_id, clock, notice
        self.inner, self.form = shop.pilot.context.gateway, None

    def refund(self, payment_ref: str, amount: int, **kw: Any) -> PaymentResult:
        if self.form is None:
            self.form = staff_refund_20(self.shop, self.order_id, self.clock,
                                        post=self.notice == "before our call")
        return self.inner.refund(payment_ref, amount, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def staff_refund_20(shop: Shop, order_id: str, clock, post: bool) -> dict[str, str]:
    shop.alipay.portal_refund(order_id, "portal-cancel-1", 2000)
    form = shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(),
                              refund=("portal-cancel-1", 2000))
    if post:
        assert shop.post(form).text == "success"
    return form


def job_with(shop: Shop, gateway: Any) -> str:
    told: list[str] = []
    ports = Ports(gateway=gateway, notify=lambda message: told.append(message.audience),
                  carrier=lambda n, c: None, retry_delays=(0.01,))  # type: ignore[arg-type]
    outcome = settle_cancel(shop.pilot.context, ports, shop.order_id)
    return f"{outcome}, told {','.join(told) or 'nobody'}"


def test_a_portal_refund_booked_while_the_job_works_out_what_is_left_is_not_asked_again(
        shop, clock, monkeypatch):
    # Given a cancelled order of ¥88.88, and staff refunding ¥20.00 of it in the portal (its
    # notice booked) just after our cancel-refund job worked out what is left to refund
    order_id = paid_then_cancelled(shop, clock)
    shop.order_id = order_id
    first_look = settlement.cancellation

    def looked_then_staff_refunded(ctx, number):
        case = first_look(ctx, number)
        if not shop.alipay.trades[order_id]["refunds"]:
            staff_refund_20(shop, order_id, clock, post=True)
        return case

    monkeypatch.setattr(settlement, "cancellation", looked_then_staff_refunded)
    # When the job records and makes its refund
    outcome = job_with(shop, shop.pilot.context.gateway)
    # Then it asked Alipay for the ¥68.88 left, read again when it was recorded (before: the
    # ¥88.88 worked out first, which Alipay refused; staff were told of a failure)
    assert outcome == "refunded, told buyer"
    assert shop.alipay.trades[order_id]["refunds"] == {
        "portal-cancel-1": 2000, f"cancel-refund:{order_id}": 6888}
    assert_books_balance(shop, order_id)


def test_a_portal_refund_made_while_the_job_calls_alipay_is_not_reported_as_a_failure(
        shop, clock):
    # Given a cancelled order of ¥88.88 whose cancel-refund job has recorded its refund of
    # ¥88.88, and staff who refund ¥20.00 in the portal the moment before the job's call
    # reaches Alipay — the portal refund's notice arriving at once
    order_id = paid_then_cancelled(shop, clock)
    shop.order_id = order_id
    portal = StaffRefundInThePortal(shop, order_id, clock, notice="before our call")
    # When the job runs: Alipay refuses its ¥88.88 (more than the trade has left)
    outcome = job_with(shop, portal)
    # Then the refund of the ¥68.88 left is made, once, and the buyer told; staff are not
    # told of a failure (before: "failed", staff told, the ¥68.88 never refunded)
    assert outcome == "refunded, told buyer"
    assert shop.alipay.trades[order_id]["refunds"] == {
        "portal-cancel-1": 2000, f"cancel-refund:{order_id}:2": 6888}
    told = [name for name, _ in money_events(shop, order_id, "orderpilot.order.cancelled")]
    assert not {"orderpilot.order.refund_failed", "orderpilot.order.money_failed"} & set(told)
    assert_books_balance(shop, order_id)


def test_a_portal_refund_whose_notice_comes_after_alipay_refused_the_job_closes_the_debt(
        shop, clock):
    # Given a cancelled order of ¥88.88, and staff refunding ¥20.00 in the portal the moment
    # before the cancel-refund job's call of ¥88.88 reaches Alipay; the notice comes later
    order_id = paid_then_cancelled(shop, clock)
    shop.order_id = order_id
    portal = StaffRefundInThePortal(shop, order_id, clock, notice="later")
    # When the job runs, Alipay refuses its ¥88.88: nothing says why yet, so staff are told,
    # and the refused money stays owed and listed with Alipay's answer (the order counts it
    # refunded)
    assert job_with(shop, portal) == "failed, told ops"
    assert [(r["order_id"], r["owed"], r["kind"]) for r in shop.pilot.payments.refunds_owed()
            ] == [(order_id, 8888, "refund_refused")]
    # And when the portal refund's notice comes
    assert shop.post(portal.form).text == "success"
    # Then the ¥68.88 left is asked of Alipay and refunded, once (before: the notice booked
    # the ¥20.00 and nothing more: the buyer was owed ¥68.88 the order counted as refunded)
    assert shop.alipay.trades[order_id]["refunds"] == {
        "portal-cancel-1": 2000, f"cancel-refund:{order_id}:2": 6888}
    assert job_with(shop, shop.pilot.context.gateway) == "already settled, told nobody"
    assert shop.pilot.payments.refunds_owed() == []  # booked toward the same debt: paid back
    assert_books_balance(shop, order_id)


def outbox(shop: Shop, order_id: str, event: str) -> list[dict]:
    with shop.pilot.context.engine.connect() as connection:
        return [dict(r.payload) for r in connection.execute(select(OUTBOX.c.payload).where(
            OUTBOX.c.order_id == int(order_id[2:]), OUTBOX.c.event == event))]


def paid_and_moved(shop: Shop, clock, steps: tuple[str, ...]) -> str:
    order_id = shop.order_paid_at_alipay()
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    for trigger in steps:
        shop.pilot.orders.fire(order_id, trigger, actor="packer-li")
    return order_id


def refund_all_in_the_portal(shop: Shop, clock, order_id: str) -> None:
    shop.alipay.portal_refund(order_id, "portal-packed-1", 8888)
    refund = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-packed-1", 8888))
    assert [shop.post(refund).text for _ in range(2)] == ["success"] * 2


@pytest.mark.parametrize("decision", ["ship it as a gift", "cancel it"])
def test_a_packed_order_refunded_in_full_in_the_portal_is_held_from_shipping_until_a_person_decides(
        shop, clock, decision):
    # Given a paid order of ¥88.88, picked and packed, that staff refund in full in Alipay's
    # merchant portal (the trade closes)
    order_id = paid_and_moved(shop, clock, ("start_picking", "pack"))
    # When the refund notice comes (and is resent)
    refund_all_in_the_portal(shop, clock, order_id)
    # Then the refund is booked and the order stays packed
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.refunded) == ("packed", 8888, 8888)
    # And ops are told at once, once: shipping is held (before: nobody was told)
    [held] = outbox(shop, order_id, "orderpilot.order.shipping_held")
    told = render("orderpilot.order.shipping_held", held)
    assert told is not None and told.audience == "ops"
    assert f"Do not ship {order_id}" in told.title and "8888 CNY" in told.body
    # And the warehouse cannot ship it as if nothing happened (before: shipped)
    with pytest.raises(GuardRejected, match="money was all refunded"):
        shop.pilot.orders.fire(order_id, "ship", actor="packer-li")
    assert shop.pilot.orders.get(order_id).state == "packed"
    # When a person decides
    if decision == "ship it as a gift":
        shop.pilot.orders.fire(order_id, "ship", actor="ops-wang",
                               ship_refunded="老客户, 退款后仍赠送")
        # Then it ships, the person's why kept with the step
        assert shop.pilot.orders.get(order_id).state == "shipped"
        ship = shop.pilot.orders.history(order_id)[-1]
        assert (ship.trigger, ship.actor) == ("ship", "ops-wang")
        assert ship.payload["ship_refunded"] == "老客户, 退款后仍赠送"
    else:
        shop.pilot.orders.fire(order_id, "cancel", actor="ops-wang", reason="全额退款, 不发货")
        # Then it is cancelled, its stock back on the shelf, and nothing more is refunded
        assert shop.pilot.orders.get(order_id).state == "cancelled"
        level = shop.pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
        assert (level.on_hand, level.reserved) == (5, 0)
        assert cancel_refund_job(shop, order_id) == "nothing to settle"
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-packed-1": 8888}
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 8888)]
    assert_books_balance(shop, order_id)


def test_a_packed_order_not_refunded_in_full_is_neither_cancelled_nor_held(shop, clock):
    # Given a packed order of ¥88.88 of which ¥20.00 was refunded in the portal
    order_id = paid_and_moved(shop, clock, ("start_picking", "pack"))
    shop.alipay.portal_refund(order_id, "portal-packed-2", 2000)
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now(),
                                        refund=("portal-packed-2", 2000))).text == "success"
    # Then it cannot be cancelled (packed orders ship) and ships as usual, nobody told
    with pytest.raises(GuardRejected, match="only once its money was all refunded"):
        shop.pilot.orders.fire(order_id, "cancel", actor="ops-wang")
    shop.pilot.orders.fire(order_id, "ship", actor="packer-li")
    assert shop.pilot.orders.get(order_id).state == "shipped"
    assert outbox(shop, order_id, "orderpilot.order.shipping_held") == []


def test_a_shipped_order_refunded_in_full_in_the_portal_tells_ops(shop, clock):
    # Given a paid order of ¥88.88 that shipped, then staff refund it in full in the portal
    order_id = paid_and_moved(shop, clock, ("start_picking", "pack", "ship"))
    refund_all_in_the_portal(shop, clock, order_id)
    # Then the refund is booked, and ops are told at once: the goods are gone, the money back
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.refunded) == ("shipped", 8888)
    [gone] = outbox(shop, order_id, "orderpilot.order.refunded_after_shipping")
    told = render("orderpilot.order.refunded_after_shipping", gone)
    assert told is not None and told.audience == "ops" and "after it shipped" in told.title
    assert_books_balance(shop, order_id)


@pytest.mark.parametrize("out_biz_no", ["absent", "the portal's own number"])
def test_a_portal_refund_of_exactly_our_waiting_late_refund_is_booked_as_the_portals(
        shop, clock, out_biz_no):
    # Given late money of ¥88.88 whose automatic refund waits for a retry (Alipay was
    # unreachable), and staff who refund the same ¥88.88 in the merchant portal meanwhile
    order_id = expired_then_paid(shop, clock)
    shop.alipay.fail_next(times=3, status=503)
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    shop.alipay.portal_refund(order_id, "portal-late-4", 8888)
    # When the portal refund's notice comes: Alipay's out_biz_no names no refund of ours
    refund = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-late-4", 8888),
                                out_biz_no="" if out_biz_no == "absent" else "portal-late-4")
    assert shop.post(refund).text == "success"
    clock.advance(minutes=5)
    shop.pilot.payments.sweep()
    # Then it is booked as the portal's refund toward the late money, and ours — never made —
    # is superseded (before: the notice settled our waiting refund as if Alipay had made it)
    told = money_events(shop, order_id, since="orderpilot.order.late_payment")
    assert ("orderpilot.order.refund_made_outside", {
        "amount": 8888, "provider": "alipay", "toward": "late",
        "operation": f"late-refund:alipay:{order_id}@alipay:{refund['notify_id']}",
        "superseded": f"late-refund:alipay:{order_id}", "rest": None}) in told
    assert "orderpilot.order.money_failed" not in [name for name, _ in told]
    with shop.pilot.context.engine.connect() as connection:
        ours = MoneyStore(Sql(connection)).by_key(f"late-refund:alipay:{order_id}")
    assert ours is not None and ours.status == "failed" and "superseded" in (ours.error or "")
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-late-4": 8888}
    assert ledger(shop, order_id) == [("late_capture", 8888), ("refund", 8888)]
    assert_books_balance(shop, order_id)


def test_a_notice_naming_our_refund_request_settles_it(shop, clock):
    # Given late money whose refund of ¥88.88 Alipay made, its answer lost (the call timed
    # out for us), so our operation still waits
    order_id = expired_then_paid(shop, clock)
    shop.alipay.fail_next(times=3, status=503)
    assert shop.post(shop.alipay.notify(order_id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    key = f"late-refund:alipay:{order_id}"
    shop.alipay.portal_refund(order_id, key, 8888)  # made under our request number
    # When Alipay's notice naming our request number comes
    assert shop.post(shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                        refund=(key, 8888))).text == "success"
    # Then it settles our refund: nothing is booked as made outside orderpilot
    told = [name for name, _ in money_events(shop, order_id, "orderpilot.order.late_payment")]
    assert "orderpilot.order.refund_made_outside" not in told
    with shop.pilot.context.engine.connect() as connection:
        assert MoneyStore(Sql(connection)).by_key(key).status == "succeeded"
    assert_books_balance(shop, order_id)


def test_the_buyer_is_told_what_we_refunded_now_and_what_was_refunded_in_the_portal_before(
        shop, clock):
    # Given a cancelled order of ¥88.88 of which staff refunded ¥20.00 in the portal (booked)
    order_id = paid_then_cancelled(shop, clock)
    staff_refund_20(shop, order_id, clock, post=True)
    # When the cancel-refund job refunds the rest and tells the buyer
    said: list[str] = []
    ports = Ports(gateway=shop.pilot.context.gateway, notify=lambda m: said.append(m.body),
                  carrier=lambda n, c: None, retry_delays=(0.01,))  # type: ignore[arg-type]
    assert settle_cancel(shop.pilot.context, ports, order_id) == "refunded"
    # Then the message says the ¥68.88 refunded now and the ¥20.00 refunded before (before:
    # "We refunded ¥88.88", which no single credit on the buyer's statement shows)
    assert said == [f"We refunded ¥68.88 now (ref cancel-refund:{order_id}); ¥20.00 was "
                    "refunded to you before: ¥88.88 in all."]
    assert shop.alipay.trades[order_id]["refunds"] == {
        "portal-cancel-1": 2000, f"cancel-refund:{order_id}": 6888}
    assert_books_balance(shop, order_id)
