"""Refunds of ours that the merchant makes in a provider's admin, and the provider's refund
that settles them.

Money a provider in REFUNDED_BY_MERCHANT took (Shopify) is never sent back through the shop's
gateway: a refund of it that orderpilot decides — an after-sales case's, compensation — is
recorded under that provider (money_requests.request), never called (money.execute), its amount
and units spoken for like any refund in flight, and listed as owed (`refund_in_admin`) until the
merchant refunds it in the provider's admin. The provider's refund webhook then settles it:
the units that refund gives back go first to the refunds of ours that name them, each
settled as a refund the provider made (its case refunded, and through the case its order), not
booked a second time as a refund of its own.

Matched by line, not by amount. Shopify's refund names its own line items
(`refund_line_items[].line_item_id`), not our cases; the ids are kept at placement with the
numbers of our lines each became (ingest/shopify.py `line_numbers`), so a refund is read as
units of our lines. A refund of ours that names units (a case's) is settled only by a refund
that gives those units back — oldest first when two ask for the same units — never by a refund
of other goods, whatever their amount (before: ¥59.90 refunded for another line settled a case
of ¥39.90 on line 1, and marked line 1's tin refunded). The money such a refund gives for the
units (their line subtotal, within what its transactions paid) goes to that refund of ours:

- as much as it asks, or more (the merchant refunded the whole tin, we owed part of it): it is
  settled for what it asks, the rest is the order's own refund;
- less (the merchant refunded the tin for less than we owe): once the refund's money is all in,
  it is settled for what Shopify gave — the case refunded that much, the order counting it —
  and the difference stays owed in the admin as a refund of ours naming no units (`<key>:rest`,
  listed by refunds_owed with the case): the buyer is still owed it, and the merchant makes it
  as an amount (settled as goodwill is, `settle_beyond_goods`). Nothing is rounded away: a
  shortfall of a cent is listed too;
- in parts: a refund paid by several transactions (one pending) settles it when its last
  transaction does, and units given back by several refunds add up (two tins of a case, one
  refund each) — until then the money they gave is held for it (in the ledger, not yet counted
  by the order) and it stays listed as owed for the rest (refunds_owed reads
  `given` from the progress). Progress is kept per refund of ours in the inbox
  (`admin-refund:<key>`, service/admin_progress.py), current once settled too;
- failing: a transaction of it that fails owes its part again through the refund of ours
  (service/failed_in_admin.py), listed once.

A refund of ours that names no units (goodwill, compensation) is made as an amount with no line
items, and settled by that amount (`settle_beyond_goods`: the one asking exactly it, else the
oldest that fit). An order placed before line ids were kept (no `shopify:<shop>:lines:<id>`) is
matched by amount as before: one refund of ours asking exactly its goods, else the oldest that
fit. Goods left over are the order's own refund, as before; the units they give back (no
refund of ours took them) are marked refunded on the order's lines (`mark_given_back`), so no
after-sales case refunds them again — not for an order placed before line ids were kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from integrations.db.money_store import MoneyStore
from integrations.service import admin_progress, money_requests
from integrations.service.context import Context, Tx
from integrations.service.money_effects import apply_effects
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
    OperationKind,
    OperationStatus,
    PaymentOperation,
    mark_refunded,
    unmark_refunded,
)
from statemachine.order_aggregate import Order
from statemachine.ports import PaymentResult

NOT_OURS = ("late", "failed")  # late money's refund, a provider's refund owed again


def owed_in_admin(tx: Tx, order: Order) -> list[PaymentOperation]:
    """The order's refunds of ours waiting for the merchant in a provider's admin, oldest
    first (not late money's, nor a provider's own refund owed again after it failed)."""
    return [op for op in MoneyStore(tx.store.sql).of_order(order.id)
            if op.kind is OperationKind.REFUND and op.status is OperationStatus.PENDING
            and op.provider in REFUNDED_BY_MERCHANT
            and not any(op.purpose.get(p) for p in NOT_OURS)]


def covered(owed: list[PaymentOperation], goods: int) -> list[PaymentOperation]:
    """Which of `owed` a provider refund giving back `goods` settles: the one asking exactly
    that, else the oldest that fit in it, in turn."""
    exact = next((op for op in owed if op.amount == goods), None)
    if exact is not None:
        return [exact]
    chosen, left = [], goods
    for op in owed:
        if 0 < op.amount <= left:
            chosen.append(op)
            left -= op.amount
    return chosen


@dataclass(frozen=True, slots=True)
class GivenBack:
    """What one booking of a provider refund gives back, in our lines: each refunded line as
    (the numbers of our lines it may be, units, their subtotal); the refund's transactions
    still pending (their keys), and the one whose settling this booking is, if any;
    `counted`: goods of its money the order counted refunded already, by amount, when its
    transactions settled before it arrived (its units then unknown); `paying`: its
    transactions that succeeded (their keys)."""

    units: tuple[tuple[tuple[int, ...], int, int], ...] = ()
    waiting: tuple[str, ...] = ()
    settled: str | None = None
    counted: int = 0
    paying: tuple[str, ...] = ()


Units = list[tuple[tuple[int, ...], int]]  # (the numbers of our lines they may be, units)


def settle_covered(ctx: Context, tx: Tx, order: Order, goods: int, ref: str,
                   given: GivenBack | None, now: datetime) -> tuple[int, list[str], Units]:
    """Settle the order's refunds of ours that a provider refund of `goods` (its refund `ref`,
    giving back `given`; None: its lines unknown) covers, in the caller's transaction (the
    order's turn taken): (goods left over for the order's own refund, keys settled, the units
    given back that none of ours took: the order's own refund's, for `mark_given_back`). Each
    is settled once: a guarded update. Every row it writes carries `now`, the time of the
    caller's event."""
    if given is None:  # an order placed before its line ids were kept: by amount
        return (*_settle(ctx, tx, order, covered(owed_in_admin(tx, order), goods), goods,
                         ref, now), [])
    pool = [[set(nos), units, subtotal, units] for nos, units, subtotal in given.units]
    settled: list[str] = []
    counted = given.counted  # goods the order counted already: they pay first, not recounted
    for op in owed_in_admin(tx, order):
        if not op.lines:
            continue
        progress = admin_progress.progress_of(tx, op)
        priced = admin_progress.take_units(op, progress, pool)
        if not priced and ref not in progress["refs"]:
            continue  # this refund gives back none of its units
        give = max(min(goods + counted, op.amount - progress["given"],
                       progress["due"] + priced - progress["given"]), 0)
        recount = min(give, counted)
        waiting = set(progress["waiting"]) - {given.settled} | set(given.waiting)
        progress.update(due=progress["due"] + priced, given=progress["given"] + give,
                        refs=sorted({*progress["refs"], ref}), waiting=sorted(waiting),
                        counted=int(progress.get("counted", 0)) + recount)
        admin_progress.expect(progress, ref, priced - give, bool(given.waiting))
        goods, counted = goods - (give - recount), counted - recount
        # kept current, settled or not: what a failure or a chargeback reads next
        tx.store.inbox_replace(admin_progress.progress_key(op), "admin-refund", progress, now)
        if admin_progress.settles(op, progress):
            settled += settle_given(ctx, tx, order, op, progress["given"], ref, now,
                                     progress["counted"])
    return goods, settled, [(tuple(sorted(nos)), left) for nos, left, _, _ in pool if left > 0]


