"""`pilot.reviews`: the queue of orders held for a person, and their decisions."""

from __future__ import annotations

from typing import Any

from integrations.risk.errors import ReviewAlreadyDecided
from integrations.risk.views import ReviewTaskView
from integrations.service import review_queue as reviews
from integrations.service.context import Context
from integrations.service.inputs import check_text, parse_id
from integrations.service.views import OrderView
from statemachine import limits
from statemachine.risk.signals import BUYER

__all__ = ["ReviewAlreadyDecided", "Reviews"]


class Reviews:
    def __init__(self, context: Context):
        self._ctx = context

    def list(self, *, include_decided: bool = False) -> list[ReviewTaskView]:
        """Open review tasks, escalated and overdue first, with reasons and SLA."""
        rows = reviews.list_tasks(self._ctx, self._ctx.clock.now(), include_decided)
        return [ReviewTaskView(**row) for row in rows]

    def approve(self, order_id: str, *, by: str, reason: str | None = None) -> OrderView:
        """Release a held order to payment, as reviewer `by`; ReviewAlreadyDecided otherwise."""
        return self._decide(order_id, "approve", by, reason, ())

    def reject(self, order_id: str, *, by: str, reason: str | None = None,
               blacklist: bool | tuple[str, ...] | list[str] = False) -> OrderView:
        """Reject a held order; `blacklist=True` lists the buyer (or name kinds: buyer, device,
        phone, address, ip) with this order as evidence, in the same transaction."""
        kinds = (BUYER,) if blacklist is True else tuple(blacklist or ())
        return self._decide(order_id, "reject", by, reason, kinds)

    def _decide(self, order_id: str, decision: str, by: Any, reason: str | None,
                kinds: tuple[str, ...]) -> OrderView:
        number = parse_id("order_id", order_id, "o")
        reviews.decide(self._ctx, number, decision, check_by(by), reason, kinds)
        with self._ctx.tx(readonly=True) as tx:
            return OrderView.of(tx.store.get_order(number))


def check_by(by: Any) -> str:
    """Who decided: a non-empty name of at most 128 characters that the store can keep."""
    return check_text("by", by, limits.ACTOR, what="the name of who decides").strip()
