"""Late money reported through the Python API follows the shop's late-payment policy, and a
refused step names only steps a caller can take.

`pilot.orders.pay` reports money a provider with no webhook here took: it goes through the
payments webhook's own handler (revived or refunded by policy), once per payment id."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.ingest import handlers
from integrations.ingest.events import PaymentEvent
from integrations.payments.simulated import AdoptingGateway
from orderpilot import OrderPilot
from statemachine.errors import GuardRejected, InvalidInput, InvalidTransition
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock
from tests.integration.test_order_lifecycle import row_counts

ADDRESS = {"line": "上海市浦东新区张江路88弄5号1201室", "recipient": "韩梅梅",
           "phone": "+86 139 1234 5678"}


def expired_order(pilot: OrderPilot, clock):  # noqa: ANN001
    stock(pilot)
    order = placed_order(pilot, quantity=1, unit_price=12_900, shipping_address=ADDRESS)
    clock.advance(minutes=31)
    pilot.sweep()
    assert pilot.orders.get(order.id).state == "expired"
    return order


def test_revive_is_refused_while_the_shop_refunds_late_money(any_url, clock):
    # Given the default policy (late money is refunded) and an order whose hold lapsed
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order = expired_order(pilot, clock)
    # When the shop's code fires revive with the buyer's money
    with pytest.raises(GuardRejected, match="ORDERPILOT_LATE_PAYMENTS=refund"):
        pilot.orders.fire(order.id, "revive", amount=12_900, payment_ref="alipay-2026112822001")
    # Then nothing moved (before: the order was revived, paid, against the policy)
    after = pilot.orders.get(order.id)
    assert (after.state, after.paid) == ("expired", 0)
    pilot.close()


def test_revive_works_under_the_revive_policy(any_url, clock, monkeypatch):
    monkeypatch.setenv("ORDERPILOT_LATE_PAYMENTS", "revive")
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order = expired_order(pilot, clock)
    revived = pilot.orders.fire(order.id, "revive", amount=12_900,
                                payment_ref="alipay-2026112822002")
    assert (revived.state, revived.paid) == ("paid", 12_900)
    pilot.close()


def test_paying_a_cancelled_order_names_no_internal_step(any_url, clock):
    # Given a cancelled order
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    order = placed_order(pilot, quantity=1, unit_price=12_900, shipping_address=ADDRESS)
    pilot.orders.fire(order.id, "cancel", reason="买错了")
    # When the shop's code fires pay on it, the refusal offers nothing a caller cannot fire
    # (before: "allowed: refund", a step only after-sales and cancellations take)
    with pytest.raises(InvalidTransition) as refused:
        pilot.orders.fire(order.id, "pay", amount=12_900, payment_ref="wx-4200001")
    assert refused.value.allowed == []
    assert str(refused.value).endswith("cannot pay from cancelled; allowed: none by a caller")
    pilot.close()


class RecordingGateway(AdoptingGateway):
    """The shop's own adapter for a provider orderpilot has no webhook for: records refunds."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: list[tuple[str, int, str]] = []
        self.currencies: list[str | None] = []

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: Any = (), currency: str | None = None) -> Any:
        self.refunds.append((payment_ref, amount, idempotency_key))
        self.currencies.append(currency)
        return super().refund(payment_ref, amount, idempotency_key=idempotency_key, lines=lines,
                              currency=currency)


def ledger(pilot: OrderPilot, order_id: str) -> list[tuple[str, int]]:
    with pilot.context.tx(readonly=True) as tx:
        return [(k, a) for k, a in tx.store.sql.all(
            "SELECT kind, amount FROM payment_records WHERE order_id = :o ORDER BY id",
            {"o": int(order_id[2:])})]


def test_late_money_reported_by_api_is_refunded_once_under_the_refund_policy(any_url, clock):
    # Given the default policy and an order whose hold lapsed
    gateway = RecordingGateway()
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    order = expired_order(pilot, clock)
    # When the shop's code reports the buyer's money, taken by a provider with no webhook here
    # (before: there was no such call; fire("pay") is refused on an expired order)
    paid = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7781")
    # Then the money is recorded as late and refunded through the shop's gateway, at once
    assert (paid.outcome, paid.refund, paid.duplicate) == (
        "refunded", "late-refund:payments:unionpay-7781", False)
    assert (paid.order.state, paid.order.paid) == ("expired", 0)
    assert gateway.refunds == [("unionpay-7781", 12_900, "late-refund:payments:unionpay-7781")]
    assert ledger(pilot, order.id) == [("late_capture", 12_900), ("refund", 12_900)]
    # And reporting it again answers the same and moves no money
    again = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7781")
    assert (again.outcome, again.duplicate) == ("refunded", True)
    # as does the same money arriving through the payments webhook under its own event id
    hook = handlers.payment_event(pilot.context, PaymentEvent(
        event_id="evt-9", type="succeeded", order_id=order.id, amount=12_900,
        payment_ref="unionpay-7781"))
    assert hook.body["applied"] is False and "already recorded" in hook.body["note"]
    assert len(gateway.refunds) == 1
    assert ledger(pilot, order.id) == [("late_capture", 12_900), ("refund", 12_900)]
    pilot.close()


