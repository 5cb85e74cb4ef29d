"""A corrected address meets placement's address rules (`correct_address`,
service/correction_risk.py): a block-listed address or phone is refused naming the field, in
any state; an address a placement would hold for a person (a parcel locker, a virtual-operator
phone, many orders to the address in the hour) is refused once the order is past its review,
unless it is on the allow list, and is told to the reviewer of an order under review. Before,
no rule looked at a correction: each of these went through."""

from __future__ import annotations

import pytest

from integrations.console.casefiles import review_description
from integrations.console.casework import open_case
from orderpilot import InvalidInput
from tests.factories import paid_order, placed_order, stock
from tests.integration.risk.test_address_corrections import (
    CORRECTED,
    NANSHAN,
    ZHANGJIANG,
    held_import,
)
from tests.integration.risk.test_verification import verifying_order
from tests.integration.test_order_lifecycle import row_counts

LOCKER = {**CORRECTED, "street": "文三路18号菜鸟驿站"}  # a pickup locker: vague_address
BLOCKED = "on the block list (rule blacklist): the order cannot be sent there"


def refused(pilot, order_id: str, address: dict) -> dict[str, str]:
    """The problems of a refused correction, having checked that nothing was written."""
    before = row_counts(pilot), pilot.orders.get(order_id), pilot.orders.history(order_id)
    with pytest.raises(InvalidInput) as error:
        pilot.orders.correct_address(order_id, address=address, by="ops:mei")
    after = row_counts(pilot), pilot.orders.get(order_id), pilot.orders.history(order_id)
    assert after == before
    return error.value.problems


def test_a_block_listed_address_or_phone_is_refused_naming_the_field(any_pilot):
    # Given a paid order to 深圳 and, on the block list, an address in 杭州 and a phone
    stock(any_pilot)
    order = paid_order(any_pilot, shipping_address=NANSHAN)
    any_pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18号", by="lee",
                                 reason="代收点诈骗")
    any_pilot.risk.blacklist_add("phone", "+86 139 1234 5678", by="lee", reason="接码号")
    # When ops correct the order to that address, to that phone, or to both
    # Then each is refused naming what is listed, nothing written
    assert refused(any_pilot, order.id, CORRECTED) == {"address": BLOCKED}
    assert refused(any_pilot, order.id, {**NANSHAN, "phone": "13912345678"}) == {
        "address.phone": BLOCKED}
    assert refused(any_pilot, order.id, {**CORRECTED, "phone": "139-1234-5678"}) == {
        "address": BLOCKED, "address.phone": BLOCKED}
    # and an address written otherwise (as one line, traditional characters) is the same
    # address: refused too
    assert refused(any_pilot, order.id, {"line": "浙江省杭州市西湖區文三路十八號"}) == {
        "address": BLOCKED}


def test_a_block_listed_address_is_refused_while_the_order_is_under_review(any_pilot):
    # Given an imported order held for review, and 文三路18号 on the block list
    stock(any_pilot)
    order_id = held_import(any_pilot)
    any_pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18号", by="lee",
                                 reason="代收点诈骗")
    # When ops correct it there: refused (the reviewer may still reject the order)
    assert refused(any_pilot, order_id, CORRECTED) == {"address": BLOCKED}


def test_an_address_placement_would_review_is_refused_once_the_order_is_paid(any_pilot):
    # Given a paid order to 深圳
    stock(any_pilot)
    order = paid_order(any_pilot, shipping_address=NANSHAN)
    # When ops correct it to a parcel locker, or to a virtual-operator phone (170)
    locker = refused(any_pilot, order.id, LOCKER)
    virtual = refused(any_pilot, order.id, {**NANSHAN, "phone": "170 1234 5678"})
    # Then each is refused naming the field and the rule (before: both went through)
    past = ("placement would hold the order for a person, and it is paid, past its review "
            "(an address or phone on the allow list passes)")
    assert locker == {
        "address": f"shipping address is vague: pickup_locker (rule vague_address): {past}"}
    assert virtual == {
        "address.phone": f"phone in the virtual-operator segment 170 (rule virtual_phone): "
                         f"{past}"}


def test_a_verifying_order_is_refused_as_waiting_for_its_code_not_past_its_review(
        any_pilot, clock):
    # Given an order waiting for its buyer's SMS code (verification, not a person's review)
    order = verifying_order(any_pilot, clock)
    # When ops correct it to a parcel locker: refused, saying what the order waits for
    # (before: "it is verifying, past its review" — it never had a review)
    assert refused(any_pilot, order.id, LOCKER) == {"address": (
        "shipping address is vague: pickup_locker (rule vague_address): placement would hold "
        "the order for a person, and it is verifying, waiting for its buyer's verification "
        "code, not for a person (an address or phone on the allow list passes)")}


def test_an_allow_listed_address_passes_what_placement_would_review(any_pilot):
    # Given a paid order, and the locker at 文三路18号 on the allow list (an analyst's call)
    stock(any_pilot)
    order = paid_order(any_pilot, shipping_address=NANSHAN)
    any_pilot.risk.list_add("allow", "address", "浙江省杭州市西湖区文三路18号菜鸟驿站", by="lee",
                            reason="买家长期在驿站取件")
    # When ops correct the order to it: it is corrected
    corrected = any_pilot.orders.correct_address(order.id, address=LOCKER, by="ops:mei")
    assert corrected.shipping_address["street"] == "文三路18号菜鸟驿站"
    assert "risk" not in corrected.address_corrected


def test_many_orders_to_the_new_address_in_the_hour_refuse_it(any_pilot, clock):
    # Given six orders of other buyers to 张江路88弄5号 in the last hour (a drop address)
    stock(any_pilot, quantity=100)
    for n in range(6):
        placed_order(any_pilot, buyer=f"b-drop-{n}", quantity=1, shipping_address=ZHANGJIANG)
        clock.advance(minutes=5)
    order = placed_order(any_pilot, buyer="b-1", quantity=1, shipping_address=NANSHAN)
    # When ops correct b-1's order there: refused, the velocity rule named
    problems = refused(any_pilot, order.id, ZHANGJIANG)
    assert problems["address"].startswith(
        "more than 5 orders in 3600 s by address (rule velocity): placement would hold the "
        "order for a person, and it is awaiting_payment, past its review")
    # And an hour after the last of them, the address is ordinary again: corrected
    clock.advance(minutes=61)
    any_pilot.orders.correct_address(order.id, address=ZHANGJIANG, by="ops:mei")


def test_the_reviewer_is_told_what_the_rules_say_of_a_corrected_address(any_pilot, clock):
    # Given an imported order held for review (广东省 / 杭州市 / 西湖区)
    stock(any_pilot)
    order_id = held_import(any_pilot)
    # When ops correct it to a parcel locker: the order is under review, so it goes through
    corrected = any_pilot.orders.correct_address(order_id, address=LOCKER, by="ops:mei")
    # Then what the rules said is kept with the correction, in its history, and on the form
    said = [{"rule": "vague_address", "text": "shipping address is vague: pickup_locker"}]
    assert corrected.state == "under_review"
    assert corrected.address_corrected["risk"] == said
    assert any_pilot.orders.history(order_id)[-1].payload["risk"] == said
    case = open_case(any_pilot.context, "risk-review", order_id)
    form = review_description(any_pilot.context, case, clock.now())
    assert ("Placement's address rules on the corrected address: shipping address is vague: "
            "pickup_locker (vague_address).") in form
