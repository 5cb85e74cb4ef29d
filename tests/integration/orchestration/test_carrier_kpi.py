"""Carrier KPIs: on-time, loss, stall and complaint rates; the worst carrier flagged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from integrations.service.carrier_kpi import carrier_kpis
from tests.integration.orchestration.shop import START, open_shop, place


def _ship_with(pilot: Any, carrier: str, n: int) -> str:
    order_id = place(pilot, buyer=f"b-{carrier}-{n}")
    pilot.orders.fire(order_id, "pay", amount=2500, payment_ref=f"pay-{carrier}-{n}")
    pilot.orders.fire(order_id, "start_picking")
    pilot.orders.fire(order_id, "pack")
    pilot.orders.fire(order_id, "ship", parcels=[{"carrier": carrier,
                                                  "tracking_no": f"{carrier}-{n}"}])
    parcel = pilot.shipments.of_order(order_id)[-1].id
    pilot.shipments.fire(parcel, "pick_up")
    return parcel


def _month_of_parcels(tmp_path: Path) -> Any:
    """fast: 4 on time; slow: 2 on time, 2 late (one arrived damaged); lossy: 3 on time, 1
    lost."""
    pilot = open_shop(str(tmp_path / "shop.db"))
    plan = {"fast": ["deliver"] * 4, "slow": ["deliver", "deliver", "late", "late"],
            "lossy": ["deliver"] * 3 + ["lose"]}
    late, first_fast = [], None
    for carrier, fates in plan.items():
        for n, fate in enumerate(fates):
            parcel = _ship_with(pilot, carrier, n)
            first_fast = first_fast or (parcel if carrier == "fast" else None)
            if fate == "late":
                late.append(parcel)
            else:
                pilot.shipments.fire(parcel, fate, **({"reason": "gone"} if fate == "lose" else {}))
    pilot.clock.advance(days=6)  # past the 5-day promise
    for parcel in late:
        pilot.shipments.fire(parcel, "deliver")
    # a complaint is the carrier's: slow's late parcel arrived damaged; fast's buyer ordered
    # the wrong size, which is no complaint about fast (statemachine/carrier_kpi.py)
    pilot.claims.report_damaged(late[0], lines=[{"line_no": 1, "quantity": 1}],
                                photos=["https://img.example/破损.jpg"], reason="外箱压坏")
    wrong_size = pilot.shipments.get(first_fast).order_id
    pilot.cases.open(wrong_size, kind="refund_only", reason="尺码不合适", lines=[
        {"line_no": 1, "quantity": 1}])
    return pilot


def test_carrier_rates_over_a_month_and_the_bottom_ten_percent_flagged(tmp_path: Path):
    pilot = _month_of_parcels(tmp_path)
    kpis = carrier_kpis(pilot.context, START, START + timedelta(days=30))
    table = {k.carrier: (k.parcels, k.on_time_rate, k.loss_rate, k.complaint_rate, k.flagged)
             for k in kpis}
    assert table == {"slow": (4, 0.5, 0.0, 0.25, True), "lossy": (4, 0.75, 0.25, 0.0, False),
                     "fast": (4, 1.0, 0.0, 0.0, False)}
    assert carrier_kpis(pilot.context, START + timedelta(days=30), START + timedelta(days=60)) == []


def test_a_carrier_typed_in_another_case_is_one_row(tmp_path: Path):
    """A lead typed `FAST` from the box on one parcel: it is `fast`, one row of five parcels,
    named as most of them are."""
    pilot = _month_of_parcels(tmp_path)
    pilot.shipments.fire(_ship_with(pilot, "FAST", 9), "deliver")
    kpis = carrier_kpis(pilot.context, START, START + timedelta(days=30))
    assert {k.carrier: k.parcels for k in kpis} == {"slow": 4, "lossy": 4, "fast": 5}


@pytest.mark.prefect
def test_the_kpi_flow_publishes_one_event_per_carrier(tmp_path: Path, prefect_server: str):
    from flows.carrier_kpi import carrier_kpi

    pilot = _month_of_parcels(tmp_path)
    rows = carrier_kpi(period_end=START + timedelta(days=30),
                       database_url=str(pilot.context.engine.url))
    assert [(r["carrier"], r["flagged"]) for r in rows] == \
        [("slow", True), ("lossy", False), ("fast", False)]


def test_the_scorecard_and_the_kpi_job_selection_reads_give_the_same_rates(tmp_path: Path):
    """One definition (statemachine/carrier_kpi.py): the lead comparing the console's scorecard
    with why selection passed a carrier over sees one on-time rate. A lost parcel is late
    (lossy: 3 of 4); a parcel on its way is not judged before its promise, and late after it."""
    from integrations.service.carriers import refresh_kpis

    def both(pilot: Any) -> list[dict[str, tuple]]:
        job = refresh_kpis(pilot.context)
        card = carrier_kpis(pilot.context, START, pilot.clock.now() + timedelta(seconds=1))
        return [{k.carrier: (k.parcels, k.on_time_rate, k.loss_rate, k.complaint_rate)
                 for k in card},
                {c: (k.parcels, k.on_time, k.loss_rate, k.complaint_rate) for c, k in job.items()}]

    pilot = _month_of_parcels(tmp_path)
    _ship_with(pilot, "fast", 5)  # picked up today, promised in 5 days
    rates = {"slow": (4, 0.5, 0.0, 0.25), "lossy": (4, 0.75, 0.25, 0.0)}
    assert both(pilot) == [rates | {"fast": (5, 1.0, 0.0, 0.0)}] * 2
    pilot.clock.advance(days=6)  # fast's fifth is past its promise, still not delivered
    assert both(pilot) == [rates | {"fast": (5, 0.8, 0.0, 0.0)}] * 2
