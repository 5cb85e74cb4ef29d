"""Settlement reconciliation, pure: the provider's books for a day against our own records.

Nothing is changed: every difference is reported for finance to act on. Both sides are
money movements signed as the provider books them (money in > 0, out < 0):

- ours: captures (+), refunds (-) from our ledger, chargebacks (-) and chargebacks won (+) —
  an inquiry moves no money at the provider, so none is booked;
- theirs: the provider's charges, refunds, disputes (and fees, which we do not book).

A provider line is paired with ours by its own id (a Stripe charge / refund id, Alipay's
trade number or our refund request number), else by the payment both name — the same amount
first. The provider's lines of one movement (a Stripe charge and its partial-capture reversal)
are summed first. Differences are reported for [start, end) only; records either side of the
day are given so that a movement booked a little before or after midnight by one side still
pairs up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from statemachine.ports import SettlementRecord

MOVEMENTS = ("charge", "refund", "dispute")  # what both sides book; "fee" is the provider's


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A money movement of ours that the provider's books should show."""

    kind: str  # charge | refund | dispute
    ref: str | None  # the provider's id as we recorded it
    payment_ref: str | None  # the payment (Stripe PaymentIntent, Alipay out_trade_no)
    amount: int  # signed as the provider books it
    currency: str
    at: datetime
    order_id: str  # o-42
    source: str  # where we recorded it, e.g. "ledger op:refund:c-3"


class DifferenceKind(StrEnum):
    MISSING_HERE = "missing_here"  # the provider booked it; we have no record of it
    MISSING_AT_PROVIDER = "missing_at_provider"  # we recorded it; the provider did not book it
    AMOUNT = "amount_mismatch"
    CURRENCY = "currency_mismatch"


@dataclass(frozen=True, slots=True)
class Difference:
    kind: DifferenceKind
    movement: str
    at: datetime
    ours: int | None
    theirs: int | None
    currency: str
    ref: str | None
    payment_ref: str | None
    order_id: str | None
    note: str


@dataclass(frozen=True, slots=True)
class Totals:
    """The provider's side of one currency for the day: gross, its fees, what it pays out."""

    currency: str
    lines: int = 0
    gross: int = 0
    fees: int = 0
    ours: int = 0  # the sum of our movements in the day

    @property
    def net(self) -> int:
        return self.gross - self.fees


@dataclass(frozen=True, slots=True)
class Reconciliation:
    provider: str
    start: datetime
    end: datetime
    matched: int
    differences: tuple[Difference, ...]
    totals: tuple[Totals, ...] = field(default=())

    @property
    def clean(self) -> bool:
        return not self.differences


def reconcile(provider: str, start: datetime, end: datetime,
              theirs: Sequence[SettlementRecord], ours: Sequence[LedgerEntry]
              ) -> Reconciliation:
    """Pair the provider's movements with ours and report every difference in [start, end)."""
    books = _merged([r for r in theirs if r.kind in MOVEMENTS])
    fees = [r for r in theirs if r.kind not in MOVEMENTS]
    pairs, left = _pairs(books, list(ours))
    paired = {id(record) for record, _ in pairs}
    compared = [_compared(t, o) for t, o in pairs if start <= t.at < end]
    found = [d for d in compared if d is not None]
    found += [_missing_here(t) for t in books if id(t) not in paired and start <= t.at < end]
    found += [_missing_there(o) for o in left if start <= o.at < end]
    found.sort(key=lambda d: (d.at, d.kind, d.ref or ""))
    totals = _totals([r for r in books + fees if start <= r.at < end],
                     [o for o in ours if start <= o.at < end])
    return Reconciliation(provider, start, end, compared.count(None), tuple(found), totals)


