"""The daily settlement flow: the differences as a table artifact, one event per provider and
day; the same report and event without a server (fast), then once on a real Prefect server."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flows.settlement_report import event, report
from integrations.service import reconciliation
from tests.fakes.alipay_bill import BillRow, trade_bill
from tests.integration.orchestration.shop import open_shop

DAY = date(2026, 11, 26)
COUNTER_SALE = BillRow("2026112622001999", "门店-17", "交易", 6800,
                       datetime(2026, 11, 26, 3, tzinfo=UTC), "线下扫码 龙井")


def test_the_report_names_each_difference_and_the_event_is_the_same_on_a_rerun(tmp_path):
    # Given a store with no Alipay sales and a bill showing a sale at the shop's counter
    pilot = open_shop(str(tmp_path / "shop.db"))
    bill = trade_bill([COUNTER_SALE], DAY)
    # When the day is reconciled (twice)
    runs = [reconciliation.reconcile_day(pilot.context, DAY, "alipay", bill) for _ in range(2)]
    table, description = report(runs[0], DAY)
    # Then the table has the sale missing here, the head the counts and totals
    assert [(r["difference"], r["payment"], r["theirs"]) for r in table] == [
        ("missing_here", "门店-17", 6800)]
    assert description.startswith("**alipay settlement of 2026-11-26**: 0 matched, "
                                  "1 differences")
    assert "CNY: gross 6800, fees 41, net 6759, ours 0" in description
    # And the event is one per provider and day, the same on a re-run
    first, again = (event(r, DAY) for r in runs)
    assert first == again
    assert first["event"] == "orderpilot.settlement.reconciled"
    assert first["resource"] == {"prefect.resource.id": "orderpilot.settlement.alipay."
                                                        "2026-11-26", "orderpilot.clean": "false"}
    assert first["payload"]["by_kind"] == {"missing_here": 1}
    pilot.close()


@pytest.mark.prefect
def test_the_flow_leaves_the_table_artifact_and_the_event_on_the_server(tmp_path: Path,
                                                                         prefect_server: str):
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter

    from flows.settlement_report import settlement_reconciliation

    pilot = open_shop(str(tmp_path / "shop.db"))
    bill = tmp_path / "20881234_20261126_业务明细.csv"
    bill.write_bytes(trade_bill([COUNTER_SALE], DAY))
    summary = settlement_reconciliation(day=DAY, provider="alipay", statement_path=str(bill),
                                        database_url=str(pilot.context.engine.url))
    assert (summary["clean"], summary["by_kind"]) == (False, {"missing_here": 1})
    with get_client(sync_client=True) as client:
        [artifact] = [a for a in client.read_latest_artifacts() if a.key == "settlement-alipay"]
        rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
        assert [r["payment"] for r in rows] == ["门店-17"]
        query = EventFilter(event=EventNameFilter(name=["orderpilot.settlement.reconciled"]))
        deadline = time.monotonic() + 30
        while not (events := client.read_events(filter=query, limit=5).events) \
                and time.monotonic() < deadline:
            time.sleep(0.5)  # the server persists events in the background
    assert events[0].resource.id == "orderpilot.settlement.alipay.2026-11-26"
    pilot.close()
