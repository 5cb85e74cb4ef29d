"""Carrier adapters. `SimulatedCarrierDesk` answers chases like a carrier's API would."""

from __future__ import annotations

import hashlib
import uuid

from statemachine.flow_ports import ChaseTicket

ANSWERS = ("parcel located at the sorting hub; next scan within 24 h",
           "parcel on a delayed line haul; back on schedule tomorrow",
           "courier rescheduled the pickup for the next working day")


class SimulatedCarrierDesk:
    """A carrier desk for the demo and tests: a ticket per chase, a plausible answer."""

    def chase(self, carrier: str, tracking_no: str, reason: str) -> ChaseTicket:
        digest = hashlib.sha256(f"{carrier}:{tracking_no}:{reason}".encode()).digest()
        return ChaseTicket(carrier, tracking_no, reference=f"{carrier}-{uuid.uuid4().hex[:10]}",
                           answer=ANSWERS[digest[0] % len(ANSWERS)])
