"""Timing policies from the operating manuals, as plain values with their allowed ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class DeadlineKind(StrEnum):
    """Every timer orderpilot keeps. Each is a row in the deadlines table, not a sleep."""

    HOLD_EXPIRY = "hold_expiry"          # unpaid order: release the stock hold
    REVIEW_SLA = "review_sla"            # an order waiting for a human risk decision
    VERIFICATION_DUE = "verification_due"  # the buyer did not answer the challenge in time
    PICKUP_DUE = "pickup_due"            # label printed, carrier has not picked up
    SCAN_SILENCE = "scan_silence"        # parcel moving but no carrier scan for too long
    PROMISED_DELIVERY = "promised_delivery"
    AFTERSALES_SLA = "aftersales_sla"    # an after-sales request must be answered
    AUTO_COMPLETE = "auto_complete"      # delivered orders close themselves after a while
    DISPUTE_EVIDENCE = "dispute_evidence"  # a chargeback's evidence is due soon: alert
    PAYMENT_DUE = "payment_due"          # a started payment did not settle in time: expire
    AUTHORISATION_EXPIRY = "authorisation_expiry"  # capture an authorisation before it lapses


@dataclass(frozen=True, slots=True)
class Timeouts:
    hold: timedelta = timedelta(minutes=20)
    review_sla: timedelta = timedelta(hours=24)
    verification: timedelta = timedelta(minutes=10)
    pickup: timedelta = timedelta(hours=72)
    scan_silence: timedelta = timedelta(hours=24)
    aftersales_sla: timedelta = timedelta(hours=24)
    auto_complete: timedelta = timedelta(days=7)
    promised_delivery: timedelta = timedelta(days=5)
    # a payment that started but has not settled (a card authorised and not yet captured, a
    # bank transfer processing) keeps the stock this long before the order expires
    payment_pending: timedelta = timedelta(hours=72)
    # an authorisation kept for capture at shipping is captured this long after it was given,
    # if the order has not shipped by then: card authorisations lapse (Stripe: 7 days online)
    authorisation: timedelta = timedelta(days=6)

    def __post_init__(self) -> None:
        if not timedelta(minutes=15) <= self.hold <= timedelta(minutes=30):
            minutes = self.hold.total_seconds() / 60
            raise ValueError(f"hold must be 15–30 minutes (got {minutes:g})")
        for name in ("review_sla", "verification", "pickup", "scan_silence", "aftersales_sla",
                     "auto_complete", "promised_delivery", "payment_pending", "authorisation"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        if self.payment_pending > self.authorisation:
            raise ValueError("payment_pending must not outlast the authorisation "
                             f"({self.payment_pending} > {self.authorisation}): a card "
                             "authorisation would lapse while the order still waits for it")
