"""Recording a provider call to make: a pending operation with its idempotency key, written in
the transaction that decides the money must move (see money.py for the whole life of one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from integrations.db.money_store import MoneyStore
from integrations.service.context import Context, Tx
from statemachine import ids
from statemachine.errors import GuardRejected, InvalidInput
from statemachine.money import (
    OperationKind,
    OperationStatus,
    PaymentOperation,
    merchant_refunder,
    refund_in_admin,
    refund_refusal,
)
from statemachine.order_aggregate import Order
from statemachine.ports import RefundLine

K = OperationKind
# purpose of a refund owed while a chargeback of the payment is open: the chargebacks' ids it
# waits for (money.execute makes it only once they closed)
HELD = "after_chargebacks"


def request(ctx: Context, tx: Tx, order: Order, kind: OperationKind, amount: int, key: str,
            actor: str, *, payment_ref: str | None = None, lines: Sequence[RefundLine] = (),
            purpose: dict[str, Any] | None = None, reason: str | None = None,
            provider: str | None = None, at: datetime,
            made_by_provider: bool = False, currency: str | None = None) -> PaymentOperation:
    """Record a provider call to make (pending); the same key returns the first record.

    `order` must have been read with its row lock in this transaction; `at`: the calling
    service's one clock read, or a sweep's `now` (required: a default would read the clock
    below the service's entry). `made_by_provider`: a movement the provider made outside
    orderpilot (a refund in its dashboard), recorded to be settled at once — no
    `money_requested` event, as nobody asked for it. `currency`: the payment's, when it is
    not the order's — late money that came in another currency goes back in it (a release
    of an authorisation in it too); nothing else moves money in another currency.
    `provider`: who makes the call; by default the shop's gateway, except for a refund of
    money a provider in REFUNDED_BY_MERCHANT took (a `shopify:` payment): that provider,
    the merchant refunding it in its admin."""
    currency = currency or order.currency
    if currency != order.currency and kind is not K.VOID and "late" not in (purpose or {}):
        raise InvalidInput({"currency": f"order {order.public_id} is in {order.currency}: "
                                        f"only late money moves in {currency}"})
    store = MoneyStore(tx.store.sql)
    prior = store.by_key(key)
    if prior is not None:
        if (prior.kind, prior.amount, prior.currency, prior.order_id) != (
                kind, amount, currency, order.id):
            raise InvalidInput({"idempotency_key": f"{key!r} was already used for a "
                                                   f"{prior.kind} of {prior.amount} "
                                                   f"{prior.currency} on "
                                                   f"{ids.ORDER(prior.order_id)}"})
        return prior
    if kind in (K.REFUND, K.PAYOUT) and not {"late", "cancel", "failed", HELD} & set(
            purpose or {}):
        # a late payment's refund returns money the order never took, a cancellation's was
        # counted as refunded by the cancel step, a refund owed again after it failed at the
        # provider is money the provider holds (shipping too): none must fit in what is left.
        # Nor a compensation held until a chargeback closes (money_refunds.request_
        # compensation bounds it; `execute` asks the provider only once it closed)
        reserved = store.reserved(order.id)
        if "rest_of" in (purpose or {}) or kind is K.PAYOUT:
            # the part a provider refund left short of a refund of ours recorded before: owed
            # in the merchant's admin again, not a new refund — a chargeback does not stop
            # recording it (the merchant makes it once the dispute closes); nor a payout,
            # money already paid outside the provider (it refuses nothing of it: what to do
            # when it refuses refunds), which must still fit beside the money the chargeback
            # holds
            reserved = replace(reserved, chargebacks=(), lost=())
        # an open chargeback stops every refund of ours here, before anything is recorded
        refusal = refund_refusal(order, amount, lines, reserved)
        if refusal is not None:
            raise GuardRejected("order", order.public_id, order.state.value, "refund", refusal)
    by_merchant = merchant_refunder(payment_ref or order.payment_ref) \
        if provider is None and kind is K.REFUND else None
    if by_merchant is not None:
        # money such a provider took (Shopify's) goes back in its admin, never through our
        # gateway: recorded under it, `execute` never calls it, owed (refunds_owed) until the
        # provider's refund webhook settles it (ingest/shopify_refunds.py)
        provider, reason = by_merchant, f"{reason or kind.value}: {refund_in_admin(by_merchant)}"
    operation = store.add({
        "order_id": order.id, "kind": kind.value, "status": OperationStatus.PENDING.value,
        "amount": amount, "currency": currency, "idem_key": key,
        "provider": provider or ctx.gateway.provider,
        "payment_ref": payment_ref or order.payment_ref, "actor": actor, "reason": reason,
        "lines": [{"line_no": ln.line_no, "quantity": ln.quantity, "amount": ln.amount}
                  for ln in lines], "purpose": purpose or {}, "created_at": at})
    if not made_by_provider:  # one the provider made on its own was never asked for
        tx.writer.signal("money_requested", "order", order.id, order.id, at, {
            "operation": key, "kind": kind.value, "amount": amount, "currency": currency})
    return operation


def key_for(tx: Tx, base: str, order_id: int) -> str:
    """The key for the next attempt at `base` (an operation of order `order_id`): `base`
    itself, the same key while an attempt is in flight or done (a repeat returns it),
    `base:2`, `:3` … after attempts failed for good."""
    store = MoneyStore(tx.store.sql)
    latest = store.latest(base, order_id)
    if latest is None or latest.status is not OperationStatus.FAILED:
        return latest.key if latest else base
    return f"{base}:{store.count_keys(base, order_id) + 1}"
