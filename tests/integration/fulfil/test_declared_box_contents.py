"""`ship` labels may declare what their box holds (`lines: [{line_no, quantity}]`): the box's
goods are then exactly those units, so a lost box settles what was in it, not an even share of
its warehouse. Declared contents must hold every sold unit exactly once, or the ship is refused
naming the field, with nothing written."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orderpilot import GuardRejected, InvalidInput
from orderpilot.cli import app
from tests.factories import stock

HANGZHOU = {"street": "浙江省杭州市西湖区文三路18号", "city": "杭州市", "recipient": "陈静",
            "phone": "+86 135 8812 6677"}
MUG, TEA = 12_900, 8_800  # ¥129.00 a mug, ¥88.00 a tin of 龙井 (under the ¥500 double check)


def packed_mugs_and_tea(shop, mugs_from: dict[str, int]):
    """Line 1: mugs (from the warehouses given), line 2: one tin of tea from WH-A; paid, packed."""
    for warehouse, quantity in mugs_from.items():
        stock(shop, "SKU-MUG", warehouse, quantity)
    stock(shop, "SKU-TEA", "WH-A", 1)
    order = shop.orders.place(
        buyer_id="b-chen", device_id="d-chen", ip="198.51.100.77",
        shipping_address=dict(HANGZHOU), currency="CNY",
        lines=[{"sku": "SKU-MUG", "quantity": sum(mugs_from.values()), "unit_price": MUG},
               {"sku": "SKU-TEA", "quantity": 1, "unit_price": TEA}])
    shop.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"wxpay-{order.id}")
    for trigger in ("start_picking", "pack"):
        shop.orders.fire(order.id, trigger)
    return order


def ship(shop, order_id: str, boxes: list[dict]):
    shop.orders.fire(order_id, "ship", actor="packer-wang", parcels=[
        {"carrier": "SF", "tracking_no": f"SF15{n:08d}", **box}
        for n, box in enumerate(boxes, start=1)])
    return sorted(shop.shipments.of_order(order_id), key=lambda p: p.tracking_no)


def declared(shop, order_id: str, parcel_id: str) -> list[dict]:
    """The lines the parcel's label declared, as its `create` history row keeps them."""
    [created] = [h for h in shop.orders.history(order_id)
                 if h.entity_id == parcel_id and h.trigger == "create"]
    return created.payload["lines"]


def test_a_lost_box_settles_the_goods_its_label_declared(shop):
    # Given 2 mugs and a tin of tea from WH-A, packed as tea alone and the mugs together
    order = packed_mugs_and_tea(shop, {"WH-A": 2})
    tea_box, mug_box = ship(shop, order.id, [
        {"warehouse": "WH-A", "lines": [{"line_no": 2, "quantity": 1}]},
        {"warehouse": "WH-A", "lines": [{"line_no": 1, "quantity": 2}]}])
    assert declared(shop, order.id, tea_box.id) == [
        {"line_no": 2, "quantity": 1, "warehouse": "WH-A"}]
    for parcel in (tea_box, mug_box):
        shop.shipments.fire(parcel.id, "pick_up", location="杭州萧山集散中心")
    # When the tea box is lost, the tea is refunded (an even split would have said 2 mugs)
    claim = shop.claims.report_lost(tea_box.id, reason="顺丰确认丢件", settle="refund")
    assert (claim["goods_value"], claim["compensated"]) == (TEA, TEA)
    # And the mug box, lost too, settles both mugs: everything paid comes back once
    claim = shop.claims.report_lost(mug_box.id, reason="顺丰确认丢件", settle="refund")
    assert (claim["goods_value"], claim["compensated"]) == (2 * MUG, 2 * MUG)
    after = shop.orders.get(order.id)
    assert (after.state, after.refunded) == ("completed", 2 * MUG + TEA)
    assert shop.inventory.reconcile() == []


