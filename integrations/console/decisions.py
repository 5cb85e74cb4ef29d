"""A person's answer to a console case, applied through the same service functions the CLI,
the Python API and the HTTP endpoints use — whichever comes first wins, the others are told
it is already decided."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from integrations.console.jobs import Ports, retrying
from integrations.evidence import dispute_answer
from integrations.risk.errors import ReviewAlreadyDecided
from integrations.service import (
    aftersales,
    case_labels,
    parcel_trouble,
    refunds,
    review_queue,
    stalls,
)
from integrations.service.context import Context
from integrations.service.inputs import parse_id
from statemachine import ids
from statemachine.dispute import UNANSWERED, DisputeState
from statemachine.errors import GuardRejected, InvalidTransition

ALREADY_DECIDED = (ReviewAlreadyDecided, InvalidTransition, GuardRejected)
PAST = {"approve": "approved", "reject": "rejected"}


def decide_review(ctx: Context, order_id: str, answer: dict[str, Any]) -> str:
    """Approve or reject a held order as `reviewer:<name>`; blacklists the buyer on request."""
    number, who = parse_id("order_id", order_id, "o"), f"reviewer:{answer['reviewer']}"
    blacklist = ("buyer",) if answer.get("blacklist_buyer") and \
        answer["decision"] == "reject" else ()
    review_queue.decide(ctx, number, answer["decision"], who, answer["reason"], blacklist)
    return f"{PAST[answer['decision']]} by {who}: {answer['reason']}"


def decide_refund(ctx: Context, case_id: str, answer: dict[str, Any]) -> str:
    """Grant or refuse an after-sales request; the refund itself follows as a job — or, when
    the store refused to record it (its order refunded in full already), the answer says so."""
    granted = refunds.decide(ctx, parse_id("case_id", case_id, "c"),
                             answer["decision"] == "approve", answer["reason"],
                             answer["reviewer"])
    said = f"{PAST[answer['decision']]} by reviewer:{answer['reviewer']}: {answer['reason']}"
    return f"{said}; no refund asked: {granted.refused}" if granted and granted.refused \
        else said


def act_on_stall(ctx: Context, ports: Ports, shipment_id: str, answer: dict[str, Any]) -> str:
    """Chase the carrier again, or declare the parcel lost (buyer compensated, claim filed)."""
    number, who = parse_id("shipment_id", shipment_id, "s"), f"ops:{answer['operator']}"
    if answer["action"] == "declare_lost":
        claim = parcel_trouble.lose_stalled(ctx, number, answer["note"], who)
        return f"declared lost by {who}: claim {claim.public_id}"
    case = stalls.stall_case(ctx, number)
    if not case.stalled:
        raise InvalidTransition("shipment", shipment_id, case.shipment.state, "chase", [])
    s = case.shipment
    ticket = retrying(ports, lambda: ports.carrier(s.carrier, ctx.clock).chase(
        s.tracking_no, answer["note"]))
    with ctx.tx() as tx:
        tx.writer.signal("chased", "shipment", number, ids.ORDER.parse(s.order_id),
                               ctx.clock.now(), {"shipment_id": s.id, "by": who,
                                                 "ticket": ticket.ticket_id,
                                                 "reason": answer["note"]})
    return f"chased again by {who}: ticket {ticket.ticket_id}"


def answer_bounced_return(ctx: Context, ports: Ports, case_id: str,
                          answer: dict[str, Any]) -> str:
    """A new return label for the buyer, bought from the order's carrier through the ports'
    adapter (`case_labels.new_return_label`, as `orderpilot case new-label`), or close the
    case, as `ops:<name>`; InvalidTransition if it was answered elsewhere meanwhile, and
    CarrierUnavailable / WaybillRefused (the case unchanged) if no label could be bought."""
    number, who = parse_id("case_id", case_id, "c"), f"ops:{answer['operator']}"
    if answer["action"] != "new_label":
        aftersales.fire_case(ctx, number, "close", who, {"reason": answer["note"]})
        return f"closed by {who}: {answer['note']}"
    _, waybills = retrying(ports, lambda: case_labels.new_return_label(
        ctx, number, lambda name: ports.carrier(name, ctx.clock), who, answer["note"]))
    bought = ", ".join(f"{w.carrier} {w.tracking_no}" for w in waybills)
    return f"a new return label sent by {who} (waybill {bought}): {answer['note']}"


def prepare_dispute(ctx: Context, dispute_id: str) -> None:
    """Map the order's evidence pack onto the provider's fields, unless someone already did."""
    number = parse_id("dispute_id", dispute_id, "d")
    if dispute_answer.get(ctx, number).state == DisputeState.OPENED:
        with suppress(InvalidTransition):  # prepared from the CLI or the API a moment ago
            dispute_answer.prepare(ctx, number, "system:dispute-review")


def decide_dispute(ctx: Context, ports: Ports, dispute_id: str, answer: dict[str, Any]) -> str:
    """Submit the evidence or concede, as `reviewer:<name>` — unless the dispute was answered
    elsewhere meanwhile or its due date passed: then nothing is sent, and the outcome says so."""
    number, who = parse_id("dispute_id", dispute_id, "d"), f"reviewer:{answer['reviewer']}"
    dispute, now = dispute_answer.get(ctx, number), ctx.clock.now()
    if dispute.state not in UNANSWERED:
        return f"nothing sent: {dispute_id} was already {dispute.state} (answered elsewhere)"
    if dispute.evidence_due_by is not None and now > dispute.evidence_due_by:
        return f"nothing sent: {_past_due(dispute.evidence_due_by)}"
    elsewhere = dispute_answer.ANSWERED_IN_ADMIN.get(dispute.provider)
    if elsewhere is not None:  # our gateway knows nothing of it: the answer is given there
        return (f"nothing sent: {elsewhere} ({who} chose {answer['decision']}: "
                f"{answer['note']})")
    if answer["decision"] == "accept":
        retrying(ports, lambda: dispute_answer.accept(ctx, number, who, answer["note"],
                                                      ports.gateway))
        return f"accepted by {who}: {answer['note']}"
    prepare_dispute(ctx, dispute_id)
    retrying(ports, lambda: dispute_answer.submit(
        ctx, number, who, ports.gateway, answer.get("extra_text", ""), answer["note"]))
    return f"submitted by {who}: {answer['note']}"


def why_dispute_left(ctx: Context, dispute_id: str) -> str:
    """Why a dispute no longer waits for a person: answered, decided, or past its due date."""
    dispute = dispute_answer.get(ctx, parse_id("dispute_id", dispute_id, "d"))
    if dispute.state not in UNANSWERED or dispute.evidence_due_by is None:
        return f"{dispute_id} is {dispute.state}"
    return f"nothing was submitted: {_past_due(dispute.evidence_due_by)}"


def _past_due(due: datetime) -> str:
    return (f"the evidence was due by {due.isoformat()} and nobody answered; the bank decides "
            "on what it has (the evidence SLA alert went out before the due date)")
