"""Settlement reconciliation, pure: the provider's books against ours, every difference named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from statemachine.ports import SettlementRecord
from statemachine.settlement import DifferenceKind, LedgerEntry, reconcile

DAY = datetime(2026, 11, 26, tzinfo=UTC)
END = DAY + timedelta(days=1)
D = DifferenceKind


def theirs(kind, ref, amount, *, payment=None, fee=0, hour=10, currency="CNY"):
    return SettlementRecord(kind, ref, payment, amount, currency, fee,
                            DAY + timedelta(hours=hour))


def ours(kind, ref, amount, *, payment=None, hour=10, currency="CNY", order="o-1"):
    return LedgerEntry(kind, ref, payment, amount, currency, DAY + timedelta(hours=hour),
                       order, f"ledger {kind}")


def test_books_that_agree_match_line_for_line_and_report_nothing():
    # Given a charge and a partial refund booked alike on both sides (ids as recorded)
    books = [theirs("charge", "2026112622001", 29900, payment="o-1", fee=179),
             theirs("refund", "refund:o-1:1", -5000, payment="o-1", fee=-30, hour=11)]
    mine = [ours("charge", "2026112622001", 29900, payment="o-1"),
            ours("refund", "refund:o-1:1", -5000, payment="o-1", hour=11)]
    # When reconciled
    result = reconcile("alipay", DAY, END, books, mine)
    # Then both pair up, nothing differs, and the fees are the provider's net of refunds
    assert (result.matched, result.differences, result.clean) == (2, (), True)
    [cny] = result.totals
    assert (cny.gross, cny.fees, cny.net, cny.ours) == (24900, 149, 24751, 24900)


def test_every_kind_of_difference_is_reported_with_both_amounts():
    # Given: a sale made elsewhere, a refund the provider never booked, an amount and a
    # currency that disagree
    books = [theirs("charge", "ch_other", 1000, payment="pi_other"),
             theirs("charge", "ch_2", 4999, payment="pi_2"),
             theirs("charge", "ch_3", 800, payment="pi_3", currency="USD")]
    mine = [ours("refund", "re_9", -2000, payment="pi_1", order="o-1"),
            ours("charge", "ch_2", 5999, payment="pi_2", order="o-2"),
            ours("charge", "ch_3", 800, payment="pi_3", order="o-3")]
    # When reconciled
    result = reconcile("stripe", DAY, END, books, mine)
    # Then each is named, with what each side booked and the order where we know it
    got = {(d.kind, d.ref, d.order_id, d.ours, d.theirs) for d in result.differences}
    assert got == {(D.MISSING_HERE, "ch_other", None, None, 1000),
                   (D.MISSING_AT_PROVIDER, "re_9", "o-1", -2000, None),
                   (D.AMOUNT, "ch_2", "o-2", 5999, 4999),
                   (D.CURRENCY, "ch_3", "o-3", 800, 800)}
    assert result.matched == 0 and not result.clean


def test_a_payment_booked_by_webhook_pairs_by_the_payment_it_names():
    # Given our capture recorded from the provider's webhook under the payment's id (no
    # charge id), and a dashboard refund booked the same way
    books = [theirs("charge", "ch_1", 9900, payment="pi_1"),
             theirs("refund", "re_1", -900, payment="pi_1", hour=12)]
    mine = [ours("charge", "pi_1", 9900, payment="pi_1"),
            ours("refund", "pi_1", -900, payment="pi_1", hour=12)]
    # Then they pair by the payment
    assert reconcile("stripe", DAY, END, books, mine).matched == 2


def test_two_refunds_of_one_payment_pair_by_amount_not_by_order_of_arrival():
    # Given two refunds of one payment whose provider ids we do not hold
    books = [theirs("refund", "r-a", -300, payment="o-7", hour=9),
             theirs("refund", "r-b", -500, payment="o-7", hour=9)]
    mine = [ours("refund", None, -500, payment="o-7", hour=8),
            ours("refund", None, -300, payment="o-7", hour=10)]
    # Then each pairs with the one of its amount
    assert reconcile("alipay", DAY, END, books, mine).clean


def test_a_charge_and_its_partial_capture_reversal_are_one_movement():
    # Given Stripe's full authorisation and the reversal of the part never captured
    books = [theirs("charge", "ch_1", 10000, payment="pi_1", fee=340),
             theirs("charge", "ch_1", -2000, payment="pi_1", hour=11)]
    # Then they sum to our capture
    assert reconcile("stripe", DAY, END, books, [ours("charge", "ch_1", 8000)]).clean


def test_a_dispute_and_its_reversal_pair_with_the_dispute_opened_and_won():
    books = [theirs("dispute", "dp_1", -4999, payment="pi_1", fee=1500, hour=9),
             theirs("dispute", "dp_1", 4999, payment="pi_1", fee=-1500, hour=15)]
    mine = [ours("dispute", "dp_1", -4999, payment="pi_1", hour=9),
            ours("dispute", "dp_1", 4999, payment="pi_1", hour=15)]
    result = reconcile("stripe", DAY, END, books, mine)
    assert (result.matched, result.clean) == (2, True)
    assert result.totals[0].fees == 0


def test_movements_across_midnight_pair_up_but_only_the_days_differences_count():
    # Given our capture booked a minute before midnight, the provider's a minute after;
    # and an unmatched refund of ours from the day before
    books = [theirs("charge", "ch_1", 500, hour=24 + 0)]  # next day, 00:00
    mine = [ours("charge", "ch_1", 500, hour=23),
            ours("refund", "re_0", -100, hour=-2)]
    # When the day is reconciled
    result = reconcile("stripe", DAY, END, books, mine)
    # Then the capture is not missing (the provider booked it the next day) and yesterday's
    # refund belongs to yesterday's report
    assert result.differences == () and result.matched == 0


def test_provider_fee_lines_count_as_fees_not_as_differences():
    books = [theirs("charge", "ch_1", 1000, fee=34), theirs("fee", "fee_1", -200)]
    result = reconcile("stripe", DAY, END, books, [ours("charge", "ch_1", 1000)])
    assert result.clean
    assert (result.totals[0].gross, result.totals[0].fees, result.totals[0].net) == \
        (1000, 234, 766)
