"""Which console work an outbox row asks for: open or close a person's case, escalate it, or
run an automation job. Pure: the row in, the intents out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.console.casework import (
    DISPUTE_REVIEW,
    REFUND_REVIEW,
    RETURN_BOUNCED,
    RISK_REVIEW,
    STALL,
)
from statemachine import ids
from statemachine.dispute import UNANSWERED

REVIEWED = {"order": RISK_REVIEW, "case": REFUND_REVIEW}
SETTLE_CANCEL, TRIAGE_REFUND, SETTLE_REFUND, CHASE_STALL = (
    "settle-cancel", "triage-refund", "settle-refund", "chase-stall")
ADDRESS_CORRECTED = "orderpilot.order.address_corrected"
ANOTHER_KIND = ("escalate", "correct_kind")  # dispute steps that change its kind
ESCALATIONS = {"orderpilot.order.review_overdue": RISK_REVIEW,
               "orderpilot.case.sla_breached": REFUND_REVIEW}


@dataclass(frozen=True)
class Intent:
    """`open` / `close` / `escalate` / `refresh` (its form's description written again) a case
    run of `kind`, or run job `kind`, about `entity`."""

    action: str
    kind: str
    entity: str
    order_id: str
    why: str = ""


def intents_of(event: str, entity: str, entity_id: int, order_id: int,
               payload: dict[str, Any]) -> list[Intent]:
    """The console work one outbox row asks for (most rows ask for none)."""
    codec = ids.BY_ENTITY.get(entity)  # every lifecycle has one; the name alone otherwise
    ref = codec(entity_id) if codec else f"{entity}-{entity_id}"
    order = ids.ORDER(order_id)
    if event in ESCALATIONS:  # a case's SLA lapsed where it waits: review or bounced return
        kind = RETURN_BOUNCED if payload.get("state") == "return_bounced" else \
            ESCALATIONS[event]
        return [Intent("escalate", kind, ref, order, "the SLA lapsed")]
    before, after = payload.get("from_state"), payload.get("to_state")
    if event == ADDRESS_CORRECTED and entity == "order" and after == "under_review":
        # the reviewer's form describes the address as placed: it is written again
        return [Intent("refresh", RISK_REVIEW, ref, order,
                       f"address corrected by {payload.get('actor')}")]
    why = f"{payload.get('trigger')} by {payload.get('actor')}"
    if entity == "dispute" and payload.get("trigger") in ANOTHER_KIND and \
            after in UNANSWERED:
        # the case episode names the kind (casework._dispute_episode: d-2-inquiry, d-2): the
        # inquiry's form answers nothing any more, the chargeback is asked afresh — at once,
        # not when the re-drive notices (an escalation from `opened` changes no state at all)
        return [Intent("close", DISPUTE_REVIEW, ref, order, why),
                Intent("open", DISPUTE_REVIEW, ref, order)]
    if after is None or before == after:
        return []
    found = []
    if entity in REVIEWED and after == "under_review":
        found.append(Intent("open", REVIEWED[entity], ref, order))
    if entity in REVIEWED and before == "under_review":
        found.append(Intent("close", REVIEWED[entity], ref, order, why))
    if entity == "case" and after == "return_bounced":
        found.append(Intent("open", RETURN_BOUNCED, ref, order))
    if entity == "case" and before == "return_bounced":
        found.append(Intent("close", RETURN_BOUNCED, ref, order, why))
    if entity == "shipment" and after == "stalled":
        found += [Intent("job", CHASE_STALL, ref, order), Intent("open", STALL, ref, order)]
    if entity == "shipment" and before == "stalled":
        found.append(Intent("close", STALL, ref, order, why))
    if entity == "dispute" and (after in UNANSWERED) != (before in UNANSWERED):
        found.append(Intent("open" if after in UNANSWERED else "close", DISPUTE_REVIEW, ref,
                            order, why))
    found += _jobs(entity, after, ref, order, payload.get("details") or {})
    return found


def _jobs(entity: str, after: str, ref: str, order: str, details: dict[str, Any]
          ) -> list[Intent]:
    if entity == "order" and after == "cancelled":
        return [Intent("job", SETTLE_CANCEL, ref, order)]
    if entity == "order" and after == "rejected" and details.get("refund"):  # paid meanwhile
        return [Intent("job", SETTLE_CANCEL, ref, order)]
    if entity == "case" and after == "requested":
        return [Intent("job", TRIAGE_REFUND, ref, order)]
    if entity == "case" and after in ("approved", "auto_approved"):
        return [Intent("job", SETTLE_REFUND, ref, order)]
    return []
