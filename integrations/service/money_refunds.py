"""Refunds and compensation through the payment provider, recorded before the money moves.

A case refund is checked (the case may be refunded now, its lines are not refunded or in
flight, the amount fits) and recorded in one transaction, then paid, then settled — so the
provider never pays out what the store would refuse to record. Compensation for a lost,
damaged or returned parcel, or goodwill on an exchange, goes the same way; money paid outside
the provider (bank transfer, cash) is recorded as an offline payout with who paid and why.
"""

from __future__ import annotations

from datetime import datetime

from integrations.db.money_store import MoneyStore
from integrations.service import money, orders
from integrations.service.case_money import checked_amount, units_to_settle
from integrations.service.context import Context, Tx
from integrations.service.input_checks import provider_ref_problem
from integrations.service.outside_refunds import Debt, refused_debt
from statemachine import ids
from statemachine.aftersales import CASE_LIFECYCLE, AfterSalesCase
from statemachine.errors import InvalidInput, InvalidTransition, SecretsUnavailable
from statemachine.money import OperationKind, OperationStatus, PaymentOperation, refund_headroom
from statemachine.order_aggregate import Order, OrderState
from statemachine.ports import RefundLine, TransientPaymentError


def refund_case(ctx: Context, case_no: int, actor: str,
                amount: int | None = None) -> PaymentOperation:
    """Refund a case's lines: refused before any money moves if the store would refuse it.
    Raises TransientPaymentError or SecretsUnavailable after the refund is recorded (the
    operation stays pending: retry with the same key, or the money sweep pays it). Anything
    else stopping the call after that commit (a collision settling it, the store away) is
    answered with the refund pending, its error saying why (`money.execute_after_commit`)."""
    now = ctx.clock.now()  # of the refund recorded and of the provider's answer booked
    key = _case_refund_recorded(ctx, case_no, actor, amount, now)
    money.execute_after_commit(ctx, [key], now,
                               raising=(TransientPaymentError, SecretsUnavailable))
    return money.get(ctx, key)


def try_refund_case(ctx: Context, case_no: int, actor: str,
                    amount: int | None = None) -> PaymentOperation:
    """`refund_case`, answering a transient failure — or payment secrets that cannot be read
    (`payment secrets unavailable: …`, the provider never asked), or a collision settling it
    — with the operation left pending (its error noted) instead of raising it: the money
    sweep retries it under the same key, as a repeat of this call would."""
    now = ctx.clock.now()  # of the refund recorded and of the provider's answer booked
    key = _case_refund_recorded(ctx, case_no, actor, amount, now)
    money.execute_after_commit(ctx, [key], now)
    return money.get(ctx, key)


def _case_refund_recorded(ctx: Context, case_no: int, actor: str, amount: int | None,
                          now: datetime) -> str:
    """The key of the case's refund, recorded (or found recorded) at `now`, to be paid."""
    with ctx.tx() as tx:
        case = tx.store.get_case(case_no)
        order = tx.store.get_order(case.order_id, lock=True)
        return request_case_refund(ctx, tx, order, case, actor, amount, at=now).key


def request_case_refund(ctx: Context, tx: Tx, order: Order, case: AfterSalesCase, actor: str,
                        amount: int | None = None, *, at: datetime) -> PaymentOperation:
    """Record a case's refund (default: its amount due, `amount_due`) to be paid, at the
    caller's time `at`."""
    if not CASE_LIFECYCLE.can(case.state, "refund"):
        raise InvalidTransition("case", case.public_id, case.state.value, "refund",
                                CASE_LIFECYCLE.allowed(case.state))
    amount = checked_amount(tx, case, amount)
    lines = _lines_paid(tx, case)
    key = money.key_for(tx, f"refund:{case.public_id}", order.id)
    return money.request(ctx, tx, order, OperationKind.REFUND, amount, key, actor,
                         lines=lines, purpose={"case": case.public_id},
                         reason=f"after-sales {case.public_id} ({case.kind.value})", at=at)


