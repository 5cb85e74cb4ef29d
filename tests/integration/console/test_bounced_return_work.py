"""A return case whose parcel the carrier sent back to the buyer (`return_bounced`) is work for
a person: in the console's work list (`return-bounced`, its own form: a new label or close),
due 24 h after the bounce, and counted by shop health once that passes. Before, it was in no
one's list: casework listed `under_review` only, the console opened runs for `under_review`
only, and health counted `requested` / `under_review` only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from integrations.carriers.simulated import SimulatedCarrier
from integrations.console import decisions
from integrations.console.casefiles import bounced_return_description
from integrations.console.casework import open_case, open_cases
from integrations.console.health import shop_health
from integrations.console.jobs import Ports
from integrations.console.metrics import ConsoleMetrics
from orderpilot import ManualClock, OrderPilot
from statemachine.errors import OrderPilotError
from statemachine.ports import CarrierProfile, Waybill, WaybillRefused, WaybillRequest
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent

NO_PORTS = Ports(gateway=None, carrier=None, notify=None)  # closing needs none


@pytest.fixture
def shop(any_url: str, clock: ManualClock) -> Iterator[OrderPilot]:
    """A shop with warehouses at known distances, on a SQLite file and on PostgreSQL."""
    p = make_pilot(any_url, clock)
    yield p
    p.close()


def bounced(shop, clock):
    """2 mugs delivered, one sent back in a return parcel that a day later the carrier sent
    back to the buyer."""
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    clock.advance(hours=30)  # the request itself is older than the SLA: it was answered
    shop.shipments.fire(back.id, "return_to_sender", reason="仓库地址有误，退回寄件人")
    return order, case_id


def test_a_bounced_return_is_in_the_work_list_due_a_day_after_the_bounce(shop, clock):
    # Given a return case whose parcel bounced back to the buyer
    order, case_id = bounced(shop, clock)
    bounce = clock.now()
    # Then it waits for a person in the console's work list, due 24 h after the bounce
    [case] = [c for c in open_cases(shop.context) if c.entity == case_id]
    assert (case.kind, case.order_id, case.opened_at, case.due_at) == (
        "return-bounced", order.id, bounce, bounce + timedelta(hours=24))
    assert open_case(shop.context, "return-bounced", case_id) == case
    # And its form's description says what came back, why, and the two answers
    text = bounced_return_description(shop.context, case, clock.now())
    assert "Return bounced" in text and "仓库地址有误" in text
    assert "new_label" in text and "close" in text


def test_shop_health_counts_a_bounced_return_overdue_from_the_bounce(shop, clock):
    # Given a return case bounced back to the buyer (its request 30 h old)
    bounced(shop, clock)
    # Then it is not overdue a minute before 24 h after the bounce, and is after
    clock.advance(hours=23, minutes=59)
    assert shop_health(shop.context, clock.now()).aftersales_overdue == 0
    clock.advance(minutes=2)
    assert shop_health(shop.context, clock.now()).aftersales_overdue == 1
    # And the SLA-breach gauge shows it under its own kind, not as a refund review
    breaches = {s.labels["kind"]: s.value for family in text_string_to_metric_families(
        generate_latest(ConsoleMetrics(shop.context).registry).decode())
        for s in family.samples if s.name == "orderpilot_sla_breaches"}
    assert (breaches["return-bounced"], breaches["refund-review"]) == (1, 0)


@dataclass
class Carriers:
    """The ports' carrier adapters: the simulated carrier, keeping what was asked of whom;
    `failure`: what each waybill request raises instead (the carrier is down or refuses)."""

    clock: ManualClock
    failure: Exception | None = None
    asked: list[tuple[str, WaybillRequest]] = field(default_factory=list)

    def __call__(self, name: str, clock) -> SimulatedCarrier:
        carriers = self

        class Recording(SimulatedCarrier):
            def create_waybill(self, request: WaybillRequest) -> Waybill:
                carriers.asked.append((name, request))
                if carriers.failure is not None:
                    raise carriers.failure
                return super().create_waybill(request)

        return Recording(CarrierProfile(name), clock)


def ports_with(carriers: Carriers) -> Ports:
    return Ports(gateway=None, carrier=carriers, notify=None, retry_delays=(0.0,))


def test_answering_a_bounced_return_buys_a_new_label_and_leaves_the_work_list(shop, clock):
    # Given a return case bounced back to the buyer (its mug went with sim-express)
    order, case_id = bounced(shop, clock)
    carriers = Carriers(clock)
    # When a person answers: a new label
    outcome = decisions.answer_bounced_return(shop.context, ports_with(carriers), case_id, {
        "action": "new_label", "note": "地址已更正，重新发退货单", "operator": "li"})
    # Then the return waybill was bought from the order's carrier through the ports' adapter
    # (before: none was asked; the parcel carried our own number c-1-R1)
    [(name, request)] = carriers.asked
    assert (name, request.direction, request.order_id, request.warehouse,
            request.declared_value) == ("sim-express", "return", order.id, "WH-A", 12_900)
    assert request.address["city"] == "杭州市"
    [new] = [s for s in shop.shipments.of_order(order.id)
             if s.case_id == case_id and s.state == "label_created"]
    assert (new.carrier, new.tracking_no) == ("sim-express", "SIM-EXPRESS-0000001")
    assert outcome == ("a new return label sent by ops:li (waybill sim-express "
                       "SIM-EXPRESS-0000001): 地址已更正，重新发退货单")
    # And the case awaits the goods again and nobody's list has it
    assert shop.cases.get(case_id).state == "awaiting_return"
    assert open_case(shop.context, "return-bounced", case_id) is None


@pytest.mark.parametrize(("failure", "said"), [
    (TimeoutError("read timed out"), "did not answer"),
    (WaybillRefused("sim-express", "o-1", "收件地址不在服务范围"), "收件地址不在服务范围")])
def test_a_new_label_the_carrier_does_not_sell_is_a_clear_error_and_leaves_the_case(
        shop, clock, failure, said):
    # Given a return case bounced back to the buyer, and a carrier down or refusing
    order, case_id = bounced(shop, clock)
    parcels, history = shop.shipments.of_order(order.id), shop.orders.history(order.id)
    carriers = Carriers(clock, failure=failure)
    # When a person answers: a new label
    with pytest.raises(OrderPilotError) as error:
        decisions.answer_bounced_return(shop.context, ports_with(carriers), case_id, {
            "action": "new_label", "note": "地址已更正", "operator": "li"})
    # Then the error names the carrier and why (the console asks the person again with it)
    assert "sim-express" in str(error.value) and said in str(error.value)
    assert carriers.asked  # it was asked (again, for a timeout) and nothing came of it
    # And the case is as it was: still waiting for an answer, no parcel, no history
    assert shop.cases.get(case_id).state == "return_bounced"
    assert shop.shipments.of_order(order.id) == parcels
    assert shop.orders.history(order.id) == history
    assert open_case(shop.context, "return-bounced", case_id) is not None


def test_closing_a_bounced_return_ends_the_case(shop, clock):
    order, case_id = bounced(shop, clock)
    decisions.answer_bounced_return(shop.context, NO_PORTS, case_id, {
        "action": "close", "note": "买家决定保留商品", "operator": "li"})
    assert shop.cases.get(case_id).state == "closed"
    assert open_cases(shop.context) == []
