"""Settlement reconciliation: a provider's books for a day against ours. Nothing is changed.

The provider's records come from its API (`SettlementSource`: Stripe's balance transactions,
the simulated gateway's books; Alipay's trade bill 业务明细 downloaded through
`bill.downloadurl.query`) or from a file finance downloaded (Alipay's trade bill, Stripe's
itemized balance report: integrations/payments/statements.py). Both sides are read
with a margin either side of the day, so a movement that one side booked just across midnight
still pairs up; only the differences inside the day are reported (statemachine/settlement.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.db.settlement_store import SettlementStore
from integrations.payments.statements import read_statement
from integrations.service.context import Context
from statemachine.errors import InvalidInput
from statemachine.ports import SettlementRecord
from statemachine.settlement import Reconciliation, reconcile

MARGIN = timedelta(hours=6)  # how far across midnight one side may book a movement
PROVIDERS = ("stripe", "alipay", "simulated")
DAY_ZONE = {"alipay": "Asia/Shanghai"}  # Alipay's bills run from Beijing midnight


def reconcile_day(ctx: Context, day: date, provider: str | None = None,
                  statement: bytes | None = None, zone: str | None = None,
                  name: str = "statement") -> Reconciliation:
    """A provider's books for a calendar day against ours: from its settlement file
    (`statement`), else from the configured gateway's API — for Alipay its trade bill of the
    day, downloaded. The day runs in `zone` (default: Beijing for Alipay, else UTC)."""
    provider = provider or str(getattr(ctx.gateway, "provider", ""))
    if not isinstance(day, date):
        raise InvalidInput({"day": f"expected a date (got {day!r})"})
    start, end = day_window(day, _zone(zone or DAY_ZONE.get(provider, "UTC")))
    if statement is None and provider == getattr(ctx.gateway, "provider", None) and callable(
            getattr(ctx.gateway, "trade_bill", None)):  # Alipay: the day's bill, downloaded
        statement, name = ctx.gateway.trade_bill(day)
    if statement is not None:
        records = read_statement(provider, statement, name)
        return against_records(ctx, provider, start, end, records)
    if provider != getattr(ctx.gateway, "provider", None):
        raise InvalidInput({"statement": f"the configured provider is not {provider}: give "
                                         "its settlement file"})
    return against_provider(ctx, start, end)


def day_window(day: date, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in `zone` (Alipay's bills are Beijing days), in UTC."""
    start = datetime.combine(day, time(), zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def against_records(ctx: Context, provider: str, start: datetime, end: datetime,
                    records: Sequence[SettlementRecord]) -> Reconciliation:
    """Compare the provider's `records` (a file, or its API) with what we booked."""
    _check(provider, start, end)
    with ctx.tx(readonly=True) as tx:
        ours = SettlementStore(tx.store.sql).entries(provider, start - MARGIN, end + MARGIN)
    return reconcile(provider, start, end, records, ours)


def against_provider(ctx: Context, start: datetime, end: datetime,
                     source: Any = None) -> Reconciliation:
    """Ask the provider (the configured gateway unless `source`) for its books and compare."""
    source = source or ctx.gateway
    provider = str(getattr(source, "provider", "unknown"))
    if not callable(getattr(source, "settlement", None)):
        raise InvalidInput({"provider": f"{provider} has no settlement API here: import its "
                                        "settlement file instead"})
    _check(provider, start, end)
    records = source.settlement(start - MARGIN, end + MARGIN)
    return against_records(ctx, provider, start, end, records)


def rows(result: Reconciliation) -> list[dict[str, Any]]:
    """The differences as table rows (artifact, CLI, CSV / JSON): minor units, UTC times."""
    return [{"difference": d.kind.value, "movement": d.movement,
             "at": d.at.isoformat(timespec="seconds"), "order": d.order_id or "",
             "ref": d.ref or "", "payment": d.payment_ref or "", "ours": d.ours,
             "theirs": d.theirs, "currency": d.currency, "note": d.note}
            for d in result.differences]


def summary(result: Reconciliation) -> dict[str, Any]:
    """Counts and totals for the event and the report's head."""
    counts: dict[str, int] = {}
    for d in result.differences:
        counts[d.kind.value] = counts.get(d.kind.value, 0) + 1
    return {"provider": result.provider, "start": result.start.isoformat(),
            "end": result.end.isoformat(), "matched": result.matched,
            "differences": len(result.differences), "by_kind": counts,
            "clean": result.clean,
            "totals": [{"currency": t.currency, "lines": t.lines, "gross": t.gross,
                        "fees": t.fees, "net": t.net, "ours": t.ours}
                       for t in result.totals]}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput({"zone": f"unknown time zone {name!r}"}) from None


def _check(provider: str, start: datetime, end: datetime) -> None:
    problems = {}
    if provider not in PROVIDERS:
        problems["provider"] = f"expected one of {', '.join(PROVIDERS)} (got {provider!r})"
    if start.tzinfo is None or end.tzinfo is None:
        problems["day"] = "start and end must carry a time zone"
    elif not start < end <= start + timedelta(days=31):
        problems["day"] = "the period must be a positive span of at most 31 days"
    if problems:
        raise InvalidInput(problems)