def mark_given_back(tx: Tx, order_id: int, units: Units) -> dict[int, int]:
    """Mark refunded on the order's lines the units a provider refund gave back as the order's
    own refund (none of ours took them: the merchant refunded a line in the admin), so no
    after-sales case refunds them a second time; what was marked. Units a refund of ours in
    flight speaks for are left to it (its settlement marks them), and a line never counts more
    refunded units than it has (a claim may have marked them already)."""
    order = tx.store.get_order(order_id, lock=True)
    spoken_for = MoneyStore(tx.store.sql).reserved(order.id).lines
    free = {ln.line_no: ln.quantity - ln.refunded_quantity - spoken_for.get(ln.line_no, 0)
            for ln in order.lines}
    marking: dict[int, int] = {}
    for numbers, quantity in units:
        for line_no in numbers:  # a line split a cent apart: the first with units free first
            take = min(quantity, max(free.get(line_no, 0), 0))
            if take > 0:
                free[line_no] -= take
                marking[line_no] = marking.get(line_no, 0) + take
                quantity -= take
    marked = mark_refunded(order, marking)
    if marked:
        tx.writer.save_lines(order)
    return marked


def unmark_given_back(tx: Tx, order_id: int, lines: dict[int, int]) -> dict[int, int]:
    """Take back what `mark_given_back` marked for a provider refund whose money all failed:
    the buyer was not paid back, so the units are free again (a case may ask for them; the
    merchant's redo naming them marks them once). What was taken back."""
    order = tx.store.get_order(order_id, lock=True)
    taken = unmark_refunded(order, lines)
    if taken:
        tx.writer.save_lines(order)
    return taken


def settle_given(ctx: Context, tx: Tx, order: Order, op: PaymentOperation, given: int,
                 ref: str, now: datetime, counted: int = 0, why: str = "") -> list[str]:
    """Settle `op` for what the provider gave for its units (`counted` of it counted by the
    order already); what that leaves short is owed anew in the provider's admin, naming no
    units (they are back): `<key>:rest`, its reason saying why it fell short (`why`: a
    transaction of it failed)."""
    if not _settle_one(ctx, tx, order, op, min(given, op.amount), ref, now, counted):
        return []
    if given >= op.amount:
        return [op.key]
    short = op.amount - given
    money_requests.request(
        ctx, tx, tx.store.get_order(order.id, lock=True), OperationKind.REFUND, short,
        f"{op.key}:rest", op.actor, payment_ref=op.payment_ref,  # owed in its admin again
        purpose={**op.purpose, "rest_of": op.key},
        reason=f"the rest of {op.key} ({op.reason or 'refund'}): {ref} gave {given} of "
               f"{op.amount} for its units" + (f"; {why}" if why else ""), at=now)
    return [op.key]


