"""Exchanges of different orders in one bulk batch (a replay) that want the same free stock are
decided one after the other, as single calls would be: never more units held or taken than
are free, and a replacement the first one left no stock for is not held (at approval) or is
refused alone (when it ships), with the single call's reason, while the rest of the batch
applies."""

from __future__ import annotations

from integrations.replay import bulk
from tests.factories import order_request, stock

TEE = 12_900
HANGZHOU = {"recipient": "李雷", "phone": "13800138000", "province": "浙江省",
            "city": "杭州市", "district": "西湖区", "street": "文三路18号"}


def number(public_id: str) -> int:
    return int(public_id[2:])


def delivered_tee(pilot, buyer: str) -> str:
    order = pilot.orders.place(**order_request(buyer=buyer, sku="SKU-TEE", quantity=1,
                                               unit_price=TEE, shipping_address=dict(HANGZHOU)))
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"wxpay-{order.id}")
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    [parcel] = pilot.shipments.of_order(order.id)
    for trigger in ("pick_up", "deliver"):
        pilot.shipments.fire(parcel.id, trigger)
    return order.id


def exchange_requested(pilot, order_id: str) -> str:
    return pilot.cases.open(order_id, kind="exchange", reason="尺码偏小，换大一码",
                            lines=[{"line_no": 1, "quantity": 1}]).id


def in_one_batch(pilot, clock, trigger: str, *case_ids: str) -> list[bulk.Refused]:
    with pilot.context.tx() as tx:
        return bulk.fire_cases(pilot.context, tx, [
            bulk.Move(number(c), trigger, clock.now(), "replay") for c in case_ids])


def held(pilot) -> tuple[int, int]:
    [level] = [(s.on_hand, s.reserved) for s in pilot.inventory.levels() if s.sku == "SKU-TEE"]
    return level


def approval(pilot, case_id: str, order_id: str) -> dict:
    [step] = [h.payload for h in pilot.orders.history(order_id)
              if h.entity_id == case_id and h.trigger == "auto_approve"]
    return step


def test_two_exchange_approvals_in_one_batch_hold_no_more_than_the_one_free_tee(
        any_pilot, clock):
    # Given two orders of one tee each, delivered, and one tee left on the shelf
    stock(any_pilot, "SKU-TEE", "WH-1", 3)
    orders = [delivered_tee(any_pilot, buyer) for buyer in ("b-li", "b-wang")]
    assert held(any_pilot) == (1, 0)
    # And each buyer asks to exchange theirs
    cases = [exchange_requested(any_pilot, order_id) for order_id in orders]
    # When one replay batch approves both
    refused = in_one_batch(any_pilot, clock, "auto_approve", *cases)
    # Then both are approved, the first holding the free tee, the second holding none (as
    # the single call says it), and no more is reserved than is on hand
    assert refused == []
    assert [any_pilot.cases.get(c).state for c in cases] == ["auto_approved"] * 2
    assert approval(any_pilot, cases[0], orders[0])["replacement_held"] == [
        ["SKU-TEE", "WH-1", 1]]
    assert "replacement_not_held" in approval(any_pilot, cases[1], orders[1])
    assert held(any_pilot) == (1, 1)
    assert any_pilot.inventory.reconcile() == []


