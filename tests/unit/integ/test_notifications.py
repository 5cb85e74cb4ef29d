"""Message templates per event, PII masking in messages and logs, apprise routing."""

from __future__ import annotations

import logging

import pytest

from integrations.notifications.apprise_notifier import AppriseNotifier, notify_event
from integrations.notifications.masking import (
    PiiFilter,
    mask_address,
    mask_phone,
    mask_text,
    mask_url,
)
from integrations.notifications.templates import TEMPLATES, render
from statemachine.ports import Message
from tests.unit.integ.fakes import RecordingNotifier

ADDRESS = {"street": "18 Wensan Road", "city": "Hangzhou", "province": "Zhejiang",
           "recipient": "Li Lei", "phone": "13812345678", "postal_code": "310012"}


def test_a_phone_keeps_only_its_first_three_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"
    # the country code is not part of the number (this was 861******5678 before)
    assert mask_phone("+86 138-1234-5678") == "138****5678"


def test_an_address_keeps_the_region_only():
    masked = mask_address(ADDRESS)
    assert (masked["city"], masked["province"]) == ("Hangzhou", "Zhejiang")
    assert masked["street"] == "1***" and masked["recipient"] == "L***"
    assert masked["phone"] == "138****5678" and masked["postal_code"] == "310***"


def test_phone_numbers_in_free_text_are_masked_but_order_ids_are_not():
    assert mask_text("call 13812345678 about o-12345678") == "call 138****5678 about o-12345678"
    assert mask_text("on 2026-11-11 ref 1234") == "on 2026-11-11 ref 1234"


def test_a_review_alert_names_the_reasons_and_masks_the_ship_to_address():
    message = render("orderpilot.order.under_review", {
        "order_id": "o-7", "buyer_id": "b-1", "total": 9000, "currency": "CNY",
        "reasons": [{"rule": "amount", "text": "amount over 5000"}], "address": ADDRESS})
    assert message.audience == "reviewer" and message.title == "Order o-7 needs a risk review"
    assert "amount over 5000" in message.body
    assert "Wensan" not in message.body and "13812345678" not in message.body
    assert "Hangzhou" in message.body


def test_every_template_renders_with_missing_fields_shown_as_question_marks():
    for event in TEMPLATES:
        message = render(event, {"order_id": "o-1"})
        assert message is not None and "o-1" in message.title + message.body


def test_events_without_a_template_send_nothing():
    fake = RecordingNotifier()
    assert notify_event(fake, "orderpilot.order.paid", {"order_id": "o-1"}) is None
    assert notify_event(fake, "orderpilot.shipment.stalled", {"order_id": "o-1"}) is True
    assert fake.sent[0].audience == "buyer"


def test_the_pii_filter_masks_phones_in_log_records(caplog):
    logger = logging.getLogger("test.pii")
    logger.addFilter(PiiFilter())
    with caplog.at_level(logging.INFO, logger="test.pii"):
        logger.info("buyer phone %s", "13812345678")
    assert caplog.records[0].getMessage() == "buyer phone 138****5678"


def test_a_message_for_an_audience_without_a_channel_is_not_sent():
    notifier = AppriseNotifier({"ops": ["json://127.0.0.1:9/"]})
    assert notifier.send(Message("e", "buyer", "t", "b")) is False


def test_an_unusable_apprise_url_is_refused_at_start_naming_the_route():
    with pytest.raises(ValueError, match="routes.ops"):
        AppriseNotifier({"ops": ["not-a-url"]})


@pytest.mark.parametrize(("url", "shown"), [
    ("mailto://ops:hunter2pw@", "mailto://…"),                       # no server: refused
    ("nosuchservice://ops:hunter2pw@hooks.example.com/hunter2pw",
     "nosuchservice://hooks.example.com"),
    ("nosuchservice://hunter2pw/hunter2pw", "nosuchservice://…"),   # a token where a host goes
])
def test_a_refused_route_is_named_without_its_password_or_token(url, shown):
    # Given a route apprise cannot use, whose URL holds a secret
    with pytest.raises(ValueError) as refused:
        AppriseNotifier({"reviewer": ["json://hooks.example.com/ok"], "ops": [url]})
    # Then the refusal names the route and shows scheme and server only
    message = str(refused.value)
    assert "routes.ops[0]" in message and f"apprise cannot use {shown} " in message
    assert "hunter2pw" not in message


def test_a_store_url_is_shown_without_its_password():
    assert mask_url("postgresql://shop:hunter2pw@db.internal:5432/orders?sslmode=require",
                    keep_path=True) == "postgresql://shop:***@db.internal:5432/orders?…"
    assert mask_url("sqlite:////var/lib/shop.db", keep_path=True) == "sqlite:////var/lib/shop.db"


def test_e_mails_and_url_encoded_contacts_are_masked_in_log_records(caplog):
    logger = logging.getLogger("test.pii.encoded")
    logger.addFilter(PiiFilter())
    with caplog.at_level(logging.INFO, logger="test.pii.encoded"):
        logger.info("Loaded URL json://gw/send?%%3Ato=%%2B8613912345678&%%3Amail=%s",
                    "wang%40example.cn")
    text = caplog.records[0].getMessage()
    assert "13912345678" not in text and "wang@" not in text
    assert "to=139****5678" in text and "w***@example.cn" in text


def test_a_buyer_url_is_filled_per_message_and_skipped_without_that_contact():
    from integrations.notifications.apprise_notifier import fill

    url = "json://gw.example.cn/send?:to={phone}&:mail={email}"
    assert fill(url, {"phone": "+8613912345678", "email": "a+b@example.cn"}) == \
        "json://gw.example.cn/send?:to=+8613912345678&:mail=a+b%40example.cn"
    assert fill(url, {"phone": "+8613912345678"}) is None
    notifier = AppriseNotifier({"buyer": [url]})
    assert notifier.reaches("buyer", {"phone": "1", "email": "x@y.cn"})
    assert not notifier.reaches("buyer", {"phone": "1"}) and not notifier.reaches("ops")
