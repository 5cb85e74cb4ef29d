"""The lifecycle through the Python API on a real store (a SQLite file, and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from integrations.db.schema import Base
from orderpilot import (
    GuardRejected,
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OrderPilot,
)
from statemachine.risk_port import approve_everything
from tests.factories import delivered_order, order_request, paid_order, placed_order, stock


def row_counts(pilot: OrderPilot) -> dict[str, int]:
    with pilot.context.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def test_an_order_goes_from_placement_to_completion(any_pilot, clock):
    # Given stock in one warehouse
    stock(any_pilot, quantity=10)
    # When a buyer orders, pays, and the parcel is delivered
    order = delivered_order(any_pilot, quantity=2)
    clock.advance(days=8)
    any_pilot.sweep()
    # Then the order completed, the stock was deducted and every step is in the history
    final = any_pilot.orders.get(order.id)
    assert (final.state, final.paid, final.payment_status) == ("completed", 3998, "paid")
    level = any_pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    assert (level.on_hand, level.reserved) == (8, 0)
    order_steps = [(h.trigger, h.to_state) for h in any_pilot.orders.history(order.id)
                   if h.entity == "order"]
    assert order_steps == [
        ("place", "created"), ("approve", "awaiting_payment"), ("pay", "paid"),
        ("start_picking", "picking"), ("pack", "packed"), ("ship", "shipped"),
        ("deliver", "delivered"), ("close", "completed")]


def test_placing_holds_stock_for_twenty_minutes_by_default(pilot, clock):
    stock(pilot, quantity=5)
    order = placed_order(pilot, quantity=3)
    assert order.state == "awaiting_payment"
    assert order.hold_expires_at == clock.now() + timedelta(minutes=20)
    level = pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    assert (level.on_hand, level.reserved, level.available) == (5, 3, 2)


def test_an_unpaid_hold_expires_and_the_stock_returns(any_pilot, clock):
    stock(any_pilot, quantity=5)
    early = placed_order(any_pilot, quantity=2)
    clock.advance(minutes=10)
    late = placed_order(any_pilot, buyer="b-2", quantity=1)
    # When the sweep runs after the first hold lapsed but before the second
    clock.advance(minutes=11)
    counts = any_pilot.sweep()
    # Then exactly the due hold expired and its stock is available again
    assert counts.get("hold_expiry") == 1
    assert any_pilot.orders.get(early.id).state == "expired"
    assert any_pilot.orders.get(late.id).state == "awaiting_payment"
    assert any_pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 1
    assert any_pilot.sweep() == {}


def test_extending_a_hold_while_payment_is_in_flight_postpones_expiry(pilot, clock):
    stock(pilot)
    order = placed_order(pilot)
    clock.advance(minutes=15)
    extended = pilot.orders.fire(order.id, "extend_hold", minutes=10, actor="gateway")
    assert extended.hold_expires_at == order.hold_expires_at + timedelta(minutes=10)
    clock.advance(minutes=10)  # past the original 20 minutes
    assert pilot.sweep().get("hold_expiry") is None
    assert pilot.orders.get(order.id).state == "awaiting_payment"


def test_cancelling_a_paid_order_refunds_it_and_restocks(any_pilot):
    stock(any_pilot, quantity=4)
    order = paid_order(any_pilot, quantity=3)
    cancelled = any_pilot.orders.fire(order.id, "cancel", reason="buyer asked", actor="b-1")
    assert (cancelled.state, cancelled.refunded, cancelled.payment_status) == (
        "cancelled", cancelled.paid, "refunded")
    level = any_pilot.inventory.level(sku="SKU-1", warehouse="WH-1")
    assert (level.on_hand, level.reserved) == (4, 0)


def test_a_trigger_that_is_not_allowed_names_the_state_and_the_way_out(pilot):
    stock(pilot)
    order = placed_order(pilot)
    before = row_counts(pilot)
    with pytest.raises(InvalidTransition) as refused:
        pilot.orders.fire(order.id, "ship")
    assert str(refused.value) == (f"order {order.id} cannot ship from awaiting_payment; "
                                  "allowed: extend_hold, start_payment, pay, expire, cancel")
    assert row_counts(pilot) == before


def test_allowed_triggers_lists_what_fire_accepts_and_nothing_internal(pilot):
    """Before, a paid order listed `refund`, `capture` and `correct_address`: fire refuses the
    first and the last by name (their own calls: a case refund, `correct_address`) and
    `capture` on an order holding no authorisation. The list is what a refusal offers."""
    stock(pilot)
    paid = paid_order(pilot)
    authorised = placed_order(pilot, buyer="b-2")
    authorised = pilot.orders.fire(authorised.id, "pay", amount=authorised.total,
                                   payment_ref="stripe-pi-2", authorised_only=True)
    assert pilot.orders.allowed_triggers(paid.id) == ["start_picking", "cancel"]
    assert pilot.orders.allowed_triggers(authorised.id) == ["start_picking", "cancel",
                                                            "capture"]
    with pytest.raises(InvalidTransition) as refused:
        pilot.orders.fire(paid.id, "ship")
    assert refused.value.allowed == pilot.orders.allowed_triggers(paid.id)
    # and fire takes each trigger listed
    assert pilot.orders.fire(authorised.id, "capture", amount=authorised.total).paid == 3998
    assert pilot.orders.fire(paid.id, "start_picking").state == "picking"


def test_a_guard_refusal_writes_nothing(pilot):
    stock(pilot)
    order = placed_order(pilot)
    before = row_counts(pilot)
    with pytest.raises(GuardRejected, match="amount must equal the order total"):
        pilot.orders.fire(order.id, "pay", amount=1, payment_ref="p")
    assert row_counts(pilot) == before
    assert pilot.orders.get(order.id).version == order.version


@pytest.mark.parametrize(("change", "field"), [
    ({"lines": [{"sku": "SKU-1", "quantity": 0, "unit_price": 100}]}, "lines[0].quantity"),
    ({"lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": -5}]}, "lines[0].unit_price"),
    ({"lines": [{"sku": "NOPE", "quantity": 1, "unit_price": 5}]}, "lines[0].sku"),
    ({"lines": []}, "lines"),
    ({"buyer_id": "bad id with spaces"}, "buyer_id"),
    ({"ip": "999.1.1.1"}, "ip"),
    ({"shipping_address": {"city": "Hangzhou"}}, "shipping_address.street"),
    ({"coupon": "X"}, "coupon"),
])
def test_bad_input_names_the_field_and_writes_nothing(pilot, change, field):
    stock(pilot)
    before = row_counts(pilot)
    with pytest.raises(InvalidInput) as refused:
        pilot.orders.place(**{**order_request(), **change})
    assert field in refused.value.problems, refused.value.problems
    assert row_counts(pilot) == before


@pytest.mark.parametrize(("call", "field"), [
    (lambda p: p.orders.get("42"), "order_id"),
    (lambda p: p.orders.fire("o-x", "pay"), "order_id"),
    (lambda p: p.orders.fire("o-1", "teleport"), "trigger"),
    (lambda p: p.orders.fire("o-1", "pay", amount="lots", payment_ref="p"), "amount"),
    (lambda p: p.orders.fire("o-1", "pay", amount=3998, payment_ref="p", tip=5), "tip"),
    (lambda p: p.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=-1), "quantity"),
    (lambda p: p.sweep(now="tomorrow"), "now"),
    (lambda p: p.orders.fire("o-1", "pay", amount=3998, payment_ref="p",
                             idempotency_key="k" * 201), "idempotency_key"),
    (lambda p: p.shipments.fire("s-1", "scan", idempotency_key=""), "idempotency_key"),
    (lambda p: p.cases.open("o-1", kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="不想要了", idempotency_key=42), "idempotency_key"),
])
def test_malformed_ids_params_and_quantities_are_refused_by_name(pilot, call, field):
    stock(pilot)
    placed_order(pilot)
    before = row_counts(pilot)
    with pytest.raises(InvalidInput) as refused:
        call(pilot)
    assert field in refused.value.problems
    assert row_counts(pilot) == before


def test_an_unknown_order_is_not_found(pilot):
    with pytest.raises(NotFound, match="order o-999 does not exist"):
        pilot.orders.fire("o-999", "pay", amount=1, payment_ref="p")


def test_the_buyer_of_an_unknown_order_is_not_found_naming_the_order(any_pilot):
    # (case_event_data's look-up: a raw TypeError on the missing row before)
    stock(any_pilot)
    placed = placed_order(any_pilot, buyer="b-7")
    with any_pilot.context.tx(readonly=True) as tx:
        assert tx.store.buyer_of(int(placed.id[2:])) == "b-7"
        with pytest.raises(NotFound, match="order o-999 does not exist"):
            tx.store.buyer_of(999)


def test_an_order_larger_than_all_stock_is_refused_and_nothing_is_held(pilot):
    stock(pilot, quantity=3)
    before = row_counts(pilot)
    with pytest.raises(InsufficientStock, match="sku SKU-1: 4 requested, only 3 available"):
        placed_order(pilot, quantity=4)
    assert row_counts(pilot) == before


def test_an_order_split_across_two_warehouses_ships_two_parcels_and_delivers_with_the_last(pilot):
    stock(pilot, warehouse="WH-1", quantity=2)
    stock(pilot, warehouse="WH-2", quantity=2)
    order = paid_order(pilot, quantity=3)
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    parcels = pilot.shipments.of_order(order.id)
    assert sorted(p.warehouse for p in parcels) == ["WH-1", "WH-2"]
    pilot.shipments.fire(parcels[0].id, "pick_up")
    pilot.shipments.fire(parcels[0].id, "deliver")
    assert pilot.orders.get(order.id).state == "shipped"
    pilot.shipments.fire(parcels[1].id, "pick_up")
    pilot.shipments.fire(parcels[1].id, "deliver")
    assert pilot.orders.get(order.id).state == "delivered"


def test_the_same_idempotency_key_applies_once(any_pilot):
    stock(any_pilot)
    order = placed_order(any_pilot)
    for _ in range(3):
        any_pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="p-1",
                              idempotency_key="pay-p-1")
    pays = [h for h in any_pilot.orders.history(order.id) if h.trigger == "pay"]
    assert len(pays) == 1
    with pytest.raises(InvalidInput, match="idempotency_key"):
        any_pilot.orders.fire(order.id, "cancel", idempotency_key="pay-p-1")


def test_a_repeated_placement_key_returns_the_first_order(pilot):
    stock(pilot, quantity=10)
    first = pilot.orders.place(**order_request(idempotency_key="cart-77"))
    again = pilot.orders.place(**order_request(idempotency_key="cart-77"))
    assert first.id == again.id
    assert pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 2


def test_a_new_pilot_on_the_same_database_sees_the_same_states_and_history(any_url, clock):
    first = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(first)
    order = paid_order(first)
    seen, history = first.orders.get(order.id), first.orders.history(order.id)
    first.close()
    second = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    assert (second.orders.get(order.id), second.orders.history(order.id)) == (seen, history)
    assert second.orders.get(order.id).state == "paid" and len(history) == 3
    second.close()


def test_a_stale_write_raises_concurrent_update_and_writes_nothing(pilot):
    from integrations.service import orders
    from statemachine.errors import ConcurrentUpdate

    stock(pilot)
    view = placed_order(pilot)
    with pilot.context.tx() as tx:
        stale = tx.store.get_order(int(view.id[2:]))
    pilot.orders.fire(view.id, "pay", amount=view.total, payment_ref="p")  # someone else
    before = row_counts(pilot)
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"), pilot.context.tx() as tx:
        orders.fire(pilot.context, tx, stale, "cancel", "ops", {}, now=pilot.context.clock.now())
    assert row_counts(pilot) == before
    assert pilot.orders.get(view.id).state == "paid"


def test_partial_line_level_refunds_never_exceed_what_was_paid(pilot):
    stock(pilot)
    order = delivered_order(pilot, quantity=2)
    first = pilot.cases.open(order.id, kind="refund_only", reason="one broken",
                             lines=[{"line_no": 1, "quantity": 1}])
    pilot.cases.fire(first.id, "auto_approve")
    pilot.cases.fire(first.id, "refund")
    second = pilot.cases.open(order.id, kind="refund_only", reason="other broken",
                              lines=[{"line_no": 1, "quantity": 1}])
    pilot.cases.fire(second.id, "auto_approve")
    pilot.cases.fire(second.id, "refund")
    view = pilot.orders.get(order.id)
    assert (view.refunded, view.paid, view.payment_status) == (3998, 3998, "refunded")
    with pytest.raises(InvalidInput, match="at most 0"):
        pilot.cases.open(order.id, kind="refund_only", reason="again",
                         lines=[{"line_no": 1, "quantity": 1}])


def test_a_case_naming_one_line_twice_is_refused_and_nothing_is_written(pilot):
    # Given a delivered order of 2 × 19.99 on one line
    stock(pilot)
    order = delivered_order(pilot, quantity=2)
    before = row_counts(pilot)
    # When a case names line 1 twice (each within the line, together the whole order)
    with pytest.raises(InvalidInput) as refused:
        pilot.cases.open(order.id, kind="refund_only", reason="both broken",
                         lines=[{"line_no": 1, "quantity": 1}, {"line_no": 1, "quantity": 1}])
    # Then the second mention is refused by field, and no case, money or event is written
    assert refused.value.problems == {"lines[1].line_no": "line 1 is already named in "
                                      "lines[0]: name each line once with its whole quantity"}
    assert row_counts(pilot) == before


def test_a_return_is_refunded_after_the_goods_come_back_and_pass_inspection(pilot):
    stock(pilot)
    order = delivered_order(pilot, quantity=1)
    case = pilot.cases.open(order.id, kind="return_refund", reason="wrong size",
                            lines=[{"line_no": 1, "quantity": 1}])
    for trigger, params in [("review", {}), ("approve", {}), ("await_return", {}),
                            ("receive", {}), ("inspect", {"result": "ok"}), ("refund", {})]:
        case = pilot.cases.fire(case.id, trigger, actor="ops", **params)
    assert (case.state, case.inspection, case.refunded) == ("refunded", "ok", 1999)
    assert pilot.orders.get(order.id).refunded == 1999


def test_a_quiet_parcel_stalls_once_and_a_new_scan_moves_it_on(pilot, clock):
    stock(pilot)
    order = paid_order(pilot)
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(order.id, trigger)
    parcel = pilot.shipments.of_order(order.id)[0]
    pilot.shipments.fire(parcel.id, "pick_up")
    clock.advance(hours=25)
    assert pilot.sweep() == {"scan_silence": 1}
    assert pilot.shipments.get(parcel.id).state == "stalled"
    clock.advance(hours=25)
    assert pilot.sweep() == {}  # one alert per stall, not one per sweep
    pilot.shipments.fire(parcel.id, "scan", location="Wuhan hub")
    assert pilot.shipments.get(parcel.id).state == "in_transit"


def test_reconciliation_reports_and_repairs_drift(pilot):
    stock(pilot)
    placed_order(pilot, quantity=2)
    assert pilot.inventory.reconcile() == []
    with pilot.context.engine.begin() as conn:
        conn.execute(text("UPDATE inventory SET reserved = 5"))
    drift = pilot.inventory.reconcile(fix=True)
    assert [(d.sku, d.recorded, d.from_holds) for d in drift] == [("SKU-1", 5, 2)]
    assert pilot.inventory.reconcile() == []


def test_a_stalled_parcel_that_misses_its_promised_date_is_flagged_late_once(pilot, clock):
    # Given a parcel promised within two days that goes quiet after pickup
    stock(pilot)
    order = paid_order(pilot)
    pilot.orders.fire(order.id, "start_picking")
    pilot.orders.fire(order.id, "pack")
    pilot.orders.fire(order.id, "ship", promised_by=clock.now() + timedelta(days=2))
    parcel = pilot.shipments.of_order(order.id)[0]
    pilot.shipments.fire(parcel.id, "pick_up")
    clock.advance(hours=25)
    assert pilot.sweep() == {"scan_silence": 1}
    # When the promised date passes while it is still stalled
    clock.advance(days=1)
    assert pilot.sweep() == {"promised_delivery": 1}
    clock.advance(days=3)
    assert pilot.sweep() == {}
    # Then the history records it as late, once, and the parcel stays stalled
    late = [h for h in pilot.orders.history(order.id) if h.trigger == "mark_late"]
    assert [(h.to_state, h.payload["reason"]) for h in late] == [
        ("stalled", "past the promised delivery date")]
