"""A payment with an open chargeback takes no refund of ours, not even of the part the bank does
not dispute: the provider refuses any refund of a charged-back charge (Stripe:
`charge_disputed`), so one we recorded was only refused there after we had written it. Every
refund that goes through our refund entry (money_requests.request) is refused before anything
is written, naming the chargeback; refunds resume once the dispute closes — won: the whole
payment is refundable again; lost: what the chargeback left. An inquiry stops nothing (bff4442).
The provider here is the simulated one adopting the store's payments (it refuses refunds of a
charged-back payment, as Stripe does). Both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.db.money_store import MoneyStore
from integrations.ingest.money_events import apply_money_event
from integrations.service import money, refunds
from integrations.service.money_refunds import record_payout, refund_order
from integrations.service.money_sweep import sweep_money
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.money import OperationKind
from statemachine.ports import MoneyEvent
from tests.factories import order_request, stock
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_case_replacement_goods import HANGZHOU, PRICE
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent
from tests.integration.integ.server import row_counts

DISPUTED = 10_000  # of the two mugs' ¥258.00 (+ shipping): the bank disputes ¥100.00 of it
HELD = "open chargeback (d-1, disputed 10000)"


@pytest.fixture
def shop(any_url, clock):
    pilot = make_pilot(any_url, clock)
    yield pilot
    pilot.close()


def charged_back(shop, order, event_id: str = "e-1", kind: str = "dispute_opened",
                 provider: str = "simulated", **extra: str) -> None:
    """The provider reports a chargeback of ¥100.00 on the order's payment (or its end)."""
    paid = shop.orders.get(order.id)
    apply_money_event(shop.context, MoneyEvent(
        provider, event_id, kind, paid.payment_ref, DISPUTED, "CNY", shop.clock.now(),
        order_id=order.id, dispute_ref="sim-dp-1", **extra))


def refunds_of(shop, order) -> list[tuple[str, str, int]]:
    with shop.context.tx(readonly=True) as tx:
        return [(op.key, op.status.value, op.amount)
                for op in MoneyStore(tx.store.sql).of_order(int(order.id[2:]))
                if op.kind is OperationKind.REFUND]


def test_a_goodwill_refund_of_the_undisputed_part_is_refused_naming_the_chargeback(shop):
    # Given a delivered order of which the bank charged back ¥100.00 (¥158.00 undisputed)
    order = delivered_order(shop)
    charged_back(shop, order, reason="fraudulent")
    before = row_counts(shop)
    # When finance refunds ¥10.00 of it as goodwill
    with pytest.raises(GuardRejected) as refused:
        refund_order(shop.context, int(order.id[2:]), 1_000, "物流延误补偿", "finance:li")
    # Then it is refused naming the chargeback and why, and nothing is written (before: the
    # refund was recorded, then the provider refused it: a failed refund, staff alerted)
    assert HELD in str(refused.value)
    assert "refuses any refund of a charged-back payment" in str(refused.value)
    assert row_counts(shop) == before
    assert refunds_of(shop, order) == []


