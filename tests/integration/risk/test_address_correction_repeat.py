"""The address an order has already, sent again as a correction (a double click, a retry with
a new request): nothing changes and nothing is written — no history row, no event, the same
version; the CLI and HTTP answers say so."""

from __future__ import annotations

import pytest

from tests.factories import placed_order, stock
from tests.integration.risk.test_address_corrections import CORRECTED, NANSHAN
from tests.integration.test_order_lifecycle import row_counts


def test_the_same_address_again_writes_nothing(any_pilot, clock):
    # Given an order to 深圳 corrected to 杭州 西湖区 文三路18号
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=NANSHAN)
    first = any_pilot.orders.correct_address(order.id, address=CORRECTED, by="ops:mei",
                                             reason="买家来电")
    before = row_counts(any_pilot), any_pilot.orders.history(order.id)
    clock.advance(minutes=3)
    # When the same correction comes again (recipient and phone kept, as the first kept them)
    again = any_pilot.orders.correct_address(order.id, address=CORRECTED, by="ops:lee",
                                             reason="再次确认")
    # Then nothing is written: same version, same history, no second event (before: a second
    # correct_address row and address_corrected event, by lee)
    assert again == first
    assert (row_counts(any_pilot), any_pilot.orders.history(order.id)) == before


def test_the_address_the_order_was_placed_with_is_no_correction(any_pilot):
    # Given an order to 深圳 never corrected
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=NANSHAN)
    before = row_counts(any_pilot), any_pilot.orders.get(order.id)
    # When its own address is sent as a correction: nothing written, never corrected
    again = any_pilot.orders.correct_address(order.id, address=NANSHAN, by="ops:mei")
    assert (row_counts(any_pilot), again) == before
    assert again.address_corrected is None


# 浙江省杭州市西湖区文三路90号, to 王芳 on 138 0013 8000, in the forms a person re-types it
AS_A_LINE = {"line": "浙江省杭州市西湖区文三路 90 号", "recipient": "王芳", "phone": "13800138000"}
AS_FIELDS = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "street": "文三路９０号",
             "recipient": " 王芳 ", "phone": "１３８００１３８０００"}


@pytest.mark.parametrize(("placed_as", "sent_as"), [(AS_A_LINE, AS_FIELDS),
                                                     (AS_FIELDS, AS_A_LINE)],
                         ids=["line-then-fields", "fields-then-line"])
def test_the_same_address_in_another_form_writes_nothing(any_pilot, placed_as, sent_as):
    # Given an order placed with the address written one way
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=placed_as)
    before = row_counts(any_pilot), any_pilot.orders.get(order.id)
    # When a correction sends the same address written the other way (one line or fields,
    # spaces, full-width digits, the phone full-width)
    again = any_pilot.orders.correct_address(order.id, address=sent_as, by="ops:mei")
    # Then nothing is written and the order keeps the form it had (before: a history row and
    # an address_corrected event for an address that did not change)
    assert (row_counts(any_pilot), again) == before
    assert again.address_corrected is None


@pytest.mark.parametrize("change", [
    {"line": "浙江省杭州市西湖区文三路 92 号"},  # another door
    {"line": "浙江省杭州市西湖区文三路 90 号 3单元502室"},  # a unit named
    {"line": "浙江省杭州市西湖区文三路 90 号（放门卫）"},  # a note for the courier
    {"recipient": "王芳芳"},
    {"phone": "13800138001"},
], ids=["house-number", "unit", "courier-note", "recipient", "phone"])
def test_a_change_in_what_the_parcel_needs_is_still_a_correction(any_pilot, change):
    # Given an order to 文三路90号 for 王芳 on 138 0013 8000
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=AS_A_LINE)
    # When a correction changes one thing the courier or the label needs
    corrected = any_pilot.orders.correct_address(order.id, address={**AS_A_LINE, **change},
                                                 by="ops:mei")
    # Then it is written
    assert corrected.version > order.version
    assert any_pilot.orders.history(order.id)[-1].trigger == "correct_address"