def test_two_replacements_shipped_in_one_batch_take_no_more_than_the_one_free_tee(
        any_pilot, clock):
    # Given two delivered tees whose exchanges were approved with nothing free to hold, and
    # came back damaged (written off)
    stock(any_pilot, "SKU-TEE", "WH-1", 2)
    orders = [delivered_tee(any_pilot, buyer) for buyer in ("b-li", "b-wang")]
    cases = [exchange_requested(any_pilot, order_id) for order_id in orders]
    for case_id in cases:
        for trigger in ("auto_approve", "await_return", "receive"):
            any_pilot.cases.fire(case_id, trigger)
        any_pilot.cases.fire(case_id, "inspect", result="damaged", notes="领口开线")
    # And one tee arrives on the shelf
    stock(any_pilot, "SKU-TEE", "WH-1", 1)
    assert held(any_pilot) == (1, 0)
    # When one replay batch ships both replacements
    refused = in_one_batch(any_pilot, clock, "exchange", *cases)
    # Then the first takes the tee and the second alone is refused, as the single call words
    # it; nothing is taken beyond what was on the shelf
    assert [(r.move.id, r.state) for r in refused] == [(number(cases[1]), "inspected")]
    assert "no stock for the replacement" in refused[0].error
    assert [any_pilot.cases.get(c).state for c in cases] == ["exchanged", "inspected"]
    assert held(any_pilot) == (0, 0)
    assert any_pilot.inventory.reconcile() == []


def test_a_return_restocked_earlier_in_the_batch_ships_the_next_exchange_as_single_calls_do(
        any_pilot, clock):
    # Given two delivered tees and none on the shelf: one buyer returns theirs (received),
    # the other's exchange came back damaged (written off) with no tee to send
    stock(any_pilot, "SKU-TEE", "WH-1", 2)
    orders = [delivered_tee(any_pilot, buyer) for buyer in ("b-li", "b-wang")]
    returned = any_pilot.cases.open(orders[0], kind="return_refund", reason="七天无理由退货",
                                    lines=[{"line_no": 1, "quantity": 1}]).id
    for trigger in ("auto_approve", "await_return", "receive"):
        any_pilot.cases.fire(returned, trigger)
    exchange = exchange_requested(any_pilot, orders[1])
    for trigger in ("auto_approve", "await_return", "receive"):
        any_pilot.cases.fire(exchange, trigger)
    any_pilot.cases.fire(exchange, "inspect", result="damaged", notes="领口开线")
    assert held(any_pilot) == (0, 0)
    # When one replay batch inspects the return as fine (back on the shelf), then ships the
    # exchange's replacement
    with any_pilot.context.tx() as tx:
        refused = bulk.fire_cases(any_pilot.context, tx, [
            bulk.Move(number(returned), "inspect", clock.now(), "replay",
                      {"result": "ok", "notes": "完好"}),
            bulk.Move(number(exchange), "exchange", clock.now(), "replay")])
    # Then, as two single calls would, the restocked tee goes out as the replacement
    assert refused == []
    assert [any_pilot.cases.get(c).state for c in (returned, exchange)] == [
        "inspected", "exchanged"]
    assert held(any_pilot) == (0, 0)
    assert any_pilot.inventory.reconcile() == []


def test_an_exchange_closed_earlier_in_the_batch_leaves_its_held_tee_to_the_next(
        any_pilot, clock):
    # Given two delivered tees and one on the shelf, held for the first buyer's exchange
    stock(any_pilot, "SKU-TEE", "WH-1", 3)
    orders = [delivered_tee(any_pilot, buyer) for buyer in ("b-li", "b-wang")]
    cases = [exchange_requested(any_pilot, order_id) for order_id in orders]
    any_pilot.cases.fire(cases[0], "auto_approve")
    assert held(any_pilot) == (1, 1)
    # When one replay batch closes the first exchange (the buyer kept the tee) and approves
    # the second
    with any_pilot.context.tx() as tx:
        refused = bulk.fire_cases(any_pilot.context, tx, [
            bulk.Move(number(cases[0]), "close", clock.now(), "replay", {"reason": "买家不换了"}),
            bulk.Move(number(cases[1]), "auto_approve", clock.now(), "replay")])
    # Then the released tee is held for the second, as the single calls would hold it
    assert refused == []
    assert approval(any_pilot, cases[1], orders[1])["replacement_held"] == [
        ["SKU-TEE", "WH-1", 1]]
    assert held(any_pilot) == (1, 1)
    assert any_pilot.inventory.reconcile() == []
