"""Human risk review: what a reviewer needs to see, and applying their decision once.

The decision goes through `orders.fire`, the path every order transition takes, so a review
decided in the Prefect UI and one decided from the CLI / Python API race safely: the first
one moves the order out of under_review, the second gets InvalidTransition ("already decided").
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field

from integrations.db import buyers, review_tasks
from integrations.service import review_queue
from integrations.service.context import Context
from integrations.service.views import OrderView
from statemachine import ids

HISTORY_LIMIT = 20


class PastOrder(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    state: str
    total: int
    currency: str  # the buyer's orders need not all be in the reviewed order's currency
    created_at: str


class Dossier(BaseModel):
    """The order under review, why it was held, and what the buyer did before."""

    model_config = ConfigDict(frozen=True)
    order: OrderView
    buyer_since: str | None
    credit_score: int | None
    past_orders: list[PastOrder]
    past_by_state: dict[str, int] = Field(default_factory=dict)


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)
    approve: bool
    reason: str = Field(min_length=1, max_length=500)
    reviewer: str = Field(min_length=1, max_length=100)
    blacklist_buyer: bool = False


def dossier(ctx: Context, order_id: int) -> Dossier:
    """Gather the order, its risk reasons and the buyer's last orders (one read transaction)."""
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(order_id)
        buyer = buyers.buyer(tx.connection, order.buyer_id)
        past = review_tasks.other_orders(tx.connection, order.buyer_id, order.id, HISTORY_LIMIT)
    return Dossier(
        order=OrderView.of(order), credit_score=buyer.credit_score if buyer else None,
        buyer_since=buyer.created_at.isoformat() if buyer else None,
        past_orders=[PastOrder(id=ids.ORDER(r.id), state=r.state, total=r.total,
                               currency=r.currency, created_at=r.created_at.isoformat())
                     for r in past],
        past_by_state=dict(Counter(r.state for r in past)))


def decide(ctx: Context, order_id: int, decision: Decision) -> str:
    """Approve or reject a held order as the reviewer; returns the order's new state.

    Goes through the risk review queue (task closed with the reviewer, buyer blacklisted with
    this order as evidence when asked); raises ReviewAlreadyDecided when the order is no longer
    under review (decided elsewhere first).
    """
    review_queue.decide(ctx, order_id, "approve" if decision.approve else "reject",
                 f"reviewer:{decision.reviewer}", decision.reason,
                 ("buyer",) if decision.blacklist_buyer else ())
    with ctx.tx(readonly=True) as tx:
        return tx.store.get_order(order_id).state.value


