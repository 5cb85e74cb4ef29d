"""The daily settlement flow: the differences as a table artifact, one event per provider and
day; the same report and event without a server (fast), then on a real Prefect server: from a
file, and from Alipay's bill downloaded (retried while Alipay has not written it yet)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.settlement_report import event, report
from integrations.payments.alipay_bill import BillUnavailable
from integrations.service import reconciliation
from tests.fakes.alipay_api import APP_ID, DOWNLOAD_PATH, SELLER_ID, FakeAlipay
from tests.fakes.alipay_bill import BillRow, bill_zip, trade_bill
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
    # and a named shop's settlement of the same day is its own event, not a repeat of another
    staging = event(runs[0], DAY, "staging")
    assert staging["id"] != first["id"]
    assert staging["resource"] == {
        "prefect.resource.id": "orderpilot.settlement.staging-alipay.2026-11-26",
        "orderpilot.clean": "false", "orderpilot.shop": "staging"}
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


@pytest.fixture
def alipay_env(monkeypatch) -> Iterator[FakeAlipay]:
    """The shop's Alipay account in the environment (as a worker would have it), pointed at
    the local stand-in."""
    with FakeAlipay() as fake:
        for name, value in {"PROVIDER": "alipay", "ALIPAY_APP_ID": APP_ID,
                            "ALIPAY_APP_PRIVATE_KEY": fake.app_private,
                            "ALIPAY_PUBLIC_KEY": fake.alipay_public,
                            "ALIPAY_SELLER_ID": SELLER_ID,
                            "ALIPAY_GATEWAY_URL": fake.gateway, "TIMEOUT_SECONDS": "2"}.items():
            monkeypatch.setenv(f"ORDERPILOT_PAYMENTS_{name}", value)
        yield fake


class _WrittenOnTheSecondAsk(dict):
    """Alipay's bills as they look at 08:50 and at 09:05 Beijing time: not there on the first
    ask, there on the next."""

    asks = 0

    def __contains__(self, day: object) -> bool:
        self.asks += 1
        return self.asks > 1 and super().__contains__(day)


@pytest.mark.prefect
def test_the_scheduled_flow_downloads_alipays_bill_when_given_no_file(
        tmp_path: Path, prefect_server: str, alipay_env: FakeAlipay):
    from flows.settlement_report import settlement_reconciliation

    # Given a shop on Alipay and the bill of the day at Alipay (a counter sale we never saw)
    pilot = open_shop(str(tmp_path / "shop.db"))
    alipay_env.bills["2026-11-26"] = bill_zip(trade_bill([COUNTER_SALE], DAY), DAY)
    # When the flow runs as scheduled: a provider and a day, no file
    summary = settlement_reconciliation(day=DAY, provider="alipay",
                                        database_url=str(pilot.context.engine.url))
    # Then it reconciled the downloaded bill
    assert (summary["clean"], summary["by_kind"]) == (False, {"missing_here": 1})
    assert len(alipay_env.calls("GET", DOWNLOAD_PATH)) == 1
    pilot.close()


@pytest.mark.prefect
def test_a_bill_not_written_yet_is_retried_and_a_refused_one_is_not(
        tmp_path: Path, prefect_server: str, alipay_env: FakeAlipay):
    from prefect import flow

    from flows.settlement_report import reconcile_day

    pilot = open_shop(str(tmp_path / "shop.db"))
    url = str(pilot.context.engine.url)
    quick = reconcile_day.with_options(retry_delay_seconds=0)  # the schedule's delays: 15+ min

    @flow
    def reconcile_now() -> Any:
        return quick(DAY, "alipay", None, url, return_state=True)

    # Given Alipay writes the bill only between the first ask and the second
    alipay_env.bills = _WrittenOnTheSecondAsk(
        {"2026-11-26": bill_zip(trade_bill([COUNTER_SALE], DAY), DAY)})
    # When the task runs, then it retries (not ready is transient) and succeeds
    state = reconcile_now()
    assert state.is_completed() and state.result().differences
    assert alipay_env.bills.asks == 2
    # Given a bill without its detail file, when the task runs, then it fails at once
    alipay_env.bills = {"2026-11-26": bill_zip(None, DAY)}
    with pytest.raises(BillUnavailable, match="no single 业务明细 file"):
        reconcile_now()
    assert len(alipay_env.calls("GET", DOWNLOAD_PATH)) == 2  # one for each run: no retry
    pilot.close()
