"""Money a cancelled, rejected or expired order owes back, whose refund the provider refused for
good (the buyer's bank charged the payment back before its webhook reached us: Stripe
answers `charge_disputed`): it stays owed and in view — listed with the provider's answer,
staff told once however often the settle-cancel job runs — until it is paid back toward that
same debt, by an offline payout here (or a refund made in the provider's portal:
test_alipay_portal_refunds.py). Both stores; the default gateway of each process reads the
store, as a provider keeps its own books. (A chargeback we know of records no such refund at
all: test_cancel_with_dispute_open.py.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from integrations.console.jobs import Ports, settle_cancel
from integrations.db.money_store import MoneyStore
from integrations.payments.simulated import AdoptingGateway
from integrations.service.money_refunds import record_payout
from orderpilot import OrderPilot
from statemachine.errors import InvalidInput
from statemachine.ports import PermanentPaymentError
from statemachine.risk_port import approve_everything
from tests.factories import delivered_order, paid_order, placed_order, stock
from tests.integration.integ.server import review_big_orders


def _ports(pilot: OrderPilot, told: list[str]) -> Ports:
    return Ports(gateway=pilot.context.gateway, carrier=None,  # type: ignore[arg-type]
                 notify=lambda message: told.append(message.audience), retry_delays=(0.01,))


def _owed(pilot: OrderPilot, now=None) -> list[tuple[str, int, str]]:
    return [(r["order_id"], r["owed"], r["kind"]) for r in pilot.payments.refunds_owed(now)]


def _events(pilot: OrderPilot, order_id: str, name: str) -> int:
    with pilot.context.tx(readonly=True) as tx:
        row = tx.store.sql.one("SELECT COUNT(*) FROM outbox WHERE order_id = :o AND event = "
                               ":e", {"o": int(order_id[2:]), "e": name})
    return int(row[0]) if row else 0


def test_a_cancellation_refund_refused_for_good_stays_owed_listed_and_told_once(
        any_url, clock):
    # Given a ¥70 order paid, charged back by the buyer's bank before its webhook reached us
    # (the provider refuses its refunds), then cancelled: the cancellation owes the ¥70 back
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=DisputedGateway())
    stock(pilot)
    order = paid_order(pilot, quantity=2, unit_price=3_500)
    pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    # When the settle-cancel job runs, and runs again (a repeated event, a restart)
    told: list[str] = []
    outcomes = [settle_cancel(pilot.context, _ports(pilot, told), order.id) for _ in range(3)]
    # Then the provider refused the ¥70 (charge_disputed), and staff were told once (before:
    # at every run, an alert and an event each time)
    assert outcomes == ["failed", "failed, told before", "failed, told before"]
    assert told == ["ops"]
    assert _events(pilot, order.id, "orderpilot.order.refund_failed") == 1
    # And the ¥70 is listed as owed, with the provider's answer (before: nothing listed, the
    # order saying refunded: the buyer's ¥70 out of everyone's view)
    owed = pilot.payments.refunds_owed()
    assert [(r["order_id"], r["owed"], r["kind"]) for r in owed] == [
        (order.id, 7_000, "refund_refused")]
    assert "charge_disputed" in owed[0]["reason"]
    # And the overdue sweep does not tell staff again
    assert pilot.payments.sweep(clock.now() + timedelta(hours=100))["refunds_owed_alerted"] == 0
    # When staff pay the buyer back by bank transfer, in two parts (before: refused, the order
    # counting everything refunded already)
    record_payout(pilot.context, int(order.id[2:]), 1_500, "银行转账退款", "cashier-wu",
                  "bank transfer")
    assert _owed(pilot) == [(order.id, 5_500, "refund_refused")]
    with pytest.raises(InvalidInput) as too_much:
        record_payout(pilot.context, int(order.id[2:]), 5_501, "银行转账退款", "cashier-wu",
                      "bank transfer")
    assert "amount" in too_much.value.problems
    record_payout(pilot.context, int(order.id[2:]), 5_500, "银行转账退款", "cashier-wu",
                  "bank transfer")
    # Then nothing is owed any more, the job has nothing to do, and the order still counts
    # what it counted (everything paid given back)
    assert _owed(pilot) == []
    assert settle_cancel(pilot.context, _ports(pilot, told), order.id) == "already settled"
    assert told == ["ops"]
    final = pilot.orders.get(order.id)
    assert (final.state, final.paid, final.refunded) == ("cancelled", 7_000, 7_000)
    pilot.close()


def test_a_rejected_orders_refund_refused_for_good_is_listed_and_paid_out(any_url, clock):
    # Given a ¥70 order held for review and paid meanwhile, charged back by the buyer's bank
    # before its webhook reached us, then rejected
    pilot = OrderPilot(any_url, clock=clock, risk_check=review_big_orders,
                       gateway=DisputedGateway())
    stock(pilot)
    order = placed_order(pilot, quantity=2, unit_price=3_500)
    order = pilot.orders.fire(order.id, "pay", amount=7_000, payment_ref=f"p-{order.id}")
    assert (order.state, order.paid) == ("under_review", 7_000)
    pilot.reviews.reject(order.id, by="mei", reason="收货地址可疑")
    # When the job pays the rejection back and the provider refuses it for good
    told: list[str] = []
    assert settle_cancel(pilot.context, _ports(pilot, told), order.id) == "failed"
    # Then the ¥70 is listed as owed (before: only cancelled orders were ever listed)
    assert _owed(pilot) == [(order.id, 7_000, "refund_refused")]
    # And a payout can be booked toward it (before: a rejected order booked no refund at all)
    record_payout(pilot.context, int(order.id[2:]), 1_000, "部分退款", "cashier-wu", "cash")
    assert _owed(pilot) == [(order.id, 6_000, "refund_refused")]
    assert settle_cancel(pilot.context, _ports(pilot, told), order.id) == "failed, told before"
    assert told == ["ops"]
    pilot.close()


class DisputedGateway(AdoptingGateway):
    """The shop's gateway, whose provider refuses every refund: the payments it is asked about
    were charged back by the buyer's bank."""

    def refund(self, payment_ref: str, amount: int, **kw: Any) -> Any:
        raise PermanentPaymentError(f"{payment_ref} has been charged back (charge_disputed)")


