"""Daily settlement reconciliation: a table artifact of the differences and one
`orderpilot.settlement.reconciled` event. Nothing is changed; finance acts on what it shows.
Transient failures (Alipay's bill not written yet, timeouts) are retried after 15, 30 and 60
minutes; anything else fails the run at once."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.states import State

from flows.naming import named, shop_of
from flows.wiring import context, event_sink
from integrations.events.envelope import resource
from integrations.service import reconciliation
from statemachine.ports import TransientPaymentError
from statemachine.settlement import Reconciliation


@flow(name="settlement-reconciliation", flow_run_name="settlement-{provider}-{day}")
def settlement_reconciliation(day: date | None = None, provider: str = "stripe",
                              statement_path: str | None = None,
                              database_url: str | None = None) -> dict[str, Any]:
    """Reconcile `day` (default: yesterday in the provider's day zone) with the provider's API
    — for Alipay its trade bill of the day, downloaded — or with its settlement file at
    `statement_path`."""
    zone = ZoneInfo(reconciliation.DAY_ZONE.get(provider, "UTC"))
    day = day or (datetime.now(zone) - timedelta(days=1)).date()
    result = reconcile_day(day, provider, statement_path, database_url)
    table, description = report(result, day)
    shop = shop_of(context(database_url))
    create_table_artifact(key=named(shop, f"settlement-{result.provider}"), table=table,
                          description=description)
    with event_sink() as sink:
        sink.publish([event(result, day, shop)])
    return reconciliation.summary(result)


def transient(task: Any, task_run: Any, state: State) -> bool:
    """Retry only what may pass: Alipay's bill not written yet, a timeout, a 5xx."""
    return isinstance(state.data, TransientPaymentError)


@task(name="reconcile-day", retries=3, retry_delay_seconds=[900, 1800, 3600],
      retry_condition_fn=transient)
def reconcile_day(day: date, provider: str, statement_path: str | None,
                  database_url: str | None) -> Reconciliation:
    """The day's reconciliation (reads only, so a retry is harmless)."""
    statement = Path(statement_path).read_bytes() if statement_path else None
    return reconciliation.reconcile_day(context(database_url), day, provider, statement,
                                        name=Path(statement_path).name if statement_path
                                        else "statement")


def report(result: Reconciliation, day: date) -> tuple[list[dict[str, Any]], str]:
    """The artifact's rows (one per difference) and its markdown head."""
    s = reconciliation.summary(result)
    lines = [f"**{result.provider} settlement of {day}**: {s['matched']} matched, "
             f"{s['differences']} differences " + ("(clean)" if result.clean else
                                                   f"{s['by_kind']}")]
    lines += [f"- {t['currency']}: gross {t['gross']}, fees {t['fees']}, net {t['net']}, "
              f"ours {t['ours']} (minor units)" for t in s["totals"]]
    return reconciliation.rows(result), "\n".join(lines)


def event(result: Reconciliation, day: date, shop: str | None = None) -> dict[str, Any]:
    """One event per provider and day (the same id on a re-run: stored once); a named shop's
    is its own (another shop's settlement of the same day is another event)."""
    seed = named(shop, f"settlement:{result.provider}:{day}:{len(result.differences)}")
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, seed)),
            "occurred": result.end.isoformat(), "event": "orderpilot.settlement.reconciled",
            "resource": {"prefect.resource.id": resource("settlement", f"{result.provider}."
                                                                       f"{day}", shop),
                         "orderpilot.clean": str(result.clean).lower(),
                         **({"orderpilot.shop": shop} if shop else {})},
            "payload": reconciliation.summary(result)}
