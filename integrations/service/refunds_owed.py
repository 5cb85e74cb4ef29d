"""Money owed back to buyers that nothing else will send: what finance must see until the
buyer is paid back. Each row has a `kind`:

- `refund_later`: refunds a cancellation left for later (below);
- `late_payment`: late money the merchant refunds in the provider's admin (Shopify: a payment
  for an order that had expired, was rejected or cancelled; late_payments.py), owed until the
  provider's webhook books it, since it arrived;
- `refund_failed`: a refund that failed at the provider's gateway (Shopify: a refund
  transaction pending, then failure / error), owed again until the provider's refunds since
  redo it — each amount matched to one thing owed, the failure first (owed_again.py); since
  the failure. The order's `refund_later` or `late_payment` row then
  owes only the rest (none when the failure was of all of it): the same money is never listed
  twice;
- `refund_in_admin`: a refund of ours of money the merchant gives back in the provider's
  admin (an after-sales case's refund, compensation, on an order Shopify took the money of:
  money_requests.request records it under that provider, never calls our gateway), owed
  since it was recorded until the provider's refund webhook settles it: its amount less what
  the provider's refunds gave it so far (a case waiting for more of its units or money). Its
  refund made in the admin that failed at the gateway is owed again by it, listed once with a
  reason saying so — refund it again in the admin (service/failed_in_admin.py) — and only the
  rest of that failure as `refund_failed`;
- `refund_refused`: a refund of ours the provider refused for good (Stripe's
  `charge_disputed`, …) of money a cancelled, rejected or expired order owes back — its
  cancellation's or rejection's refund, or late money — listed with the provider's answer,
  since the refusal, until paid back toward that debt (docs/lifecycle.md, "Money owed back"):
  by a refund made at the provider outside orderpilot, or an offline payout. Staff were told
  when it was refused (once): the overdue alert below does not tell them again. The
  provider's text can quote the buyer: it is shown masked (`masked_for`), its code readable.

Refunds left for later: only Shopify's "refund later" makes such an order (`cancel` with
`refund_later`, an internal parameter: the public API refuses it): the order is cancelled, its
stock back, and the money stays with the provider until refunds/create books each refund.
Nothing else reminds anyone, so these orders are listed (`pilot.payments.refunds_owed()`,
`orderpilot payments owed`) and the money sweep tells ops once per order (event
`orderpilot.order.refund_owed`) when one has waited past
`ORDERPILOT_SHOPIFY__REFUND_LATER_ALERT_HOURS` (72) since it was cancelled (from its history: a
partial refund or any other later change does not restart the wait). A refund in flight when an
order was cancelled (the cancel left it to settle into the order) that the provider then
refused for good leaves such an order too, and is listed the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict

from integrations.db.errors import is_integrity_error
from integrations.db.money_owed import OwedMoney, OwedRow
from integrations.db.outbox import orders_of
from integrations.notifications.masking import known_pii, mask_text
from integrations.service.context import Context
from statemachine import ids

OwedKind = Literal["refund_later", "late_payment", "refund_failed", "refund_in_admin",
                   "refund_refused"]


class RefundOwed(BaseModel):
    model_config = ConfigDict(frozen=True)
    order_id: str
    buyer_id: str
    currency: str
    owed: int  # minor units: goods paid and not refunded (refund_later); late money held
    held: int  # what the ledger shows the provider kept: shipping and tax included
    payment_ref: str | None
    since: datetime  # when the order was cancelled (its `cancel`), or the late money came
    overdue: bool
    kind: OwedKind  # why it is owed, for a program; `reason` says it for a person
    reason: str


def refunds_owed(ctx: Context, now: datetime, limit: int = 500) -> list[RefundOwed]:
    """Money owed back to buyers that nothing else will send (cancelled, rejected or expired
    orders, and refunds to make in a provider's admin: the kinds above), oldest first."""
    with ctx.tx(readonly=True) as tx:
        rows = OwedMoney(tx.store.sql).refunds_owed(limit)
        orders = orders_of(tx.connection, [row[0] for row in rows])
    return [_owed(row, now - _wait(ctx), orders.get(row[0])) for row in rows]


def masked_for(ctx: Context, order_no: int, text: str) -> str:
    """Free text about an order — a provider's refusal, which may quote the buyer — as it may
    be shown or logged: phones, e-mails, IPs, identity numbers and the order's own personal
    values (recipient's name, street, phone) masked; an error code stays readable."""
    with ctx.tx(readonly=True) as tx:
        order = orders_of(tx.connection, [order_no]).get(order_no)
    return _masked(text, order)


def _masked(text: str, order: Any) -> str:
    return mask_text(text, known_pii(getattr(order, "attrs", None)))


def alert_overdue(ctx: Context, now: datetime, limit: int = 100) -> int:
    """Tell ops once per order (inbox `refund-owed:o-N`) that its refund is overdue; how many
    were told now. The order's event stream carries the alert (outbox: Prefect events)."""
    due = now - _wait(ctx)
    with ctx.tx(readonly=True) as tx:
        rows = OwedMoney(tx.store.sql).refunds_owed(limit, due, untold=ALERT_KEY)
    return sum(_claim_and_signal(ctx, _owed(row, due), now) for row in rows)


ALERT_KEY = "refund-owed:o-"


def _wait(ctx: Context) -> timedelta:
    return timedelta(hours=ctx.settings.shopify.refund_later_alert_hours)


def _owed(row: OwedRow, due: datetime, order: Any = None) -> RefundOwed:
    """A row as shown: a refusal's reason (the provider's text) masked; the other kinds' are
    our own words and ids (a Shopify refund id must stay whole)."""
    number, buyer, currency, owed, held, ref, since, kind, reason = row
    if kind == "refund_refused":
        reason = _masked(reason, order)
    return RefundOwed(order_id=ids.ORDER(number), buyer_id=buyer, currency=currency,
                      owed=owed, held=held, payment_ref=ref, since=since, overdue=since < due,
                      kind=cast(OwedKind, kind), reason=reason)


def _claim_and_signal(ctx: Context, owed: RefundOwed, now: datetime) -> bool:
    number = ids.ORDER.parse(owed.order_id)
    key = f"{ALERT_KEY}{number}"
    try:
        with ctx.tx() as tx:
            if tx.store.inbox_get(key) is not None:
                return False
            tx.store.inbox_put(key, "refund-owed", {"owed": owed.owed}, now)
            tx.writer.signal("refund_owed", "order", number, number, now, {
                "amount": owed.owed, "held": owed.held, "currency": owed.currency,
                "payment_ref": owed.payment_ref, "since": owed.since.isoformat(),
                "kind": owed.kind, "reason": owed.reason})
    except Exception as error:
        if not is_integrity_error(error):  # a unique key: another sweep told them first
            raise
        return False
    return True