def _lines_paid(tx: Tx, case: AfterSalesCase) -> tuple[RefundLine, ...]:
    """The units a case refund settles (`units_to_settle`: its lines less what claims on its
    return parcels refunded), whatever the amount: they are reserved while the refund is in
    flight, as the case's `refund` step will mark them. The provider is asked by these lines
    when the amount is their value, by amount when it is less (money._call)."""
    price = {ln.line_no: ln.amount // ln.quantity for ln in case.lines}
    return tuple(RefundLine(line_no, quantity, price[line_no] * quantity)
                 for line_no, quantity in units_to_settle(tx, case).items())


def refund_order(ctx: Context, order_no: int, amount: int, reason: str, actor: str,
                 key: str | None = None) -> PaymentOperation:
    """A refund not tied to a case (goodwill, price adjustment) through the provider.
    A transient failure (a provider timeout), payment secrets that cannot be read
    (`payment secrets unavailable: …`, the provider never asked) or a collision settling the
    provider's answer are answered with the refund recorded and pending, its error saying
    why, as `try_refund_case` answers them: the money sweep pays it once under its key, as a
    repeat of this call with the same `key` would. Raised, they hid a refund already recorded
    under a key the caller never saw (`refund:<order>:<n>`): a retry without a `key` recorded
    a second one, and the sweep paid both. `key`: the caller's own, or the key a previous
    answer carried (`refund:<order>:<key>`) — either names the same refund."""
    _check_money(amount=amount, reason=reason)
    if problem := provider_ref_problem("key", key, "the idempotency key"):
        raise InvalidInput(problem)  # before anything is written: Stripe's header is latin-1
    now = ctx.clock.now()  # of the refund recorded and of the provider's answer booked
    with ctx.tx() as tx:
        order = tx.store.get_order(order_no, lock=True)
        base = _refund_key(tx, order, key) if key else \
            f"refund:{order.public_id}:{NUMBERED}{_count(tx, order) + 1}"
        operation = money.request(ctx, tx, order, OperationKind.REFUND, amount, base, actor,
                                  reason=reason, at=now)
    money.execute_after_commit(ctx, [operation.key], now)
    return money.get(ctx, operation.key)


# The store numbers the refunds it is asked for without a key `refund:<order>:auto-<n>`, so a
# caller's own keys (`refund:<order>:<key>`, a ticket number "2" too) never name one of them.
# Before, they were `refund:<order>:<n>`: a caller's "2" named the second numbered refund, and
# its answer was that refund, silently. Keys numbered so before stay readable in full.
NUMBERED = "auto-"


def _refund_key(tx: Tx, order: Order, key: str) -> str:
    """The operation key of an order refund asked under `key`: `refund:<order>:<key>`, or
    `key` itself when it is one already (the key an answer carried, passed back on a retry).
    A key naming another order's refund, or one in the store's own numbering (`auto-<n>`)
    that names no refund of the order, is refused (InvalidInput), nothing written."""
    own = f"refund:{order.public_id}:"
    if key.startswith(own) and len(key) > len(own):
        full = key
    else:
        kind, _, rest = key.partition(":")
        other, _, tail = rest.partition(":")
        if kind == "refund" and tail and _names_an_order(other):
            raise InvalidInput({"key": f"{key!r} is a refund key of order {other}, not of "
                                       f"{order.public_id}"})
        full = own + key
    if full[len(own):].startswith(NUMBERED) and MoneyStore(tx.store.sql).by_key(full) is None:
        raise InvalidInput({"key": f"{key!r} is of the form orderpilot numbers its own refunds "
                                   f"with ({NUMBERED}<n>) and names none of "
                                   f"{order.public_id}'s: choose another key"})
    return full


def _names_an_order(text: str) -> bool:
    try:
        ids.ORDER.parse(text)
    except InvalidInput:
        return False
    return True


def request_compensation(ctx: Context, tx: Tx, order: Order, value: int, key: str,
                         actor: str, reason: str, at: datetime) -> PaymentOperation | None:
    """Compensate up to `value` through the provider (never more than may be refunded).
    While a chargeback of the payment is open the provider refuses every refund of it: the
    compensation is recorded owed all the same, held (`money.HELD`: the chargebacks), never
    asked of the provider until they close — then the money sweep makes it (won), or it fails
    saying to pay out instead (lost where the provider refuses for good). Up to what is left
    besides the refunds in flight: if won, the disputed money is the shop's again."""
    store = MoneyStore(tx.store.sql)
    prior = store.by_key(key)
    if prior is not None:
        return prior
    reserved = store.reserved(order.id)
    held = list(reserved.chargebacks)
    amount = min(value, max(0, order.paid - order.refunded - reserved.refunds) if held
                 else refund_headroom(order, reserved))
    if amount <= 0:
        return None
    return money.request(ctx, tx, order, OperationKind.REFUND, amount, key, actor,
                         purpose={"compensation": key, **({money.HELD: held} if held else {})},
                         reason=reason, at=at)


def record_payout(ctx: Context, order_no: int, amount: int, reason: str, paid_by: str,
                  how: str) -> PaymentOperation:
    """Compensation already paid outside the provider: who paid, how and why, on the order —
    or, on a cancelled, rejected or expired order whose refund the provider refused for good
    (a cancellation's, late money's: its counts say it was given back), toward that debt
    (outside_refunds). On a live order it is always compensation: late money it owes back
    stays listed (refunds_owed), to be refunded at the provider."""
    _check_money(amount=amount, reason=reason, how=how)
    now = ctx.clock.now()  # of the request, the refund step, the settlement and the ledger
    with ctx.tx() as tx:
        order = tx.store.get_order(order_no, lock=True)
        # only an ended order's payout pays back such a debt: on a live one (paid, shipped…) a
        # payout is compensation of its own, whatever late money it also owes back
        refused = refused_debt(tx, order) if order.state in ENDED else None
        if refused is not None:
            key = _payout_toward(ctx, tx, order, amount, paid_by, how, *refused, now)
        else:
            key = f"payout:{order.public_id}:{_count(tx, order) + 1}"
            money.request(ctx, tx, order, OperationKind.PAYOUT, amount, key, paid_by,
                          purpose={"payout": how}, reason=reason, provider="offline", at=now)
            orders.fire(ctx, tx, order, "refund", paid_by, {
                "amount": amount, "reason": f"offline payout ({how}): {reason}"}, now=now)
        store = MoneyStore(tx.store.sql)
        store.settle(key, OperationStatus.SUCCEEDED, now)
        operation = store.by_key(key)  # its currency: late money's may not be the order's
        money.ledger(tx, order, "payout", amount, None, f"op:{key}", now,
                     reason=reason, currency=operation.currency if operation else None)
    return money.get(ctx, key)


ENDED = (OrderState.CANCELLED, OrderState.REJECTED, OrderState.EXPIRED)


def _payout_toward(ctx: Context, tx: Tx, order: Order, amount: int, paid_by: str, how: str,
                   debt: Debt, refusal: PaymentOperation, left: int, now: datetime) -> str:
    """Record a payout toward a refused debt (`<debt key>@offline:<n>`: paid back outside
    our own refunds, as a portal refund is); the order's counts already say it went back."""
    if amount > left:
        raise InvalidInput({"amount": f"{amount} is more than the {left} still owed of "
                                      f"{debt.key} (refused: {refusal.error or 'no reason'})"})
    key = f"{debt.key}@offline:{_count(tx, order) + 1}"
    money.request(ctx, tx, order, OperationKind.PAYOUT, amount, key, paid_by,
                  payment_ref=refusal.payment_ref, purpose={**debt.purpose, "payout": how},
                  reason=f"toward {debt.key}, refused by {refusal.provider}", provider="offline",
                  currency=debt.currency, at=now)  # late money's is the one it came in
    tx.writer.signal("refund_made_outside", "order", order.id, order.id, now, {
        "amount": amount, "currency": debt.currency, "provider": "offline", "how": how,
        "toward": debt.toward, "operation": key, "paid_by": paid_by})
    return key


def _count(tx: Tx, order: Order) -> int:
    return MoneyStore(tx.store.sql).count_of_order(order.id)


def _check_money(**values: object) -> None:
    problems = {}
    for name, value in values.items():
        if name == "amount" and (not isinstance(value, int) or isinstance(value, bool)
                                 or value <= 0):
            problems[name] = f"expected a positive amount in minor units (got {value!r})"
        elif name != "amount" and (not isinstance(value, str) or not value.strip()
                                   or len(value) > 500):
            problems[name] = f"expected 1–500 characters (got {value!r})"
    if problems:
        raise InvalidInput(problems)
