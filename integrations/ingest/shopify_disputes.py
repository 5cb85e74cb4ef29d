"""Shopify Payments disputes (disputes/create, disputes/update) → the dispute lifecycle.

The body is Shopify's Dispute resource (REST Admin `shopify_payments/disputes`): `id`,
`order_id` (null when Shopify cannot name one), `type` (`inquiry` | `chargeback`), `amount` (a
decimal string) and `currency`, `reason`, `network_reason_code`, `status`, `evidence_due_by`,
`evidence_sent_on`, `finalized_on`, `initiated_at`. Every delivery carries the whole dispute,
so each is applied as "the dispute is now in this status":

- needs_response / under_review: the dispute is opened here (once per Shopify dispute id, its
  evidence due date armed as the SLA alert), or left as it is;
- won / prevented / charge_refunded (deprecated: the merchant refunded the charge, which
  refunds/create books): `win` — no chargeback is booked;
- lost / accepted (conceded in Shopify's admin): `lose` / `accept` — the order books the
  chargeback, and the case refunds owed in Shopify's admin that it covers are settled by it
  (service/disputes.py).

An inquiry (the bank asks before charging back; Shopify withdraws no money) is opened like a
chargeback — it has an evidence due date, and answering it is what prevents the chargeback —
its kind recorded (`inquiry`). An inquiry that ends lost or accepted without becoming a chargeback
moves no money: `close` ends the dispute (nothing booked, its amount no longer held, the SLA
alert cleared). Shopify escalates an inquiry on the same Dispute object (`type` turns to
`chargeback`; GraphQL's `initiatedAs` keeps what it began as): while open it keeps its dispute
here; once closed, the chargeback `reopen`s it (its reason and due date, the SLA alert armed
again), and a late inquiry delivery for it changes nothing. A chargeback under a new dispute id
is a dispute of its own. A dispute on an order not placed here (or with no
`order_id`) is answered 200 and recorded, not applied, like a gateway's notice for an unknown
payment: nothing would ever place that order, and a 4xx only makes Shopify retry it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from integrations.db.dispute_store import DisputeStore
from integrations.ingest.once import Applied, Outcome, once, order_body
from integrations.ingest.shopify_common import ACTOR, ShopifyDelivery, lookup, one_at_a_time
from integrations.service import disputes
from integrations.service.context import Context, Tx
from integrations.service.inputs import parse
from statemachine import ids
from statemachine.currency import minor
from statemachine.dispute import OPEN, UNANSWERED, Dispute, DisputeKind, DisputeState
from statemachine.errors import InvalidInput
from statemachine.order_aggregate import Order
from statemachine.ports import MoneyEvent

TOPICS = ("disputes/create", "disputes/update")
STILL_OPEN = ("needs_response", "under_review")
MERCHANT_KEEPS = ("won", "prevented", "charge_refunded")
BUYER_KEEPS = ("lost", "accepted")


class ShopifyDispute(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    order_id: int | None = None
    type: Literal["chargeback", "inquiry"]
    amount: str
    currency: str
    reason: str | None = None
    network_reason_code: str | int | None = None
    status: Literal["needs_response", "under_review", "charge_refunded", "accepted", "won",
                    "lost", "prevented"]
    evidence_due_by: AwareDatetime | None = None
    finalized_on: AwareDatetime | None = None


def dispute_webhook(ctx: Context, d: ShopifyDelivery) -> Outcome:
    """Apply a disputes/create or disputes/update: once per webhook id, and per dispute id
    and status (the dispute's own lifecycle: opened once, closed once)."""
    dispute = parse(ShopifyDispute, d.payload)
    amount = minor(dispute.amount, dispute.currency, "amount")
    if amount <= 0:
        raise InvalidInput({"amount": f"expected a disputed amount above 0 (got "
                                      f"{dispute.amount!r})"})

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        if dispute.order_id is not None:
            one_at_a_time(tx, d.shop, dispute.order_id)
        number = None if dispute.order_id is None else lookup(tx, d.shop, dispute.order_id)
        if number is None:
            return Applied(None, False, {}, f"Shopify dispute {dispute.id} ({dispute.status}) "
                                            f"names no order placed here: recorded, not applied")
        order = tx.store.get_order(number, lock=True)
        if dispute.currency != order.currency:
            raise InvalidInput({"currency": f"order {order.public_id} is in {order.currency} "
                                            f"(got {dispute.currency})"})
        applied, note, ours = _apply(ctx, tx, d, dispute, order, amount, now)
        return Applied(order.id, applied, {"order": order_body(tx, order.id),
                                           "dispute": _view(ours)}, note)

    return once(ctx, "shopify", d.topic.replace("/", "."), d, apply)


def _apply(ctx: Context, tx: Tx, d: ShopifyDelivery, dispute: ShopifyDispute, order: Order,
           amount: int, now: datetime) -> tuple[bool, str, Dispute]:
    ours = DisputeStore(tx.store.sql).by_ref(ACTOR, str(dispute.id))
    opened = ours is None
    if ours is None:
        ours = disputes.open_dispute(ctx, tx, order, MoneyEvent(
            ACTOR, d.event_id, "dispute_opened", order.payment_ref or f"shopify:{order.id}",
            amount, dispute.currency, now, dispute_ref=str(dispute.id),
            reason=_reason(dispute), due_by=dispute.evidence_due_by,
            dispute_kind=dispute.type), now)
        ours = DisputeStore(tx.store.sql).by_ref(ACTOR, str(dispute.id))
        assert ours is not None
    said = f"dispute {ours.public_id}"
    reopened = ours.state == DisputeState.CLOSED and dispute.type == "chargeback"
    if reopened:  # the inquiry closed here became a chargeback after all: the money moves now
        disputes.fire(ctx, tx, ours, "reopen", ACTOR,
                      {"reason": _reason(dispute), "due_by": dispute.evidence_due_by}, now)
    if dispute.status in STILL_OPEN:
        return opened or reopened, f"{said} opened" if opened else \
            f"{said} reopened as a chargeback" if reopened else \
            f"{said} is {ours.state}; Shopify says {dispute.status}", ours
    if ours.state not in OPEN:
        return opened, f"{said} is already {ours.state} (Shopify says {dispute.status})", ours
    if dispute.type == "inquiry" and ours.kind is DisputeKind.CHARGEBACK:
        # a late delivery of the inquiry this chargeback grew from: it decides nothing now
        return opened, (f"{said} is a chargeback now; Shopify's inquiry {dispute.status} "
                        "is older news: recorded, not applied"), ours
    trigger = "win" if dispute.status in MERCHANT_KEEPS else \
        "close" if dispute.type == "inquiry" else \
        "accept" if dispute.status == "accepted" and ours.state in UNANSWERED else "lose"
    disputes.fire(ctx, tx, ours, trigger, ACTOR,
                  {"reason": f"Shopify: {dispute.status}"
                             + (f" on {dispute.finalized_on.isoformat()}"
                                if dispute.finalized_on else "")}, now)
    return True, f"{said} {ours.state}", ours


def _reason(dispute: ShopifyDispute) -> str:
    code = f", network code {dispute.network_reason_code}" \
        if dispute.network_reason_code is not None else ""
    return f"{dispute.reason or 'no reason given'}{code}"


def _view(d: Dispute) -> dict[str, Any]:
    return {"id": d.public_id, "order_id": ids.ORDER(d.order_id), "state": d.state.value,
            "kind": d.kind.value, "amount": d.amount, "currency": d.currency,
            "reason": d.reason,
            "provider_ref": d.provider_ref,
            "due_by": d.evidence_due_by.isoformat() if d.evidence_due_by else None,
            "booked": d.booked, "unbooked": d.unbooked}
