"""What a person writes when correcting an address stays masked wherever it leaves the store:
the console's review form (a Prefect artifact staff and agents read) shows the correction's
reason with the order's own personal values hidden — the street and recipient the person
typed into it, not only what looks like a phone — as the order's events do."""

from __future__ import annotations

from integrations.console.casefiles import review_description
from integrations.console.casework import open_case
from tests.factories import stock
from tests.integration.risk.test_address_corrections import CORRECTED, held_import


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
