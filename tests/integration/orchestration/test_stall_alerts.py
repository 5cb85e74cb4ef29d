"""Logistics watch: one alert per stalled parcel, however often sweeps and events repeat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from integrations.db.repository import OUTBOX
from integrations.events.relay import PrefectHttpSink, drain
from tests.integration.orchestration.shop import Recorder, open_shop, place

pytestmark = pytest.mark.prefect


def _shipped(pilot: Any) -> str:
    order_id = place(pilot, buyer="b-3")
    pilot.orders.fire(order_id, "pay", amount=2500, payment_ref="pay-3")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order_id, trigger)
    return order_id


def _relay_twice(pilot: Any, recorder: Recorder) -> None:
    """Publish, then publish everything again (a relay that crashed before marking)."""
    with PrefectHttpSink(recorder.api_url) as sink:
        drain(pilot.context, sink)
        with pilot.context.tx() as tx:
            tx.connection.execute(update(OUTBOX).values(published_at=None))
        drain(pilot.context, sink)


def _dispatch_stalls(recorder: Recorder, url: str) -> list[str]:
    """What the deployment trigger does: one stall-alert run per delivered stalled event."""
    from flows.logistics import stall_alert

    outcomes = [stall_alert(e["payload"]["order_id"], e["payload"]["shipment_id"],
                            database_url=url)
                for e in recorder.deliveries if e["event"] == "orderpilot.shipment.stalled"]
    recorder.deliveries.clear()
    return outcomes


def _chases(pilot: Any) -> list[Any]:
    with pilot.context.tx(readonly=True) as tx:
        return list(tx.connection.execute(select(OUTBOX.c.payload).where(
            OUTBOX.c.event == "orderpilot.shipment.chased")))


def test_a_stalled_parcel_is_alerted_once_and_a_new_scan_clears_it(
        tmp_path: Path, prefect_server: str, monkeypatch: pytest.MonkeyPatch):
    # Given a shipped order whose parcel the carrier never picks up, and a buyer channel
    events, buyer = Recorder(), Recorder()
    monkeypatch.setenv("ORDERPILOT_NOTIFY_BUYER_URLS",
                       json.dumps([f"json://127.0.0.1:{buyer.server.server_port}/buyer"]))
    pilot, url = open_shop(str(tmp_path / "shop.db")), f"sqlite:///{tmp_path / 'shop.db'}"
    order_id = _shipped(pilot)
    try:
        # When sweeps run at +73 h and +74 h and every event is delivered twice
        assert pilot.sweep(pilot.clock.advance(hours=73))["pickup_due"] == 1
        assert "pickup_due" not in pilot.sweep(pilot.clock.advance(hours=1))
        _relay_twice(pilot, events)
        first = _dispatch_stalls(events, url)
        # Then exactly one alert: one chase recorded, one apology to the buyer
        assert first == ["alerted", "already alerted"]
        assert len(_chases(pilot)) == 1 and len(buyer.bodies) == 1
        assert buyer.bodies[0]["title"] == f"Your parcel {order_id}-1 is delayed"
        # When the carrier scans the parcel, a late duplicate alert finds it cleared
        pilot.shipments.fire("s-1", "pick_up", location="SH hub")
        assert _dispatch_stalls(_redelivered(events, order_id), url) == ["cleared"]
        # When it goes silent for 25 h, it stalls again and that episode is alerted once
        assert pilot.sweep(pilot.clock.advance(hours=25))["scan_silence"] == 1
        _relay_twice(pilot, events)  # (re-sends the first episode's event as well)
        again = _dispatch_stalls(events, url)
        assert again.count("alerted") == 1 and set(again) == {"alerted", "already alerted"}
    finally:
        events.close()
        buyer.close()
    assert len(_chases(pilot)) == 2 and len(buyer.bodies) == 2


def _redelivered(recorder: Recorder, order_id: str) -> Recorder:
    recorder.deliveries.append({"event": "orderpilot.shipment.stalled",
                                "payload": {"order_id": order_id, "shipment_id": "s-1"}})
    return recorder
