"""A corrected phone (`correct_address` with `phone`): read once, and what placement kept of the
order's phone follows it as the address's key does."""

from __future__ import annotations

from sqlalchemy import text

from integrations.geo import contact, phones
from integrations.service import address_corrections
from tests.factories import placed_order, stock
from tests.integration.risk.test_address_corrections import NANSHAN

CORRECTED_PHONE = "139 1234 5678"


def test_a_corrected_phone_is_parsed_once(any_pilot, clock, monkeypatch):
    # Given an order whose only phone is the one on its address
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=dict(NANSHAN))
    parsed: list[str] = []

    def counting(raw: str, field: str = "phone", region: str = "CN") -> phones.Phone:
        parsed.append(raw)
        return phones.parse_phone(raw, field, region)

    for module in (contact, address_corrections):
        monkeypatch.setattr(module, "parse_phone", counting)
    # When ops correct the number the buyer mistyped
    any_pilot.orders.correct_address(order.id, address={**NANSHAN, "phone": CORRECTED_PHONE},
                                     by="ops:mei")
    # Then the new number was read once (before: by the check, then again for the buyer's
    # number), and the buyer's number is the corrected one
    assert parsed.count(CORRECTED_PHONE) == 1
    assert any_pilot.orders.get(order.id).shipping_address["phone"] == CORRECTED_PHONE
    with any_pilot.context.tx(readonly=True) as tx:
        assert tx.store.get_order(int(order.id[2:])).attrs["phone"] == "+8613912345678"


def facts_phone(pilot, order_id: str) -> str | None:
    with pilot.context.engine.connect() as conn:
        return conn.execute(text("SELECT phone_norm FROM risk_order_facts WHERE order_id = :o"),
                            {"o": int(order_id[2:])}).scalar_one()


def test_placement_facts_keep_the_buyers_corrected_number(any_pilot, clock):
    # Given an order whose only phone is the one on its address, and one whose buyer gave
    # their own number
    stock(any_pilot)
    only = placed_order(any_pilot, shipping_address=dict(NANSHAN))
    own = placed_order(any_pilot, buyer="b-2", shipping_address=dict(NANSHAN),
                       phone="+86 186 0000 1111")
    assert facts_phone(any_pilot, only.id) == "+8613724681357"
    # When the address's phone is corrected on both
    for order in (only, own):
        any_pilot.orders.correct_address(order.id, by="ops:mei",
                                         address={**NANSHAN, "phone": CORRECTED_PHONE})
    # Then what placement kept of the first order's phone is the corrected number, as the
    # order's own phone is now (before: the mistyped one stayed), and the second keeps the
    # buyer's own number, which the correction did not touch
    assert facts_phone(any_pilot, only.id) == "+8613912345678"
    assert facts_phone(any_pilot, own.id) == "+8618600001111"
