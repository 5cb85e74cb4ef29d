"""`pilot.claims`: lost, damaged and returned parcels, and the claims against carriers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.service import claims, parcel_trouble
from integrations.service.context import Context
from integrations.service.inputs import check_actor, check_when, parse_id
from statemachine.claim import CLAIM_LIFECYCLE
from statemachine.errors import InvalidInput

SETTLE = (None, "refund", "reship")


class Claims:
    def __init__(self, context: Context):
        self._ctx = context

    def report_lost(self, shipment_id: str, *, reason: str, settle: str | None = None,
                    actor: str = "logistics") -> dict[str, Any]:
        """The parcel is lost: compensate the buyer first (refund or reship; default from
        policy) and file the claim against the carrier for the goods' value."""
        number = parse_id("shipment_id", shipment_id, "s")
        _check(reason=reason, settle=settle)
        claim = parcel_trouble.report_lost(self._ctx, number, reason, check_actor(actor),
                                           settle)
        return self.get(claim.public_id)

    def lose_silent_parcels(self, now: datetime | None = None) -> list[str]:
        """Declare lost the stalled parcels silent past the policy; returns the claims opened."""
        when = check_when("now", now) if now is not None else self._ctx.clock.now()
        return parcel_trouble.lose_silent_parcels(self._ctx, when)

    def report_damaged(self, shipment_id: str, *, lines: list[dict[str, int]],
                       photos: list[str], reason: str, wants: str = "refund",
                       actor: str = "buyer") -> dict[str, str]:
        """The buyer reports damage with photos: opens the after-sales case (refund-only for
        cheap goods, return-and-refund above the policy's limit, or exchange) and a claim."""
        number = parse_id("shipment_id", shipment_id, "s")
        if not isinstance(photos, list) or not all(isinstance(p, str) and 0 < len(p) <= 500
                                                   for p in photos):
            raise InvalidInput({"photos": "expected a list of photo urls (1–500 characters)"})
        return parcel_trouble.report_damaged(self._ctx, number, lines, photos, reason, wants,
                                             check_actor(actor))

    def receive_return(self, shipment_id: str, *, result: str, notes: str | None = None,
                       settle: str | None = None, actor: str = "warehouse") -> dict[str, Any]:
        """A returned parcel arrived: inspect (ok → restock, damaged → write off) and settle
        the buyer (refund or reship; default from policy)."""
        number = parse_id("shipment_id", shipment_id, "s")
        _check(settle=settle)
        claim = parcel_trouble.receive_return(self._ctx, number, result, notes,
                                              check_actor(actor), settle)
        return self.get(claim.public_id)

    def fire(self, claim_id: str, trigger: str, *, actor: str = "logistics",
             **params: Any) -> dict[str, Any]:
        """Carrier answers: carrier_pay (amount) or carrier_reject (reason); or close."""
        number = parse_id("claim_id", claim_id, "cl")
        claim = claims.fire_claim(self._ctx, number, trigger, check_actor(actor), params)
        return self.get(claim.public_id)

    def get(self, claim_id: str) -> dict[str, Any]:
        number = parse_id("claim_id", claim_id, "cl")
        with self._ctx.tx(readonly=True) as tx:
            claims.get_claim(tx, number)
            return claims.claims_view(tx, order_id=None, claim_id=number)[0]

    def list(self, *, state: str | None = None, order_id: str | None = None) -> list[dict]:
        number = parse_id("order_id", order_id, "o") if order_id is not None else None
        with self._ctx.tx(readonly=True) as tx:
            return claims.claims_view(tx, state=state, order_id=number)

    def allowed_triggers(self, claim_id: str) -> list[str]:
        return CLAIM_LIFECYCLE.allowed(self.get(claim_id)["state"])


def _check(reason: Any = "-", settle: Any = None) -> None:
    problems = {}
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 500:
        problems["reason"] = "say why (1–500 characters)"
    if settle not in SETTLE:
        problems["settle"] = f"expected refund or reship (got {settle!r})"
    if problems:
        raise InvalidInput(problems)
