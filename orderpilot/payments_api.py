"""`pilot.payments`: money with the providers — settlement reconciliation.

    report = pilot.payments.reconcile(date(2026, 11, 26), provider="alipay",
                                      statement=Path("trade_bill_20261126.csv").read_bytes())
    report["summary"]["clean"], report["differences"]

Without a statement the configured gateway's own API is asked (Stripe's balance
transactions). Nothing is changed: finance reads the differences and acts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from integrations.service import reconciliation
from integrations.service.context import Context


class Payments:
    def __init__(self, context: Context):
        self._ctx = context

    def reconcile(self, day: date, *, provider: str | None = None,
                  statement: bytes | None = None, zone: str | None = None,
                  name: str = "statement") -> dict[str, Any]:
        """Compare a provider's books for `day` with ours: {"summary", "differences"}.

        `statement`: the provider's settlement file (Alipay trade bill, Stripe itemized
        report or balance transactions JSON); without it the configured gateway is asked.
        The day runs in `zone` (default: Asia/Shanghai for Alipay, else UTC)."""
        result = reconciliation.reconcile_day(self._ctx, day, provider, statement, zone, name)
        return {"summary": reconciliation.summary(result),
                "differences": reconciliation.rows(result)}
