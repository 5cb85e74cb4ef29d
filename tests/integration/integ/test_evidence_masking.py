"""Reproduction 8: an evidence pack written without --reveal-pii shows no personal data — not in
the risk reasons' values, not in timeline payloads, not in notes however a phone is written."""

from __future__ import annotations

from typing import Any

import pytest

from orderpilot import ManualClock, OrderPilot
from orderpilot.api_integrations import add_note, evidence_pack
from statemachine.risk_port import Reason, RiskAction, RiskDecision
from tests.conftest import START

STREET = "文三路 18 号 3 幢 502 室"
ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "street": STREET,
           "recipient": "李雷", "phone": "+86 138 0013 8000"}
IP = "183.156.12.34"


def blacklisted_address(facts: Any, store: Any) -> RiskDecision:
    """A risk check whose reason quotes the address it matched (as blacklist rules do)."""
    return RiskDecision(RiskAction.APPROVE, 10.0, (Reason(
        "address_watch", "地址曾有拒收记录", {"address": facts.shipping_address["street"],
                                        "ip": facts.ip}),))


@pytest.fixture
def shop(any_url):
    pilot = OrderPilot(any_url, clock=ManualClock(START), risk_check=blacklisted_address)
    pilot.inventory.receive(sku="PHONE-X1", warehouse="WH-HZ", quantity=5)
    yield pilot
    pilot.close()


def test_a_masked_pack_shows_no_phone_street_recipient_or_ip(shop, tmp_path):
    # Given an order whose risk reason quotes the street and IP, cancelled with a phone typed
    # into the reason, with notes writing phones in odd ways
    order = shop.orders.place(buyer_id="b-1", lines=[{"sku": "PHONE-X1", "quantity": 1,
                                                      "unit_price": 699900}],
                              shipping_address=ADDRESS, device_id="d-1", ip=IP)
    shop.orders.fire(order.id, "cancel", reason="买家来电 13987654321 要求取消", actor="cs-mei")
    add_note(shop, order.id, "回拨 139.8765.4321 无人接听", by="mei")
    add_note(shop, order.id, "客户留言 phone13987654321 请改寄文三路 18 号 3 幢 502 室", by="mei")
    # When the pack is written without --reveal-pii
    files = evidence_pack(shop, order.id, tmp_path)
    # Then neither the JSON nor the Markdown shows them
    for text in (files.json_path.read_text(), files.markdown_path.read_text()):
        for secret in ("13987654321", "139.8765.4321", "8765", "0013", STREET, "文三路", "李雷",
                       IP, "12.34"):
            assert secret not in text, secret
        assert "杭州市" in text  # the region stays readable
    # and with --reveal-pii everything is there, as recorded
    revealed = evidence_pack(shop, order.id, tmp_path / "revealed", reveal_pii=True)
    text = revealed.json_path.read_text()
    assert "13987654321" in text and STREET in text and IP in text