def _merged(records: Sequence[SettlementRecord]) -> list[SettlementRecord]:
    """A charge's lines (Stripe: the charge and its partial-capture reversal) summed, at the
    first line's time. Other lines stay apart (a dispute and its reversal are two movements)."""
    merged: list[SettlementRecord] = []
    charges: dict[str, int] = {}
    for record in sorted(records, key=lambda r: r.at):
        at = charges.get(record.ref) if record.kind == "charge" else None
        if at is None:
            if record.kind == "charge":
                charges[record.ref] = len(merged)
            merged.append(record)
        else:
            prior = merged[at]
            merged[at] = replace(prior, amount=prior.amount + record.amount,
                                 fee=prior.fee + record.fee)
    return merged


def _pairs(books: list[SettlementRecord], ours: list[LedgerEntry]
           ) -> tuple[list[tuple[SettlementRecord, LedgerEntry]], list[LedgerEntry]]:
    by_ref: dict[str, list[LedgerEntry]] = defaultdict(list)
    by_name: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in ours:
        if entry.ref:
            by_ref[entry.ref].append(entry)
        for name in {entry.ref, entry.payment_ref} - {None}:
            by_name[name].append(entry)
    taken: set[int] = set()
    pairs = []
    for record in books:
        names = sorted({record.ref, record.payment_ref} - {None})
        match = _best(record, by_ref.get(record.ref, []), taken) \
            or _best(record, [e for n in names for e in by_name.get(n, [])], taken)
        if match is not None:
            taken.add(id(match))
            pairs.append((record, match))
    return pairs, [e for e in ours if id(e) not in taken]


def _best(record: SettlementRecord, candidates: list[LedgerEntry],
          taken: set[int]) -> LedgerEntry | None:
    """Of ours of the same kind not yet paired: the same amount first, then the nearest."""
    free = [e for e in candidates if id(e) not in taken and e.kind == record.kind]
    if not free:
        return None
    return min(free, key=lambda e: (e.amount != record.amount,
                                    abs((e.at - record.at).total_seconds())))


def _compared(record: SettlementRecord, entry: LedgerEntry) -> Difference | None:
    if record.currency != entry.currency:
        return _difference(DifferenceKind.CURRENCY, record, entry,
                           f"we booked {entry.currency}, the provider {record.currency}")
    if record.amount != entry.amount:
        return _difference(DifferenceKind.AMOUNT, record, entry,
                           f"we booked {entry.amount}, the provider {record.amount} "
                           f"(difference {record.amount - entry.amount})")
    return None


def _difference(kind: DifferenceKind, record: SettlementRecord, entry: LedgerEntry,
                note: str) -> Difference:
    return Difference(kind, record.kind, record.at, entry.amount, record.amount,
                      record.currency, record.ref, record.payment_ref or entry.payment_ref,
                      entry.order_id, f"{note}; ours: {entry.source}")


def _missing_here(record: SettlementRecord) -> Difference:
    return Difference(DifferenceKind.MISSING_HERE, record.kind, record.at, None, record.amount,
                      record.currency, record.ref, record.payment_ref, None,
                      f"the provider booked a {record.kind} we have no record of")


def _missing_there(entry: LedgerEntry) -> Difference:
    return Difference(DifferenceKind.MISSING_AT_PROVIDER, entry.kind, entry.at, entry.amount,
                      None, entry.currency, entry.ref, entry.payment_ref, entry.order_id,
                      f"we booked a {entry.kind} the provider's books do not show; ours: "
                      f"{entry.source}")


def _totals(records: Sequence[SettlementRecord], ours: Sequence[LedgerEntry]
            ) -> tuple[Totals, ...]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # lines, gross, fees, ours
    for r in records:
        t = sums[r.currency]
        is_fee = r.kind not in MOVEMENTS  # a fee line: its amount is the fee (negative)
        t[0] += 1
        t[1] += 0 if is_fee else r.amount
        t[2] += r.fee - (r.amount if is_fee else 0)
    for o in ours:
        sums[o.currency][3] += o.amount
    return tuple(Totals(c, *sums[c]) for c in sorted(sums))
