"""`pilot.cases`: after-sales requests — open them, step them, refund them, decide them."""

from __future__ import annotations

from typing import Any

from integrations.console.casework import REFUND_REVIEW, open_cases
from integrations.service import aftersales, refunds
from integrations.service.context import Context
from integrations.service.idempotency import check_key
from integrations.service.inputs import Decided, OpenCase, check_actor, parse, parse_id
from integrations.service.money_refunds import try_refund_case
from integrations.service.views import ApprovedCase, CaseRefund, CaseView
from statemachine import ids
from statemachine.aftersales import CASE_LIFECYCLE
from statemachine.ports import Carrier


class Cases:
    def __init__(self, context: Context):
        self._ctx = context

    def open(self, order_id: str, *, kind: str, lines: list[dict[str, int]], reason: str,
             actor: str = "buyer", idempotency_key: str | None = None) -> CaseView:
        """Open an after-sales case (refund_only, return_refund, exchange, repair) on lines."""
        number = parse_id("order_id", order_id, "o")
        request = parse(OpenCase, {"kind": kind, "lines": lines, "reason": reason})
        case_id = aftersales.open_case(self._ctx, number, request, check_actor(actor),
                                       check_key(idempotency_key))
        return self.get(ids.CASE(case_id))

    def get(self, case_id: str) -> CaseView:
        with self._ctx.tx(readonly=True) as tx:
            return CaseView.of(tx.store.get_case(parse_id("case_id", case_id, "c")))

    def fire(self, case_id: str, trigger: str, *, actor: str = "api",
             idempotency_key: str | None = None, **params: Any) -> CaseView:
        number = parse_id("case_id", case_id, "c")
        return CaseView.of(aftersales.fire_case(self._ctx, number, trigger, check_actor(actor),
                                                params, check_key(idempotency_key)))

    def refund(self, case_id: str, *, by: str, amount: int | None = None) -> CaseRefund:
        """Pay the buyer back through the payment provider — by default what the case is owed
        (`amount`: minor units, at most that) — and count it on the case and its order once
        the provider has paid. Returns the payment operation's status with the case as it is
        now: `succeeded`, `pending` (counted when it settles) or `refused` (nothing counted;
        `error` says why: the provider's text, the buyer masked). An order paid through
        Shopify: `pending`, `in_admin_of` `shopify` and `note` saying the merchant makes the
        refund in Shopify's admin (orderpilot never sends Shopify's money back through its own
        gateway); Shopify's refunds/create settles it. (`fire(case_id, "refund")` only records
        a refund made elsewhere: no money moves.)"""
        number = parse_id("case_id", case_id, "c")
        done = try_refund_case(self._ctx, number, check_actor(by), amount)
        return refunds.answered(self._ctx, done, self.get(case_id))

    def fire_with_label(self, case_id: str, trigger: str, carrier: Carrier, *,
                        actor: str = "api", reason: str | None = None) -> CaseView:
        """`await_return`, `exchange` or `repair` with a label bought from `carrier` (a return
        label for await_return); the parcel is tracked like any other."""
        from integrations.service.case_labels import fire_with_label

        number = parse_id("case_id", case_id, "c")
        return CaseView.of(fire_with_label(self._ctx, number, trigger, carrier,
                                           check_actor(actor), reason))

    def new_label(self, case_id: str, *, actor: str = "api",
                  reason: str | None = None) -> CaseView:
        """`await_return` with a return waybill bought from the carrier the order's goods went
        with, through its configured adapter — what `orderpilot case new-label` and the
        console's bounced-return form do. CarrierUnavailable / WaybillRefused: nothing bought,
        the case unchanged."""
        from integrations.service.carrier_adapters import carrier_adapter
        from integrations.service.case_labels import new_return_label

        number = parse_id("case_id", case_id, "c")
        case, _ = new_return_label(self._ctx, number,
                                   lambda name: carrier_adapter(self._ctx, name),
                                   check_actor(actor), reason)
        return CaseView.of(case)

    def allowed_triggers(self, case_id: str) -> list[str]:
        return CASE_LIFECYCLE.allowed(self.get(case_id).state)

    def waiting(self) -> list[CaseView]:
        """Requests waiting for a person's decision, oldest first."""
        cases = open_cases(self._ctx, (REFUND_REVIEW,))
        return [self.get(case.entity) for case in cases]

    def approve(self, case_id: str, *, by: str, reason: str) -> ApprovedCase:
        """Grant a request held for a person; InvalidTransition if it was decided already.

        Returns the case as the approval left it (every `CaseView` field) with `refund`: what
        became of its money, a `CaseRefund` as `refund` answers — or None for a return, whose
        refund follows the inspection of its goods (`refund`). A refund-only request is paid
        back through the payment provider at once, as `refund` pays (the console's settle
        job, if one runs, finds it paid: the money moves once): `succeeded`, the case
        `refunded`. `pending` (a timeout): the case stays `approved`, and the money sweep
        (`pilot.payments.sweep`, or the console) makes the call again and counts it when paid.
        `refused`: by the provider (`error`: its answer, the buyer masked) or by the store
        (its order refunded in full already: `refund.refund` is None, nothing asked) —
        nothing counted; `refund` asks again, or close the case. The approval stands in every
        case: nothing is raised for the money (before, a refusal raised
        PermanentPaymentError). An order paid through Shopify: its money is given back in
        Shopify's admin, never through the shop's gateway — `pending`, `refund.in_admin_of`
        `shopify`, and `refund.note` (also `refund_note`) saying the refund is to be made
        there; Shopify's refunds/create settles it (docs/connect.md)."""
        granted = self._decide(case_id, True, by, reason)  # its refund recorded with it
        money = refunds.paid_back(self._ctx, granted) if granted else None
        return ApprovedCase.of_approval(money.case if money else self.get(case_id), money)

    def reject(self, case_id: str, *, by: str, reason: str) -> CaseView:
        """Refuse a request held for a person; InvalidTransition if it was decided already."""
        self._decide(case_id, False, by, reason)
        return self.get(case_id)

    def _decide(self, case_id: str, approve: bool, by: str, reason: str
                ) -> refunds.Granted | None:
        """Apply the decision; the refund it recorded (or the store refused), if any."""
        number = parse_id("case_id", case_id, "c")
        checked = parse(Decided, {"by": by, "reason": reason})
        return refunds.decide(self._ctx, number, approve, checked.reason, checked.by)