def test_a_case_refund_is_refused_while_the_chargeback_is_open_and_paid_once_it_is_won(shop):
    # Given a delivered order with ¥100.00 charged back, and an approved refund-only case on
    # one mug (¥129.00: less than the undisputed ¥158.00)
    order = delivered_order(shop)
    charged_back(shop, order, reason="fraudulent")
    case = shop.cases.open(order.id, kind="refund_only", reason="杯口有裂纹",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    before = row_counts(shop)
    # When staff refund it, and the console's settle job tries too
    with pytest.raises(GuardRejected, match=r"open chargeback \(d-1"):
        shop.cases.refund(case.id, by="cs-agent")
    settled = refunds.settle(shop.context, int(case.id[2:]), shop.context.gateway)
    # Then neither records a refund the provider would refuse; the case waits, approved
    assert settled.startswith(f"auto_approved: not refunded: payment alipay-{order.id} has "
                              f"an {HELD}"), settled
    assert row_counts(shop) == before
    # When the bank decides for the shop
    charged_back(shop, order, "e-2", "dispute_closed", outcome="won")
    # Then the case refund goes through, paid once
    paid = shop.cases.refund(case.id, by="cs-agent")
    assert (paid.status, paid.case.state) == ("succeeded", "refunded")
    assert refunds_of(shop, order) == [(f"refund:{case.id}", "succeeded", 12_900)]
    assert [b.kind for b in shop.context.gateway.books].count("refund") == 1


def test_a_grant_during_an_open_chargeback_stands_and_says_why_nothing_was_refunded(shop):
    # Given a delivered order with ¥100.00 charged back and a refund request held for a person
    order = delivered_order(shop)
    charged_back(shop, order, reason="fraudulent")
    case = shop.cases.open(order.id, kind="refund_only", reason="杯口有裂纹",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "review", actor="system:refund-review")
    # When a reviewer grants it
    approved = shop.cases.approve(case.id, by="amy", reason="照片显示裂纹")
    # Then the approval stands, and its refund is refused by the store, saying why
    assert approved.state == "approved"
    assert (approved.refund.status, approved.refund.refund) == ("refused", None)
    assert HELD in approved.refund.error
    assert refunds_of(shop, order) == []


def test_after_a_lost_alipay_chargeback_what_it_left_may_be_refunded_and_no_more(shop):
    # Given a delivered order whose ¥100.00 Alipay chargeback the shop lost (booked as
    # refunded): Alipay refuses only the charged-back amount ("the rejected amount cannot be
    # refunded"), not the rest of the payment
    order = delivered_order(shop)
    charged_back(shop, order, provider="alipay", reason="fraudulent")
    charged_back(shop, order, "e-2", "dispute_closed", provider="alipay", outcome="lost")
    after = shop.orders.get(order.id)
    left = after.paid - DISPUTED
    assert after.refunded == DISPUTED
    # When refunds are recorded: one more than the chargeback left, then all it left
    with shop.context.tx() as tx:
        locked = tx.store.get_order(int(order.id[2:]), lock=True)
        with pytest.raises(GuardRejected, match=f"exceeds what is left \\({left}"):
            money.request(shop.context, tx, locked, OperationKind.REFUND, left + 1,
                          f"refund:{order.id}:too-much", "finance:li", at=shop.clock.now())
        money.request(shop.context, tx, locked, OperationKind.REFUND, left,
                      f"refund:{order.id}:rest", "finance:li", at=shop.clock.now())
    # Then no chargeback stops them any more: the rest is recorded, to be paid
    assert refunds_of(shop, order) == [(f"refund:{order.id}:rest", "pending", left)]


@pytest.mark.parametrize("end", ["lost", "accepted"])
def test_after_a_lost_stripe_like_chargeback_no_refund_is_recorded_and_a_payout_is(shop, end):
    # Given a delivered order whose ¥100.00 chargeback at the simulated provider (which, as
    # Stripe, refuses every refund of a charged-back charge for good: charge_disputed) the
    # bank decided against the shop, or the shop conceded
    order = delivered_order(shop)
    charged_back(shop, order, reason="fraudulent")
    if end == "lost":
        charged_back(shop, order, "e-2", "dispute_closed", outcome="lost")
    else:
        shop.disputes.accept("d-1", by="finance:li", reason="买家确未收到货")
    assert shop.disputes.get("d-1")["state"] == end
    before = row_counts(shop)
    # When finance refunds ¥10.00 of the undisputed rest as goodwill
    with pytest.raises(GuardRejected) as refused:
        refund_order(shop.context, int(order.id[2:]), 1_000, "物流延误补偿", "finance:li")
    # Then it is refused naming the dispute and what to do instead, nothing written (before:
    # recorded, then refused by the provider — a failed refund, staff alerted)
    said = str(refused.value)
    assert f"payment alipay-{order.id} was charged back for good (d-1" in said, said
    assert "charge_disputed" in said and "pay the buyer outside the provider" in said, said
    assert row_counts(shop) == before
    assert refunds_of(shop, order) == []
    # And what it says to do instead works: an offline payout is recorded (and the rule
    # still counts: no more than the chargeback left)
    paid = record_payout(shop.context, int(order.id[2:]), 1_000, "物流延误补偿", "finance:li",
                         "银行转账")
    assert (paid.kind, paid.status.value, paid.amount) == (OperationKind.PAYOUT, "succeeded",
                                                           1_000)
    assert [b.kind for b in shop.context.gateway.books].count("refund") == 0


def shipped_order(shop):
    """Two mugs at ¥129 from WH-A, paid, shipped, their parcel picked up by the carrier."""
    stock(shop, "SKU-MUG", "WH-A", 2)
    order = shop.orders.place(**order_request(sku="SKU-MUG", quantity=2, unit_price=PRICE,
                                              shipping_address=dict(HANGZHOU)))
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"alipay-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(order.id, trigger)
    [parcel] = shop.shipments.of_order(order.id)
    shop.shipments.fire(parcel.id, "pick_up")
    return order, parcel


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_parcel_lost_under_an_open_chargeback_stays_owed_and_the_sweep_pays_it_once_won(
        shop, outcome):
    # Given a shipped order (two mugs, ¥258.00) with ¥100.00 of its payment charged back
    order, parcel = shipped_order(shop)
    charged_back(shop, order, reason="fraudulent")
    # When the carrier reports the parcel lost, and the money sweep runs while the chargeback
    # is still open
    claim = shop.claims.report_lost(parcel.id, reason="顺丰: 分拣中心遗失")
    sweep_money(shop.context, shop.clock.now() + timedelta(minutes=5))
    # Then the compensation is owed — recorded, held — and the provider is asked for nothing
    # it would refuse (before: compensated 0, nothing owed anywhere: once the dispute was won
    # the buyer, who never got the mugs, was never paid)
    assert claim["compensated"] == 2 * PRICE
    [held] = refunds_of(shop, order)
    assert held == (f"compensation:{parcel.id}", "pending", 2 * PRICE)
    assert "waiting for chargeback d-1 to close" in _error(shop, held[0])
    assert [b.kind for b in shop.context.gateway.books].count("refund") == 0
    # When the bank decides, and the sweep runs again
    charged_back(shop, order, "e-2", "dispute_closed", outcome=outcome)
    sweep_money(shop.context, shop.clock.now() + timedelta(minutes=5))
    if outcome == "won":
        # Then the compensation is paid, once
        assert refunds_of(shop, order) == [(f"compensation:{parcel.id}", "succeeded",
                                            2 * PRICE)]
        assert [b.kind for b in shop.context.gateway.books].count("refund") == 1
        assert shop.orders.get(order.id).refunded == 2 * PRICE
        # And the mugs cannot be paid again by a case
        with pytest.raises(InvalidInput):
            shop.cases.open(order.id, kind="refund_only", reason="包裹丢失，未收到货",
                            lines=[{"line_no": 1, "quantity": 2}])
    else:
        # Then the provider will never refund it (charge_disputed for good): it fails, saying
        # to pay the buyer outside the provider, without the provider asked
        assert refunds_of(shop, order)[0][1] == "failed"
        assert "pay the buyer outside the provider" in _error(shop, held[0])
        assert [b.kind for b in shop.context.gateway.books].count("refund") == 0


def test_a_return_parcel_lost_under_an_open_chargeback_closes_its_case_saying_its_refund_waits(
        shop):
    # Given two mugs delivered, a return of one of them (¥129.00) on its way back, and then
    # ¥100.00 of the payment charged back
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    charged_back(shop, order, reason="fraudulent")
    # When the carrier loses the return parcel
    claim = shop.claims.report_lost(back.id, reason="中通确认退货丢件")
    # Then the mug's refund is owed, held while the chargeback is open
    assert claim["compensated"] == PRICE
    assert refunds_of(shop, order) == [(f"compensation:{back.id}", "pending", PRICE)]
    # And the case is closed by that refund, its history saying the refund waits on the
    # dispute (before: "refunded by claim" as if the buyer had been paid back)
    assert shop.cases.get(case_id).state == "closed"
    assert "held until chargeback d-1 closes" in _closed_because(shop, case_id)
    # When the bank decides for the shop and the money sweep runs
    charged_back(shop, order, "e-2", "dispute_closed", outcome="won")
    sweep_money(shop.context, shop.clock.now() + timedelta(minutes=5))
    # Then the mug is paid back once
    assert refunds_of(shop, order) == [(f"compensation:{back.id}", "succeeded", PRICE)]
    assert [b.kind for b in shop.context.gateway.books].count("refund") == 1


def _closed_because(shop, case_id: str) -> str:
    with shop.context.tx(readonly=True) as tx:
        [row] = tx.store.sql.all("SELECT payload FROM transition_history WHERE entity = 'case' "
                                 "AND entity_id = :c AND trigger = 'close'",
                                 {"c": int(case_id[2:])})
    return str(tx.store.sql.doc(row[0])["reason"])


def _error(shop, key: str) -> str:
    with shop.context.tx(readonly=True) as tx:
        return MoneyStore(tx.store.sql).by_key(key).error or ""


def test_an_offline_payout_already_made_is_booked_under_an_open_chargeback(shop):
    # Given a delivered order with ¥100.00 of its payment charged back (¥158.00 undisputed)
    order = delivered_order(shop)
    charged_back(shop, order, reason="fraudulent")
    # When the cashier books ¥15.00 she already paid the buyer by bank transfer (no provider
    # is asked: the money has left the shop already)
    payout = record_payout(shop.context, int(order.id[2:]), 1_500, "银行转账补偿", "cashier-wu",
                           "bank_transfer")
    # Then it is booked, and the order counts it refunded (before: refused naming the
    # chargeback, as if the provider had been asked — a payout made could not be recorded)
    assert (payout.kind, payout.status.value, payout.amount) == ("payout", "succeeded", 1_500)
    assert shop.orders.get(order.id).refunded == 1_500
    # And a payout must still fit beside what the chargeback holds: ¥158.00 - ¥15.00 is left
    left = shop.orders.get(order.id).paid - DISPUTED - 1_500
    with pytest.raises(GuardRejected, match=f"exceeds what is left \\({left}"):
        record_payout(shop.context, int(order.id[2:]), left + 1, "整单赔付", "cashier-wu", "cash")
