"""Refunds made at the provider outside orderpilot (staff in Stripe's dashboard, Alipay's
merchant portal) of money the order owes its buyer but cannot count with its own `refund` step:

- late money (service/late_payments.py): the order never took it; we owe it back under
  `late-refund:<provider>:<payment>`;
- the money of a cancelled or rejected order: its step counted everything paid as refunded
  already; we owe it back under `cancel-refund:o-N` (service/settlement.py).

The provider's notice books such a refund as a settled refund toward that debt, keyed by the
notice (`<debt key>@<provider>:<notice id>`: once), with its ledger row, and the event stream
says what happened (`refund_made_outside`: a refund nobody here asked for, so no
`money_requested`). Then our own refund of the debt is planned again: one recorded for more
than is now left can never be made (the provider refuses more than the payment has left, and
its refunded total only grows), so it is superseded — failed, quietly: no money moved — and
the rest is asked under the debt's next key (`late-refund:alipay:o-7:2`), made after the
commit. Nobody is paid twice and the debt closes.

A debt whose latest refund of ours the provider refused for good (`charge_disputed`, …) stays
as it is — counted by the ending step, owed under its key — so one rule covers it too: listed by
refunds_owed (`refund_refused`) until paid back toward it, by such a refund made at the provider
(which then asks for the rest) or an offline payout (`refused_debt`, money_refunds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from integrations.db.money_store import MoneyStore
from integrations.service import money, orders
from integrations.service.context import Context, Tx
from statemachine.money import OperationKind, OperationStatus, PaymentOperation
from statemachine.order import ORDER_LIFECYCLE, PRE_SHIPMENT
from statemachine.order_aggregate import Order, OrderState
from statemachine.ports import MoneyEvent, PaymentResult

ENDING_STEPS = ("cancel", "reject")  # the steps that count what was paid as refunded
ENDED_REFUNDED = (OrderState.CANCELLED, OrderState.REJECTED)


@dataclass(frozen=True, slots=True)
class Debt:
    """Money the order owes back outside its own refund step, and the key we pay it under."""

    key: str  # our refund of it: `cancel-refund:o-N`, `late-refund:<provider>:<payment>`
    toward: str  # "cancel" or "late": the purpose our operations for it carry
    ref: str  # the purpose's value: the order's id, or the late payment
    owed: int
    currency: str  # the order's, or the one the late money came in

    @property
    def purpose(self) -> dict[str, str]:
        return {self.toward: self.ref}


def cancel_refund_key(order_id: str) -> str:
    """The key of a cancellation's refund (`cancel-refund:o-N`)."""
    return f"cancel-refund:{order_id}"


def late_refund_key(provider: str, payment_ref: str) -> str:
    """The key of a late payment's refund: one per payment."""
    return f"late-refund:{provider}:{payment_ref}"


def owed_by_ending(tx: Tx, order: Order) -> int:
    """What the order's cancel (or reject) step counted as refunded: what it owes back."""
    ended = [h for h in tx.store.history(order.id) if h["trigger"] in ENDING_STEPS]
    return int(ended[-1]["payload"].get("refund", 0)) if ended else 0


def debt_of(tx: Tx, order: Order, ev: MoneyEvent, news: int) -> Debt | None:
    """The debt a refund of `news` the provider made for `ev.payment_ref` pays back, if the
    order's own `refund` step cannot count it: late money first (a cancelled order paid after
    it was cancelled took nothing), then a cancellation that counted it already."""
    late = MoneyStore(tx.store.sql).by_key(late_refund_key(ev.provider, ev.payment_ref))
    if late is not None and late.order_id == order.id:
        return Debt(late.key, "late", ev.payment_ref, late.amount, late.currency)
    if order.state in ENDED_REFUNDED and order.refunded + news > order.paid:
        return Debt(cancel_refund_key(order.public_id), "cancel", order.public_id,
                    owed_by_ending(tx, order), order.currency)
    return None


def cancels_the_order(tx: Tx, order: Order, news: int) -> bool:
    """A refund made outside orderpilot that gives back everything the order kept, before it
    shipped, with nothing of ours in flight nor a dispute open: the trade is closed at the
    provider (Alipay: TRADE_CLOSED), so the order must not be picked and shipped."""
    reserved = MoneyStore(tx.store.sql).reserved(order.id)
    return (order.paid > 0 and order.refunded + news == order.paid
            and order.state in PRE_SHIPMENT and ORDER_LIFECYCLE.can(order.state, "cancel")
            and reserved.refunds == 0 and reserved.disputed == 0)


