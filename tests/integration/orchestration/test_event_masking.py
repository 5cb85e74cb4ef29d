"""Free text leaves the store masked: a phone or the street that a buyer, an agent or a carrier
typed into a reason reaches the Prefect event feed masked, while the store keeps it as written
(issue 11: "free-text reasons reach Prefect events unmasked")."""

from __future__ import annotations

import json
import re

from integrations.events.relay import PrefectHttpSink, drain
from orderpilot import ManualClock, OrderPilot
from statemachine.risk_port import approve_everything
from tests.conftest import START
from tests.integration.orchestration.shop import Recorder

STREET = "18 Wensan Road, Building 3, Room 502"  # Latin script: no Chinese parser to load
ADDRESS = {"province": "Zhejiang", "city": "Hangzhou", "street": STREET, "recipient": "Li Lei",
           "phone": "+86 138 0013 8000"}
LINE = {"sku": "mug", "quantity": 1, "unit_price": 2500}


def readable(digits: str, text: str) -> bool:
    """Whether the number can be read in `text`, however its digits are spaced."""
    return re.search(r"[\s.\-()]*".join(digits), text) is not None


def test_reasons_typed_with_a_phone_or_the_street_reach_prefect_masked(any_url):
    # Given an order cancelled by an agent quoting the buyer's call and the street, and a
    # parcel the carrier stalled with its courier's mobile in the reason
    pilot = OrderPilot(any_url, clock=ManualClock(START), risk_check=approve_everything)
    pilot.inventory.receive(sku="mug", warehouse="sh", quantity=10)
    cancelled = pilot.orders.place(buyer_id="b-1", shipping_address=ADDRESS, lines=[LINE])
    pilot.orders.fire(cancelled.id, "cancel", actor="cs-mei",
                      reason=f"买家来电 139.8765.4321 说{STREET}没人收，要求取消")
    shipped = pilot.orders.place(buyer_id="b-2", shipping_address=ADDRESS, lines=[LINE])
    pilot.orders.fire(shipped.id, "pay", amount=2500, payment_ref="wx-2")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(shipped.id, trigger)
    (parcel,) = pilot.shipments.of_order(shipped.id)
    pilot.shipments.fire(parcel.id, "stall", reason="派送员 13712345678 联系不上收件人")
    # When the relay publishes the outbox to a Prefect events endpoint
    recorder = Recorder()
    try:
        with PrefectHttpSink(recorder.api_url) as sink:
            drain(pilot.context, sink)
        sent = json.dumps(recorder.deliveries, ensure_ascii=False)
    finally:
        recorder.close()
    # Then no event shows the phones or the street, and the reasons are still there to read
    for phone in ("13987654321", "13712345678", "13800138000"):
        assert not readable(phone, sent), phone
    for secret in (STREET, "Wensan", "Li Lei"):
        assert secret not in sent, secret
    assert "要求取消" in sent and "联系不上收件人" in sent
    # while the store's own history keeps what was written (evidence packs can reveal it)
    history = json.dumps([h.payload for h in pilot.orders.history(cancelled.id)],
                         ensure_ascii=False)
    assert "139.8765.4321" in history
    pilot.close()
