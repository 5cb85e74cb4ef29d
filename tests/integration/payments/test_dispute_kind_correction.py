"""A Stripe inquiry recorded before migration 0033 was backfilled as a chargeback: nothing
stored says otherwise while it is open (Stripe's status was never kept; its reason is the
bank's). A person who sees `warning_needs_response` in Stripe corrects the kind
(`pilot.disputes.correct_kind`, `orderpilot dispute correct-kind`): the state stays, the step
is in the history and the events, and what the dispute holds and books follows the kind.
Real server, Stripe stand-in, both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from integrations.db.settlement_store import SettlementStore
from integrations.service import money_refunds
from integrations.service.disputes import fire_dispute
from statemachine.errors import GuardRejected, InvalidInput, InvalidTransition
from tests.fakes import stripe_events as se
from tests.integration.integ.server import row_counts
from tests.integration.payments.test_stripe_webhooks import (  # noqa: F401 - fixture
    dispute_entries,
    shop,
)

WHY = "Stripe 控制台显示 warning_needs_response（询问，未扣款）"


def inquiry_stored_as_a_chargeback(shop) -> str:  # noqa: F811
    """A paid order (¥99.98) and a Stripe inquiry on it, stored as migration 0033's backfill
    left the ones recorded before it: a chargeback."""
    order_id, pi = shop.paid_order()
    inquiry = shop.stripe.open_inquiry(pi, reason="fraudulent")
    assert shop.deliver("charge.dispute.created", se.dispute(inquiry)).status_code == 200
    with shop.pilot.context.tx() as tx:
        tx.store.sql.run("UPDATE disputes SET kind = 'chargeback' WHERE id = 1", {})
    return order_id


def refund(shop, order_id: str, amount: int):  # noqa: F811
    return money_refunds.refund_order(shop.pilot.context, int(order_id[2:]), amount,
                                      "goodwill: 包装破损补偿", "cs:wangfang")


def test_a_person_corrects_an_inquiry_stored_as_a_chargeback_and_it_holds_nothing(
        shop):  # noqa: F811
    order_id = inquiry_stored_as_a_chargeback(shop)
    # Given it holds the payment as a chargeback would, and shows in the reconciliation
    with pytest.raises(GuardRejected, match="disputed 9998"):
        refund(shop, order_id, 300)
    assert [amount for amount, _ in dispute_entries(shop)] == [-9998]
    # When finance corrects its kind, naming what Stripe shows
    corrected = shop.pilot.disputes.correct_kind("d-1", kind="inquiry", by="finance:李娜",
                                                 reason=WHY)
    # Then it is the inquiry it was, in the same state, the step in its history and events
    assert (corrected["kind"], corrected["state"]) == ("inquiry", "opened")
    [step] = [h for h in shop.pilot.orders.history(order_id) if h.trigger == "correct_kind"]
    assert (step.actor, step.from_state, step.to_state) == ("finance:李娜", "opened", "opened")
    assert {k: step.payload[k] for k in ("kind", "kind_before", "reason")} == {
        "kind": "inquiry", "kind_before": "chargeback", "reason": WHY}
    with shop.pilot.context.tx(readonly=True) as tx:
        [event] = [r[0] for r in tx.store.sql.all(
            "SELECT event FROM outbox WHERE event LIKE 'orderpilot.dispute.%' ORDER BY id "
            "DESC LIMIT 1", {})]
    assert event == "orderpilot.dispute.kind_corrected"
    # And it holds nothing: a goodwill refund is made (Stripe refunds a charge under inquiry)
    assert refund(shop, order_id, 300).status == "succeeded"
    assert len(shop.stripe.calls("POST", "/v1/refunds")) == 1
    # And the reconciliation books no chargeback Stripe never withdrew
    assert dispute_entries(shop) == []


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"kind": "查询"}, InvalidInput, "kind"),
    ({"kind": "Inquiry"}, InvalidInput, "kind"),
    ({"reason": "  "}, InvalidInput, "reason"),
    ({"reason": "客户来电说明" * 100}, InvalidInput, "reason"),  # 600 characters: over REASON
    ({"reason": None}, InvalidInput, "reason"),
    ({"by": ""}, InvalidInput, "actor"),  # as every `by` of the API names it
    ({"by": "system:cron"}, GuardRejected, "a person must confirm"),
    ({"kind": "chargeback"}, GuardRejected, "is a chargeback already"),
])
def test_a_bad_correction_says_what_is_wrong_and_writes_nothing(shop, change, error,  # noqa: F811
                                                                field):
    inquiry_stored_as_a_chargeback(shop)
    before = row_counts(shop.pilot)
    given = {"kind": "inquiry", "by": "finance:李娜", "reason": WHY, **change}
    with pytest.raises(error) as refused:
        shop.pilot.disputes.correct_kind("d-1", **given)
    assert field in str(refused.value)
    assert row_counts(shop.pilot) == before
    assert shop.pilot.disputes.get("d-1")["kind"] == "chargeback"


def test_a_lost_chargeback_keeps_its_kind(shop):  # noqa: F811
    # Given a chargeback Stripe decided against the shop: the order booked its money
    order_id, pi = shop.paid_order()
    chargeback = shop.stripe.open_dispute(pi)
    shop.deliver("charge.dispute.created", se.dispute(chargeback))
    shop.stripe.close_dispute(chargeback["id"], "lost")
    shop.deliver("charge.dispute.closed", se.dispute(shop.stripe.disputes[chargeback["id"]]))
    # When someone tries to call it an inquiry, it is refused: the money moved as a chargeback's
    with pytest.raises(InvalidTransition, match="correct_kind"):
        shop.pilot.disputes.correct_kind("d-1", kind="inquiry", by="finance:李娜", reason=WHY)
    assert shop.pilot.orders.get(order_id).refunded == 9998


def dispute_lines(shop, start: datetime) -> list[tuple[int, datetime]]:  # noqa: F811
    """Our dispute movements with Stripe in one settlement day from `start`."""
    with shop.pilot.context.tx(readonly=True) as tx:
        entries = SettlementStore(tx.store.sql).entries("stripe", start,
                                                        start + timedelta(days=1))
    return [(e.amount, e.at) for e in entries if e.kind == "dispute"]


def test_a_chargeback_corrected_back_from_an_inquiry_is_booked_when_corrected(
        shop, clock):  # noqa: F811
    # Given an inquiry stored as a chargeback on day 0, corrected to an inquiry on day 1:
    # day 0's settlement is reconciled and closed with no dispute line
    inquiry_stored_as_a_chargeback(shop)
    opened_day = clock.now()
    clock.advance(days=1)
    shop.pilot.disputes.correct_kind("d-1", kind="inquiry", by="finance:李娜", reason=WHY)
    assert dispute_lines(shop, opened_day) == []
    # When, on day 3, finance sees Stripe did withdraw the money and corrects it back
    corrected_at = clock.advance(days=2)
    shop.pilot.disputes.correct_kind("d-1", kind="chargeback", by="finance:张伟",
                                     reason="Stripe 控制台显示 needs_response（已扣款）")
    # Then the chargeback is booked on day 3, at the correction, as an escalation is
    assert dispute_lines(shop, corrected_at) == [(-9998, corrected_at)]
    # And day 0's closed period does not change
    assert dispute_lines(shop, opened_day) == []


def test_an_inquiry_corrected_to_a_chargeback_is_booked_when_corrected(shop, clock):  # noqa: F811
    # Given a Stripe inquiry opened on day 0 (no money taken): day 0 closes with no line
    order_id, pi = shop.paid_order()
    inquiry = shop.stripe.open_inquiry(pi, reason="fraudulent")
    assert shop.deliver("charge.dispute.created", se.dispute(inquiry)).status_code == 200
    opened_day = clock.now()
    assert dispute_lines(shop, opened_day) == []
    # When finance corrects it to a chargeback two days later
    corrected_at = clock.advance(days=2)
    shop.pilot.disputes.correct_kind("d-1", kind="chargeback", by="finance:李娜",
                                     reason="Stripe 控制台显示 needs_response（已扣款）")
    # Then it is booked on the correction's day, and day 0 stays as it was closed
    assert dispute_lines(shop, corrected_at) == [(-9998, corrected_at)]
    assert dispute_lines(shop, opened_day) == []


def won_chargeback(shop, clock):  # noqa: F811
    """A Stripe chargeback (¥99.98) opened on day 0 and won on day 2; the days' starts."""
    _, pi = shop.paid_order()
    chargeback = shop.stripe.open_dispute(pi)
    assert shop.deliver("charge.dispute.created", se.dispute(chargeback)).status_code == 200
    opened_day = clock.now()
    won_at = clock.advance(days=2)
    shop.stripe.close_dispute(chargeback["id"], "won")
    closed = se.dispute(shop.stripe.disputes[chargeback["id"]])
    assert shop.deliver("charge.dispute.closed", closed).status_code == 200
    assert shop.pilot.disputes.get("d-1")["state"] == "won"
    return opened_day, won_at


