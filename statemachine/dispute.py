"""The dispute (chargeback) aggregate and its lifecycle table.

    opened ─prepare─▶ evidence_due ─submit─▶ submitted ─win─▶ won
       │                   │                      └─lose─▶ lost
       └───────────────────┴─accept─▶ accepted      (win / lose from any open state too:
                                                      the bank decides, answered or not)
    any open state ─close─▶ closed ─reopen─▶ opened
    any open state ─escalate─▶ opened      (an open inquiry became a chargeback)
    open, closed or won ─correct_kind─▶ (same state)   (a person corrects a kind stored wrong)

`opened`: the buyer's bank reversed the payment; the provider holds the disputed money.
`evidence_due`: the evidence pack is mapped onto the provider's fields and waits for a person
to confirm it; the due date is a deadline. `submitted`: sent. `lost` and `accepted` (conceded)
move the money for good: the order books the chargeback and the buyer's credit score drops.
`closed`: an inquiry (the bank asked before charging back; no money was taken) the provider
closed without a chargeback — nothing booked, no credit lost (an inquiry, open or closed, holds
none of the payment against refunds: only a chargeback's money is held). Neither won
nor lost: `lose` would book money that never moved. `reopen`: the provider turned that same
dispute into a chargeback after all — open again, with the chargeback's reason and due date.
`escalate`: the bank turned an inquiry still open into a chargeback — the dispute is the
chargeback now (its kind, reason, due date and amount), unanswered again (what was prepared or
sent answered the inquiry), its SLA alert armed for the chargeback's due date.
`correct_kind`: a person corrects the kind the store holds (a Stripe inquiry recorded before
the kind had a column of its own was backfilled as a chargeback: migration 0033) — the state
stays; what a chargeback holds and books follows the kind from then on. Not once lost or
conceded: the money was booked as a chargeback's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from statemachine import ids
from statemachine.clock import require_utc
from statemachine.lifecycle import Creation, Lifecycle, Step, Timer
from statemachine.policies import DeadlineKind, Timeouts


class DisputeState(StrEnum):
    OPENED = "opened"
    EVIDENCE_DUE = "evidence_due"
    SUBMITTED = "submitted"
    WON = "won"
    LOST = "lost"
    ACCEPTED = "accepted"
    CLOSED = "closed"


class DisputeKind(StrEnum):
    """What the bank did: asked (an inquiry: no money taken yet; answering it is what prevents
    the chargeback) or took the money back (a chargeback)."""

    INQUIRY = "inquiry"
    CHARGEBACK = "chargeback"


class DisputeTrigger(StrEnum):
    PREPARE = "prepare"
    SUBMIT = "submit"
    ACCEPT = "accept"
    WIN = "win"
    LOSE = "lose"
    CLOSE = "close"
    REOPEN = "reopen"
    ESCALATE = "escalate"
    CORRECT_KIND = "correct_kind"


OPEN_DISPUTE_STATES = ("opened", "evidence_due", "submitted")
ALERT_BEFORE = timedelta(hours=48)  # the SLA alert fires this long before evidence is due


@dataclass(eq=False)
class Dispute:
    id: int
    order_id: int
    provider: str
    provider_ref: str
    payment_ref: str
    state: DisputeState
    version: int
    amount: int
    currency: str
    created_at: datetime
    kind: DisputeKind = DisputeKind.CHARGEBACK
    reason: str | None = None
    evidence_due_by: datetime | None = None
    evidence: dict[str, str] | None = None
    booked: int = 0
    unbooked: int = 0
    refusal: str | None = None
    step_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def public_id(self) -> str:
        return dispute_public_id(self.id)


def dispute_public_id(number: int) -> str:
    return ids.DISPUTE(number)


# --- guards ------------------------------------------------------------------------------------

def has_evidence(dispute: Dispute, ctx: Mapping[str, Any]) -> str | None:
    evidence = ctx.get("evidence") or {}
    return None if any(str(v).strip() for v in evidence.values()) else \
        "the evidence has no field filled in"


def confirmed_by_a_person(dispute: Dispute, ctx: Mapping[str, Any]) -> str | None:
    who = str(ctx.get("actor", ""))
    if not who or who.startswith("system"):
        return "a person must confirm the evidence before it is submitted"
    return None


def before_the_due_date(dispute: Dispute, ctx: Mapping[str, Any]) -> str | None:
    due = dispute.evidence_due_by
    if due is not None and ctx["at"] > due:
        return f"the evidence was due by {due.isoformat()}"
    return None


# --- effects -----------------------------------------------------------------------------------

def keep_evidence(dispute: Dispute, ctx: Mapping[str, Any]) -> dict[str, Any]:
    dispute.evidence = {k: str(v) for k, v in (ctx.get("evidence") or {}).items() if v}
    return {"fields": sorted(dispute.evidence), "note": ctx.get("note")}


def record_submission(dispute: Dispute, ctx: Mapping[str, Any]) -> dict[str, Any]:
    if ctx.get("evidence"):
        keep_evidence(dispute, ctx)
    return {"fields": sorted(dispute.evidence or {}), "confirmed_by": ctx["actor"],
            "provider_status": ctx.get("provider_status"),
            **({"note": ctx["note"]} if ctx.get("note") else {})}


def book_loss(dispute: Dispute, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The money is gone: what the order books as refunded, and what is lost beyond it."""
    dispute.booked, dispute.unbooked = ctx.get("booked", 0), ctx.get("unbooked", 0)
    return {"booked": dispute.booked, "unbooked": dispute.unbooked,
            "reason": ctx.get("reason")}


