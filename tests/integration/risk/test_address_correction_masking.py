"""What a person writes when correcting an address stays masked wherever it leaves the store:
the console's review form (a Prefect artifact staff and agents read) shows the correction's
reason with the order's own personal values hidden — the street and recipient the person
typed into it, not only what looks like a phone — as the order's events do; and the history
shows where the order went from and to by region, however the address was written."""

from __future__ import annotations

import json

from sqlalchemy import select

from integrations.console.casefiles import review_description
from integrations.console.casework import open_case
from integrations.db.schema import OutboxRow
from integrations.events.envelope import envelope
from tests.factories import placed_order, stock
from tests.integration.risk.test_address_corrections import (
    CORRECTED,
    NANSHAN,
    held_import,
)


def test_the_review_form_masks_the_street_and_recipient_named_in_the_reason(any_pilot, clock):
    # Given an order held for its contradicting address
    stock(any_pilot)
    order_id = held_import(any_pilot)
    # When ops correct it, writing the new street and the recipient into the reason
    any_pilot.orders.correct_address(
        order_id, address={**CORRECTED, "recipient": "赵敏"}, by="ops:mei",
        reason="买家来电：改寄文三路18号，收件人赵敏")
    # Then the review form says the address was corrected, without the street or the name
    case = open_case(any_pilot.context, "risk-review", order_id)
    assert case is not None
    description = review_description(any_pilot.context, case, clock.now())
    assert "## Address corrected" in description and "买家来电" in description
    assert "文三路18号" not in description
    assert "赵敏" not in description


def test_a_one_line_correction_shows_its_region_in_the_history_and_the_street_hidden(
        any_pilot, clock):
    # Given an order awaiting payment, placed with address fields
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=dict(NANSHAN))
    # When ops correct it with the whole address on one line, as the buyer dictated it
    any_pilot.orders.correct_address(order.id, address={"line": "浙江省杭州市西湖区文三路18号"},
                                     by="ops:mei")
    # Then the history shows both regions readable (as for addresses given in fields) and
    # neither street
    step = any_pilot.orders.history(order.id)[-1]
    assert step.trigger == "correct_address"
    assert (step.payload["from"]["province"], step.payload["from"]["city"]) == ("广东省",
                                                                                "深圳市")
    assert (step.payload["to"]["province"], step.payload["to"]["city"],
            step.payload["to"]["district"]) == ("浙江省", "杭州市", "西湖区")
    shown = json.dumps(step.payload, ensure_ascii=False)
    assert "文三路" not in shown and "科技南" not in shown


def buyer_phone(pilot, order_id: str) -> str | None:
    """The number buyer notices (SMS) and phone verification go to."""
    with pilot.context.tx(readonly=True) as tx:
        return tx.store.get_order(int(order_id[2:])).attrs.get("phone")


def test_a_corrected_phone_is_where_the_buyers_notices_go_when_it_was_their_only_number(
        any_pilot, clock):
    # Given an order whose only phone is the one on its address (the buyer gave no other)
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=dict(NANSHAN))
    assert buyer_phone(any_pilot, order.id) == "+8613724681357"
    # When ops correct the number the buyer mistyped
    any_pilot.orders.correct_address(order.id, address={**NANSHAN, "phone": "139 1234 5678"},
                                     by="ops:mei", reason="买家手机号填错")
    # Then notices and verification go to the corrected number, not the mistyped one
    assert buyer_phone(any_pilot, order.id) == "+8613912345678"


def test_a_buyers_own_number_stays_when_the_recipients_phone_is_corrected(any_pilot, clock):
    # Given an order whose buyer gave their own number besides the recipient's
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=dict(NANSHAN), phone="+86 186 0000 1111")
    # When the recipient's phone is corrected
    any_pilot.orders.correct_address(order.id, address={**NANSHAN, "phone": "139 1234 5678"},
                                     by="ops:mei")
    # Then the buyer's own number is kept for their notices
    assert buyer_phone(any_pilot, order.id) == "+8618600001111"


def test_the_published_event_hides_the_old_street_named_in_the_reason(any_pilot, clock):
    # Given an order to 深圳 科技南十二路2号
    stock(any_pilot)
    order = placed_order(any_pilot, shipping_address=dict(NANSHAN))
    # When ops correct it, saying in the reason which address was wrong
    any_pilot.orders.correct_address(order.id, address=CORRECTED, by="ops:mei",
                                     reason="原地址科技南十二路2号写错了，收件人陈静确认")
    # Then the event that leaves the store (Prefect) names neither the old street nor the
    # recipient — once corrected, the old address is no longer the order's to mask by
    with any_pilot.context.engine.connect() as conn:
        outbox = OutboxRow.__table__
        [row] = conn.execute(select(outbox).where(
            outbox.c.event == "orderpilot.order.address_corrected")).all()
    with any_pilot.context.tx(readonly=True) as tx:
        placed = tx.store.get_order(int(order.id[2:]))
    published = json.dumps(envelope(row, placed, follows=None), ensure_ascii=False)
    assert "原地址" in published
    assert "科技南十二路" not in published and "陈静" not in published
