"""A correction that lands while `ship_with_labels` is buying the labels (another process: an
ops lead at the CLI while the warehouse ships) must not leave the order `shipped` with labels
printed for the address it no longer has: the ship is refused, nothing written, and shipping
again buys labels for the corrected address."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from integrations.carriers.simulated import SimulatedCarrier
from integrations.ingest.imports import import_record
from integrations.service.checkout import capture_order
from orderpilot import OrderPilot
from statemachine.errors import GuardRejected
from statemachine.ports import CarrierProfile, Waybill, WaybillRequest
from statemachine.risk_port import approve_everything
from tests.factories import stock
from tests.integration.risk.test_address_contradictions import GUANGDONG_HANGZHOU, _record
from tests.integration.risk.test_address_corrections import CORRECTED


@dataclass
class CorrectedMeanwhile:
    """The carrier; while it prints the first label, another process corrects the address."""

    carrier: SimulatedCarrier
    other: OrderPilot
    order_id: str
    asked: list[WaybillRequest]

    def create_waybill(self, request: WaybillRequest) -> Waybill:
        self.asked.append(request)
        if len(self.asked) == 1:
            self.other.orders.correct_address(self.order_id, address=CORRECTED, by="ops:mei",
                                              reason="买家来电确认")
        return self.carrier.create_waybill(request)


def test_a_correction_made_while_the_labels_are_bought_refuses_that_ship(any_url, clock):
    # Given an order to 广东省 杭州市 西湖区, paid and packed
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    other = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    try:
        stock(pilot)
        order_id = import_record(pilot.context, _record("PDD-7", GUANGDONG_HANGZHOU), "pdd",
                                 "import:pdd").order_id
        capture_order(pilot.context, int(order_id[2:]))
        for trigger in ("start_picking", "pack"):
            pilot.orders.fire(order_id, trigger)
        carrier = CorrectedMeanwhile(SimulatedCarrier(CarrierProfile("sim-express"), clock),
                                     other, order_id, [])
        # When the warehouse ships it and the address is corrected while its label is bought
        with pytest.raises(GuardRejected, match="address was corrected"):
            pilot.orders.ship_with_labels(order_id, {"sim-express": carrier}, actor="warehouse")
        # Then that ship is refused: the order is still packed, no parcel went with the label
        # printed for 广东省
        assert carrier.asked[0].address["province"] == "广东省"
        assert pilot.orders.get(order_id).state == "packed"
        assert pilot.shipments.of_order(order_id) == []
        # And shipping again buys the label for the corrected address
        pilot.orders.ship_with_labels(order_id, {"sim-express": carrier}, actor="warehouse")
        assert carrier.asked[-1].address["province"] == "浙江省"
        assert pilot.orders.get(order_id).state == "shipped"
    finally:
        other.close()
        pilot.close()
