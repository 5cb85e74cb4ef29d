"""Risk's post-transition hooks: credit score events and review tasks, written in the same
transaction as the transition that caused them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.db import review_tasks
from integrations.db.buyers import buyer_of_order
from integrations.db.risk_counters import OUTCOMES, count_outcomes, move_address
from integrations.db.risk_credit import net_events
from integrations.db.sql import Sql
from integrations.risk.credit_store import record_credit_event, record_credit_events
from statemachine.aftersales import AfterSalesCase, Inspection
from statemachine.dispute import Dispute
from statemachine.lifecycle import Fired
from statemachine.order_aggregate import Order
from statemachine.risk.credit import CreditEventKind
from statemachine.risk.ruleset import CreditPolicy

# states in which stock is held for the buyer
HELD = ("awaiting_payment", "payment_pending", "paid", "picking")
UNDER_REVIEW = "under_review"


def order_credit_event(fired: Fired) -> tuple[CreditEventKind, str] | None:
    """Which credit event (and note) an order transition means for the buyer, if any."""
    if fired.trigger == "cancel" and fired.from_state in HELD \
            and not fired.actor.startswith("system"):
        return CreditEventKind.CANCEL_AFTER_HOLD, f"cancelled from {fired.from_state}"
    if fired.trigger == "expire" and fired.from_state == "awaiting_payment":
        # a started payment that did not settle (payment_pending) is the bank's delay or
        # failure, not the buyer leaving an order unpaid: no credit event
        return CreditEventKind.UNPAID_EXPIRY, "not paid before the stock hold lapsed"
    if fired.trigger == "close" and fired.to_state == "completed":
        return CreditEventKind.GOOD_ORDER, "order completed"
    return None


def dispute_credit_event(fired: Fired) -> tuple[CreditEventKind, str] | None:
    """A chargeback the shop lost or conceded (by webhook or by hand) costs the buyer credit."""
    if fired.to_state in ("lost", "accepted") and fired.from_state != fired.to_state:
        return CreditEventKind.CHARGEBACK, f"{fired.entity_id}: chargeback {fired.to_state}"
    return None


def case_credit_event(case: AfterSalesCase, fired: Fired) -> tuple[CreditEventKind, str] | None:
    """A case closed after inspection found a mismatch is a malicious refund attempt."""
    if fired.trigger == "close" and case.inspection is Inspection.MISMATCH:
        return CreditEventKind.MALICIOUS_REFUND, f"{case.public_id}: returned goods mismatch"
    return None


def _expiry_undone(tx: Any, order: Order) -> tuple[CreditEventKind, str] | None:
    """A revived order's buyer paid after all: the unpaid-expiry deduction its expiry cost, if
    it cost one (an expiry while a payment was pending does not), is undone, once."""
    standing = net_events(Sql(tx.connection), order.buyer_id, order.id,
                          CreditEventKind.UNPAID_EXPIRY.value,
                          CreditEventKind.UNPAID_EXPIRY_UNDONE.value)
    if standing <= 0:
        return None
    return CreditEventKind.UNPAID_EXPIRY_UNDONE, "paid after the hold lapsed: order revived"


@dataclass(frozen=True)
class CreditHook:
    """Turns lifecycle transitions into credit score changes for the buyer."""

    policy: CreditPolicy

    def __call__(self, ctx: Any, tx: Any, aggregate: Any, fired: Fired) -> None:
        if isinstance(aggregate, Order):
            event, order_id, buyer = order_credit_event(fired), aggregate.id, aggregate.buyer_id
            if fired.trigger == "revive":
                event = _expiry_undone(tx, aggregate)
        elif isinstance(aggregate, AfterSalesCase | Dispute):
            event = case_credit_event(aggregate, fired) \
                if isinstance(aggregate, AfterSalesCase) else dispute_credit_event(fired)
            order_id = aggregate.order_id
            buyer = buyer_of_order(tx.connection, order_id)
        else:
            return
        if event is not None:
            record_credit_event(tx.connection, buyer, event[0], order_id=order_id,
                                note=event[1], actor=fired.actor, at=fired.at,
                                policy=self.policy)

    def many(self, ctx: Any, tx: Any, moved: list[tuple[Any, Fired]]) -> None:
        """Bulk: the credit events of a batch of order transitions, few statements per buyer;
        case and dispute transitions (rare) one by one."""
        events = [(o.buyer_id, event[0], o.id, event[1], f.actor, f.at) for o, f in moved
                  if isinstance(o, Order) and f.trigger != "revive"
                  and (event := order_credit_event(f)) is not None]
        if events:
            record_credit_events(tx.connection, events, policy=self.policy)
        for aggregate, fired in moved:  # rare ones, each reads the store: one by one
            if isinstance(aggregate, AfterSalesCase | Dispute) or fired.trigger == "revive":
                self(ctx, tx, aggregate, fired)


class OutcomeCounter:
    """Counts a buyer's cancelled and completed orders as they happen (cancel rate, allow
    lane), so placement never recounts the buyer's history."""

    def __call__(self, ctx: Any, tx: Any, aggregate: Any, fired: Fired) -> None:
        self.many(ctx, tx, [(aggregate, fired)])

    def many(self, ctx: Any, tx: Any, moved: list[tuple[Any, Fired]]) -> None:
        counted = [(o.buyer_id, f.to_state) for o, f in moved
                   if f.to_state in OUTCOMES and f.from_state != f.to_state
                   and isinstance(o, Order)]
        if counted:  # most transitions count nothing: no statement, no cursor
            count_outcomes(Sql(tx.connection), counted)


def address_mover(ctx: Any, tx: Any, aggregate: Any, fired: Fired) -> None:
    """An order's address corrected before shipping: the buyer's address counters (address
    changes, velocity by address, related orders) count it at its new address, and its
    placement facts keep the buyer's number it has now (a corrected one, when it was theirs)
    and the recipient's (E.164, kept by placement and by the correction)."""
    if fired.trigger == "correct_address" and isinstance(aggregate, Order):
        attrs = aggregate.attrs
        move_address(Sql(tx.connection), aggregate.id, aggregate.buyer_id,
                     attrs["address"]["key"], attrs.get("phone"), attrs.get("recipient_phone"))


def review_task_hook(ctx: Any, tx: Any, aggregate: Any, fired: Fired) -> None:
    """Open a review task when an order enters under_review; close it (who, what) when it leaves."""
    if not isinstance(aggregate, Order) or fired.from_state == fired.to_state:
        return
    if fired.to_state == UNDER_REVIEW:
        risk = aggregate.attrs.get("risk") or {}
        review_tasks.open_task(tx.connection, aggregate.id, fired.at,
                               fired.at + ctx.timeouts.review_sla, risk.get("reasons", []),
                               risk.get("score", 0.0))
    elif fired.from_state == UNDER_REVIEW:
        review_tasks.close_task(tx.connection, aggregate.id, fired.at, fired.actor,
                                fired.trigger, fired.payload.get("reason") or None)
