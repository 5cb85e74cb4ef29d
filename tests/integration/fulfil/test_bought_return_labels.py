"""`fire_with_label` buys one return label per warehouse the returned units came from, as the
step's own labels do: each parcel goes back to the warehouse its units left from, and a lost
one settles its own units. Before, it bought one label, from the first warehouse the order
sold from, for a return split across two: WH-C's unit travelled in WH-A's parcel, and that
parcel's loss refunded all three tees."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from integrations.carriers.simulated import SimulatedCarrier
from statemachine.errors import GuardRejected
from statemachine.ports import CarrierProfile, Waybill, WaybillRequest
from tests.integration.fulfil.test_case_replacement_goods import PRICE, shipped_split_order


@dataclass
class RecordingCarrier:
    """The simulated carrier, keeping what each label was bought for."""

    inner: SimulatedCarrier
    asked: list[WaybillRequest] = field(default_factory=list)

    def create_waybill(self, request: WaybillRequest) -> Waybill:
        self.asked.append(request)
        return self.inner.create_waybill(request)


def test_a_return_split_across_two_warehouses_gets_a_bought_label_per_warehouse(shop, clock):
    # Given 3 tees (¥129) delivered to Hangzhou from WH-A (2) and WH-C (1)
    order, parcels = shipped_split_order(shop)
    for parcel in parcels:
        for trigger in ("scan", "deliver"):
            shop.shipments.fire(parcel.id, trigger)
    # And a return of all 3, accepted
    case = shop.cases.open(order.id, kind="return_refund", reason="七天无理由退货",
                           lines=[{"line_no": 1, "quantity": 3}])
    shop.cases.fire(case.id, "auto_approve")
    # When the return labels are bought from 顺丰
    carrier = RecordingCarrier(SimulatedCarrier(CarrierProfile("sf", promised_days=2), clock))
    shop.cases.fire_with_label(case.id, "await_return", carrier, actor="cs-wang")
    # Then one label per warehouse, each declaring its own units' value
    assert [(r.warehouse, r.declared_value, r.direction) for r in carrier.asked] == [
        ("WH-A", 2 * PRICE, "return"), ("WH-C", PRICE, "return")]
    back = sorted((s for s in shop.shipments.of_order(order.id) if s.case_id == case.id),
                  key=lambda s: s.warehouse)
    assert [(s.warehouse, s.tracking_no) for s in back] == [("WH-A", "SF-0000001"),
                                                           ("WH-C", "SF-0000002")]
    # And when WH-C's parcel is lost, only its tee is refunded; the case waits for WH-A's
    shop.shipments.fire(back[1].id, "pick_up", location="杭州转运中心")
    claim = shop.claims.report_lost(back[1].id, reason="顺丰确认丢件")
    assert (claim["goods_value"], claim["compensated"]) == (PRICE, PRICE)
    assert shop.cases.get(case.id).state == "awaiting_return"
    assert shop.inventory.reconcile() == []


def test_no_return_label_is_bought_for_a_refund_only_case(shop, clock):
    # Given a refund-only request on a delivered tee, accepted (its refund not paid yet)
    order, parcels = shipped_split_order(shop)
    case = shop.cases.open(order.id, kind="refund_only", reason="少发一件",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    # When someone asks for a return label for it (the CLI's `case new-label` by mistake)
    carrier = RecordingCarrier(SimulatedCarrier(CarrierProfile("sf", promised_days=2), clock))
    with pytest.raises(GuardRejected, match="a refund-only case has nothing to send back"):
        shop.cases.fire_with_label(case.id, "await_return", carrier, actor="cs-wang")
    # Then it is refused before the carrier sold a label: nothing was bought, nothing changed
    assert carrier.asked == []
    assert shop.cases.get(case.id).state == "auto_approved"
    assert not [s for s in shop.shipments.of_order(order.id) if s.case_id == case.id]
