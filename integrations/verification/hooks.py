"""Close an order's challenge when the order leaves `verifying`, whoever moved it (the buyer's
code, a third wrong code, the timer, a cancel)."""

from __future__ import annotations

from typing import Any

from integrations.db.verification_store import ChallengeStore
from statemachine.lifecycle import Fired
from statemachine.order_aggregate import Order, OrderState

VERIFYING = OrderState.VERIFYING.value


def outcome_of(fired: Fired) -> str:
    if fired.trigger == "approve":
        return "passed"
    if fired.trigger == "reject":
        return "expired" if fired.actor.startswith("system") else "failed"
    return fired.trigger  # cancel


class ChallengeCloser:
    def __call__(self, ctx: Any, tx: Any, aggregate: Any, fired: Fired) -> None:
        self.many(ctx, tx, [(aggregate, fired)])

    def many(self, ctx: Any, tx: Any, moved: list[tuple[Any, Fired]]) -> None:
        leaving = [(o, f) for o, f in moved if isinstance(o, Order)
                   and f.from_state == VERIFYING and f.to_state != VERIFYING]
        if leaving:
            store = ChallengeStore(tx.connection)
            for order, fired in leaving:
                store.decide(order.id, outcome_of(fired), fired.at)