def settle_beyond_goods(ctx: Context, tx: Tx, order: Order, amount: int, ref: str,
                        now: datetime) -> list[str]:
    """Settle the order's refunds of ours that name no units (goodwill, compensation) that a
    provider refund of `amount` beyond its goods and shipping covers (matched as `covered`):
    the merchant makes them as an amount, no line items, so no goods would ever settle them.
    Keys settled."""
    owed = [op for op in owed_in_admin(tx, order) if not op.lines or redone_as_amount(tx, op)]
    return _settle(ctx, tx, order, covered(owed, amount), amount, ref, now)[1]


def redone_as_amount(tx: Tx, op: PaymentOperation) -> bool:
    """A refund of ours naming units whose refund in the admin failed with nothing of it paid
    (service/failed_in_admin.py): the merchant may make it again naming the units, or as an
    amount with no line items (the units were given back by the refund that failed)."""
    progress = admin_progress.progress_of(tx, op)
    return bool(progress.get("redo")) and not any(progress["units"].values())


def settle_all(ctx: Context, tx: Tx, order: Order, ref: str, now: datetime) -> list[str]:
    """Settle every refund of ours the order owes in a provider's admin: the provider gave
    back all it held (Shopify's cancellation refunded in full, `ref`), theirs among it — no
    refunds/create will name them (it books nothing more). Keys settled."""
    owed = owed_in_admin(tx, order)
    return _settle(ctx, tx, order, owed, sum(op.amount for op in owed), ref, now)[1]


def paid_back_by(tx: Tx, order: Order, amount: int) -> list[tuple[PaymentOperation, int]]:
    """The refunds of ours owed in the admin that `amount` paid to the buyer outside it (a
    lost chargeback: the bank gave the money back) covers, each with what it still lacked —
    matched as `covered`, on what each lacks: what an admin refund already gave one (one tin
    of two) is not paid a second time by the chargeback."""
    owed = owed_in_admin(tx, order)
    lacking = {op.key: admin_progress.still_lacking(tx, op) for op in owed}
    chosen = covered([replace(op, amount=lacking[op.key]) for op in owed], amount)
    return [(op, lacking[op.key]) for op in owed if op.key in {c.key for c in chosen}]


def settle_paid_back(ctx: Context, tx: Tx, order: Order,
                     paid_back: list[tuple[PaymentOperation, int]], ref: str,
                     now: datetime) -> int:
    """Settle the refunds of ours `paid_back_by` chose as paid back by `ref` (a lost
    chargeback), each for all it asks (the admin's part and the chargeback's: the case
    refunded, the order counting it); what `ref` paid of them (their lacking parts)."""
    settled = _settle(ctx, tx, order, [op for op, _ in paid_back],
                      sum(op.amount for op, _ in paid_back), ref, now)[1]
    for op, lacking in paid_back:
        if op.key in settled and op.lines:
            # its progress says it is all given now, and by whom: money its admin refunds
            # still bring is paid twice
            progress = admin_progress.progress_of(tx, op)
            progress.update(given=op.amount, paid_back=lacking, settled_by=ref)
            tx.store.inbox_replace(admin_progress.progress_key(op), "admin-refund", progress, now)
    return sum(lacking for op, lacking in paid_back if op.key in settled)


def _settle(ctx: Context, tx: Tx, order: Order, chosen: list[PaymentOperation], goods: int,
            ref: str, now: datetime) -> tuple[int, list[str]]:
    settled = []
    for op in chosen:
        if _settle_one(ctx, tx, order, op, op.amount, ref, now):
            goods -= op.amount
            settled.append(op.key)
    return goods, settled


def _settle_one(ctx: Context, tx: Tx, order: Order, op: PaymentOperation, amount: int,
                ref: str, now: datetime, counted: int = 0) -> bool:
    """Settle `op` as refunded by the provider's `ref` for `amount` (all it asks, or what the
    provider gave when less), once — a guarded update: False if it was settled already — and
    apply it to the order (its case refunded that much, the order counting it but for what
    it `counted` already)."""
    if not MoneyStore(tx.store.sql).settle(op.key, OperationStatus.SUCCEEDED, now, ref,
                                           amount=amount):
        return False
    result = PaymentResult("refund", ref, op.payment_ref or ref, amount, op.currency, op.key,
                           op.lines)
    apply_effects(ctx, tx, tx.store.get_order(order.id, lock=True),
                  replace(op, amount=amount), result, now, counted=counted)
    return True
