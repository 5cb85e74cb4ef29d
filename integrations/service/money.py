"""Money operations: record the intent, call the provider with its key, settle from the answer.

1. `request` writes a pending operation in the caller's transaction — the one that decides the
   money must move (a refund approved, a parcel lost, an order cancelled). A refund must fit in
   what is left after settled refunds, refunds in flight and open disputes (statemachine.money),
   checked under the order's row lock. The operation's key is derived from our own ids.
2. `execute` (after commit, outside any transaction) calls the provider with that key. A
   transient failure leaves the operation pending for a retry with the same key (the provider
   answers a repeated key with the first result, so money moves once); a permanent one fails it.
3. `settle` books the provider's answer in one transaction: the operation succeeds (a guarded
   update, so two settlers cannot both book it), the order / case records the money, and a
   ledger row (`payment_records`) is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from integrations.db import records
from integrations.db.money_store import MoneyStore
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx

# recording a provider call to make is its own module, so the pipeline can request a capture
# without importing what settling one does (money_effects fires order steps)
from integrations.service.money_requests import HELD as HELD
from integrations.service.money_requests import key_for as key_for
from integrations.service.money_requests import request as request
from statemachine import ids
from statemachine.errors import Contention, NotFound, OrderPilotError, SecretsUnavailable
from statemachine.money import (
    REFUNDED_BY_MERCHANT,
    OperationKind,
    OperationStatus,
    PaymentOperation,
    chargeback_refusal,
)
from statemachine.order import takes_payment
from statemachine.order_aggregate import Order
from statemachine.ports import (
    PaymentGateway,
    PaymentResult,
    PermanentPaymentError,
    TransientPaymentError,
)

log = logging.getLogger(__name__)
K = OperationKind
# a pending operation's error when the provider could not be asked for want of its credentials
SECRETS_UNAVAILABLE = "payment secrets unavailable"
# a pending operation's error when the call after a commit stopped on something else (a
# collision settling it, the store away, an SDK error): the money sweep makes it again
LEFT_TO_THE_SWEEP = "left to the money sweep"


def execute(ctx: Context, key: str, now: datetime,
            gateway: PaymentGateway | None = None) -> PaymentOperation:
    """Make the provider call of a pending operation and settle it; returns it as it ends.
    Every row it writes is at `now`: the time of the service call that executes it (issue 10,
    one clock read per call) — the call that recorded it, or the money sweep's pass.

    Raises TransientPaymentError, or SecretsUnavailable (the provider's credentials could
    not be read: it was never asked) — the operation stays pending, its error saying why:
    retry with the same key."""
    operation = get(ctx, key)
    if operation.status is not OperationStatus.PENDING:
        return operation
    if operation.provider in REFUNDED_BY_MERCHANT:  # made in the provider's admin, not by us
        return operation
    if operation.kind is K.CAPTURE and (unwanted := _capture_unwanted(ctx, operation)):
        failed = fail(ctx, key, unwanted, now)
        _release_superseded(ctx, operation, now)
        return failed
    if HELD in operation.purpose and (held := _still_held(ctx, operation, now)) is not None:
        return held
    try:
        result = _call(gateway or ctx.gateway, operation)
    except TransientPaymentError as error:
        with ctx.tx() as tx:
            MoneyStore(tx.store.sql).note_attempt(key, str(error))
        raise
    except SecretsUnavailable as error:  # the provider was never asked: pending, as a timeout
        with ctx.tx() as tx:
            MoneyStore(tx.store.sql).note_attempt(key, f"{SECRETS_UNAVAILABLE}: {error}")
        raise
    except PermanentPaymentError as error:
        # booked at the call's `now`, not when the refusal came back: one call, one time
        return fail(ctx, key, str(error), now)
    if result.status != "succeeded":  # accepted; the provider's webhook confirms it later
        with ctx.tx() as tx:
            MoneyStore(tx.store.sql).note_provider_ref(key, result.ref)
        return get(ctx, key)
    return settle(ctx, key, result, now)


WAITING = "waiting for chargeback"


def _still_held(ctx: Context, operation: PaymentOperation, now: datetime
                ) -> PaymentOperation | None:
    """A refund held while a chargeback of the payment is open (a lost parcel's compensation):
    still open — left pending, its error saying what it waits for, the provider not asked (it
    refuses every refund of a charged-back payment); lost where the provider refuses for good
    — failed, saying to pay the buyer outside it (staff told); None: closed in the shop's
    favour (or lost where the rest may be refunded), to be made now."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(operation.order_id)
        reserved = MoneyStore(tx.store.sql).reserved(order.id, excluding=operation.key)
    if reserved.chargebacks:
        with ctx.tx() as tx:
            MoneyStore(tx.store.sql).note_attempt(operation.key, (
                f"{WAITING} {', '.join(reserved.chargebacks)} to close: the provider refuses "
                "any refund of a charged-back payment; the money sweep makes it once won"))
        return get(ctx, operation.key)
    if (refused := chargeback_refusal(order, reserved)) is not None:
        return fail(ctx, operation.key, refused, now)
    return None


def execute_quietly(ctx: Context, keys: Sequence[str], now: datetime) -> list[PaymentOperation]:
    """Execute operations right after the commit that recorded them; a transient failure is
    left to the retry flow (the operation stays pending), so the caller's work stands. So are
    payment secrets that cannot be read (SecretsUnavailable: the provider never asked, the
    operation's error says why) — and the keys after it are not tried: they need the same
    secrets."""
    done = []
    for key in keys:
        try:
            done.append(execute(ctx, key, now))
        except TransientPaymentError as error:
            log.warning("payment operation %s left pending: %s", key, error)
        except SecretsUnavailable as error:
            log.warning("payment operations %s left pending: %s: %s", list(keys)[:5],
                        SECRETS_UNAVAILABLE, error)
            break
    return done


def execute_after_commit(ctx: Context, keys: Sequence[str], now: datetime, *,
                         raising: tuple[type[Exception], ...] = (),
                         gateway: PaymentGateway | None = None) -> None:
    """Make the provider calls a committed unit of work recorded (a booked event, a granted
    or recorded refund, a lost parcel's compensation, a capture at ship) — the one entry for
    money moved after a commit. Whatever stops a call there leaves it pending for the money
    sweep (same key: the provider pays once) and is never raised over the committed work: a
    transient failure or unreadable secrets (execute notes them; the keys after the secrets
    are not tried), and a collision settling it (past `settle`'s own retries), the store away
    or an error the provider's SDK raised — noted on the operation's `error` too, so the
    caller's answer ('pending') and finance's list say why, not only the log.
    `raising`: the errors a caller answers itself (`refund_case` raises a timeout, as
    documented), raised once noted. `now`: the committed call's, at which its answers are
    booked. `gateway`: the one to call (the console's ports), else the shop's."""
    for key in keys:
        try:
            execute(ctx, key, now, gateway)
        except raising:
            raise
        except TransientPaymentError as error:  # noted by execute
            log.warning("payment operation %s left pending: %s", key, error)
        except SecretsUnavailable as error:  # noted by execute; the rest need them too
            log.warning("payment operations %s left pending: %s: %s", list(keys)[:5],
                        SECRETS_UNAVAILABLE, error)
            return
        except Exception as error:
            log.exception("payment operation %s left to the money sweep", key)
            _note_left(ctx, key, error)


def _note_left(ctx: Context, key: str, error: Exception) -> None:
    """The operation's `error` says why it was left pending: our own errors by their text
    (a collision names what collided), anything else by its kind only — an SDK's message may
    quote the buyer. Best effort: the store may be what went away."""
    if isinstance(error, Contention):  # its 'nothing was written' is of the settlement
        why = (f"{error.what} collided with concurrent writers {error.attempts} time(s) "
               f"({error.cause})")
    else:
        why = str(error) if isinstance(error, OrderPilotError) else type(error).__name__
    try:
        with ctx.tx() as tx:
            MoneyStore(tx.store.sql).note_attempt(key, f"{LEFT_TO_THE_SWEEP}: {why}")
    except Exception:
        log.exception("payment operation %s: its error could not be noted", key)


def execute_pending(ctx: Context, order_no: int, now: datetime) -> None:
    """Execute, after the commit that recorded them, every operation of an order still
    waiting for the provider (a lost or returned parcel's compensation, a capture at ship),
    through `execute_after_commit`: never raised over that commit (nor is a failure to read
    them: the money sweep finds them pending)."""
    try:
        with ctx.tx(readonly=True) as tx:
            keys = [op.key for op in MoneyStore(tx.store.sql).of_order(order_no)
                    if op.status is OperationStatus.PENDING and op.kind is not K.CHECKOUT]
    except Exception:
        log.exception("payment operations of order %s left to the money sweep", order_no)
        return
    execute_after_commit(ctx, keys, now)


@retrying("settling a payment operation")  # one transaction, re-run whole after a collision
def settle(ctx: Context, key: str, result: PaymentResult, now: datetime) -> PaymentOperation:
    """Book a provider's answer once: the operation, the order / case, the ledger, at the
    caller's `now` (the provider's own time, if it gives one, stays in its answer)."""
    operation = get(ctx, key)
    with ctx.tx() as tx:
        order = tx.store.get_order(operation.order_id, lock=True)
        settle_in(ctx, tx, order, operation, result, now)
    return get(ctx, key)


def settle_in(ctx: Context, tx: Tx, order: Order, operation: PaymentOperation,
              result: PaymentResult, now: datetime) -> bool:
    """`settle` inside the caller's transaction (order locked), every row at the caller's
    `now`; False if already settled."""
    from integrations.service.money_effects import apply_effects

    if not MoneyStore(tx.store.sql).settle(operation.key, OperationStatus.SUCCEEDED, now,
                                           result.ref):
        return False
    apply_effects(ctx, tx, order, operation, result, now)
    ledger(tx, order, operation.kind.value, result.amount, result.ref, f"op:{operation.key}",
           now, operation.purpose.get("case"), operation.reason, currency=operation.currency)
    return True


def fail(ctx: Context, key: str, problem: str, now: datetime) -> PaymentOperation:
    """The provider refused for good: the operation fails and staff are told (outbox), at the
    caller's `now`."""
    operation = get(ctx, key)
    with ctx.tx() as tx:
        if MoneyStore(tx.store.sql).settle(key, OperationStatus.FAILED, now, error=problem[:500]):
            tx.writer.signal("money_failed", "order", operation.order_id, operation.order_id,
                             now, {"operation": key, "kind": operation.kind.value,
                                   "amount": operation.amount, "problem": problem[:500],
                                   **operation.purpose})
    return get(ctx, key)


def ledger(tx: Tx, order: Order, kind: str, amount: int, ref: str | None, event_key: str,
           at: datetime, case: str | None = None, reason: str | None = None, *,
           currency: str | None = None) -> None:
    """A settled money movement in `payment_records` (what reconciliation compares), in the
    currency the money moved in (`currency`: late money's may not be the order's)."""
    records.payment_add(tx.connection, {
        "order_id": order.id, "kind": kind, "amount": amount,
        "currency": currency or order.currency,
        "provider_ref": ref, "case_id": ids.CASE.parse(case) if case else None,
        "event_key": event_key, "reason": reason, "at": at})


def get(ctx: Context, key: str) -> PaymentOperation:
    with ctx.tx(readonly=True) as tx:
        operation = MoneyStore(tx.store.sql).by_key(key)
    if operation is None:
        raise NotFound("payment operation", key)
    return operation


def _capture_unwanted(ctx: Context, op: PaymentOperation) -> str | None:
    """Why a recorded capture must not be made any more: the order no longer waits for that
    payment (cancelled or expired before the capture was made — the money sweep releases the
    authorisation instead — or paid by another payment). A capture made in the moment between
    this check and the call is late money (refunded, money_effects)."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(op.order_id)
    held = order.authorisation
    if held and held["payment_ref"] == op.payment_ref:
        return None
    if takes_payment(order):  # awaiting this payment, or pending on it
        return None
    return (f"capture not made: order {order.public_id} is {order.state} and no longer waits "
            f"for payment {op.payment_ref}")


def _release_superseded(ctx: Context, op: PaymentOperation, now: datetime) -> None:
    """The capture was not made because another payment paid the order: release this one's
    authorisation now rather than leave the buyer's money held until the provider drops it
    (~7 days). A cancelled or expired order's is released by the money sweep."""
    with ctx.tx() as tx:
        order = tx.store.get_order(op.order_id, lock=True)
        if not order.paid or order.payment_ref == op.payment_ref:
            return
        key = request(ctx, tx, order, K.VOID, op.amount, f"void:{order.public_id}:"
                      f"{op.payment_ref}", "system:money", payment_ref=op.payment_ref,
                      reason="another payment paid the order", at=now).key
    execute_quietly(ctx, [key], now)


def _call(gateway: PaymentGateway, op: PaymentOperation) -> PaymentResult:
    if not op.payment_ref:
        raise PermanentPaymentError(f"{op.kind} {op.key}: the order has no payment reference")
    if op.kind is K.CAPTURE:
        return gateway.capture(op.payment_ref, op.amount, op.currency, idempotency_key=op.key)
    if op.kind is K.REFUND:
        lines = op.lines if sum(ln.amount for ln in op.lines) == op.amount else ()
        return gateway.refund(op.payment_ref, op.amount, idempotency_key=op.key, lines=lines,
                              currency=op.currency)
    if op.kind is K.VOID:
        return gateway.void(op.payment_ref, idempotency_key=op.key)
    raise PermanentPaymentError(f"a {op.kind} operation is not executed by the provider")
