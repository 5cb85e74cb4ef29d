"""A whole address on one line (`广东省杭州市西湖区文三路18号`), or a street repeating a region
the fields contradict, is held to the rule the region fields are: the Python API refuses it
naming the field, an import holds it for review, its label is flagged, a correction is refused
— and addresses whose roads are named after places (北京路 in 广州, 南京东路 in 上海) go
through as before."""

from __future__ import annotations

import pytest

from integrations.carriers.simulated import SimulatedCarrier
from integrations.ingest.imports import import_record
from orderpilot import InvalidInput, OrderPilot
from statemachine.ports import CarrierProfile
from statemachine.risk_port import approve_everything
from tests.factories import order_request, stock
from tests.integration.risk.test_address_contradictions import (
    BUYER,
    RecordingCarrier,
    _record,
    _shipped_with_a_label,
)
from tests.integration.test_order_lifecycle import row_counts

LINE = "广东省杭州市西湖区文三路18号"
WHY = "广东省 does not contain 杭州市 (浙江省)"


@pytest.mark.parametrize(("address", "problems"), [
    ({**BUYER, "line": LINE}, {"shipping_address.line": WHY}),
    ({**BUYER, "street": LINE}, {"shipping_address.street": WHY}),
    ({**BUYER, "province": "浙江省", "city": "杭州市",
      "street": "广东省深圳市南山区科技南十二路2号"},
     {"shipping_address.street": "浙江省 does not contain 广东省深圳市南山区"}),
])
def test_the_api_refuses_a_line_or_street_that_contradicts_naming_the_field(any_pilot, address,
                                                                            problems):
    stock(any_pilot)
    before = row_counts(any_pilot)
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.place(**order_request(shipping_address=address))
    assert refused.value.problems == problems
    assert row_counts(any_pilot) == before


@pytest.mark.parametrize("address", [
    {**BUYER, "line": "广东省广州市越秀区北京路188号"},
    {**BUYER, "line": "上海市黄浦区南京东路100号"},
    {**BUYER, "line": "福建省厦门市思明区中山路8号"},
    {**BUYER, "province": "上海市", "city": "上海市", "district": "黄浦区",
     "street": "南京东路100号"},
    {**BUYER, "province": "广东省", "city": "广州市", "district": "越秀区",
     "street": "广州市越秀区北京路188号"},
])
def test_roads_named_after_places_are_placed(any_pilot, address):
    stock(any_pilot)
    order = any_pilot.orders.place(**order_request(shipping_address=address))
    assert (order.state, order.address_conflicts) == ("awaiting_payment", [])


def test_an_imported_one_line_address_that_contradicts_is_held_and_its_label_flagged(any_url,
                                                                                      clock):
    # Given a shop with the packaged risk rules
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    # When an export sends the whole address in one field
    done = import_record(pilot.context, _record("PDD-7", {**BUYER, "line": LINE}), "pdd",
                         "import:pdd")
    # Then the order is held for review, saying why (before: placed, nothing said)
    assert done.status != "error", done.problems
    order = pilot.orders.get(done.order_id)
    assert order.state == "under_review"
    assert [r["text"] for r in order.risk["reasons"]] == [
        f"shipping address contradicts itself: line contradicts itself: {WHY}"]
    assert order.address_conflicts == [f"line contradicts itself: {WHY}"]
    # and a correction that keeps the contradiction is refused naming the field
    with pytest.raises(InvalidInput) as refused:
        pilot.orders.correct_address(order.id, address={"line": LINE}, by="mei")
    assert refused.value.problems == {"address.line": WHY}
    pilot.close()


def test_the_label_of_a_one_line_address_that_contradicts_is_flagged(any_url, clock):
    # Given such an order that no review held (placed before this check: approve everything)
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    done = import_record(pilot.context, _record("PDD-8", {**BUYER, "line": LINE}), "pdd",
                         "import:pdd")
    # When it ships with a label bought from the carrier
    carrier = RecordingCarrier(SimulatedCarrier(CarrierProfile("sim-express"), clock))
    request = _shipped_with_a_label(pilot, carrier, done.order_id)
    pilot.close()
    # Then the label's remark carries the contradiction (before: no flag)
    assert request.flag == ("地址省市区矛盾，请核对 / address contradicts itself, check it: "
                            f"line contradicts itself: {WHY}")
