"""A replay or bulk batch packs on the same pack facts as a single call (kinds.order_facts
gathers `packing.pack_facts` for every `pack` of the batch): an order above the double-check
threshold with no double check recorded is refused alone, in the single call's words, and the
rest of the batch applies; once checked by a second person it packs."""

from __future__ import annotations

import pytest

from integrations.replay import bulk
from statemachine.errors import GuardRejected
from tests.factories import paid_order, stock

TV, MUG = 300_000, 1999  # ¥3,000.00 is above the default double-check threshold (¥1,000.00)


def number(public_id: str) -> int:
    return int(public_id[2:])


def picking(pilot, sku: str, unit_price: int, buyer: str) -> str:
    order = paid_order(pilot, sku=sku, quantity=1, unit_price=unit_price, buyer=buyer)
    pilot.orders.fire(order.id, "start_picking", actor="lead:陈静")
    return order.id


def pack_in_one_batch(pilot, clock, *order_ids: str) -> list[bulk.Refused]:
    with pilot.context.tx() as tx:
        return bulk.fire_orders(pilot.context, tx, [
            bulk.Move(number(o), "pack", clock.now(), "packer:李雷") for o in order_ids])


def test_a_batch_does_not_pack_an_order_that_needs_a_double_check_and_has_none(any_pilot,
                                                                              clock):
    # Given a television (¥3,000.00) and a mug being picked, neither double-checked
    stock(any_pilot, "SKU-TV", "WH-1", 3)
    stock(any_pilot, "SKU-MUG", "WH-1", 3)
    tv, mug = picking(any_pilot, "SKU-TV", TV, "b-1"), picking(any_pilot, "SKU-MUG", MUG, "b-2")
    # When a replay batch packs both
    refused = pack_in_one_batch(any_pilot, clock, tv, mug)
    # Then the television is refused alone, as a single call words it; the mug is packed
    assert [(r.move.id, r.state) for r in refused] == [(number(tv), "picking")]
    assert "double check by a second person is required" in refused[0].error
    with pytest.raises(GuardRejected) as single:
        any_pilot.orders.fire(tv, "pack", actor="packer:李雷")
    assert refused[0].error == str(single.value)
    assert (any_pilot.orders.get(tv).state, any_pilot.orders.get(mug).state) == (
        "picking", "packed")


def test_a_batch_packs_an_order_a_second_person_double_checked(any_pilot, clock):
    # Given a television being picked, double-checked by a second person
    stock(any_pilot, "SKU-TV", "WH-1", 3)
    tv = picking(any_pilot, "SKU-TV", TV, "b-1")
    any_pilot.orders.fire(tv, "double_check", actor="checker:王芳")
    # When a replay batch packs it
    refused = pack_in_one_batch(any_pilot, clock, tv)
    # Then it is packed
    assert refused == []
    assert any_pilot.orders.get(tv).state == "packed"