def cancel_and_book(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent,
                    news: int, now: datetime) -> tuple[str, list[str]]:
    """Cancel the order the provider's full refund closed (stock back; its step counts the
    money refunded), then book that refund toward the cancellation, so the cancel-refund job
    asks the provider nothing. The actor is the system, not the buyer: who asked staff for
    the refund is not known, and a buyer's cancel costs credit."""
    orders.fire(ctx, tx, order, "cancel", f"system:refunded-at-{ev.provider}", {
        "reason": f"refunded in full at {ev.provider} outside orderpilot before it shipped"},
        now=now)
    order = tx.store.get_order(order.id, lock=True)
    debt = Debt(cancel_refund_key(order.public_id), "cancel", order.public_id,
                owed_by_ending(tx, order), order.currency)
    note, rest = book(ctx, tx, order, ev, news, debt, now)
    return f"order cancelled: {note}", rest


def tell_ops_if_all_given_back(tx: Tx, order: Order, ev: MoneyEvent, now: datetime) -> str:
    """After a refund made at the provider was booked on the order (`refund` step): if it gave
    back all the order kept and the order was not cancelled for it, ops hear of it at once
    (events with an ops template). Packed — or before, with a refund of ours in flight or a
    dispute open (cancels_the_order leaves those: what is in flight or disputed may still
    move money) —: `ship` refuses until a person decides — ship it anyway (`ship_refunded`:
    a gift) or cancel it, its stock back. Shipped: the goods are gone with the money back; a
    person decides whether to ask for them back."""
    if order.paid <= 0 or order.refunded < order.paid:
        return ""
    held = order.state is OrderState.PACKED or order.state in PRE_SHIPMENT
    tx.writer.signal("shipping_held" if held else "refunded_after_shipping", "order", order.id,
                     order.id, now, {
                         "amount": order.refunded, "currency": order.currency,
                         "provider": ev.provider, "notice": ev.event_id,
                         "state": order.state.value, **_in_flight(tx, order)})
    if order.state in PRE_SHIPMENT:
        return "; all refunded, not cancelled: held from shipping until a person decides, " \
               "ops told"
    return ("; all refunded while packed: held from shipping until a person decides (ship "
            "with ship_refunded, or cancel)" if held else
            f"; all refunded after it {order.state}: ops told")


def _in_flight(tx: Tx, order: Order) -> dict[str, object]:
    """What of the order's money is still moving: refunds of ours not settled, disputed."""
    reserved = MoneyStore(tx.store.sql).reserved(order.id)
    moving = reserved.refunds or reserved.disputed
    return {"refunds_in_flight": reserved.refunds, "disputed": reserved.disputed,
            "why_not_cancelled": "; it is not cancelled by itself: a refund of ours is in "
                                 "flight or a dispute is open, and what is in flight or "
                                 "disputed may still move money" if moving else ""}


def attempts(operations: Sequence[PaymentOperation], base: str) -> list[PaymentOperation]:
    """Our own refunds of a debt: keyed `base`, then `base:2` … after one failed or was
    superseded; oldest first."""
    return [op for op in operations if op.key == base or (
        op.key.startswith(f"{base}:") and op.key[len(base) + 1:].isdigit())]


def paid_back(operations: Sequence[PaymentOperation], base: str) -> int:
    """What of a debt was paid back: our refunds of it that succeeded, those the provider
    made outside orderpilot (`<base>@<provider>:<notice>`) and payouts toward it
    (`<base>@offline:<n>`: money_refunds.record_payout)."""
    ours = {op.key for op in attempts(operations, base)}
    return sum(op.amount for op in operations if op.kind in PAYING_BACK
               and op.status is OperationStatus.SUCCEEDED
               and (op.key in ours or op.key.startswith(f"{base}@")))


PAYING_BACK = (OperationKind.REFUND, OperationKind.PAYOUT)
DEBT_KEYS = ("late-refund:", "cancel-refund:")


