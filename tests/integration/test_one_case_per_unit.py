"""One open after-sales case per unit: a second case on units another case still has open is
refused, naming the units and the open case; a case refunded, closed or rejected frees them.

Before, a case was refused only on units already refunded: a buyer could open two cases on the
same mug (two refunds requested, or a refund and a return) and be paid, or send goods back,
twice."""

from __future__ import annotations

import pytest

from statemachine.errors import GuardRejected, UnitsInOpenCase
from tests.factories import paid_order, stock

MUG = 1999


def mugs_paid(pilot, quantity: int = 2):
    stock(pilot, "SKU-MUG", "WH-1", 5)
    return paid_order(pilot, sku="SKU-MUG", quantity=quantity, unit_price=MUG)


def open_case(pilot, order_id: str, quantity: int, kind: str = "refund_only",
              reason: str = "杯子有裂纹"):
    return pilot.cases.open(order_id, kind=kind, reason=reason,
                            lines=[{"line_no": 1, "quantity": quantity}])


def test_a_second_case_on_a_unit_in_an_open_case_is_refused_naming_both(any_pilot):
    # Given 2 mugs paid and a refund-only case on both, still being answered
    order = mugs_paid(any_pilot)
    first = open_case(any_pilot, order.id, 2)
    # When the buyer opens a return on one of the same mugs
    with pytest.raises(UnitsInOpenCase) as refused:
        open_case(any_pilot, order.id, 1, kind="return_refund", reason="七天无理由退货")
    # Then it is refused (a conflict: 409), naming the line, what is free and the open case
    assert isinstance(refused.value, GuardRejected)
    assert refused.value.cases == [first.id]
    assert f"line 1: 1 unit(s) asked, 0 free; 2 in {first.id} (requested)" in str(refused.value)
    # And nothing was written: the order has its one case
    assert [h.entity_id for h in any_pilot.orders.history(order.id)
            if h.entity == "case" and h.trigger == "open"] == [first.id]


def test_units_an_open_case_leaves_free_can_still_get_a_case(any_pilot):
    # Given 2 mugs paid and a case on one of them
    order = mugs_paid(any_pilot)
    open_case(any_pilot, order.id, 1)
    # When the buyer opens a case on the other one: it opens
    assert open_case(any_pilot, order.id, 1).state == "requested"
    # But a third, on either mug, is refused
    with pytest.raises(UnitsInOpenCase, match="0 free"):
        open_case(any_pilot, order.id, 1)


@pytest.mark.parametrize("ending", ["reject", "close"])
def test_a_rejected_or_closed_case_frees_its_units(any_pilot, ending):
    # Given 2 mugs paid and a case on both, under review
    order = mugs_paid(any_pilot)
    first = open_case(any_pilot, order.id, 2)
    any_pilot.cases.fire(first.id, "review")
    # When it is rejected (or closed)
    any_pilot.cases.fire(first.id, ending, reason="买家撤回")
    # Then a new case on the same mugs opens
    assert open_case(any_pilot, order.id, 2).state == "requested"


def test_a_refunded_case_leaves_its_units_refunded_not_open(any_pilot):
    # Given 2 mugs paid and one refunded by a case
    order = mugs_paid(any_pilot)
    first = open_case(any_pilot, order.id, 1)
    any_pilot.cases.fire(first.id, "auto_approve")
    any_pilot.cases.fire(first.id, "refund")
    # Then the other mug can get a case, the refunded one cannot (refunded already)
    assert open_case(any_pilot, order.id, 1).state == "requested"
    with pytest.raises(UnitsInOpenCase, match=r"line 1: 1 unit\(s\) asked, 0 free"):
        open_case(any_pilot, order.id, 1)
