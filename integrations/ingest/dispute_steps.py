"""Which steps a provider's dispute status fires: one table per provider, read by the Shopify
webhook (shopify_disputes.py) and the gateways' notices (money_events.py).

A table maps (kind, status) — the dispute as the provider reports it now — to the step of the
outcome, as candidates in order of preference: the first the lifecycle takes from our state
(Shopify's `accepted`: `accept` while unanswered, `lose` once an answer was sent). `()`: still
open, nothing to fire. What the provider reports is applied as "the dispute is now this":

- a chargeback reported for our inquiry: the inquiry became it — `escalate` while it is open,
  `reopen` once closed — then the outcome's step, if any;
- an inquiry reported for our chargeback: a late delivery of what it grew from, older news;
- our dispute already won, lost, accepted (or closed, for an inquiry): nothing moves.
"""

from __future__ import annotations

from statemachine.dispute import (
    DISPUTE_LIFECYCLE,
    OPEN,
    Dispute,
    DisputeKind,
    DisputeState,
)
from statemachine.errors import InvalidInput

Table = dict[tuple[str, str | None], tuple[str, ...]]
INQUIRY, CHARGEBACK = DisputeKind.INQUIRY.value, DisputeKind.CHARGEBACK.value
BOTH = (INQUIRY, CHARGEBACK)
GREW = ("escalate", "reopen")  # the steps that make our inquiry the chargeback it became

# Shopify Payments: the Dispute's `type` and `status`. An inquiry lost or accepted without a
# chargeback moved no money: `close`. charge_refunded (deprecated): the merchant refunded the
# charge, which refunds/create books — the dispute itself is the merchant's.
SHOPIFY: Table = {
    **{(kind, status): () for kind in BOTH for status in ("needs_response", "under_review")},
    **{(kind, status): ("win",) for kind in BOTH
       for status in ("won", "prevented", "charge_refunded")},
    (CHARGEBACK, "lost"): ("lose",), (CHARGEBACK, "accepted"): ("accept", "lose"),
    (INQUIRY, "lost"): ("close",), (INQUIRY, "accepted"): ("close",),
}

# Stripe: the Dispute's `status`; the warning_* ones are an inquiry's (stripe_events.kind_of).
# warning_closed: closed without becoming a chargeback — no money moved, nobody won.
STRIPE: Table = {
    (INQUIRY, "warning_needs_response"): (), (INQUIRY, "warning_under_review"): (),
    (INQUIRY, "warning_closed"): ("close",),
    (CHARGEBACK, "needs_response"): (), (CHARGEBACK, "under_review"): (),
    (CHARGEBACK, "won"): ("win",), (CHARGEBACK, "prevented"): ("win",),
    (CHARGEBACK, "lost"): ("lose",),
}

# A gateway with no statuses of its own (the simulated one): a MoneyEvent's outcome (none
# while open).
GATEWAY: Table = {
    **{(kind, "won"): ("win",) for kind in BOTH},
    **{(kind, "closed"): ("close",) for kind in BOTH},
    (CHARGEBACK, "lost"): ("lose",), (INQUIRY, "lost"): ("close",),
}

TABLES: dict[str, Table] = {"shopify": SHOPIFY, "stripe": STRIPE}


def steps_to(provider: str, kind: str, status: str | None, ours: Dispute) -> list[str]:
    """The steps, in order, that bring our dispute to what the provider reports (none: it is
    there already, or the news is older than ours). An unknown status is refused, naming it;
    none (a notice that only says the dispute is open) fires no outcome."""
    # no status: the notice only says the dispute is open (a gateway's dispute_opened)
    outcome = () if status is None else TABLES.get(provider, GATEWAY).get((kind, status))
    if outcome is None:
        known = sorted({s for k, s in TABLES.get(provider, GATEWAY) if k == kind}, key=str)
        raise InvalidInput({"status": f"expected one of {known} for a {provider} {kind} "
                                      f"(got {status!r})"})
    if kind == INQUIRY and ours.kind is DisputeKind.CHARGEBACK:
        return []
    steps, state = [], ours.state
    if kind == CHARGEBACK and ours.kind is DisputeKind.INQUIRY and \
            (state in OPEN or state is DisputeState.CLOSED):
        steps.append("escalate" if state in OPEN else "reopen")
        state = DisputeState.OPENED
    if state in OPEN:
        steps += next(([step] for step in outcome if DISPUTE_LIFECYCLE.can(state, step)), [])
    return steps


def note(ours: Dispute, steps: list[str], opened: bool, kind: str, says: str) -> str:
    """What applying the provider's news did, for the webhook's answer."""
    said = f"dispute {ours.public_id}"
    done = [f"{said} opened"] if opened else []
    done += [f"{said} {'reopened' if step == 'reopen' else 'escalated'} as a chargeback"
             for step in steps if step in GREW]
    if any(step not in GREW for step in steps):
        done.append(f"{said} {ours.state}")
    if done:
        return "; ".join(done)
    if kind == INQUIRY and ours.kind is DisputeKind.CHARGEBACK:
        return (f"{said} is a chargeback now; the inquiry's {says} is older news: recorded, "
                "not applied")
    already = "already " if ours.state not in OPEN else ""
    return f"{said} is {already}{ours.state} ({says})"
