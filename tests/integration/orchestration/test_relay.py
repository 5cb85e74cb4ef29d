"""The outbox relay: at least once, in order per order, nothing marked before delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from integrations.events.envelope import event_id
from integrations.events.identity import store_id
from integrations.events.relay import PrefectHttpSink, PublishFailed, drain, unpublished
from tests.integration.orchestration.shop import Recorder, open_shop, place

ROOT = Path(__file__).resolve().parents[3]


def _busy_shop(path: Path, orders: int) -> Any:
    pilot = open_shop(str(path))
    for n in range(orders):
        order_id = place(pilot, buyer=f"b-{n % 7}")
        pilot.orders.fire(order_id, "pay", amount=2500, payment_ref=f"pay-{n}")
    return pilot


def _outbox_ids(pilot: Any) -> list[int]:
    from sqlalchemy import select

    from integrations.db.repository import OUTBOX
    with pilot.context.tx(readonly=True) as tx:
        return [r.id for r in tx.connection.execute(select(OUTBOX.c.id).order_by(OUTBOX.c.id))]


def test_a_failed_delivery_marks_nothing_and_the_next_run_sends_everything(tmp_path: Path):
    # Given a shop with 5 orders placed and paid (15 outbox rows) and a receiver that is down
    pilot = _busy_shop(tmp_path / "shop.db", 5)
    # When the relay runs
    with PrefectHttpSink("http://127.0.0.1:9/api", attempts=2, backoff=0.01,
                         timeout=0.5) as dead, pytest.raises(PublishFailed, match="not delivered"):
        drain(pilot.context, dead, batch=4)
    # Then nothing is marked published
    assert unpublished(pilot.context) == 15
    # When the receiver is up again, everything goes out once, in outbox order
    recorder = Recorder()
    try:
        with PrefectHttpSink(recorder.api_url) as sink:
            assert drain(pilot.context, sink, batch=4) == 15
        assert [e["payload"]["outbox_id"] for e in recorder.deliveries] == _outbox_ids(pilot)
        assert unpublished(pilot.context) == 0
    finally:
        recorder.close()


def test_events_carry_the_order_resource_labels_and_related_parcel(tmp_path: Path):
    # Given an order placed, paid, picked, packed and shipped
    pilot = open_shop(str(tmp_path / "shop.db"))
    order_id = place(pilot, buyer="b-9", quantity=3, price=40_000)
    pilot.orders.fire(order_id, "pay", amount=120_000, payment_ref="pay-1")
    pilot.orders.fire(order_id, "start_picking")
    pilot.orders.fire(order_id, "double_check", actor="checker-lin")  # high value: 2nd person
    for trigger in ("pack", "ship"):
        pilot.orders.fire(order_id, trigger, actor="packer-wu")
    recorder = Recorder()
    try:
        # When the relay publishes
        with PrefectHttpSink(recorder.api_url) as sink:
            drain(pilot.context, sink)
    finally:
        recorder.close()
    # Then every event is about the order, labelled, and the parcel is a related resource
    by_name = {e["event"]: e for e in recorder.deliveries}
    paid = by_name["orderpilot.order.paid"]
    assert paid["resource"]["prefect.resource.id"] == f"orderpilot.order.{order_id}"
    assert paid["resource"]["orderpilot.state"] == "paid"
    assert paid["resource"]["orderpilot.buyer"] == "b-9"
    assert paid["resource"]["orderpilot.amount-band"] == "1000-5000"
    parcel = by_name["orderpilot.shipment.label_created"]
    assert parcel["resource"]["prefect.resource.id"] == f"orderpilot.order.{order_id}"
    assert {"prefect.resource.id": "orderpilot.shipment.s-1", "prefect.resource.role":
            "shipment", "prefect.resource.name": "s-1"} in parcel["related"]
    # and each event names the one before it for the same order
    chain = recorder.deliveries
    assert all(later["follows"] == earlier["id"] for earlier, later in pairwise(chain))


def test_a_relay_killed_mid_run_and_restarted_publishes_every_row_exactly_once(tmp_path: Path):
    # Given 40 orders placed and paid (120 outbox rows) and a receiver that kills the relay
    # process right after it has accepted the third batch (before the relay can mark it)
    db = tmp_path / "shop.db"
    pilot = _busy_shop(db, 40)
    expected = _outbox_ids(pilot)
    process: dict[str, subprocess.Popen[bytes]] = {}
    recorder = Recorder(on_post=lambda n: n == 3 and os.kill(process["relay"].pid,
                                                              signal.SIGKILL))
    command = [sys.executable, "-m", "orderpilot.cli_prefect", "relay", "--once", "--batch", "10",
               "--db", f"sqlite:///{db}", "--api-url", recorder.api_url]
    try:
        # When the relay runs, is killed mid-run, and is started again
        process["relay"] = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
        assert process["relay"].wait(timeout=60) == -signal.SIGKILL
        killed_at = len(recorder.deliveries)
        restarted = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=60)
    finally:
        recorder.close()
    # Then the third batch was delivered twice (at least once), the rest once
    assert restarted.returncode == 0, restarted.stderr.decode()
    assert killed_at == 30 and len(recorder.deliveries) == 120 + 10
    # and the idempotent consumer applied every row exactly once, in outbox order
    applied = recorder.applied()
    assert [e["payload"]["outbox_id"] for e in applied] == expected
    source = f"orderpilot:{store_id(pilot.context)}"
    assert [e["id"] for e in applied] == [str(event_id(i, source)) for i in expected]
    assert unpublished(pilot.context) == 0
