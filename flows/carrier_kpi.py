"""Monthly carrier scorecard: a table artifact and one `orderpilot.carrier.kpi` event each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.naming import named, shop_of
from flows.wiring import context, event_sink
from integrations.events.envelope import resource
from integrations.service.carrier_kpi import CarrierKpi, carrier_kpis


@flow(name="carrier-kpi", flow_run_name="carrier-kpi-{period_end}")
def carrier_kpi(period_end: datetime | None = None, days: int = 30,
                database_url: str | None = None) -> list[dict[str, object]]:
    """Score every carrier over the `days` before `period_end` (default: now)."""
    end = period_end or datetime.now(UTC)
    ctx = context(database_url)
    kpis, shop = carrier_kpis(ctx, end - timedelta(days=days), end), shop_of(ctx)
    create_table_artifact(key=named(shop, "carrier-kpi"),
                          table=[k.model_dump() for k in kpis],
                          description=f"carriers over the {days} days to {end:%Y-%m-%d}; "
                                      f"flagged = bottom 10% by on-time rate")
    if kpis:
        with event_sink() as sink:
            sink.publish([_event(k, end, days, shop) for k in kpis])
    return [k.model_dump() for k in kpis]


def _event(kpi: CarrierKpi, end: datetime, days: int, shop: str | None) -> dict[str, object]:
    # a named shop's scorecard is its own event (same carrier and month in another shop:
    # another id, or Prefect would keep only the first of the two)
    seed = named(shop, f"kpi:{kpi.carrier}:{end}:{days}")
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, seed)),
            "occurred": end.isoformat(), "event": "orderpilot.carrier.kpi",
            "resource": {"prefect.resource.id": resource("carrier", kpi.carrier, shop),
                         "orderpilot.flagged": str(kpi.flagged).lower(),
                         **({"orderpilot.shop": shop} if shop else {})},
            "payload": {**kpi.model_dump(), "days": days}}
