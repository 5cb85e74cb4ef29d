"""A note for the courier does not make a blacklisted address a new one, and is not lost: the
order keeps the address as the buyer typed it, and the parsed form says what was set aside."""

from __future__ import annotations

from sqlalchemy import select

from integrations.db.schema import OrderRow
from orderpilot import OrderPilot
from statemachine import ids
from tests.factories import placed_order, stock

ADDRESS = "浙江省杭州市西湖区文三路18号3单元"


def test_a_blacklisted_address_with_a_note_added_is_still_rejected(any_url, clock):
    # Given an address blacklisted from an order shipped to it
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    first = placed_order(pilot, buyer="b-1", quantity=1, shipping_address={"line": ADDRESS})
    pilot.risk.blacklist_order(first.id, by="mei", reason="ring", kinds=("buyer", "address"))
    # When another buyer orders to it with a bracketed note
    noted = f"{ADDRESS}【周末不收】"
    again = placed_order(pilot, buyer="b-2", quantity=1, shipping_address={"line": noted})
    # Then the order is rejected, and keeps the note as typed and beside the parsed address
    assert again.state == "rejected"
    assert pilot.orders.get(again.id).shipping_address["line"] == noted
    assert _stored_attrs(pilot, again.id)["address"]["note"] == "周末不收"
    pilot.close()


def _stored_attrs(pilot: OrderPilot, order_id: str) -> dict:
    orders = OrderRow.__table__
    with pilot.context.tx() as tx:
        return tx.connection.execute(select(orders.c.attrs).where(
            orders.c.id == ids.ORDER.parse(order_id))).scalar_one()


def test_a_blacklisted_latin_address_with_a_note_added_is_still_rejected(any_url, clock):
    # Given a Latin-script address on the block list
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    pilot.risk.blacklist_add("address", "18 Wensan Road, Hangzhou, CN", by="mei", reason="ring")
    # When a buyer orders to it with a bracketed note for the courier
    noted = "18 Wensan Road (leave at gate), Hangzhou, CN"
    again = placed_order(pilot, buyer="b-2", quantity=1, shipping_address={"line": noted})
    # Then the order is rejected (before: awaiting_payment, the note's words were in the key)
    assert again.state == "rejected"
    assert _stored_attrs(pilot, again.id)["address"]["note"] == "leave at gate"
    pilot.close()
