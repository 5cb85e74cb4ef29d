"""Which operation a portal refund's notice is credited to, when a refund of ours is in flight
with its outcome unknown (the call timed out). Alipay's refund notice gives the trade's
refunded *total* (`refund_fee`), the refund it is about (`out_biz_no`: ours, or the portal's
number or none) and when that refund was made (`gmt_refund`) — not each refund's amount.
End to end over HTTP with signed notices, both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.db.money_store import MoneyStore
from integrations.db.sql import Sql
from integrations.service.checkout import open_checkout
from tests.factories import stock
from tests.integration.payments.books import assert_books_balance, ledger
from tests.integration.payments.test_alipay_notify import ADDRESS, Shop, alipay_shop
from tests.integration.payments.test_alipay_portal_refunds import outbox


@pytest.fixture
def shop(any_url, clock) -> Iterator[Shop]:
    with alipay_shop(any_url, clock) as shop:
        yield shop


def two_cups_paid(shop: Shop, clock) -> str:
    """An order of two cups at ¥44.44 (¥88.88), paid with Alipay and notified."""
    stock(shop.pilot, quantity=5)
    order = shop.pilot.orders.place(
        buyer_id="b-cup-1", lines=[{"sku": "SKU-1", "quantity": 2, "unit_price": 4444}],
        shipping_address=ADDRESS, phone="+8613900139000", currency="CNY")
    open_checkout(shop.pilot.context, int(order.id[2:]))
    shop.alipay.pay(order.id)
    assert shop.post(shop.alipay.notify(order.id, "TRADE_SUCCESS", at=clock.now())).text == \
        "success"
    return order.id


def our_refund_of_one_cup_times_out(shop: Shop, order_id: str) -> str:
    """The buyer's refund-only request for one cup, approved; Alipay unreachable, so our
    refund of ¥44.44 waits for its retry, its outcome unknown. Returns its key."""
    case = shop.pilot.cases.open(order_id, kind="refund_only", reason="一个杯子碎了",
                                 lines=[{"line_no": 1, "quantity": 1}])
    shop.pilot.cases.fire(case.id, "review", actor="system:refund-review")
    shop.alipay.fail_next(times=3, status=503)
    shop.pilot.cases.approve(case.id, by="mei", reason="同意退一个杯子")
    [ours] = pending_refunds(shop, order_id)
    return ours


def pending_refunds(shop: Shop, order_id: str) -> list[str]:
    with shop.pilot.context.engine.connect() as connection:
        return [op.key for op in MoneyStore(Sql(connection)).of_order(int(order_id[2:]))
                if op.kind == "refund" and op.status == "pending"]


def status_of(shop: Shop, key: str) -> str:
    with shop.pilot.context.engine.connect() as connection:
        op = MoneyStore(Sql(connection)).by_key(key)
    assert op is not None
    return op.status


def test_a_portal_refund_made_before_our_refund_was_asked_is_not_credited_to_ours(shop, clock):
    # Given a paid order of ¥88.88 that staff refunded in full in Alipay's merchant portal,
    # whose notice we did not get (our server was down: Alipay resends it later)
    order_id = two_cups_paid(shop, clock)
    shop.alipay.portal_refund(order_id, "portal-all-1", 8888)
    notice = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-all-1", 8888), out_biz_no="")
    # And ten minutes later we approve a refund of one cup, whose call times out
    clock.advance(minutes=10)
    ours = our_refund_of_one_cup_times_out(shop, order_id)
    # When Alipay's resent notice comes: ¥88.88 refunded in all, by a refund made in the portal
    # ten minutes before ours was asked (gmt_refund)
    clock.advance(minutes=2)
    assert shop.post(notice).text == "success"
    # Then all ¥88.88 is booked as the portal's: ours cannot be in a total Alipay reported for
    # a moment before we asked for it (before: our ¥44.44 was settled as paid from the notice
    # and only ¥44.44 booked as the portal's — the total right, the refund credited to the
    # wrong operation)
    assert status_of(shop, ours) == "pending"
    order = shop.pilot.orders.get(order_id)
    assert (order.paid, order.refunded) == (8888, 8888)
    refunds = [h for h in shop.pilot.orders.history(order_id) if h.trigger == "refund"]
    assert [(h.actor, h.payload["amount"]) for h in refunds] == [("provider:alipay", 8888)]
    assert outbox(shop, order_id, "orderpilot.order.money_succeeded") == []
    # And when our refund is made again, Alipay refuses it (nothing is left): the buyer got
    # ¥88.88 back once, from the portal, and the books balance against Alipay's
    clock.advance(minutes=5)
    shop.pilot.payments.sweep()
    assert status_of(shop, ours) == "failed"
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-all-1": 8888}
    assert ledger(shop, order_id) == [("capture", 8888), ("refund", 8888)]
    assert_books_balance(shop, order_id)


def test_a_portal_refund_of_everything_after_our_refund_timed_out_is_applied_and_balances(
        shop, clock):
    """The limit, pinned: ours asked first, then the portal refunded everything. Alipay's
    notice (¥88.88 refunded in all, by the portal's refund) reads the same whether Alipay made
    ours (¥44.44) and the portal the other ¥44.44, or the portal all ¥88.88 and ours never
    happened; only Alipay's refund query (by our out_request_no) tells. The money-to-spare
    rule credits ours: the order's total and the books are right either way, and which
    operation was credited is right in the first case only (integrations/payments/
    README.md, How money moves)."""
    # Given a paid order of ¥88.88 and our refund of one cup whose call timed out
    order_id = two_cups_paid(shop, clock)
    ours = our_refund_of_one_cup_times_out(shop, order_id)
    # When staff then refund everything in the portal and its notice comes (twice)
    clock.advance(minutes=3)
    shop.alipay.portal_refund(order_id, "portal-all-2", 8888)
    notice = shop.alipay.notify(order_id, "TRADE_CLOSED", at=clock.now(),
                                refund=("portal-all-2", 8888), out_biz_no="")
    # Then it is applied (before: answered `failure` every time — "order o-1 was changed by
    # someone else": settling ours moved the order's version under the portal's refund step
    # — so Alipay retried it for a day and the portal's refund was never booked)
    assert [shop.post(notice).text for _ in range(2)] == ["success"] * 2
    # And ours is credited with ¥44.44 and the other ¥44.44 booked as the portal's; the
    # trade closed before it shipped, so the order is cancelled (stock back) by the system
    assert status_of(shop, ours) == "succeeded"
    order = shop.pilot.orders.get(order_id)
    assert (order.state, order.paid, order.refunded) == ("cancelled", 8888, 8888)
    assert shop.pilot.orders.history(order_id)[-1].actor == "system:refunded-at-alipay"
    [outside] = outbox(shop, order_id, "orderpilot.order.refund_made_outside")
    assert (outside["amount"], outside["toward"]) == (4444, "cancel")
    # And nothing is asked of Alipay again; the books balance against Alipay's
    clock.advance(minutes=5)
    shop.pilot.payments.sweep()
    assert pending_refunds(shop, order_id) == []
    assert shop.alipay.trades[order_id]["refunds"] == {"portal-all-2": 8888}
    assert_books_balance(shop, order_id)
