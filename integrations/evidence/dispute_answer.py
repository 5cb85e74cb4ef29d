"""Answering a chargeback: the evidence pack mapped onto the provider's fields (prepare), then
submitted after a person confirms it, or the dispute conceded (accept).

The provider is called first, with a key derived from the dispute (`evidence:d-3`,
`accept:d-3`; an inquiry escalated or reopened into a chargeback is answered anew under
`evidence:d-3:escalated-1`: the provider refuses a key reused with other evidence, or replays
the inquiry's answer), after the same checks the transition makes (a person, before the due date);
then the transition records it. A repeat is answered by the provider with the first result.
"""

from __future__ import annotations

from typing import Any

from integrations.db.dispute_store import DisputeStore
from integrations.evidence.dispute_fields import stripe_evidence, with_extra_text
from integrations.evidence.pack import build_pack
from integrations.notifications.masking import known_pii, mask_address, mask_doc
from integrations.service.context import Context
from integrations.service.disputes import fire_dispute
from statemachine.dispute import (
    DISPUTE_LIFECYCLE,
    Dispute,
    before_the_due_date,
    confirmed_by_a_person,
)
from statemachine.errors import GuardRejected, InvalidInput


def prepare(ctx: Context, dispute_no: int, actor: str,
            overrides: dict[str, str] | None = None, refund_policy: str | None = None
            ) -> Dispute:
    """Fill the evidence from the order's pack (a person's `overrides` win; the refund policy
    given, else the shop's `ORDERPILOT_REFUND_POLICY_TEXT`); evidence_due."""
    dispute = get(ctx, dispute_no)
    policy = refund_policy or ctx.settings.refund_policy_text
    evidence = stripe_evidence(build_pack(ctx, dispute.order_id, reveal_pii=True),
                               policy) | {k: v for k, v in (overrides or {}).items() if v}
    return fire_dispute(ctx, dispute_no, "prepare", actor, {"evidence": evidence})


def submit(ctx: Context, dispute_no: int, actor: str, desk: Any = None,
           extra_text: str = "", note: str | None = None) -> Dispute:
    """Send the prepared evidence to the provider, confirmed by `actor` (a person);
    `extra_text` is added to the uncategorized text, `note` kept in the history."""
    dispute = get(ctx, dispute_no)
    _check(ctx, dispute, "submit", actor)
    evidence = with_extra_text(dispute.evidence or {}, extra_text)
    status = (desk or ctx.gateway).submit_evidence(
        dispute.provider_ref, evidence, idempotency_key=evidence_key(ctx, dispute))
    changed = {"evidence": evidence} if evidence != dispute.evidence else {}
    return fire_dispute(ctx, dispute_no, "submit", actor,
                        {"provider_status": status, "note": note, **changed})


def evidence_key(ctx: Context, dispute: Dispute) -> str:
    """The answer's key: one per time the dispute was unanswered (the first keeps the key it
    always had, so a submission retried across an upgrade is still the same one). A retry of
    the same submission reads the same history, so sends the same key."""
    with ctx.tx(readonly=True) as tx:
        times = DisputeStore(tx.store.sql).times_made_a_chargeback(dispute)
    return f"evidence:{dispute.public_id}" + (f":escalated-{times}" if times else "")


def accept(ctx: Context, dispute_no: int, actor: str, reason: str, desk: Any = None
           ) -> Dispute:
    """Concede: the money stays with the buyer; the order books the chargeback."""
    if not reason.strip():
        raise InvalidInput({"reason": "say why the dispute is conceded"})
    dispute = get(ctx, dispute_no)
    _check(ctx, dispute, "accept", actor)
    (desk or ctx.gateway).accept(dispute.provider_ref,
                                 idempotency_key=f"accept:{dispute.public_id}")
    return fire_dispute(ctx, dispute_no, "accept", actor, {"reason": reason})


def shown(ctx: Context, dispute: Dispute) -> dict[str, str]:
    """The evidence as staff may read it outside the store: PII fields and the order's own
    personal values masked (the provider gets them unmasked)."""
    with ctx.tx(readonly=True) as tx:
        attrs = tx.store.get_order(dispute.order_id).attrs
    masked: dict[str, str] = mask_doc(dict(dispute.evidence or {}), known_pii(attrs))
    if "shipping_address" in masked:  # the region stays readable, as everywhere else
        address = mask_address(attrs.get("shipping_address"))
        masked["shipping_address"] = ", ".join(str(v) for k, v in address.items()
                                               if v and k != "phone")
    return masked


def get(ctx: Context, dispute_no: int) -> Dispute:
    """The dispute as the store has it now."""
    with ctx.tx(readonly=True) as tx:
        return DisputeStore(tx.store.sql).get(dispute_no)


# disputes answered in the provider's own admin, never through our gateway (which knows
# nothing of them): the evidence may be prepared here and copied there; the outcome comes back
# with the provider's webhook (Shopify's disputes/update)
ANSWERED_IN_ADMIN = {"shopify": "a Shopify Payments dispute is answered in Shopify's admin "
                                "(the order's dispute page); its disputes/update brings the "
                                "outcome here"}


def _check(ctx: Context, dispute: Dispute, trigger: str, actor: str) -> None:
    """The transition's own guards, before anything is sent to the provider."""
    refusal = None if DISPUTE_LIFECYCLE.can(dispute.state, trigger) else \
        f"not from {dispute.state}"
    refusal = refusal or ANSWERED_IN_ADMIN.get(dispute.provider)
    refusal = refusal or confirmed_by_a_person(dispute, {"actor": actor})
    if trigger == "submit":
        refusal = refusal or before_the_due_date(dispute, {"at": ctx.clock.now()})
    if refusal is not None:
        raise GuardRejected("dispute", dispute.public_id, dispute.state.value, trigger, refusal)