def test_late_money_reported_by_api_revives_the_order_under_the_revive_policy(
        any_url, clock, monkeypatch):
    monkeypatch.setenv("ORDERPILOT_LATE_PAYMENTS", "revive")
    gateway = RecordingGateway()
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    order = expired_order(pilot, clock)
    revived = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7782")
    assert (revived.outcome, revived.refund) == ("revived", None)
    assert (revived.order.state, revived.order.paid) == ("paid", 12_900)
    assert gateway.refunds == [] and ledger(pilot, order.id) == [("capture", 12_900)]
    pilot.close()


def test_a_payment_reported_by_api_pays_a_waiting_order_once(any_url, clock):
    # Given an order waiting for its payment
    gateway = RecordingGateway()
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    stock(pilot)
    order = placed_order(pilot, quantity=1, unit_price=12_900, shipping_address=ADDRESS)
    # When the money is reported, then reported again, then its webhook arrives too
    paid = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7783")
    again = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7783")
    hook = handlers.payment_event(pilot.context, PaymentEvent(
        event_id="evt-10", type="succeeded", order_id=order.id, amount=12_900,
        payment_ref="unionpay-7783"))
    # Then the order is paid once; the repeats change nothing (before, the webhook's repeat
    # under another event id was refused: cannot pay from paid)
    assert (paid.outcome, paid.order.state, paid.order.paid) == ("paid", "paid", 12_900)
    assert (again.outcome, again.duplicate) == ("paid", True)
    assert hook.body["applied"] is False and hook.body["note"] == "already paid by unionpay-7783"
    assert ledger(pilot, order.id) == [("capture", 12_900)] and gateway.refunds == []
    # And a second payment (another reference) is late money: refunded
    second = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7784")
    assert (second.outcome, second.order.paid) == ("refunded", 12_900)
    assert gateway.refunds == [("unionpay-7784", 12_900, "late-refund:payments:unionpay-7784")]
    pilot.close()


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "129.00"}, "amount"),
    ({"amount": 0}, "amount"),
    ({"payment_ref": ""}, "payment_ref"),
    ({"payment_ref": 7781}, "payment_ref"),
    ({"currency": "cny"}, "currency"),
    ({"paid_at": "2026-11-28 10:00"}, "paid_at"),
    ({"order_id": "42"}, "order_id"),
])
def test_a_bad_payment_report_names_the_argument_and_writes_nothing(any_url, clock, change,
                                                                    field):
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=RecordingGateway())
    order = expired_order(pilot, clock)
    before = row_counts(pilot)
    report = {"order_id": order.id, "amount": 12_900, "payment_ref": "unionpay-7785", **change}
    with pytest.raises(InvalidInput) as refused:
        pilot.orders.pay(report.pop("order_id"), **report)
    assert field in refused.value.problems, refused.value.problems
    assert row_counts(pilot) == before
    pilot.close()


def test_a_payment_reported_again_with_another_amount_is_refused(any_url, clock):
    gateway = RecordingGateway()
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    order = expired_order(pilot, clock)
    pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7786")
    before = row_counts(pilot)
    with pytest.raises(InvalidInput, match="payment_ref: unionpay-7786 was reported already"):
        pilot.orders.pay(order.id, amount=100, payment_ref="unionpay-7786")
    assert row_counts(pilot) == before and len(gateway.refunds) == 1
    pilot.close()


def test_a_payment_of_another_amount_reported_by_api_is_refunded(any_url, clock, monkeypatch):
    # Given the revive policy and an order waiting for ¥129
    monkeypatch.setenv("ORDERPILOT_LATE_PAYMENTS", "revive")
    gateway = RecordingGateway()
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    stock(pilot)
    order = placed_order(pilot, quantity=1, unit_price=12_900, shipping_address=ADDRESS)
    # When the shop's code reports ¥100 taken for it
    short = pilot.orders.pay(order.id, amount=10_000, payment_ref="unionpay-7787")
    # Then the money goes back (a wrong amount is never revived or paid; before: GuardRejected,
    # the money kept at the provider with nothing recorded) and the order still waits
    assert (short.outcome, short.order.state, short.order.paid) == (
        "refunded", "awaiting_payment", 0)
    assert gateway.refunds == [("unionpay-7787", 10_000, "late-refund:payments:unionpay-7787")]
    pilot.close()


def test_money_in_another_currency_never_revives_an_expired_order(any_url, clock, monkeypatch):
    # Given the revive policy and an order of ¥129 whose hold lapsed
    monkeypatch.setenv("ORDERPILOT_LATE_PAYMENTS", "revive")
    gateway = RecordingGateway()
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    order = expired_order(pilot, clock)
    # When the shop's code reports 12,900 taken for it — in US cents, not fen
    other = pilot.orders.pay(order.id, amount=12_900, payment_ref="unionpay-7788",
                             currency="USD")
    # Then it is not the order's payment: refunded, the order left expired (before: revived
    # and paid ¥129 with US$129, shipped for money of another currency)
    assert (other.outcome, other.order.state, other.order.paid) == ("refunded", "expired", 0)
    assert gateway.refunds == [("unionpay-7788", 12_900, "late-refund:payments:unionpay-7788")]
    assert ledger(pilot, order.id) == [("late_capture", 12_900), ("refund", 12_900)]
    # and it goes back as it came, in dollars: the ledger, the refund asked of the provider
    # (before: booked and refunded as ¥129)
    assert gateway.currencies == ["USD"]
    with pilot.context.tx(readonly=True) as tx:
        assert [r[0] for r in tx.store.sql.all(
            "SELECT currency FROM payment_records WHERE order_id = :o ORDER BY id",
            {"o": int(order.id[2:])})] == ["USD", "USD"]
    pilot.close()
