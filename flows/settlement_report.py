"""Daily settlement reconciliation: a table artifact of the differences and one
`orderpilot.settlement.reconciled` event. Nothing is changed; finance acts on what it shows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.wiring import context, event_sink
from integrations.service import reconciliation
from statemachine.settlement import Reconciliation


@flow(name="settlement-reconciliation", flow_run_name="settlement-{provider}-{day}")
def settlement_reconciliation(day: date | None = None, provider: str = "stripe",
                              statement_path: str | None = None,
                              database_url: str | None = None) -> dict[str, Any]:
    """Reconcile `day` (default: yesterday) with the provider's API, or with its settlement
    file at `statement_path` (Alipay's trade bill)."""
    day = day or (datetime.now(UTC) - timedelta(days=1)).date()
    statement = Path(statement_path).read_bytes() if statement_path else None
    result = reconciliation.reconcile_day(context(database_url), day, provider, statement,
                                          name=Path(statement_path).name if statement_path
                                          else "statement")
    table, description = report(result, day)
    create_table_artifact(key=f"settlement-{result.provider}", table=table,
                          description=description)
    with event_sink() as sink:
        sink.publish([event(result, day)])
    return reconciliation.summary(result)


def report(result: Reconciliation, day: date) -> tuple[list[dict[str, Any]], str]:
    """The artifact's rows (one per difference) and its markdown head."""
    s = reconciliation.summary(result)
    lines = [f"**{result.provider} settlement of {day}**: {s['matched']} matched, "
             f"{s['differences']} differences " + ("(clean)" if result.clean else
                                                   f"{s['by_kind']}")]
    lines += [f"- {t['currency']}: gross {t['gross']}, fees {t['fees']}, net {t['net']}, "
              f"ours {t['ours']} (minor units)" for t in s["totals"]]
    return reconciliation.rows(result), "\n".join(lines)


def event(result: Reconciliation, day: date) -> dict[str, Any]:
    """One event per provider and day (the same id on a re-run: stored once)."""
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"settlement:{result.provider}:{day}:"
                                                      f"{len(result.differences)}")),
            "occurred": result.end.isoformat(), "event": "orderpilot.settlement.reconciled",
            "resource": {"prefect.resource.id": f"orderpilot.settlement.{result.provider}."
                                                f"{day}",
                         "orderpilot.clean": str(result.clean).lower()},
            "payload": reconciliation.summary(result)}