@pytest.mark.parametrize("currency", ["CNY", "USD"])
def test_late_money_whose_refund_is_refused_for_good_is_listed_and_paid_out(any_url, clock,
                                                                            currency):
    # Given an order whose hold lapsed, and the buyer's ¥129 that arrived after it (or
    # US$129.00: late money in another currency is owed back in it)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=DisputedGateway())
    stock(pilot)
    order = placed_order(pilot, quantity=1, unit_price=12_900)
    clock.advance(minutes=31)
    pilot.sweep()
    paid = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7790",
                            currency=currency)
    # When its automatic refund is refused for good
    with pilot.context.tx(readonly=True) as tx:
        status = MoneyStore(tx.store.sql).by_key(paid.refund).status.value
    assert (paid.order.state, status) == ("expired", "failed")
    # Then the late money is listed as owed, with the provider's answer (before: not listed)
    owed = pilot.payments.refunds_owed()
    assert [(r["order_id"], r["owed"], r["kind"]) for r in owed] == [
        (order.id, 12_900, "refund_refused")]
    assert "charge_disputed" in owed[0]["reason"]
    # And what the provider holds counts the late money (its ledger row is `late_capture`),
    # in the currency it came in, held counted in it alone (before, for dollars: listed as
    # ¥129.00 owed)
    assert (owed[0]["currency"], owed[0]["held"]) == (currency, 12_900)
    # And a payout toward it clears it (before: refused, an expired order refunds nothing),
    # booked in the debt's currency
    payout = record_payout(pilot.context, int(order.id[2:]), 12_900, "退回迟到货款",
                           "cashier-wu", "bank transfer")
    assert _owed(pilot) == []
    with pilot.context.tx(readonly=True) as tx:
        booked = tx.store.sql.all("SELECT kind, currency FROM payment_records WHERE "
                                  "order_id = :o ORDER BY id", {"o": int(order.id[2:])})
    assert payout.currency == currency
    assert [tuple(r) for r in booked] == [("late_capture", currency), ("payout", currency)]
    pilot.close()


def test_a_compensation_paid_out_on_a_delivered_order_is_not_booked_toward_its_late_money(
        any_url, clock):
    # Given a delivered ¥129 order, paid a second time by mistake, whose refund of that second
    # payment the provider refused for good (listed as owed)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=DisputedGateway())
    stock(pilot)
    order = delivered_order(pilot, quantity=1, unit_price=12_900)
    pilot.orders.pay(order.id, amount=12_900, payment_ref="second-pay-1")
    assert _owed(pilot) == [(order.id, 12_900, "refund_refused")]
    # When staff pay the buyer ¥10 for a damaged box, and later ¥119 more: the goods' price
    first = record_payout(pilot.context, int(order.id[2:]), 1_000, "包裹破损补偿", "cs-li",
                          "wechat")
    record_payout(pilot.context, int(order.id[2:]), 11_900, "整单赔付", "cs-li", "wechat")
    # Then both are the order's compensations (before: both were booked toward the late
    # money, the order counting nothing refunded and the late money listed as paid back: the
    # buyer's ¥129 of late money out of everyone's view)
    assert first.key.startswith("payout:")
    final = pilot.orders.get(order.id)
    assert (final.state, final.refunded) == ("delivered", 12_900)
    # And the late money is still owed in full
    assert _owed(pilot) == [(order.id, 12_900, "refund_refused")]
    pilot.close()
