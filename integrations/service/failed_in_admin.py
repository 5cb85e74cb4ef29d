"""A refund the merchant made in a provider's admin that failed at the gateway (Shopify: a
refund transaction `failure` / `error`) while it was paying a refund of ours owed there — an
after-sales case's. The buyer was not paid back, and the failed money is split: the part that
was the case's is owed again by the case's own refund (still pending, listed by refunds_owed
as `refund_in_admin` with a reason saying the refund failed in the admin and is to be made
again: `redo` in its progress), the rest by the order (`refund-again:…`, `refund_failed`).
The same money is never listed twice (before: the case's ¥39.90 and a `refund_failed` of the
same ¥39.90 — finance following the list paid the tin twice — and the case's progress kept
waiting on the failed transaction, so the merchant's redo never settled it).

The case's part of a failed transaction: at most what its refund still owed the case for its
units (`expects` in the progress, admin_progress.expect) and what the case still lacks. Whichever
comes first:

- the refund (its transaction pending), then the failure: `failed_while_waited` — the case's
  progress stops waiting on it; what other transactions paid settles the case for that, the
  rest owed as an amount (`<key>:rest`, admin_refunds.settle_given); nothing paid, its units
  are freed for the redo (by units, or as an amount: admin_refunds.redone_as_amount);
- the failure (owed again in full, its refund unknown), then the refund naming the case's
  units with that transaction failed: `failed_before_refund` — the case's part is moved from
  the order's `refund-again:…` to the case (MoneyStore.ask_less).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.db.money_store import MoneyStore
from integrations.service import admin_progress, admin_refunds
from integrations.service.context import Context, Tx
from statemachine.money import PaymentOperation
from statemachine.order_aggregate import Order

Parts = list[tuple[str, int]]  # (a refund of ours, its part of the failed money)


def failed_while_waited(ctx: Context, tx: Tx, order: Order, transaction: str, amount: int,
                        ref: str | None, failure: str, now: datetime) -> Parts:
    """The refunds of ours whose progress waits on `transaction` (of the provider refund
    `ref`), which failed for `amount`: each stops waiting on it and owes its part again
    (oldest first); their parts. Every row it writes carries `now`."""
    left, parts = amount, []
    for op in admin_refunds.owed_in_admin(tx, order):
        progress = admin_progress.progress_of(tx, op) if op.lines else None
        if progress is None or transaction not in progress["waiting"]:
            continue
        progress["waiting"].remove(transaction)
        part = _part(op, progress, left, int(progress.get("expects", {}).get(ref, left)))
        admin_progress.expect(progress, ref or "", -part, False)
        if not progress["waiting"] and progress["given"] == 0:
            # nothing of it came: its units are free for the merchant's redo naming them
            progress.update(units={}, due=0, refs=[], expects={})
        _owe_again(tx, op, progress, part, failure, now)
        if admin_progress.settles(op, progress):  # the rest of it came: settled for that
            admin_refunds.settle_given(ctx, tx, order, op, progress["given"], ref or "", now,
                                       int(progress.get("counted", 0)),
                                       _redo(op.provider, failure))
        left -= part
        parts.append((op.key, part))
    return parts


def failed_before_refund(tx: Tx, order: Order, again: PaymentOperation,
                         units: tuple[tuple[tuple[int, ...], int, int], ...], failure: str,
                         now: datetime) -> Parts:
    """A provider refund arriving after its transaction's failure was owed again in full by
    the order (`again`, its refund unknown then): the part of it that paid units of refunds
    of ours (`units`, as admin_refunds.GivenBack has them: their price) is theirs, moved
    from `again` to them (oldest first); their parts. Their units stay free for the redo."""
    pool = [[set(nos), n, subtotal, n] for nos, n, subtotal in units]
    left, parts = again.amount, []
    for op in admin_refunds.owed_in_admin(tx, order):
        if not op.lines or left <= 0:
            continue
        progress = admin_progress.progress_of(tx, op)
        scratch = {**progress, "units": dict(progress["units"])}  # priced, not taken
        part = _part(op, progress, left, admin_progress.take_units(op, scratch, pool))
        if part > 0:
            _owe_again(tx, op, progress, part, failure, now)
            left -= part
            parts.append((op.key, part))
    if parts:
        MoneyStore(tx.store.sql).ask_less(again.key, left, now, "owed again by " + ", ".join(
            f"{key} ({part})" for key, part in parts))
    return parts


def said(parts: Parts) -> str:
    """The parts as a person reads them in a failure's reason."""
    return ", ".join(f"{part} of it {key}'s (listed with it)" for key, part in parts)


def _part(op: PaymentOperation, progress: dict[str, Any], left: int, cap: int) -> int:
    """What of the failed money (`left` of it not yet taken) was `op`'s: at most `cap` (what
    the refund priced its units at) and what `op` still lacks. Not less its earlier failures:
    money that failed was never given, so `op` still lacks it and lists it — a redo failing
    too is `op`'s again, not the order's (counted as the order's, it was listed twice)."""
    lacking = op.amount - progress["given"]
    return max(min(left, cap, lacking), 0)


def _owe_again(tx: Tx, op: PaymentOperation, progress: dict[str, Any], part: int,
               failure: str, now: datetime) -> None:
    progress.update(failed=int(progress.get("failed", 0)) + part,
                    redo=f"{op.reason or 'refund'} — {_redo(op.provider, failure)}")
    tx.store.inbox_replace(admin_progress.progress_key(op), "admin-refund", progress, now)


def _redo(provider: str, failure: str) -> str:
    return f"its refund there failed ({failure}): refund it again in {provider.title()}'s admin"
