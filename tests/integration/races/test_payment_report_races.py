"""Payments reported through the Python API (pilot.orders.pay) by two of the shop's processes
at the same moment — the same money told twice, two payments for one order, money after the
hold lapsed —, the buyer's money arriving as a reviewer decides the held order, and a dispute
opened as a case refund or a cancellation is being paid out."""

from __future__ import annotations

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.provider import SharedProvider
from tests.integration.races.shop import (
    approved_refund_case,
    awaiting_payment,
    booked,
    expired_unpaid,
    late_refunds,
    money_arrives,
    paid,
    start_trial,
)


def report(order, ref: str) -> tuple[str, dict]:
    return ("report_payment", {"order_id": order.id, "amount": order.total, "payment_ref": ref})


@pytest.mark.parametrize("trials", TRIALS)
def test_one_payment_reported_twice_at_once_pays_the_order_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order awaiting payment
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        # When two of the shop's processes report the same payment at the same moment
        outcomes = race.run(report(order, f"wx-{trial}"), report(order, f"wx-{trial}"))
        # Then both are told it paid the order, one of them as the answer to the other
        assert sorted(o.result for o in outcomes) == [("paid", False), ("paid", True)], \
            (trial, outcomes)
        final = pilot.orders.get(order.id)
        assert (final.state, final.paid, late_refunds(pilot, order.id)) == \
            ("paid", order.total, {}), (trial, final)
        assert [h.trigger for h in pilot.orders.history(order.id)].count("pay") == 1, trial
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_two_payments_reported_at_once_one_pays_the_other_is_refunded(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order awaiting payment, which the buyer paid twice (WeChat and Alipay)
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        refs = [f"wx-{trial}", f"alipay-{trial}"]
        # When both payments are reported at the same moment
        outcomes = race.run(*[report(order, ref) for ref in refs])
        # Then one pays the order, the other is recorded and refunded in full
        assert sorted(o.result for o in outcomes) == [("paid", False), ("refunded", False)], \
            (trial, outcomes)
        final = pilot.orders.get(order.id)
        winner = refs[[o.result[0] for o in outcomes].index("paid")]
        other = next(ref for ref in refs if ref != winner)
        assert (final.state, final.paid, final.payment_ref) == ("paid", order.total, winner)
        assert late_refunds(pilot, order.id) == {
            f"late-refund:payments:{other}": ("succeeded", order.total)}, (trial, outcomes)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_late_money_reported_twice_at_once_is_refunded_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order that expired unpaid
        start_trial(race, trial)
        order = expired_unpaid(race, pilot, trial)
        # When the buyer's late payment is reported by two processes at once
        outcomes = race.run(report(order, f"wx-{trial}"), report(order, f"wx-{trial}"))
        # Then it is refunded once; the second caller hears the first answer
        assert sorted(o.result for o in outcomes) == [("refunded", False),
                                                      ("refunded", True)], (trial, outcomes)
        assert pilot.orders.get(order.id).state == "expired", trial
        assert late_refunds(pilot, order.id) == {
            f"late-refund:payments:wx-{trial}": ("succeeded", order.total)}, (trial, outcomes)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_dispute_opened_as_a_case_refund_is_paid_out_never_both_beyond_what_was_paid(
        race, trials, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given a paid order of two lines and an approved refund-only case for one of them
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        ref = f"alipay-{trial}"
        provider.paid(ref, order.total)
        case_id = approved_refund_case(pilot, order)
        # When the console pays the case out as the buyer's bank disputes the whole payment
        refund, dispute = race.run(
            ("console_job", {"job": "settle-refund", "entity": case_id,
                             "provider": str(provider.path)}),
            ("dispute_opened", {"order_id": order.id, "payment_ref": ref,
                                "amount": order.total, "at": race.now().isoformat(),
                                "dispute_ref": f"dp-{trial}"}))
        # Then the dispute is recorded; the case refund went out only if it came first (the
        # provider holds the disputed money: nothing is left to refund beside it); what the
        # provider paid is what the store booked
        assert dispute.ok, (trial, dispute)
        assert refund.ok or refund.error == "GuardRejected", (trial, refund)
        out = provider.refunded(ref)
        ledger, pending = booked(pilot, order.id)
        assert out in (0, order.total // 2), (trial, out, provider.asked(ref))
        assert (ledger, pilot.orders.get(order.id).refunded) == (out, out), \
            (trial, out, ledger, pending, refund)
        assert pending == [], (trial, pending, refund)
        race.check([order.id])


@pytest.mark.parametrize("approve", [True, False], ids=["approve", "reject"])
@pytest.mark.parametrize("trials", TRIALS)
def test_the_buyers_money_arriving_as_the_reviewer_decides(race, trials, approve, tmp_path):
    pilot = race.open(risk="review_everything")
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given an order held for review, and the buyer's money captured at the provider
        start_trial(race, trial)
        order = awaiting_payment(pilot, trial)
        ref = f"wx-{trial}"
        provider.paid(ref, order.total)
        # When the provider's notice arrives as the reviewer approves (or rejects) the order
        money, decided = race.run(
            money_arrives(race, order, ref, provider=str(provider.path)),
            ("review_cli", {"order_id": order.id, "approve": approve, "by": "amy"}))
        # Then the money is the order's if approved, and paid back once if rejected, whoever
        # came first; the provider paid back what the store booked
        assert money.ok and decided.ok, (trial, money, decided)
        final = pilot.orders.get(order.id)
        ledger, pending = booked(pilot, order.id)
        late = sum(amount for _, amount in late_refunds(pilot, order.id).values())
        if approve:
            assert (final.state, final.paid, final.refunded, late) == \
                ("paid", order.total, 0, 0), (trial, final, money)
        else:
            assert final.state == "rejected", (trial, final.state)
            assert final.refunded + late == order.total, (trial, final, late, money, pending)
        assert provider.refunded(ref) == ledger, (trial, ledger, late, pending,
                                                  provider.asked(ref), money)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_dispute_opened_as_the_buyer_cancels_never_refunds_what_the_bank_takes(
        race, trials, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given a paid order
        start_trial(race, trial)
        order = paid(pilot, trial)
        ref = f"alipay-{trial}"
        provider.paid(ref, order.total)
        # When the buyer cancels it (and the console pays the cancellation back) as the bank
        # disputes the whole payment
        cancel, dispute = race.run(
            ("cancel_and_settle", {"order_id": order.id, "provider": str(provider.path)}),
            ("dispute_opened", {"order_id": order.id, "payment_ref": ref,
                                "amount": order.total, "at": race.now().isoformat(),
                                "dispute_ref": f"dp-{trial}"}))
        # Then a cancellation after the dispute opened pays nothing back (the bank holds it
        # all); one before it pays back in full; what the provider paid the store booked
        assert cancel.ok and dispute.ok, (trial, cancel, dispute)
        steps = [(h.entity, h.trigger) for h in pilot.orders.history(order.id)]
        disputed_first = steps.index(("dispute", "open")) < steps.index(("order", "cancel"))
        out = provider.refunded(ref)
        ledger, pending = booked(pilot, order.id)
        assert out == (0 if disputed_first else order.total), (trial, out, steps, cancel)
        assert (ledger, pending) == (out, []), (trial, ledger, pending, cancel)
        race.check([order.id])
