"""After-sales that ships: an exchange holds and ships its replacement in a parcel of its own,
a repair goes out and back, returned goods are restocked or written off with who and why,
return labels come from the carrier adapter; stock stays balanced on both stores."""

from __future__ import annotations

import pytest

from integrations.carriers.simulated import SimulatedCarrier
from integrations.db.fulfil_store import FulfilStore
from orderpilot import GuardRejected, OrderPilot
from statemachine.ports import CarrierProfile
from tests.factories import delivered_order, stock

RECEIVED = 10  # units of SKU-1 put in WH-1 by each test


def ledger(pilot: OrderPilot) -> dict[str, int]:
    with pilot.context.tx(readonly=True) as tx:
        return FulfilStore(tx.connection).totals()


def balanced(pilot: OrderPilot) -> bool:
    """received + Σ adjustments = on hand + in transit + shipped, and reserved = live holds."""
    t = ledger(pilot)
    return RECEIVED + t["adjusted"] == t["on_hand"] + t["in_transit"] + t["shipped"] and \
        pilot.inventory.reconcile() == []


def level(pilot: OrderPilot) -> tuple[int, int]:
    lv = pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    return lv.on_hand, lv.reserved


def return_parcel_arrives(pilot: OrderPilot, case_id: str) -> None:
    parcel = next(s for s in pilot.shipments.of_order(pilot.cases.get(case_id).order_id)
                  if s.tracking_no.startswith(f"{case_id}-R"))
    for trigger in ("pick_up", "deliver"):
        pilot.shipments.fire(parcel.id, trigger)


@pytest.fixture
def shop(any_pilot: OrderPilot) -> OrderPilot:
    stock(any_pilot, quantity=RECEIVED)
    return any_pilot


