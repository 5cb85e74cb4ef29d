"""Views built with `View.trusted` are the objects `model_construct` builds (and validation
would accept): same values, same field order, same fields set, no extra or private state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.service.views import CaseView, LineView, OrderView, ShipmentView, View
from statemachine.aftersales import AfterSalesCase, CaseKind, CaseLine, CaseState
from statemachine.order_aggregate import Order, OrderLine, OrderState
from statemachine.shipment import Shipment, ShipmentState

T0 = datetime(2026, 11, 11, 9, 30, tzinfo=UTC)


def _order() -> Order:
    return Order(id=42, buyer_id="b-1", state=OrderState.PAID, version=3, currency="CNY",
                 total=3998, paid=3998, payment_ref="p-1", created_at=T0,
                 lines=[OrderLine(1, "SKU-1", 2, 1999)],
                 attrs={"risk": {"action": "approve", "score": 0.0, "reasons": []},
                        "shipping_address": {"city": "杭州市"}})


def _shipment() -> Shipment:
    return Shipment(id=7, order_id=42, state=ShipmentState.IN_TRANSIT, version=2,
                    warehouse="WH-1", carrier="sf", tracking_no="o-42-1", created_at=T0,
                    last_scan_at=T0, promised_by=T0, stall_reason=None)


def _case() -> AfterSalesCase:
    return AfterSalesCase(id=3, order_id=42, kind=CaseKind.REFUND_ONLY,
                          state=CaseState.REQUESTED, version=1, reason="broken",
                          lines=(CaseLine(1, 1, 1999),), created_at=T0)


@pytest.mark.parametrize(("view", "aggregate"), [
    (OrderView, _order), (ShipmentView, _shipment), (CaseView, _case)])
def test_a_trusted_view_is_what_model_construct_and_validation_build(view, aggregate):
    # Given a view built from one of our aggregates
    built = view.of(aggregate())
    # When pydantic builds the same values its own ways
    constructed = view.model_construct(**built.__dict__)
    validated = view.model_validate(built.model_dump())
    # Then all three agree, field by field and in field order
    assert built == constructed == validated
    assert list(built.__dict__) == list(view.model_fields)
    assert built.model_fields_set == constructed.model_fields_set == set(view.model_fields)
    assert built.model_dump_json() == constructed.model_dump_json()
    assert built.__pydantic_extra__ is None and built.__pydantic_private__ is None


def test_every_view_can_be_built_trusted():
    # trusted() sets what model_construct sets; a view needing more (a post-init hook, private
    # attributes, aliases) must not use it
    for view in [View, *View.__subclasses__()]:
        assert not view.__pydantic_post_init__, view
        assert not view.__private_attributes__, view
        assert all(f.alias is None and f.validation_alias is None
                   for f in view.model_fields.values()), view


def test_a_trusted_line_view_dumps_like_a_validated_one():
    line = LineView.trusted(line_no=1, sku="SKU-1", quantity=2, unit_price=1999,
                            refunded_quantity=0)
    assert line.model_dump() == LineView(**line.model_dump()).model_dump()
