"""One provider payment as the store has booked it, in every process: what was captured on
it, each refund of it, whether the buyer's bank charged it back, what was authorised (the
captures and releases the shop recorded for it) — what the simulated provider
(integrations/payments/simulated.py, AdoptingGateway) knows of a payment it did not open.

The orders concerned are found through `payment_operations.payment_ref` (indexed): a refund, a
capture or a release is recorded as an operation naming its payment before any provider is
asked for it, so the order that holds the payment (its own or a late one) always has one. A
ledger row names its payment through its operation (`op:<key>` rows) or, for a provider's
notice, as its `provider_ref`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.db.sql import Sql
from statemachine.dispute import OPEN_DISPUTE_STATES, DisputeKind

# the provider took the money: a chargeback open, lost or conceded (won: the money came back).
# An inquiry took none and leaves the payment refundable (Stripe refunds a charge under
# inquiry), open or not, until `escalate` makes it a chargeback
CHARGED_BACK = (f"state IN {(*OPEN_DISPUTE_STATES, 'lost', 'accepted')!r} AND "
                f"kind = '{DisputeKind.CHARGEBACK.value}'")
CAPTURES = ("capture", "late_capture")
AUTHORISATION_OPS = ("capture", "void")  # operations that take or release an authorisation


@dataclass(frozen=True)
class BookedPayment:
    captured: int
    currency: str
    refunds: dict[str, int] = field(default_factory=dict)  # ledger event key → amount
    charged_back: bool = False
    # the most the shop asked to capture or release (void) of it: an authorisation it was
    # told of (the provider's notice, its own checkout, one kept for capture at shipping)
    authorised: int = 0


def booked_payment(sql: Sql, payment_ref: str) -> BookedPayment | None:
    """The payment as booked; None when no operation of any order names it."""
    operations = sql.all("SELECT order_id, kind, amount, currency FROM payment_operations "
                         "WHERE payment_ref = :p", {"p": payment_ref})
    orders = sorted({int(r[0]) for r in operations})
    if not orders:
        return None
    where = {"p": payment_ref, **{f"o{i}": o for i, o in enumerate(orders)}}
    among = ", ".join(f":o{i}" for i in range(len(orders)))
    rows = sql.all(
        "SELECT r.kind, r.amount, r.currency, r.event_key FROM payment_records r LEFT JOIN "
        "payment_operations op ON op.order_id = r.order_id AND 'op:' || op.idem_key = "
        f"r.event_key WHERE r.order_id IN ({among}) AND r.kind IN ('capture', 'late_capture', "
        "'refund') AND CASE WHEN r.event_key LIKE 'op:%' THEN op.payment_ref = :p ELSE "
        "r.provider_ref = :p END ORDER BY r.id", where)
    # a payment reported by `fire("pay")` has no ledger row: the order's own record of it
    paid = sql.all(f"SELECT paid, currency FROM orders WHERE id IN ({among}) AND "
                   "payment_ref = :p", where)
    disputed = sql.all(f"SELECT 1 FROM disputes WHERE order_id IN ({among}) AND payment_ref = "
                       f":p AND {CHARGED_BACK}", where)
    captured = sum(int(r[1]) for r in rows if r[0] in CAPTURES)
    asked = [r for r in operations if r[1] in AUTHORISATION_OPS]
    currency = next((str(r[2]) for r in rows), str(paid[0][1]) if paid else
                    next((str(r[3]) for r in asked), ""))
    return BookedPayment(max([captured, *(int(r[0]) for r in paid)]), currency,
                         {str(r[3]): int(r[1]) for r in rows if r[0] == "refund"},
                         bool(disputed), max((int(r[2]) for r in asked), default=0))
