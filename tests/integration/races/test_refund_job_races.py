"""The console's settle jobs run by two consoles at once (an outbox row handled twice), paying
through the one provider every process shares; a dashboard refund notified twice at once, and
one notified while the settle-cancel job pays the cancellation back."""

from __future__ import annotations

import pytest

from integrations.service import refunds
from tests.integration.races.conftest import TRIALS
from tests.integration.races.provider import SharedProvider
from tests.integration.races.shop import approved_refund_case, booked, paid, start_trial


@pytest.mark.parametrize("job", ["settle-refund", "settle-cancel"])
@pytest.mark.parametrize("trials", TRIALS)
def test_two_consoles_running_one_settle_job_pay_once(race, trials, job, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given a paid order and, for the refund, an approved case for one of its two lines;
        # for the cancel, the order cancelled
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        provider.paid(f"alipay-{trial}", order.total)
        if job == "settle-refund":
            entity, due = approved_refund_case(pilot, order), order.total // 2
        else:
            pilot.orders.fire(order.id, "cancel", reason="买家取消")
            entity, due = order.id, order.total
        # When two consoles run the same job on it at once (an outbox row handled twice)
        outcomes = race.run(*[("console_job", {"job": job, "entity": entity,
                                               "provider": str(provider.path)})] * 2)
        # Then the provider paid once, and the store booked it once
        assert all(o.ok for o in outcomes), (trial, outcomes)
        ledger, pending = booked(pilot, order.id)
        out = provider.refunded(f"alipay-{trial}")
        assert (out, ledger, pilot.orders.get(order.id).refunded, pending) == \
            (due, due, due, []), (trial, out, ledger, pending, outcomes)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_one_dashboard_refund_notified_twice_at_once_is_booked_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a paid order staff refunded in part at the provider's dashboard
        start_trial(race, trial)
        order = paid(pilot, trial)
        # When the provider's notice of it arrives twice at once, under two event ids (Stripe
        # charge.refunded and a resend; Alipay's notify retried under a new notify_id)
        outcomes = race.run(*[("provider_refunded", {
            "order_id": order.id, "payment_ref": f"alipay-{trial}", "total": 500,
            "at": race.now().isoformat(), "event": f"evt-{trial}-{n}"}) for n in (1, 2)])
        # Then the refund is booked once, on the order and in the ledger
        assert all(o.ok for o in outcomes), (trial, outcomes)
        ledger, _ = booked(pilot, order.id)
        assert (pilot.orders.get(order.id).refunded, ledger) == (500, 500), (trial, outcomes)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_two_consoles_settling_one_return_case_both_answer_awaiting_return(race, trials,
                                                                          tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given a paid order and an approved return case on one of its lines
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        case_id = approved_refund_case(pilot, order, kind="return_refund")
        # When two consoles run its settle job at once (an outbox row handled twice)
        outcomes = race.run(*[("console_job", {"job": "settle-refund", "entity": case_id,
                                               "provider": str(provider.path)})] * 2)
        # Then both get what a repeated request gets (idempotent): the case awaits the goods,
        # one return label was sent, no money moved
        assert [(o.ok, o.result) for o in outcomes] == [(True, "awaiting_return")] * 2, \
            (trial, outcomes)
        labels = [s for s in pilot.shipments.of_order(order.id) if s.purpose == "return"]
        assert len(labels) == 1, (trial, labels)
        assert provider.refunded(f"alipay-{trial}") == 0


@pytest.mark.parametrize("trials", TRIALS)
def test_a_dashboard_refund_notified_while_the_cancel_refund_job_runs_is_not_paid_twice(
        race, trials, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given a paid order the buyer cancelled, of which staff refunded 500 by hand in the
        # provider's dashboard
        start_trial(race, trial)
        order, ref = paid(pilot, trial, lines=2), f"alipay-{trial}"
        provider.paid(ref, order.total)
        pilot.orders.fire(order.id, "cancel", reason="买家取消")
        provider.dashboard_refund(ref, 500)
        # When the console's settle-cancel job runs as the provider's notice of the dashboard
        # refund arrives (and makes what it recorded), in two processes
        job, notice = race.run(
            ("console_job", {"job": "settle-cancel", "entity": order.id,
                             "provider": str(provider.path)}),
            ("provider_refunded_and_made", {
                "order_id": order.id, "payment_ref": ref, "total": 500,
                "at": race.now().isoformat(), "event": f"evt-dash-{trial}",
                "provider": str(provider.path)}))
        # Then the buyer got back what was paid, once: the dashboard's 500 and the rest by us
        # (a call of ours refused for the excess is superseded by one for the rest); the store
        # booked exactly what the provider paid out, and nothing is left pending
        assert notice.ok and job.ok, (trial, job, notice)
        assert job.result in ("refunded", "already settled", "failed"), (trial, job, notice)
        ledger, pending = booked(pilot, order.id)
        out = provider.refunded(ref)
        assert (out, ledger, pilot.orders.get(order.id).refunded, pending) == (
            order.total, order.total, order.total, []), (
            trial, out, ledger, pending, provider.asked(ref), job, notice)
        race.check([order.id])


def held_refund_case(pilot, order) -> str:
    """A refund-only request on one of the order's two lines, held for a person."""
    case = pilot.cases.open(order.id, kind="refund_only", reason="商品破损",
                            lines=[{"line_no": 1, "quantity": 1}])
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    return case.id


@pytest.mark.parametrize("trials", TRIALS)
def test_an_api_approval_and_the_console_settle_job_pay_a_request_once(race, trials, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given a paid order and a refund-only request on one of its lines held for a person
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        provider.paid(f"alipay-{trial}", order.total)
        case_id = held_refund_case(pilot, order)
        # When a person approves it from the Python API (which pays at once) while two
        # consoles run the settle job on it (an approval's outbox row handled twice)
        job = ("console_job", {"job": "settle-refund", "entity": case_id,
                               "provider": str(provider.path)})
        outcomes = race.run(("approve_case", {"case_id": case_id,
                                              "provider": str(provider.path)}), job, job)
        # Then the provider paid the line once, and the store booked it once; the approval
        # answers it paid, whoever paid it
        assert all(o.ok for o in outcomes), (trial, outcomes)
        assert outcomes[0].result == "refunded, refund succeeded", (trial, outcomes)
        ledger, pending = booked(pilot, order.id)
        due, out = order.total // 2, provider.refunded(f"alipay-{trial}")
        assert (out, ledger, pilot.orders.get(order.id).refunded, pending,
                pilot.cases.get(case_id).state) == (due, due, due, [], "refunded"), (
            trial, outcomes, provider.asked(f"alipay-{trial}"))
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_the_approval_s_own_call_and_the_settle_job_racing_on_its_refund_pay_once(
        race, trials, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given an approval committed with its refund recorded (its call not made yet)
        start_trial(race, trial)
        order = paid(pilot, trial, lines=2)
        provider.paid(f"alipay-{trial}", order.total)
        case_id = held_refund_case(pilot, order)
        key = refunds.decide(pilot.context, int(case_id[2:]), True, "照片显示破损",
                             "mei").key
        # When the approval makes its call as two consoles run the settle job, at once
        job = ("console_job", {"job": "settle-refund", "entity": case_id,
                               "provider": str(provider.path)})
        outcomes = race.run(("pay_recorded_refund", {"key": key,
                                                     "provider": str(provider.path)}), job, job)
        # Then every caller sees it paid, the provider paid once and the store booked it once
        assert [(o.ok, o.result) for o in outcomes] == [
            (True, "succeeded"), (True, "refunded"), (True, "refunded")], (trial, outcomes)
        ledger, pending = booked(pilot, order.id)
        due, out = order.total // 2, provider.refunded(f"alipay-{trial}")
        assert (out, ledger, pilot.orders.get(order.id).refunded, pending) == (
            due, due, due, []), (trial, outcomes, provider.asked(f"alipay-{trial}"))
        race.check([order.id])