def due_in_utc(due: datetime | None) -> datetime | None:
    """A due date as the dispute keeps it: UTC, as the store gives it back. A provider writes
    its own offset (Shopify +08:00 for a shop in China): kept as written, the step's event and
    answer said +08:00 while the same dispute reloaded said UTC."""
    return None if due is None else require_utc(due, "due_by")


def an_inquiry(dispute: Dispute, ctx: Mapping[str, Any]) -> str | None:
    return None if dispute.kind is DisputeKind.INQUIRY else \
        f"{dispute.public_id} is a {dispute.kind} already"


def charged_back(dispute: Dispute, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The chargeback the inquiry became: its reason, its own evidence due date (the SLA
    alert is armed from it) and, if the bank changed it, its amount."""
    amount_before = dispute.amount
    dispute.kind = DisputeKind.CHARGEBACK
    dispute.reason = ctx.get("reason") or dispute.reason
    dispute.evidence_due_by = due_in_utc(ctx.get("due_by"))
    dispute.amount = ctx.get("amount") or dispute.amount
    due = dispute.evidence_due_by
    return {"kind": dispute.kind.value, "reason": dispute.reason,
            "due_by": due.isoformat() if due else None, "amount": dispute.amount,
            **({"amount_before": amount_before} if dispute.amount != amount_before else {})}


def another_kind(dispute: Dispute, ctx: Mapping[str, Any]) -> str | None:
    return None if ctx.get("kind") != dispute.kind.value else \
        f"{dispute.public_id} is a {dispute.kind} already"


def said_why(dispute: Dispute, ctx: Mapping[str, Any]) -> str | None:
    return None if str(ctx.get("reason") or "").strip() else \
        "say why the kind is corrected (what the provider shows)"


def corrected_kind(dispute: Dispute, ctx: Mapping[str, Any]) -> dict[str, Any]:
    before, dispute.kind = dispute.kind, DisputeKind(ctx["kind"])
    return {"kind": dispute.kind.value, "kind_before": before.value, "reason": ctx["reason"]}


def note(dispute: Dispute, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": ctx["reason"]} if ctx.get("reason") else {}


D = DisputeState
OPEN = (D.OPENED, D.EVIDENCE_DUE, D.SUBMITTED)

DISPUTE_STEPS = (
    Step("prepare", (D.OPENED,), D.EVIDENCE_DUE, (has_evidence,), keep_evidence),
    Step("submit", (D.EVIDENCE_DUE,), D.SUBMITTED,
         (confirmed_by_a_person, before_the_due_date), record_submission),
    Step("accept", (D.OPENED, D.EVIDENCE_DUE), D.ACCEPTED, (confirmed_by_a_person,),
         book_loss),
    Step("win", OPEN, D.WON, effect=note),
    Step("lose", OPEN, D.LOST, effect=book_loss),
    Step("close", OPEN, D.CLOSED, effect=note),
    Step("reopen", (D.CLOSED,), D.OPENED, (an_inquiry,), charged_back),
    Step("escalate", OPEN, D.OPENED, (an_inquiry,), charged_back,
         rearms=(DeadlineKind.DISPUTE_EVIDENCE,)),
    Step("correct_kind", (*OPEN, D.CLOSED, D.WON), None,
         (confirmed_by_a_person, another_kind, said_why), corrected_kind,
         event="kind_corrected"),
)

UNANSWERED = frozenset({D.OPENED, D.EVIDENCE_DUE})


def evidence_alert_due(dispute: Dispute, now: datetime, timeouts: Timeouts) -> datetime | None:
    """The SLA alert: some time before the provider's evidence due date (at once if closer)."""
    due = dispute.evidence_due_by
    return None if due is None else max(now, due - ALERT_BEFORE)


DISPUTE_LIFECYCLE = Lifecycle(
    "dispute", DisputeState, DisputeState.OPENED, DISPUTE_STEPS, triggers=DisputeTrigger,
    creation=Creation("open", "opened"),
    timers=(Timer(DeadlineKind.DISPUTE_EVIDENCE, UNANSWERED, evidence_alert_due),))
