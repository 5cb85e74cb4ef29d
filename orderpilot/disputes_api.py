"""`pilot.disputes`: chargebacks the provider reported — look, prepare the evidence from the
order's pack, submit it once a person confirms, or concede.

    pilot.disputes.prepare("d-1", by="finance:li", refund_policy="7 天无理由退货")
    pilot.disputes.submit("d-1", by="finance:li")
    pilot.disputes.correct_kind("d-2", kind="inquiry", by="finance:li",
                                reason="Stripe 显示 warning_needs_response")
"""

from __future__ import annotations

from typing import Any

from integrations.db.dispute_store import DisputeStore
from integrations.evidence import dispute_answer
from integrations.service import disputes
from integrations.service.context import Context
from integrations.service.inputs import check_actor, parse_id
from statemachine import ids
from statemachine.dispute import Dispute


class Disputes:
    def __init__(self, context: Context):
        self._ctx = context

    def list(self, state: str | None = None) -> list[dict[str, Any]]:
        """Disputes, oldest first (of one state if given)."""
        with self._ctx.tx(readonly=True) as tx:
            return [_view(d) for d in DisputeStore(tx.store.sql).listed(state)]

    def get(self, dispute_id: str) -> dict[str, Any]:
        with self._ctx.tx(readonly=True) as tx:
            return _view(DisputeStore(tx.store.sql).get(parse_id("dispute_id", dispute_id, "d")))

    def prepare(self, dispute_id: str, *, by: str, evidence: dict[str, str] | None = None,
                refund_policy: str | None = None) -> dict[str, Any]:
        """Map the order's evidence pack onto the provider's fields (`evidence` overrides)."""
        number = parse_id("dispute_id", dispute_id, "d")
        return _view(dispute_answer.prepare(self._ctx, number, check_actor(by), evidence,
                                            refund_policy))

    def submit(self, dispute_id: str, *, by: str) -> dict[str, Any]:
        """Send the prepared evidence; `by` is the person who checked it."""
        number = parse_id("dispute_id", dispute_id, "d")
        return _view(dispute_answer.submit(self._ctx, number, check_actor(by)))

    def accept(self, dispute_id: str, *, by: str, reason: str) -> dict[str, Any]:
        """Concede the dispute: the order books the chargeback."""
        number = parse_id("dispute_id", dispute_id, "d")
        return _view(dispute_answer.accept(self._ctx, number, check_actor(by), reason))

    def correct_kind(self, dispute_id: str, *, kind: str, by: str,
                     reason: str) -> dict[str, Any]:
        """Correct the kind the store holds (inquiry | chargeback) — a Stripe inquiry recorded
        before the kind had a column was stored as a chargeback; `reason`: what the provider
        shows. The state stays; only a chargeback's money is held and reconciled."""
        number = parse_id("dispute_id", dispute_id, "d")
        return _view(disputes.correct_kind(self._ctx, number, kind, check_actor(by), reason))


def _view(d: Dispute) -> dict[str, Any]:
    return {"id": d.public_id, "order_id": ids.ORDER(d.order_id), "state": d.state.value,
            "provider": d.provider, "provider_ref": d.provider_ref, "amount": d.amount,
            "currency": d.currency, "kind": d.kind.value, "reason": d.reason,
            "due_by": d.evidence_due_by.isoformat() if d.evidence_due_by else None,
            "evidence": dict(d.evidence or {}), "booked": d.booked, "unbooked": d.unbooked}