def test_a_consolidated_box_carries_the_units_of_the_warehouse_its_lines_name(shop):
    # Given mugs from WH-A (1) and WH-C (1) and the tea from WH-A, all in one SF box from
    # WH-A, a second (empty) ZTO box of gift wrap beside it
    order = packed_mugs_and_tea(shop, {"WH-A": 1, "WH-C": 1})
    wrap, box = ship(shop, order.id, [  # by waybill: ZTO's 7531… before SF's
        {"warehouse": "WH-A", "lines": [{"line_no": 1, "quantity": 1},
                                        {"line_no": 1, "quantity": 1, "warehouse": "WH-C"},
                                        {"line_no": 2, "quantity": 1}]},
        {"warehouse": "WH-A", "carrier": "ZTO", "tracking_no": "75312345678901", "lines": []}])
    for parcel in (box, wrap):
        shop.shipments.fire(parcel.id, "pick_up", location="杭州萧山集散中心")
    assert (box.carrier, wrap.carrier) == ("SF", "ZTO")
    # When the box is lost, everything sold is refunded; the wrap box has nothing to settle
    claim = shop.claims.report_lost(box.id, reason="顺丰确认丢件", settle="refund")
    assert claim["goods_value"] == 2 * MUG + TEA
    assert shop.orders.get(order.id).refunded == 2 * MUG + TEA
    with pytest.raises(GuardRejected, match="no sold goods left on this parcel"):
        shop.claims.report_lost(wrap.id, reason="中通确认丢件", settle="refund")


@pytest.mark.parametrize(("boxes", "field", "says"), [
    # 2 mugs sold from WH-A, the boxes declare 3
    ([{"lines": [{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1}]},
      {"lines": [{"line_no": 1, "quantity": 2}]}],
     "parcels[1].lines[0].quantity", "2 is more than the 1 of line 1's 2 unit(s) sold from WH-A"),
    # one mug in no box
    ([{"lines": [{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1}]}, {"lines": []}],
     "parcels[0].lines[0].quantity", "1 of line 1's 2 unit(s) sold from WH-A in no box"),
    # a line the order does not have, or not sold from that warehouse
    ([{"lines": [{"line_no": 1, "quantity": 2}, {"line_no": 2, "quantity": 1},
                 {"line_no": 3, "quantity": 1}]}],
     "parcels[0].lines[2].line_no", "no unit of line 3 was sold from WH-A"),
    ([{"lines": [{"line_no": 1, "quantity": 2}, {"line_no": 2, "quantity": 1,
                                                  "warehouse": "WH-C"}]}],
     "parcels[0].lines[1].line_no", "no unit of line 2 was sold from WH-C"),
    # one box declares, the other does not
    ([{"lines": [{"line_no": 1, "quantity": 2}, {"line_no": 2, "quantity": 1}]}, {}],
     "parcels[1].lines", "declare what every box holds or none does"),
    # the shape of a line
    ([{"lines": [{"line_no": 1, "quantity": 0}]}], "parcels[0].lines[0].quantity", "greater"),
])
def test_declared_contents_that_do_not_hold_every_sold_unit_once_are_refused(
        shop, boxes, field, says):
    # Given 2 mugs and a tin of tea sold from WH-A, packed
    order = packed_mugs_and_tea(shop, {"WH-A": 2})
    before = shop.orders.history(order.id)
    # When it ships with labels whose declared contents are wrong
    with pytest.raises(InvalidInput) as refused:
        ship(shop, order.id, [{"warehouse": "WH-A", **box} for box in boxes])
    # Then the field is named, and nothing is written
    assert says in refused.value.problems[field]
    assert shop.orders.get(order.id).state == "packed"
    assert shop.shipments.of_order(order.id) == []
    assert shop.orders.history(order.id) == before


def test_the_cli_passes_declared_contents_and_names_the_field_it_refuses(shop):
    # Given 2 mugs and a tin of tea sold from WH-A, packed
    order = packed_mugs_and_tea(shop, {"WH-A": 2})
    label = '{"carrier": "SF", "tracking_no": "SF1600000001", "warehouse": "WH-A", "lines": %s}'
    fire = ["order", "fire", order.id, "ship", "--db", shop.context.settings.database_url, "-p"]
    # When the labels leave a mug out, the command fails naming the field
    result = CliRunner().invoke(app, [*fire, "parcels=[%s]" % (
        label % '[{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 1}]')])
    assert result.exit_code == 2 and "parcels[0].lines[0].quantity" in result.output
    # And with every unit declared it ships, the box's lines recorded
    result = CliRunner().invoke(app, [*fire, "parcels=[%s]" % (
        label % '[{"line_no": 1, "quantity": 2}, {"line_no": 2, "quantity": 1}]')])
    assert result.exit_code == 0, result.output
    [parcel] = shop.shipments.of_order(order.id)
    assert [ln["quantity"] for ln in declared(shop, order.id, parcel.id)] == [2, 1]