def test_a_won_chargeback_is_given_back_on_the_day_it_was_won_whenever_its_row_changes(
        shop, clock):  # noqa: F811
    # Given a chargeback opened on day 0 and won on day 2: each day has its line
    opened_day, won_at = won_chargeback(shop, clock)
    assert dispute_lines(shop, opened_day) == [(-9998, opened_day)]
    assert dispute_lines(shop, won_at) == [(9998, won_at)]
    # When its row is written again on day 5 without a step that moves money (a data repair:
    # the kind rewritten as it was, as migrations 0033 / 0037 write rows)
    later = clock.advance(days=3)
    with shop.pilot.context.tx() as tx:
        tx.store.sql.run("UPDATE disputes SET kind = 'chargeback', version = version + 1, "
                         "updated_at = :at WHERE id = 1", {"at": later})
    # Then day 2's closed period keeps the money given back, and day 5 books nothing
    assert dispute_lines(shop, won_at) == [(9998, won_at)]
    assert dispute_lines(shop, later) == []
    assert dispute_lines(shop, opened_day) == [(-9998, opened_day)]


def test_a_won_inquiry_corrected_to_a_chargeback_is_given_back_when_corrected(
        shop, clock):  # noqa: F811
    # Given a Stripe inquiry opened on day 0 and won on day 2 (as Stripe closed inquiries did
    # before 7f491ad): no money moved, no line either day
    _, pi = shop.paid_order()
    inquiry = shop.stripe.open_inquiry(pi, reason="fraudulent")
    assert shop.deliver("charge.dispute.created", se.dispute(inquiry)).status_code == 200
    opened_day = clock.now()
    won_at = clock.advance(days=2)
    fire_dispute(shop.pilot.context, 1, "win", "system:stripe", {})
    assert dispute_lines(shop, won_at) == []
    # When finance corrects it to a chargeback on day 4
    corrected_at = clock.advance(days=2)
    shop.pilot.disputes.correct_kind("d-1", kind="chargeback", by="finance:李娜",
                                     reason="Stripe 控制台显示 won（曾扣款）")
    # Then it is booked out and back on day 4; the closed days 0 and 2 do not change
    assert sorted(dispute_lines(shop, corrected_at)) == [(-9998, corrected_at),
                                                         (9998, corrected_at)]
    assert dispute_lines(shop, won_at) == [] and dispute_lines(shop, opened_day) == []
