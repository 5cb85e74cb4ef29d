"""Region fields that contradict each other (广东省 / 杭州市 / 西湖区): the Python API refuses
them naming the field and writes nothing; an order that cannot be refused (an import; Shopify:
tests/integration/connect/test_shopify_contradictions.py) is held for review with the reason,
even for an allow-listed buyer; and a label for such an order, held or not, carries the
contradiction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from integrations.carriers.simulated import SimulatedCarrier
from integrations.ingest.imports import import_record
from integrations.ingest.order_files import OrderRecord
from integrations.service.checkout import capture_order
from orderpilot import InvalidInput, OrderPilot
from statemachine.ports import CarrierProfile, Waybill, WaybillRequest
from statemachine.risk_port import approve_everything
from tests.factories import order_request, stock
from tests.integration.test_order_lifecycle import row_counts

BUYER = {"recipient": "王芳", "phone": "+86 139 1234 5678"}
GUANGDONG_HANGZHOU = {
    **BUYER,
    "province": "广东省",
    "city": "杭州市",
    "district": "西湖区",
    "street": "文三路18号",
}
HOLD_REASON = (
    "shipping address contradicts itself: province contradicts city: 广东省 does "
    "not contain 杭州市 (浙江省)"
)


@pytest.mark.parametrize(
    ("region", "problems"),
    [
        (
            ("广东省", "杭州市", "西湖区"),
            {"shipping_address.province": "广东省 does not contain 杭州市 (浙江省)"},
        ),
        (
            ("浙江省", "杭州市", "南山区"),
            {
                "shipping_address.city": "杭州市 does not contain 南山区 "
                "(广东省深圳市, 黑龙江省鹤岗市)"
            },
        ),
        (
            ("上海市", "上海市", "朝阳区"),
            {"shipping_address.city": "上海市 does not contain 朝阳区 (北京市, 吉林省长春市)"},
        ),
    ],
)
def test_the_api_refuses_contradicting_region_fields_naming_the_field(any_pilot, region, problems):
    # Given a shop with stock
    stock(any_pilot)
    before = row_counts(any_pilot)
    province, city, district = region
    address = {
        **BUYER,
        "province": province,
        "city": city,
        "district": district,
        "street": "文三路18号",
    }
    # When an order is placed with region fields that contradict each other
    with pytest.raises(InvalidInput) as refused:
        any_pilot.orders.place(**order_request(shipping_address=address))
    # Then it is refused naming the field (before: placed, the order keeping 广东省 — and its
    # label printing it — while the key said 浙江 330106), and nothing is written
    assert refused.value.problems == problems
    assert row_counts(any_pilot) == before


def test_a_municipality_written_as_its_own_city_is_placed(any_pilot):
    stock(any_pilot)
    address = {
        **BUYER,
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
        "street": "建国路88号",
    }
    order = any_pilot.orders.place(**order_request(shipping_address=address))
    assert order.state == "awaiting_payment"
    assert order.shipping_address["province"] == "北京市"


def _record(ext: str, address: dict[str, str], buyer: str = "pdd-8812") -> OrderRecord:
    return OrderRecord(
        [1],
        {
            "external_id": ext,
            "buyer_id": buyer,
            "currency": "CNY",
            "shipping_address": address,
            "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "39.90"}],
        },
    )


def test_an_imported_order_with_contradicting_fields_is_held_for_review_with_the_reason(any_pilot):
    # Given a shop with stock
    stock(any_pilot)
    # When an export's order names 广东省 with 杭州市 西湖区 (sold on the platform already)
    done = import_record(
        any_pilot.context, _record("PDD-1", GUANGDONG_HANGZHOU), "pdd", "import:pdd"
    )
    # Then it is imported and held for review, saying why (before: placed as it was)
    assert done.status != "error", done.problems
    order = any_pilot.orders.get(done.order_id)
    assert order.state == "under_review"
    assert [(r["rule"], r["text"]) for r in order.risk["reasons"]] == [
        ("address_contradiction", HOLD_REASON)
    ]
    # and the order keeps the address as sent beside the parsed one, which says it too
    assert order.shipping_address["province"] == "广东省"
    with any_pilot.context.tx(readonly=True) as tx:
        parsed = tx.store.get_order(int(order.id[2:])).attrs["address"]
    assert parsed["conflicts"] == [
        "province contradicts city: 广东省 does not contain 杭州市 (浙江省)"
    ]
    # and the order as shown says so, for a shop printing its own labels (before: nothing)
    assert order.address_conflicts == parsed["conflicts"]
    agreeing = {**GUANGDONG_HANGZHOU, "province": "浙江省"}
    fine = import_record(any_pilot.context, _record("PDD-6", agreeing), "pdd", "import:pdd")
    assert any_pilot.orders.get(fine.order_id).address_conflicts == []


def test_an_allow_listed_buyer_is_held_all_the_same(any_pilot):
    # Given a buyer on the allow list (their orders are approved at once)
    stock(any_pilot)
    any_pilot.risk.allow_add("buyer", "pdd-8812", by="mei", reason="regular")
    # When their imported order's province contradicts its city
    done = import_record(
        any_pilot.context, _record("PDD-2", GUANGDONG_HANGZHOU), "pdd", "import:pdd"
    )
    # Then it is held: the list vouches for the buyer, not for where the parcel goes
    assert any_pilot.orders.get(done.order_id).state == "under_review"
    # (and the same buyer's order to an address that agrees with itself is approved at once)
    fine = import_record(
        any_pilot.context,
        _record("PDD-3", {**GUANGDONG_HANGZHOU, "province": "浙江省"}),
        "pdd",
        "import:pdd",
    )
    assert any_pilot.orders.get(fine.order_id).state == "awaiting_payment"


@dataclass
class RecordingCarrier:
    """The simulated carrier, keeping each label request it was asked to print."""

    carrier: SimulatedCarrier
    requests: list[WaybillRequest] = field(default_factory=list)

    def create_waybill(self, request: WaybillRequest) -> Waybill:
        self.requests.append(request)
        return self.carrier.create_waybill(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.carrier, name)


def _shipped_with_a_label(
    pilot: OrderPilot, carrier: RecordingCarrier, order_id: str
) -> WaybillRequest:
    capture_order(pilot.context, int(order_id[2:]))
    for trigger in ("start_picking", "pack"):
        pilot.orders.fire(order_id, trigger)
    pilot.orders.ship_with_labels(order_id, {"sim-express": carrier}, actor="warehouse")
    return carrier.requests[-1]


def test_the_label_of_an_order_with_contradicting_fields_carries_the_contradiction(any_url, clock):
    # Given an order to 广东省 杭州市 西湖区 that no review held: a risk check that approves
    # everything here, as any order placed before this check was
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    done = import_record(pilot.context, _record("PDD-4", GUANGDONG_HANGZHOU), "pdd", "import:pdd")
    # When it is paid, packed and shipped with a label bought from the carrier
    carrier = RecordingCarrier(SimulatedCarrier(CarrierProfile("sim-express"), clock))
    request = _shipped_with_a_label(pilot, carrier, done.order_id)
    # Then the label prints the contradiction in its remark (before: the address as sent,
    # with nothing to stop a sorter reading its province)
    assert request.address["province"] == "广东省"
    assert request.flag == (
        "地址省市区矛盾，请核对 / address contradicts itself, check it: "
        "province contradicts city: 广东省 does not contain 杭州市 (浙江省)"
    )
    # and an order whose address agrees with itself gets a label without one
    fine = pilot.orders.place(
        **order_request(buyer="b-2", shipping_address={**GUANGDONG_HANGZHOU, "province": "浙江省"})
    )
    assert _shipped_with_a_label(pilot, carrier, fine.id).flag is None
    pilot.close()


def test_a_return_label_from_a_contradicting_address_carries_the_contradiction(any_url, clock):
    # Given a delivered order to 广东省 杭州市 西湖区 that no review held, and a return of it
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    done = import_record(pilot.context, _record("PDD-5", GUANGDONG_HANGZHOU), "pdd", "import:pdd")
    capture_order(pilot.context, int(done.order_id[2:]))
    for trigger in ("start_picking", "pack", "ship"):
        pilot.orders.fire(done.order_id, trigger)
    [parcel] = pilot.shipments.of_order(done.order_id)
    for trigger in ("pick_up", "scan", "deliver"):
        pilot.shipments.fire(parcel.id, trigger)
    case = pilot.cases.open(
        done.order_id,
        kind="return_refund",
        reason="七天无理由退货",
        lines=[{"line_no": 1, "quantity": 1}],
    )
    pilot.cases.fire(case.id, "auto_approve")
    # When the return label is bought (the buyer's address is its sender)
    carrier = RecordingCarrier(SimulatedCarrier(CarrierProfile("sim-express"), clock))
    pilot.cases.fire_with_label(case.id, "await_return", carrier, actor="cs-wang")
    # Then it carries the contradiction too (before: the address as sent, unflagged)
    [request] = carrier.requests
    assert request.direction == "return"
    assert request.flag is not None and request.flag.endswith(
        "province contradicts city: 广东省 does not contain 杭州市 (浙江省)"
    )
    pilot.close()