def refused_debt(tx: Tx, order: Order) -> tuple[Debt, PaymentOperation, int] | None:
    """The order's debt whose latest refund of ours the provider refused for good, that refusal
    and what is left of the debt (late money first, as `debt_of`); None if there is none. The
    debt stays counted where it was (the ending step counted it refunded; late money was never
    the order's): refunds_owed lists it until it is paid back — by the provider outside
    orderpilot (`book`, which asks for the rest) or an offline payout toward it."""
    operations, bases = MoneyStore(tx.store.sql).of_order(order.id), []
    for op in operations:  # a debt's first attempt has its key; later ones `<key>:<n>`
        if op.kind is OperationKind.REFUND and op.key.startswith(DEBT_KEYS) and "@" not in \
                op.key and not any(attempts([op], base) for base in bases):
            bases.append(op.key)
    bases.sort(key=lambda base: not base.startswith("late-"))  # late money first
    for base in bases:
        ours = attempts(operations, base)
        late = base.startswith("late-")
        owed = ours[0].amount if late else owed_by_ending(tx, order)
        left = owed - paid_back(operations, base)
        if ours[-1].status is OperationStatus.FAILED and left > 0:
            ref = ours[-1].payment_ref or ""
            return Debt(base, "late" if late else "cancel", ref if late else order.public_id,
                        owed, ours[0].currency), ours[-1], left
    return None


def book(ctx: Context, tx: Tx, order: Order, ev: MoneyEvent, news: int,
         debt: Debt, now: datetime) -> tuple[str, list[str]]:
    """Book `news` refunded at the provider toward `debt` (order locked), every row at `now`;
    returns a note and the refund of ours to make after the commit (the rest of the debt), if
    any."""
    key, actor = f"{debt.key}@{ev.provider}:{ev.event_id}", f"provider:{ev.provider}"
    operation = money.request(
        ctx, tx, order, OperationKind.REFUND, news, key, actor, payment_ref=ev.payment_ref,
        purpose={**debt.purpose, "at": ev.provider}, provider=ev.provider,
        reason=f"refunded at {ev.provider} outside orderpilot", made_by_provider=True,
        currency=debt.currency, at=now)
    money.settle_in(ctx, tx, order, operation, PaymentResult(
        "refund", ev.payment_ref, ev.payment_ref, news, ev.currency, ev.event_id), now)
    superseded, rest = _plan_again(ctx, tx, order, debt, ev, now)
    tx.writer.signal("refund_made_outside", "order", order.id, order.id, now, {
        "amount": news, "currency": debt.currency, "provider": ev.provider,
        "notice": ev.event_id, "toward": debt.toward, "operation": key,
        "superseded": superseded, "rest": rest.key if rest else None,
        "rest_amount": rest.amount if rest else 0})
    note = f"{news} refunded at {ev.provider} outside orderpilot, booked toward the " + (
        "late money" if debt.toward == "late" else f"order's {order.state} refund")
    if superseded:
        note += f"; {superseded} superseded" + (f", the rest asked as {rest.key}"
                                                 if rest else "")
    return note, [rest.key] if rest else []


def _plan_again(ctx: Context, tx: Tx, order: Order, debt: Debt,
                ev: MoneyEvent, now: datetime) -> tuple[str | None, PaymentOperation | None]:
    """Our latest refund of the debt, if it asks for more than is left now: superseded
    (pending: failed here; refused already: left as it is) and the rest asked anew."""
    store = MoneyStore(tx.store.sql)
    operations = store.of_order(order.id)
    ours = attempts(operations, debt.key)
    left = debt.owed - paid_back(operations, debt.key)
    latest = ours[-1] if ours else None
    if latest is None or latest.status is OperationStatus.SUCCEEDED or latest.amount <= left:
        return None, None
    if latest.status is OperationStatus.PENDING:
        store.settle(latest.key, OperationStatus.FAILED, now, error=(
            f"superseded: {ev.provider} refunded part of it outside orderpilot (notice "
            f"{ev.event_id}); {max(left, 0)} left to refund"))
    if left <= 0:
        return latest.key, None
    rest = money.request(ctx, tx, order, OperationKind.REFUND, left,
                         money.key_for(tx, debt.key, order.id), latest.actor,
                         payment_ref=latest.payment_ref, purpose=debt.purpose,
                         reason=latest.reason, provider=latest.provider,
                         currency=latest.currency, at=now)
    return latest.key, rest
