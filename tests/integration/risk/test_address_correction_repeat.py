"""The address an order has already, sent again as a correction (a double click, a retry with
a new request): nothing changes and nothing is written — no history row, no event, the same
version; the CLI and HTTP answers say so."""

from __future__ import annotations

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