def test_an_exchange_holds_its_replacement_and_ships_it_in_a_parcel_of_its_own(shop):
    # Given a delivered order of 2 units (8 left on the shelf)
    order = delivered_order(shop, quantity=2)
    assert level(shop) == (8, 0)
    # When the buyer asks to exchange one unit and the case is accepted
    case = shop.cases.open(order.id, kind="exchange", reason="尺码不合适",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    # Then the replacement unit is held like an order's stock
    assert level(shop) == (8, 1)
    # When the return label is issued, the buyer's parcel arrives and is inspected ok
    shop.cases.fire(case.id, "await_return")
    return_parcel_arrives(shop, case.id)
    assert shop.cases.get(case.id).state == "received"  # the delivered return parcel says so
    shop.cases.fire(case.id, "inspect", result="ok", notes="吊牌完好", actor="wh-zhang")
    # Then the returned unit is back on the shelf
    assert level(shop) == (9, 1)
    # When the replacement is sent
    exchanged = shop.cases.fire(case.id, "exchange", actor="wh-zhang")
    # Then the held unit left stock and ships in a new parcel with its own tracking number
    assert exchanged.state == "exchanged" and level(shop) == (8, 0)
    parcels = {s.tracking_no: s for s in shop.shipments.of_order(order.id)}
    assert parcels[f"{case.id}-X1"].state == "label_created"
    assert parcels[f"{case.id}-R1"].state == "delivered"
    # and the replacement is tracked like any parcel, without touching the delivered order
    replacement = parcels[f"{case.id}-X1"]
    for trigger in ("pick_up", "scan", "deliver"):
        shop.shipments.fire(replacement.id, trigger)
    assert shop.orders.get(order.id).state == "delivered"
    assert balanced(shop)


def test_damaged_goods_are_written_off_naming_who_and_why(shop):
    order = delivered_order(shop, quantity=1)
    case = shop.cases.open(order.id, kind="return_refund", reason="屏幕碎了",
                           lines=[{"line_no": 1, "quantity": 1}])
    for trigger in ("auto_approve", "await_return", "receive"):
        shop.cases.fire(case.id, trigger)
    shop.cases.fire(case.id, "inspect", result="damaged", notes="屏幕裂, 无法二次销售",
                    actor="wh-li")
    with shop.context.tx(readonly=True) as tx:
        adjustments = FulfilStore(tx.connection).adjustments("SKU-1")
    assert [(a[3], a[4], a[6]) for a in adjustments] == [(-1, "return_write_off", "wh-li")]
    assert "屏幕裂" in adjustments[0][5] and case.id in adjustments[0][5]
    assert level(shop) == (9, 0)  # nothing came back on the shelf
    refunded = shop.cases.fire(case.id, "refund")
    assert refunded.state == "refunded" and balanced(shop)


def test_an_exchange_without_stock_waits_and_is_refused_until_stock_arrives(shop):
    # Given all the stock sold, and an exchange accepted with nothing to hold
    order = delivered_order(shop, quantity=RECEIVED)
    case = shop.cases.open(order.id, kind="exchange", reason="颜色发错",
                           lines=[{"line_no": 1, "quantity": 2}])
    shop.cases.fire(case.id, "auto_approve")
    accepted = [h for h in shop.orders.history(order.id) if h.trigger == "auto_approve"]
    assert "sku SKU-1: 2 requested" in accepted[0].payload["replacement_not_held"]
    for trigger in ("await_return", "receive"):
        shop.cases.fire(case.id, trigger)
    shop.cases.fire(case.id, "inspect", result="damaged")  # written off: still nothing
    # When the exchange is tried, it is refused and nothing is written
    before = ledger(shop)
    with pytest.raises(GuardRejected, match="no stock for the replacement"):
        shop.cases.fire(case.id, "exchange")
    assert ledger(shop) == before and shop.cases.get(case.id).state == "inspected"
    # When stock arrives, the replacement is taken from it at once
    shop.inventory.receive(sku="SKU-1", warehouse="WH-2", quantity=5)
    shop.cases.fire(case.id, "exchange")
    assert shop.inventory.level(sku="SKU-1", warehouse="WH-2").on_hand == 3
    assert [s.warehouse for s in shop.shipments.of_order(order.id)
            if s.tracking_no.endswith("-X1")] == ["WH-2"]


def test_a_repair_goes_out_and_back_with_labels_from_the_carrier_adapter(shop, clock):
    # Given a delivered order and a carrier adapter that sells labels
    carrier = SimulatedCarrier(CarrierProfile("sf", promised_days=2), clock)
    order = delivered_order(shop, quantity=1)
    case = shop.cases.open(order.id, kind="repair", reason="开机无反应",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    # When the return label is bought from the carrier and the parcel comes back
    shop.cases.fire_with_label(case.id, "await_return", carrier)
    back = [s for s in shop.shipments.of_order(order.id) if s.carrier == "sf"]
    assert [s.tracking_no for s in back] == ["SF-0000001"]
    for trigger in ("pick_up", "deliver"):
        shop.shipments.fire(back[0].id, trigger)
    # and it is inspected (repairable) and repaired
    shop.cases.fire(case.id, "inspect", result="ok")
    repaired = shop.cases.fire_with_label(case.id, "repair", carrier)
    # Then the item goes back out in a parcel of its own; stock never moved
    assert repaired.state == "repaired"
    out = [s for s in shop.shipments.of_order(order.id) if s.tracking_no == "SF-0000002"]
    assert len(out) == 1 and out[0].state == "label_created"
    assert level(shop) == (9, 0) and balanced(shop)


def test_closing_an_accepted_exchange_gives_its_held_units_back(shop, clock):
    order = delivered_order(shop, quantity=1)
    case = shop.cases.open(order.id, kind="exchange", reason="不想换了",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    assert level(shop) == (9, 1)
    shop.cases.fire(case.id, "close", reason="buyer withdrew")
    assert level(shop) == (9, 0) and balanced(shop)


def test_a_return_label_has_no_pickup_deadline_but_a_replacement_keeps_its_timers(shop, clock):
    order = delivered_order(shop, quantity=1)
    case = shop.cases.open(order.id, kind="exchange", reason="换色",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    shop.cases.fire(case.id, "await_return")
    clock.advance(days=5)
    shop.sweep()
    parcel = next(s for s in shop.shipments.of_order(order.id) if s.tracking_no.endswith("-R1"))
    assert parcel.state == "label_created"  # waiting for the buyer, not stalled
    shop.cases.fire(case.id, "receive")
    shop.cases.fire(case.id, "inspect", result="ok")
    shop.cases.fire(case.id, "exchange")
    clock.advance(hours=73)
    shop.sweep()
    replacement = next(s for s in shop.shipments.of_order(order.id)
                       if s.tracking_no.endswith("-X1"))
    assert replacement.state == "stalled"  # not picked up within 72 h: the usual alert
