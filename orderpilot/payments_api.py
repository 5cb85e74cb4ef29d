"""`pilot.payments`: money with the providers — settlement reconciliation.

    report = pilot.payments.reconcile(date(2026, 11, 26), provider="alipay",
                                      statement=Path("trade_bill_20261126.csv").read_bytes())
    report["summary"]["clean"], report["differences"]

Without a statement the configured gateway's own API is asked: Stripe's balance
transactions, or Alipay's trade bill of the day, downloaded (`BillNotReady`, a
`TransientPaymentError`, until Alipay has written it: by about 09:00 Beijing time the next
day). Nothing is changed: finance reads the differences and acts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from integrations.service import reconciliation
from integrations.service.context import Context
from integrations.service.inputs import check_when
from integrations.service.money_sweep import sweep_money
from integrations.service.refunds_owed import refunds_owed


class Payments:
    def __init__(self, context: Context):
        self._ctx = context

    def reconcile(self, day: date, *, provider: str | None = None,
                  statement: bytes | None = None, zone: str | None = None,
                  name: str = "statement") -> dict[str, Any]:
        """Compare a provider's books for `day` with ours: {"summary", "differences"}.

        `statement`: the provider's settlement file (Alipay trade bill, Stripe itemized
        report or balance transactions JSON); without it the configured gateway is asked
        (Alipay: the day's trade bill is downloaded).
        The day runs in `zone` (default: Asia/Shanghai for Alipay, else UTC)."""
        result = reconciliation.reconcile_day(self._ctx, day, provider, statement, zone, name)
        return {"summary": reconciliation.summary(result),
                "differences": reconciliation.rows(result)}

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """Retry provider calls left pending (same keys), release payments opened for
        orders that can no longer be paid, and tell ops once of each refund left for later
        and overdue; counts of each (the console does this too)."""
        when = check_when("now", now) if now is not None else self._ctx.clock.now()
        return sweep_money(self._ctx, when)

    def refunds_owed(self, now: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Money owed back to buyers, oldest first: cancelled or rejected orders whose
        refund was left with Shopify (kind `refund_later`), late money to refund in Shopify's
        admin (`late_payment`), a Shopify refund that failed (`refund_failed`), a refund the
        provider refused for good (`refund_refused`, docs/lifecycle.md). Each:
        order, buyer, currency, owed (minor units: the goods, or the late money), held (what
        the ledger shows the provider kept, shipping included), payment_ref, since (when it
        was cancelled, or the late money came), overdue (past
        ORDERPILOT_SHOPIFY__REFUND_LATER_ALERT_HOURS since then), kind, reason."""
        when = check_when("now", now) if now is not None else self._ctx.clock.now()
        return [r.model_dump(mode="json") for r in refunds_owed(self._ctx, when, limit)]
