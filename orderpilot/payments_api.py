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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.payments.statements import read_statement
from integrations.service import reconciliation
from integrations.service.context import Context
from statemachine.errors import InvalidInput

DAY_ZONE = {"alipay": "Asia/Shanghai"}  # Alipay's bills run from Beijing midnight


class Payments:
    def __init__(self, context: Context):
        self._ctx = context

    def reconcile(self, day: date, *, provider: str | None = None,
                  statement: bytes | None = None, zone: str | None = None,
                  name: str = "statement") -> dict[str, Any]:
        """Compare a provider's books for `day` with ours: {"summary", "differences"}.

        `statement`: the provider's settlement file (Alipay trade bill, Stripe itemized
        report or balance transactions JSON); without it the configured gateway is asked."""
        provider = provider or str(getattr(self._ctx.gateway, "provider", ""))
        if not isinstance(day, date):
            raise InvalidInput({"day": f"expected a date (got {day!r})"})
        start, end = reconciliation.day_window(day, _zone(zone or DAY_ZONE.get(provider, "UTC")))
        if statement is not None:
            records = read_statement(provider, statement, name)
            result = reconciliation.against_records(self._ctx, provider, start, end, records)
        else:
            if provider != getattr(self._ctx.gateway, "provider", None):
                raise InvalidInput({"statement": f"the configured provider is not {provider}: "
                                                 "give its settlement file"})
            result = reconciliation.against_provider(self._ctx, start, end)
        return {"summary": reconciliation.summary(result),
                "differences": reconciliation.rows(result)}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput({"zone": f"unknown time zone {name!r}"}) from None
