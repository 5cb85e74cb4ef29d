"""Waybill numbers of the default (simulated) carrier adapter are unique across processes on
one store. Before, each process numbered from 1 (`SIM-EXPRESS-0000001` in every CLI command):
the second `orderpilot case new-label` got the number of the first one's parcel, still open,
and was refused ("one open parcel per waybill"); on a carrier that recycles numbers once a
parcel closes, a tracking lookup by that number found the wrong parcel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.ingest.events import CarrierEvent
from integrations.ingest.handlers import carrier_event
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # two CLI processes (a few seconds)


def bounced_returns(url: str, clock, count: int) -> list[tuple[str, str]]:
    """`count` delivered orders of 2 mugs to 杭州, each with a return the carrier sent back."""
    shop = make_pilot(url, clock)
    try:
        found = []
        for _ in range(count):
            order = delivered_order(shop)
            case_id, [back] = return_sent(shop, order.id)
            shop.shipments.fire(back.id, "return_to_sender", reason="收件地址有误，退回寄件人")
            found.append((order.id, case_id))
        return found
    finally:
        shop.close()


def new_label_in_a_process(url: str, case_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orderpilot.cli", "case", "new-label", case_id, "--by", "li",
         "--note", "地址已更正，重新发退货单", "--db", url],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_cli_processes_buying_labels_get_distinct_waybills_each_tracked_to_its_parcel(
        any_url, clock):
    # Given two bounced returns on one store
    cases = bounced_returns(any_url, clock, 2)
    # When two CLI processes buy their new return labels at the same time
    running = [new_label_in_a_process(any_url, case_id) for _, case_id in cases]
    results = [(p.communicate(timeout=120), p.returncode) for p in running]
    for (out, err), code in results:
        assert code == 0, err or out
    # Then each case's new parcel has its own waybill number
    shop = make_pilot(any_url, clock)
    try:
        new = {case_id: [s for s in shop.shipments.of_order(order_id)
                         if s.case_id == case_id and s.state == "label_created"]
               for order_id, case_id in cases}
        waybills = {case_id: parcel.tracking_no for case_id, [parcel] in new.items()}
        assert len(set(waybills.values())) == 2, waybills
        assert all(n.startswith("SIM-EXPRESS-") for n in waybills.values())
        # And a carrier scan of each number moves that case's parcel, not the other's
        (first, [one]), (second, [two]) = new.items()
        scan(shop, waybills[first])
        assert (state(shop, one), state(shop, two)) == ("picked_up", "label_created")
        scan(shop, waybills[second])
        assert (state(shop, one), state(shop, two)) == ("picked_up", "picked_up")
    finally:
        shop.close()


def scan(shop, tracking_no: str) -> None:
    carrier_event(shop.context, CarrierEvent(
        event_id=f"scan-{tracking_no}", carrier="sim-express", tracking_no=tracking_no,
        status="picked_up", location="杭州转运中心"))


def state(shop, parcel) -> str:
    return shop.shipments.get(parcel.id).state
