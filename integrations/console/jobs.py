"""The console's automation jobs — work that needs no person: settle a cancelled paid order,
triage and settle a refund request, chase the carrier of a stalled parcel.

Each job is idempotent (claimed in the store), retries network trouble a few times and treats
every other error as final: the staff are told, and the job reports `failed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from integrations.console import casework
from integrations.notifications.masking import mask_text
from integrations.service import money, refunds, refunds_owed, settlement, stalls
from integrations.service.context import Context
from integrations.service.inputs import parse_id
from statemachine.clock import Clock
from statemachine.errors import SecretsUnavailable
from statemachine.money import OperationStatus
from statemachine.ports import (
    Carrier,
    CarrierUnavailable,
    Message,
    PaymentGateway,
    PermanentPaymentError,
    TransientPaymentError,
)

T = TypeVar("T")
# network trouble: nothing happened at the provider or carrier, asking again is safe
TRANSIENT = (ConnectionError, TimeoutError, TransientPaymentError, CarrierUnavailable)


@dataclass(frozen=True)
class Ports:
    """The outside systems the jobs talk to."""

    gateway: PaymentGateway
    carrier: Callable[[str, Clock], Carrier]
    notify: Callable[[Message], None]
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0)


def retrying(ports: Ports, call: Callable[[], T]) -> T:
    """`call()`, again after each delay while it fails with network trouble."""
    for delay in ports.retry_delays:
        try:
            return call()
        except TRANSIENT:
            time.sleep(delay)
    return call()


ENDED = {"cancelled": "cancelled and refunded",
         "rejected": "not accepted: your payment is refunded"}


def settle_cancel(ctx: Context, ports: Ports, order_id: str) -> str:
    """Pay back what a cancelled or rejected order owes, once; tell the buyer, or the staff on
    failure. A refund made at the provider's dashboard meanwhile is not asked for again: what
    is left is read again when our refund is recorded, and an attempt it superseded (refused
    by the provider for the excess) gives way to the one asking for the rest."""
    number = parse_id("order_id", order_id, "o")
    case = settlement.cancellation(ctx, number)
    if case.order.state not in ("cancelled", "rejected") or case.owed == 0:
        return "nothing to settle"
    if case.settled:
        return "already settled"
    tried: set[str] = set()
    now = ctx.clock.now()  # the job's: every answer it books, retries included, is at it
    while (operation := settlement.request_refund(ctx, case, ports.gateway.provider)):
        tried.add(operation.key)
        try:
            done = retrying(ports, lambda key=operation.key: money.execute(
                ctx, key, now, ports.gateway))
            if done.status is OperationStatus.FAILED:
                raise PermanentPaymentError(done.error or "the provider refused the refund")
        except SecretsUnavailable as error:  # never asked (not refused): the sweep pays it
            return (f"refund pending: {money.SECRETS_UNAVAILABLE} ({error.setting} in the "
                    f"Prefect Secret block {error.block!r})")
        except Exception as error:
            case = settlement.cancellation(ctx, number)
            if case.attempt not in tried:  # superseded: follow the attempt asking the rest
                continue
            if case.settled:  # a dashboard refund paid it all: ours was refused for it
                return "already settled"
            return _cancel_refund_failed(ctx, ports, case, operation.key, order_id, error)
        if done.status is OperationStatus.PENDING:  # accepted; the provider's webhook settles it
            return "refund pending"
        return _cancel_refunded(ports, case, order_id, done.amount, done.provider_ref)
    return "already settled"


def _cancel_refunded(ports: Ports, case: settlement.Cancellation, order_id: str, amount: int,
                     ref: str | None) -> str:
    """Tell the buyer what we refunded now — and, if part of what was owed went back before
    (staff in the provider's dashboard, an offline payout), that part too: the buyer matches
    each amount to a credit on the statement."""
    def shown(value: int) -> str:
        return casework.money(value, case.order.currency)

    said = f"We refunded {shown(amount)} (ref {ref})."
    if case.owed > amount:
        said = (f"We refunded {shown(amount)} now (ref {ref}); {shown(case.owed - amount)} was "
                f"refunded to you before: {shown(case.owed)} in all.")
    retrying(ports, lambda: ports.notify(Message(
        "orderpilot.order.refunded", "buyer", f"Order {order_id} {ENDED[case.order.state]}",
        said, order_id)))
    return "refunded"


def _cancel_refund_failed(ctx: Context, ports: Ports, case: settlement.Cancellation, key: str,
                          order_id: str, error: Exception) -> str:
    if not settlement.record_failure(ctx, case, key, str(error)):
        return "failed, told before"  # refused for good earlier: owed, listed, not retold
    said = refunds_owed.masked_for(ctx, parse_id("order_id", order_id, "o"), str(error))
    ports.notify(Message("orderpilot.order.refund_failed", "ops",  # the provider's text
                         f"Refund for {case.order.state} {order_id} failed", said, order_id))
    return "failed"


def triage_refund(ctx: Context, ports: Ports, case_id: str) -> str:
    """Approve a low-risk request at once, or put it under review for a person."""
    reasons = refunds.triage(ctx, parse_id("case_id", case_id, "c"))
    return "needs a person: " + "; ".join(reasons) if reasons else "approved at once"


def settle_refund(ctx: Context, ports: Ports, case_id: str) -> str:
    """Refund an approved refund-only case through the gateway, or wait for the goods. A
    refund the store refuses is answered (`refunds.settle`): the case closed when nothing is
    left to pay, else left approved — and then the staff are told why it was not paid."""
    outcome = retrying(ports, lambda: refunds.settle(ctx, parse_id("case_id", case_id, "c"),
                                                     ports.gateway))
    if refunds.NOT_REFUNDED in outcome:
        case = refunds.get(ctx, parse_id("case_id", case_id, "c"))
        retrying(ports, lambda: ports.notify(Message(
            "orderpilot.case.refund_refused", "ops", f"Refund of {case_id} not made",
            f"{case_id} ({case.order_id}) is {case.state} but its refund was not made: "
            f"{outcome.split(refunds.NOT_REFUNDED, 1)[1]}. Refund it (`orderpilot case "
            f"refund {case_id} --by <you>`) once that is settled, or close it.", case.order_id)))
    return outcome


def chase_stall(ctx: Context, ports: Ports, shipment_id: str) -> str:
    """Chase the carrier and apologise to the buyer, once per stall episode."""
    case = stalls.stall_case(ctx, parse_id("shipment_id", shipment_id, "s"))
    if not case.stalled:
        return f"cleared: {shipment_id} is {case.shipment.state} again"
    if case.alerted:
        return "already chased"
    s = case.shipment
    ticket = retrying(ports, lambda: ports.carrier(s.carrier, ctx.clock).chase(
        s.tracking_no, s.stall_reason or "stalled"))
    if not stalls.record_alert(ctx, case, ticket):
        return "already chased"
    reason = mask_text(s.stall_reason or "no carrier scan")  # the carrier's free text
    retrying(ports, lambda: ports.notify(Message(
        "orderpilot.shipment.stalled", "buyer", f"Your parcel {s.tracking_no} is delayed",
        f"Sorry: your parcel for order {s.order_id} is delayed ({reason}). We asked "
        f"{s.carrier} to look for it (ticket {ticket.ticket_id}) and will update you within "
        "24 hours.", s.order_id)))
    return f"chased: {s.carrier} ticket {ticket.ticket_id}"


JOBS: dict[str, Callable[[Context, Ports, str], str]] = {
    "settle-cancel": settle_cancel, "triage-refund": triage_refund,
    "settle-refund": settle_refund, "chase-stall": chase_stall}
