"""PII masking as a property: whatever text or document a phone, an IP or the order's own
address is written into, and however the phone is spaced, nothing readable leaves."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from uvicorn.logging import AccessFormatter

from integrations.notifications.masking import (
    PiiFilter,
    known_pii,
    mask_doc,
    mask_phone,
    mask_text,
)

MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
# full-width and typographic dashes too: what a Chinese input method types in full-width mode
SEPARATORS = st.sampled_from(["", " ", "-", ".", "  ", "－", "—", "–", "．", "\u3000"])
AROUND = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Nd")),
                 max_size=30)
STREETS = st.sampled_from(["文三路 18 号 3 幢 502 室", "南京西路 1266 号", "天河路 385 号太古汇",
                           "18 Wensan Road", "中关村大街 27 号"])


@st.composite
def written_phones(draw) -> tuple[str, str]:
    """A mobile number and one way a person may have typed it."""
    digits = draw(MOBILE)
    sep = draw(SEPARATORS)
    groups = [digits[:3], digits[3:7], digits[7:]]
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "0086-", "86 ", "phone", "tel:", "电话"]))
    return digits, prefix + sep.join(groups)


def readable(digits: str, text: str) -> bool:
    """Whether the number can be read in `text`, however its digits are spaced."""
    return re.search(r"[\s.\-()－—–．（）]*".join(digits), text) is not None


@settings(max_examples=300, deadline=None)
@given(written_phones(), AROUND, AROUND)
def test_a_mobile_number_written_any_way_in_any_text_is_masked(phone, before, after):
    digits, written = phone
    masked = mask_text(f"{before}{written}{after}")
    assert not readable(digits, masked), masked


@settings(max_examples=200, deadline=None)
@given(written_phones(), STREETS, st.ip_addresses(v=4).map(str), AROUND,
       st.sampled_from(["reason", "note", "text", "values", "details"]))
def test_a_document_never_shows_the_orders_phone_street_or_ip(phone, street, ip, noise, key):
    digits, written = phone
    attrs = {"phone": "+86" + digits, "ip": ip,
             "shipping_address": {"street": street, "city": "杭州市", "recipient": "李雷"}}
    doc = {"order": {"phone": "+86" + digits, "ip": ip, "shipping_address":
                     attrs["shipping_address"]},
           "timeline": [{"payload": {key: f"{noise}请改寄到{street}，联系{written}"}}],
           "risk": {"reasons": [{"text": "地址在黑名单", "values": {"address": street,
                                                               "ip": ip}}]},
           "notes": [{"text": f"买家从 {ip} 登录，留言 {written}"}]}
    shown = json.dumps(mask_doc(doc, known_pii(attrs)), ensure_ascii=False)
    assert not readable(digits, shown), shown
    assert street not in shown and "李雷" not in shown
    assert ip not in shown
    assert "杭州市" in shown  # the region stays readable


def test_dates_amounts_and_ids_are_left_alone():
    text = "2026-11-27 09:00:00 refund 699900 for o-1234 on s-42 (tracking SF1234567890123)"
    assert mask_text(text) == text


def test_an_ip_keeps_its_network_however_many_digits_it_has():
    # (183.156.0.7 has 8 digits: it used to be masked as if it were a phone number)
    assert mask_text("placed from IP 183.156.0.7 and 10.0.0.1") == \
        "placed from IP 183.156.*.* and 10.0.*.*"


def test_the_api_access_log_line_is_written_with_its_ip_and_phone_masked():
    """`orderpilot api` puts PiiFilter on uvicorn's access log, whose formatter unpacks the
    record's five arguments: the filter masks them in place instead of dropping them (which
    lost every access line and printed a logging traceback per request)."""
    # Given uvicorn's access formatter and a request line carrying an IP and a phone
    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                                use_colors=False)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("10.1.2.3:5000", "GET",
                               "/v1/orders?phone=13812345678", "1.1", 200), None)
    # When the filter passes it and the formatter writes it
    assert PiiFilter().filter(record)
    line = formatter.format(record)
    # Then the line is whole, the status a number, and nothing personal is readable
    assert line == '10.1.*.*:5000 - "GET /v1/orders?phone=138****5678 HTTP/1.1" 200 OK'


def test_a_record_whose_arguments_no_longer_format_is_masked_as_one_message():
    # Given a message formatting a number-like object with %d
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s paid %d",
                               ("13812345678", Decimal(5)), None)
    # When masked, Then it is one masked message and the call no longer needs arguments
    assert PiiFilter().filter(record)
    assert record.args is None and record.getMessage().endswith(" paid 5")
    assert "13812345678" not in record.getMessage()


def test_a_mobile_number_typed_with_full_width_dashes_is_masked():
    # found by hand: "139－1234－5678" (full-width hyphens) went out as typed
    for written in ("139－1234－5678", "139—1234—5678", "＋86 139－1234－5678",
                    "（0571）8888－8888"):
        masked = mask_text(f"买家留言：请联系{written}，谢谢")
        assert "1234" not in masked and "8888－8888" not in masked, masked


def test_a_landline_written_right_after_chinese_words_is_masked():
    # Chinese puts no space between words and numbers: "座机010-65529988" went out as typed (the
    # number had to follow a space or punctuation; only mobiles were found glued to words)
    for written, digits in (("座机010-65529988", "65529988"),
                            ("电话0571-88886666转123", "88886666"),
                            ("固话02187654321请联系", "87654321"),
                            ("座机０１０－６５５２９９８８", "６５５２９９８８")):
        masked = mask_text(f"买家留言：{written}")
        # (the last 4 stay readable; full-width digits come back as ASCII ones)
        last4 = unicodedata.normalize("NFKC", digits[-4:])
        assert digits not in masked and last4 in masked, masked
    # what is not a phone stays readable, glued or not
    text = "日期2026-11-27退款699900元，订单o-1234，运单SF1234567890123"
    assert mask_text(text) == text


def test_a_phone_with_its_country_code_is_masked_as_its_national_number():
    # found by a teammate: "+86 138 0013 8000" went out as "861******8000" (the country code
    # was counted as the number's first digits); ops read 138****8000, as Taobao shows it
    for written in ("+86 138 0013 8000", "+8613800138000", "0086-138-0013-8000",
                    "86 13800138000", "13800138000", "＋86 138－0013－8000"):
        assert mask_phone(written) == "138****8000", written
    assert mask_text("买家电话 +86 138 0013 8000，请尽快联系") == "买家电话 138****8000，请尽快联系"
    assert mask_doc({"phone": "+86 138 0013 8000"}) == {"phone": "138****8000"}
    # a landline keeps its area code, as dialled at home
    assert mask_phone("+86 10 6552 9988") == mask_phone("010-65529988") == "010****9988"


def test_a_phone_outside_china_keeps_its_country_code_and_hides_four_digits_or_more():
    # Then the country code stays readable, and of the national number at least 4 digits are
    # hidden (3 hidden digits are a thousand guesses) and no more than its last 4 shown
    assert mask_phone("+1 415 555 0100") == "+1 41****0100"
    assert mask_phone("+44 7700 900123") == "+44 77****0123"
    assert mask_phone("+852 9123 4567") == "+852 ****4567"
    for written in ("+1 415 555 0100", "+44 7700 900123", "+852 9123 4567"):
        shown = mask_text(f"买家海外电话 {written} 请联系")
        assert not re.search(r"\d{5}", shown.replace(" ", "")), shown


def _id_number(body: str) -> str:
    """17 digits and their GB 11643 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def test_an_identity_card_number_in_free_text_is_masked():
    # Cross-border orders need the buyer's 身份证号 for customs, and buyers type it into notes
    # and after-sales reasons: it went out as typed (18 digits: longer than a phone number)
    x_check, digit_check = _id_number("11010519491231002"), _id_number("44030619900307123")
    assert x_check.endswith("X") and digit_check[-1].isdigit()
    for written, birth in ((f"报关身份证号{x_check}谢谢", "19491231"),
                           (f"身份证：{digit_check[:6]} {digit_check[6:14]} {digit_check[14:]}",
                            "19900307"),
                           (f"ID {x_check.lower()}", "19491231")):
        masked = mask_text(written)
        assert birth not in masked and "***********" in masked, masked
    assert mask_text(f"身份证{digit_check}") == "身份证440***********1232"
    # a field named for it is masked whatever it holds
    assert "1990" not in json.dumps(mask_doc({"id_card": digit_check}))


def test_an_eighteen_digit_number_that_is_not_an_identity_card_stays_readable():
    number = _id_number("11010519491231002")
    wrong_check = number[:-1] + ("0" if number[-1] != "0" else "1")
    for text in (f"运单{wrong_check}", f"{number}5", f"9{number}", "SF1234567890123",
                 "订单号 202611271234567890"):
        assert mask_text(text) == text, text


def test_a_courier_note_set_aside_from_the_address_is_masked_wherever_it_appears():
    # the buyer's bracketed note (statemachine/address.py split_notes) may hold a name or a phone
    attrs = {"address": {"key": "CN|330106|文三路|18|", "note": "交给李雷"}}
    doc = {"order": {"address": attrs["address"]}, "timeline": [{"text": "备注：交给李雷"}]}
    shown = json.dumps(mask_doc(doc, known_pii(attrs)), ensure_ascii=False)
    assert "交给李雷" not in shown, shown
