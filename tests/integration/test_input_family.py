"""The smaller input and error cases of issue 11, on both stores: a key reused for a different
request, a misleading out-of-stock message, driver errors that would carry personal data."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from integrations.db import records
from integrations.ingest.events import Inbound
from integrations.ingest.once import once
from integrations.notifications.masking import PiiFilter, pii_log_config
from orderpilot import Contention, InsufficientStock, InvalidInput
from tests.factories import order_request, paid_order, stock

PHONE = "13987654321"


def test_reusing_a_placement_key_for_a_different_order_is_refused(any_pilot):
    # Given an order placed with an idempotency key
    stock(any_pilot, quantity=10)
    first = any_pilot.orders.place(**order_request(quantity=1), idempotency_key="cart-42")
    # When the same key comes with another body, then it is refused naming the key
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.place(**order_request(quantity=3), idempotency_key="cart-42")
    assert "idempotency_key" in refused.value.problems
    # and the same body with the same key still returns the first order, placing nothing
    again = any_pilot.orders.place(**order_request(quantity=1), idempotency_key="cart-42")
    assert again.id == first.id
    assert any_pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 1


def test_reusing_a_case_key_for_a_different_request_is_refused(any_pilot):
    stock(any_pilot, quantity=10)
    order = paid_order(any_pilot, quantity=2)
    any_pilot.cases.open(order.id, kind="refund_only", reason="破损",
                         lines=[{"line_no": 1, "quantity": 1}], idempotency_key="as-1")
    with pytest.raises(InvalidInput, match="idempotency_key"):
        any_pilot.cases.open(order.id, kind="refund_only", reason="破损",
                             lines=[{"line_no": 1, "quantity": 2}], idempotency_key="as-1")


def test_reusing_a_step_key_with_other_parameters_is_refused(any_pilot):
    # Given an order paid under the gateway's key
    stock(any_pilot, quantity=10)
    order = any_pilot.orders.place(**order_request(quantity=2))
    any_pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="wx-1",
                          idempotency_key="wx-event-1")
    # When the key comes back with another amount, then it is refused naming the key, not
    # answered "paid" as if this amount had been applied
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.fire(order.id, "pay", amount=order.total - 1, payment_ref="wx-1",
                              idempotency_key="wx-event-1")
    assert "a different pay request" in refused.value.problems["idempotency_key"]
    # and the same parameters, in another order, are the same request: answered, applied once
    again = any_pilot.orders.fire(order.id, "pay", payment_ref="wx-1", amount=order.total,
                                  idempotency_key="wx-event-1")
    assert again.state == "paid"
    assert [h.trigger for h in any_pilot.orders.history(order.id)].count("pay") == 1
    # and a parcel scan's key is bound the same way
    for trigger in ("start_picking", "pack", "ship"):
        any_pilot.orders.fire(order.id, trigger)
    [parcel] = [p.id for p in any_pilot.shipments.of_order(order.id)]
    any_pilot.shipments.fire(parcel, "pick_up", location="杭州转运中心", idempotency_key="k-1")
    with pytest.raises(InvalidInput, match="idempotency_key"):
        any_pilot.shipments.fire(parcel, "pick_up", location="上海转运中心",
                                 idempotency_key="k-1")


def test_out_of_stock_names_the_whole_demand_of_a_sku_on_several_lines(any_pilot):
    # Given 4 units of one sku
    stock(any_pilot, quantity=4)
    # When an order asks for 3 + 3 of it on two lines
    lines = [{"sku": "SKU-1", "quantity": 3, "unit_price": 1999}] * 2
    with pytest.raises(InsufficientStock) as refused:
        any_pilot.orders.place(**{**order_request(), "lines": lines})
    # Then the message says 6 were asked over 2 lines and 4 are there (not "3 of 1")
    assert (refused.value.requested, refused.value.available) == (6, 4)
    assert "6 requested over 2 lines, only 4 available" in str(refused.value)


def test_a_logged_driver_error_shows_no_phone(any_pilot):
    # Given a statement whose values hold a phone number that the store refuses (PostgreSQL
    # quotes the failing row in its DETAIL; SQLAlchemy would quote the parameters)
    with pytest.raises(IntegrityError) as refused, any_pilot.context.engine.begin() as conn:
        conn.execute(text("INSERT INTO inventory (sku, warehouse, on_hand, reserved) "
                          "VALUES (:sku, :wh, 1, 5)"), {"sku": PHONE, "wh": f"tel {PHONE}"})
    assert "[SQL parameters hidden" in str(refused.value) or PHONE not in str(refused.value)
    # When it is logged the way the HTTP server logs a failure (its handlers carry PiiFilter)
    handler = logging.StreamHandler(io.StringIO())
    config = pii_log_config({"version": 1, "handlers": {"h": {"class": "logging.StreamHandler"}}})
    assert config["handlers"]["h"]["filters"] == ["pii"]
    handler.addFilter(PiiFilter())
    log = logging.getLogger("orderpilot.test.driver-error")
    log.addHandler(handler)
    try:
        log.error("Exception in ASGI application", exc_info=refused.value)
    finally:
        log.removeHandler(handler)
    # Then the phone is not in the log
    logged = handler.stream.getvalue()
    assert "IntegrityError" in logged and PHONE not in logged


def test_a_unique_conflict_that_never_clears_is_contention_not_a_raw_driver_error(any_pilot):
    # Given an event whose application meets the same unique key on every attempt
    def apply(tx, prepared, now):
        for _ in range(2):
            tx.connection.execute(text("INSERT INTO inventory (sku, warehouse, on_hand, reserved) "
                                       "VALUES ('SKU-U', 'WH-U', 1, 0)"))

    # When it is applied once, then the caller gets the documented error, and nothing is logged
    with pytest.raises(Contention, match=r"applying event shop:evt-u .* \(unique key conflict\)"):
        once(any_pilot.context, "shop", "test.unique", Inbound(event_id="evt-u"), apply)
    with any_pilot.context.engine.connect() as connection:
        assert records.event_get(connection, "shop:evt-u") is None


EDGE_TIMES = [datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
              datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12)))]


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_a_time_outside_the_range_utc_can_hold_is_invalid_input_not_an_overflow(any_pilot, when):
    # Given an order ready to ship
    stock(any_pilot, quantity=10)
    order = paid_order(any_pilot)
    for trigger in ("start_picking", "pack"):
        any_pilot.orders.fire(order.id, trigger)
    # When it ships promised by a time UTC cannot hold, then the field is named, nothing moved
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.fire(order.id, "ship", promised_by=when)
    assert "UTC" in refused.value.problems["promised_by"]
    assert any_pilot.orders.get(order.id).state == "packed"
    # and a sweep "as of" such a time is refused the same way
    with pytest.raises(InvalidInput, match="now"):
        any_pilot.sweep(when)


def test_two_parcels_under_one_waybill_are_refused_naming_parcels(any_pilot):
    # Given a packed order
    stock(any_pilot, quantity=10)
    order = paid_order(any_pilot)
    for trigger in ("start_picking", "pack"):
        any_pilot.orders.fire(order.id, trigger)
    # When it ships as two parcels under the same SF waybill (a copy-paste slip): scans find
    # a parcel by its waybill, so the second would never move and the order never deliver
    parcels = [{"carrier": "sf", "tracking_no": "SF1460981234567"},
               {"carrier": "sf", "tracking_no": " SF1460981234567 "}]
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.fire(order.id, "ship", parcels=parcels)
    # Then it is refused naming the parcels, and nothing shipped
    assert "parcels[1] repeats" in refused.value.problems["parcels"]
    assert any_pilot.orders.get(order.id).state == "packed"
    assert any_pilot.shipments.of_order(order.id) == []


def test_a_waybill_still_on_its_way_is_refused_for_another_parcel_until_it_closes(any_pilot):
    # Given o-1 shipped under SF1460981234567, its parcel picked up in 杭州
    stock(any_pilot, quantity=10)
    waybill = [{"carrier": "sf", "tracking_no": "SF1460981234567"}]
    first, second = paid_order(any_pilot), paid_order(any_pilot)
    for order in (first, second):
        for trigger in ("start_picking", "pack"):
            any_pilot.orders.fire(order.id, trigger)
    any_pilot.orders.fire(first.id, "ship", parcels=waybill)
    [parcel] = any_pilot.shipments.of_order(first.id)
    any_pilot.shipments.fire(parcel.id, "pick_up", location="杭州转运中心")
    # When another order ships under the same waybill (a label printed twice), then it is
    # refused naming parcels and the parcel holding it, and nothing shipped: every scan of the
    # number would go to the newer parcel and the first would never be delivered
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.fire(second.id, "ship", parcels=waybill)
    assert f"waybill of {parcel.id} ({first.id}), still picked_up" in \
        refused.value.problems["parcels"]
    assert any_pilot.orders.get(second.id).state == "packed"
    assert any_pilot.shipments.of_order(second.id) == []
    # and once the first parcel is delivered the carrier may recycle the number
    any_pilot.shipments.fire(parcel.id, "deliver")
    shipped = any_pilot.orders.fire(second.id, "ship", parcels=waybill)
    assert shipped.state == "shipped"
    assert [p.tracking_no for p in any_pilot.shipments.of_order(second.id)] == \
        ["SF1460981234567"]
