"""Double check before packing: high-value orders and flagged skus need a second person."""

from __future__ import annotations

import pytest

from statemachine.errors import GuardRejected, InvalidInput
from tests.factories import paid_order, stock


def picking_order(shop, **kw):
    order = paid_order(shop, **kw)
    return shop.orders.fire(order.id, "start_picking", actor="lead")


def test_an_order_above_the_threshold_cannot_be_packed_without_a_second_person(shop):
    # Given a picking order worth 60,000 (threshold 50,000)
    stock(shop, "SKU-1", "WH-A", 5)
    order = picking_order(shop, quantity=2, unit_price=30_000)
    # When the packer packs it alone, the guard names what is missing; nothing changes
    with pytest.raises(GuardRejected,
                       match=r"second person.*order value ¥600.00 is above ¥500.00"):
        shop.orders.fire(order.id, "pack", actor="packer-1")
    assert shop.orders.get(order.id).state == "picking"
    # And the packer cannot be their own second person
    shop.orders.fire(order.id, "double_check", actor="packer-1")
    with pytest.raises(GuardRejected, match="done by packer-1, who is also packing"):
        shop.orders.fire(order.id, "pack", actor="packer-1")
    # When a second person confirms, packing goes through with its outbound evidence
    shop.orders.fire(order.id, "double_check", actor="checker-2", notes="serials match")
    packed = shop.orders.fire(order.id, "pack", actor="packer-1",
                              evidence=["https://img.example/o1-box.jpg", "scan:88121"])
    # Then both people are in the history and the evidence is kept with the order
    assert packed.state == "packed"
    pack = [h for h in shop.orders.history(order.id) if h.trigger == "pack"][0]
    assert pack.actor == "packer-1" and pack.payload["checked_by"] == "checker-2"
    assert pack.payload["evidence"] == ["https://img.example/o1-box.jpg", "scan:88121"]
    assert shop.fulfilment.evidence(order.id)["outbound_evidence"][1] == "scan:88121"
    assert shop.fulfilment.evidence(order.id)["double_check"]["notes"] == "serials match"


def test_a_flagged_sku_needs_a_double_check_even_for_a_cheap_order(shop):
    stock(shop, "SKU-LOOKALIKE", "WH-A", 5)
    shop.fulfilment.flag_sku("SKU-LOOKALIKE", "easily_confused", note="like SKU-LOOKALIKE2")
    shop.fulfilment.flag_sku("SKU-LOOKALIKE", "high_return")
    order = picking_order(shop, sku="SKU-LOOKALIKE", quantity=1, unit_price=500)
    assert shop.fulfilment.double_check_needed(order.id) == [
        "SKU-LOOKALIKE is flagged easily_confused, high_return"]
    with pytest.raises(GuardRejected, match="SKU-LOOKALIKE is flagged easily_confused"):
        shop.orders.fire(order.id, "pack", actor="packer-1")


def test_an_ordinary_order_packs_without_a_double_check(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order = picking_order(shop, quantity=1, unit_price=1999)
    assert shop.fulfilment.double_check_needed(order.id) == []
    assert shop.orders.fire(order.id, "pack", actor="packer-1").state == "packed"


def test_bad_evidence_and_bad_flags_are_refused_naming_the_field(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order = picking_order(shop, quantity=1)
    with pytest.raises(InvalidInput, match=r"evidence\[0\]"):
        shop.orders.fire(order.id, "pack", evidence=[""])
    with pytest.raises(InvalidInput, match="flag"):
        shop.fulfilment.flag_sku("SKU-1", "shiny")
    assert shop.orders.get(order.id).state == "picking"
