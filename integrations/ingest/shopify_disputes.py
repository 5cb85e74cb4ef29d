"""Shopify Payments disputes (disputes/create, disputes/update) → the dispute lifecycle.

The body is Shopify's Dispute resource (REST Admin `shopify_payments/disputes`): `id`,
`order_id` (null when Shopify cannot name one), `type` (`inquiry` | `chargeback`), `amount` (a
decimal string) and `currency`, `reason`, `network_reason_code`, `status`, `evidence_due_by`,
`evidence_sent_on`, `finalized_on`, `initiated_at`. Every delivery carries the whole dispute,
so each is applied as "the dispute is now in this status" — which step each status fires is
Shopify's table in dispute_steps.py:

- needs_response / under_review: the dispute is opened here (once per Shopify dispute id, its
  evidence due date armed as the SLA alert), or left as it is;
- won / prevented / charge_refunded (deprecated: the merchant refunded the charge, which
  refunds/create books): `win` — no chargeback is booked;
- lost / accepted (conceded in Shopify's admin): `lose` / `accept` — the order books the
  chargeback, and the case refunds owed in Shopify's admin that it covers are settled by it
  (service/disputes.py).

An inquiry (the bank asks before charging back; Shopify withdraws no money) is opened like a
chargeback — it has an evidence due date, and answering it is what prevents the chargeback —
its kind recorded (`inquiry`). An inquiry that ends lost or accepted without becoming a
chargeback moves no money: `close` ends the dispute (nothing booked, its amount no longer held,
the SLA alert cleared). Shopify escalates an inquiry on the same Dispute object (`type` turns to
`chargeback`; GraphQL's `initiatedAs` keeps what it began as): while open the dispute is
`escalate`d, once closed `reopen`ed — either way it takes the chargeback's reason, due date
(the SLA alert armed for it) and amount — and a late inquiry delivery for it changes nothing.
A chargeback under a new dispute id is a dispute of its own. A dispute on an order not placed
here (or with no `order_id`) is answered 200 and recorded, not applied, like a gateway's notice
for an unknown payment: nothing would ever place that order, and a 4xx only makes Shopify retry
it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from integrations.db.dispute_store import DisputeStore
from integrations.ingest import dispute_steps
from integrations.ingest.once import Applied, Outcome, once, order_body
from integrations.ingest.shopify_common import ACTOR, ShopifyDelivery, lookup, one_at_a_time
from integrations.service import disputes
from integrations.service.context import Context, Tx
from integrations.service.inputs import parse
from statemachine import ids
from statemachine.currency import minor
from statemachine.dispute import Dispute
from statemachine.errors import InvalidInput
from statemachine.order_aggregate import Order
from statemachine.ports import MoneyEvent

TOPICS = ("disputes/create", "disputes/update")


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
    steps = dispute_steps.steps_to(ACTOR, dispute.type, dispute.status, ours)
    for step in steps:
        disputes.fire(ctx, tx, ours, step, ACTOR, _params(step, dispute, amount), now=now)
    return opened or bool(steps), dispute_steps.note(
        ours, steps, opened, dispute.type, f"Shopify says {dispute.status}"), ours


def _params(step: str, dispute: ShopifyDispute, amount: int) -> dict[str, Any]:
    if step in dispute_steps.GREW:  # the chargeback our inquiry became
        return {"reason": _reason(dispute), "due_by": dispute.evidence_due_by, "amount": amount}
    return {"reason": f"Shopify: {dispute.status}" + (
        f" on {dispute.finalized_on.isoformat()}" if dispute.finalized_on else "")}


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
