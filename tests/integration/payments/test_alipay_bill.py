"""Alipay's trade bill downloaded through its API: python-alipay-sdk's signed
`alipay.data.dataservice.bill.downloadurl.query` against the local stand-in on 127.0.0.1, which
hands out a link to a real ZIP (GBK file names, a GBK 业务明细 CSV with Chinese rows) and serves
it. Each way the download can go wrong ends in an error that says what to do."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from integrations.payments.alipay_bill import BillNotReady, BillUnavailable
from integrations.payments.statements import read_statement
from statemachine.ports import PermanentPaymentError, TransientPaymentError
from tests.fakes.alipay_api import APP_ID, DOWNLOAD_PATH, FakeAlipay
from tests.fakes.alipay_bill import BillRow, bill_zip, trade_bill
from tests.integration.payments.conftest import alipay_gateway_for

DAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 in Beijing
ROWS = [BillRow("2026112622001000000001", "o-17", "交易", 29900, AT, "西湖龙井 250克"),
        BillRow("2026112622001000000002", "o-18", "交易", 139900, AT, "华为FreeBuds Pro 3"),
        BillRow("2026112622001000000001", "o-17", "退款", 5000, AT, "西湖龙井 250克",
                request_no="refund:o-17:1")]
DETAIL = trade_bill(ROWS, DAY)
DETAIL_NAME = "20880000000000010156_20261126_业务明细.csv"


def downloads(fake: FakeAlipay) -> int:
    return len(fake.calls("GET", DOWNLOAD_PATH))


def url_queries(fake: FakeAlipay) -> list[dict[str, str]]:
    return [json.loads(r.fields["biz_content"]) for r in fake.calls("GET", "/gateway.do")
            if r.fields.get("method") == "alipay.data.dataservice.bill.downloadurl.query"]


def test_the_days_detail_file_is_downloaded_and_reads_as_the_bill(fake_alipay, alipay_gateway):
    # Given Alipay has the bill of 2026-11-26: a ZIP with GBK-named detail and summary files
    fake_alipay.bills["2026-11-26"] = bill_zip(DETAIL, DAY)
    # When the gateway downloads the day's trade bill
    data, name = alipay_gateway.trade_bill(DAY)
    # Then it asked with a signed request for the trade bill of that day, fetched the link once
    assert url_queries(fake_alipay) == [{"bill_type": "trade", "bill_date": "2026-11-26"}]
    [query] = [r for r in fake_alipay.calls("GET", "/gateway.do")]
    assert (query.fields["app_id"], query.fields["sign_type"]) == (APP_ID, "RSA2")
    assert downloads(fake_alipay) == 1
    # And it got the detail file (not the 汇总 summary), byte for byte, under its GBK name
    assert (data, name) == (DETAIL, DETAIL_NAME)
    records = read_statement("alipay", data, name)
    assert [(r.kind, r.payment_ref, r.amount, r.currency) for r in records] == [
        ("charge", "o-17", 29900, "CNY"), ("charge", "o-18", 139900, "CNY"),
        ("refund", "o-17", -5000, "CNY")]


def test_names_flagged_utf8_are_read_too(fake_alipay, alipay_gateway):
    fake_alipay.bills["2026-11-26"] = bill_zip(DETAIL, DAY, gbk_names=False)
    assert alipay_gateway.trade_bill(DAY) == (DETAIL, DETAIL_NAME)


def test_a_bill_not_written_yet_says_retry_later_and_downloads_nothing(fake_alipay,
                                                                       alipay_gateway):
    # Given Alipay has no bill for the day yet (it answers isp.bill_not_exist, signed)
    # When the bill is asked for
    with pytest.raises(BillNotReady) as caught:
        alipay_gateway.trade_bill(DAY)
    # Then the error is transient, names the day and Alipay's code and says to retry later
    assert isinstance(caught.value, TransientPaymentError)
    text = str(caught.value)
    assert "2026-11-26" in text and "isp.bill_not_exist" in text and "retry later" in text
    assert "PRIVATE KEY" not in text and fake_alipay.app_private[40:80] not in text
    # And it was asked once (a business answer is not retried) and nothing was downloaded
    assert (len(url_queries(fake_alipay)), downloads(fake_alipay)) == (1, 0)


def test_an_answer_failing_the_signature_check_is_never_followed(fake_alipay, alipay_gateway):
    # Given an answer signed with a key that is not Alipay's
    fake_alipay.bills["2026-11-26"] = bill_zip(DETAIL, DAY)
    fake_alipay.answer_key = fake_alipay.app_private
    # When the bill is asked for, then the SDK's check refuses it and the link is not fetched
    with pytest.raises(TransientPaymentError, match="signature check"):
        alipay_gateway.trade_bill(DAY)
    assert downloads(fake_alipay) == 0


def test_an_expired_link_is_refused_with_what_to_do_and_without_its_token(fake_alipay,
                                                                          alipay_gateway):
    # Given links that have expired by the time they are fetched
    fake_alipay.bills["2026-11-26"] = bill_zip(DETAIL, DAY)
    fake_alipay.link_ttl = -1.0
    with pytest.raises(BillUnavailable) as caught:
        alipay_gateway.trade_bill(DAY)
    text = str(caught.value)
    assert "HTTP 404" in text and "30 seconds" in text and "run again" in text
    assert "token" not in text and "127.0.0.1" in text  # the host, not the signed link


def test_a_download_that_is_not_a_zip_is_refused(fake_alipay, alipay_gateway):
    fake_alipay.bills["2026-11-26"] = "<html>链接已失效</html>".encode()
    with pytest.raises(BillUnavailable, match="not a ZIP"):
        alipay_gateway.trade_bill(DAY)


def test_a_zip_without_the_detail_file_names_what_it_holds(fake_alipay, alipay_gateway):
    # Given a bill ZIP holding only the summary
    fake_alipay.bills["2026-11-26"] = bill_zip(None, DAY)
    with pytest.raises(BillUnavailable) as caught:
        alipay_gateway.trade_bill(DAY)
    # Then the error names the file it found, its GBK name read right
    assert "no single 业务明细 file" in str(caught.value)
    assert "20880000000000010156_20261126_业务明细(汇总).csv" in str(caught.value)


def test_a_timeout_asks_for_a_fresh_link_and_then_succeeds(fake_alipay):
    # Given the first download hangs: Alipay's host takes the request and never answers (held
    # until the test ends, not delayed for a while: a delay beats the client's timeout only
    # while the machine keeps up). The client's timeout is the one every test here uses (2 s):
    # the signed request for the link gets it too, and at 0.4 s that request itself timed out
    # on a loaded machine (13 of 25 runs at load ~15: "alipay unreachable (TimeoutError)")
    gateway = alipay_gateway_for(fake_alipay)
    fake_alipay.bills["2026-11-26"] = bill_zip(DETAIL, DAY)
    hung = fake_alipay.hold_next(when=lambda method, path: path == DOWNLOAD_PATH)
    try:
        # When the bill is asked for
        data, _ = gateway.trade_bill(DAY)
    finally:
        hung.set()
    # Then the client gave up on the hung download, asked for a second link and downloaded it
    assert data == DETAIL
    assert (len(url_queries(fake_alipay)), downloads(fake_alipay)) == (2, 2)
    first, second = (r.fields["token"] for r in fake_alipay.calls("GET", DOWNLOAD_PATH))
    assert first != second


@pytest.mark.slow  # three downloads waited out, 2 s each
def test_downloads_that_keep_timing_out_end_in_a_transient_error(fake_alipay):
    # Given every download hangs (held until the test ends, not delayed 3 s: a delay beats the
    # timeout only while the machine keeps up). The timeout holds for the signed request for
    # the link too: 2 s, the one every test here uses (at 0.4 s that request timed out on a
    # loaded machine, above; at 1 s it had little more room)
    gateway = alipay_gateway_for(fake_alipay)
    fake_alipay.bills["2026-11-26"] = bill_zip(DETAIL, DAY)
    hung = fake_alipay.hold_next(times=3, when=lambda method, path: path == DOWNLOAD_PATH)
    try:
        with pytest.raises(TransientPaymentError) as caught:
            gateway.trade_bill(DAY)
    finally:
        hung.set()
    assert not isinstance(caught.value, PermanentPaymentError)
    assert "timed out" in str(caught.value) and "transient" in str(caught.value)
    assert downloads(fake_alipay) == 3  # the first try and max_retries=2 more


def test_a_5xx_from_the_download_host_is_retried(fake_alipay, alipay_gateway):
    fake_alipay.bills["2026-11-26"] = bill_zip(DETAIL, DAY)
    fake_alipay.fail_next(status=502, when=lambda method, path: path == DOWNLOAD_PATH)
    assert alipay_gateway.trade_bill(DAY)[0] == DETAIL
    assert downloads(fake_alipay) == 2


def test_a_bill_larger_than_the_cap_is_refused(fake_alipay):
    # Given a cap below the ZIP's size
    bill = bill_zip(DETAIL, DAY)
    gateway = alipay_gateway_for(fake_alipay)
    gateway.bill_max_bytes = len(bill) - 1
    fake_alipay.bills["2026-11-26"] = bill
    with pytest.raises(BillUnavailable, match=f"larger than {len(bill) - 1:,} bytes"):
        gateway.trade_bill(DAY)


def test_a_detail_file_that_unpacks_past_the_cap_is_refused(fake_alipay):
    # Given a small ZIP whose detail file unpacks to more than the cap (it compresses well)
    many = trade_bill([ROWS[0]] * 2000, DAY)
    bill = bill_zip(many, DAY)
    gateway = alipay_gateway_for(fake_alipay)
    gateway.bill_max_bytes = len(bill) + 1000
    assert len(many) > gateway.bill_max_bytes
    fake_alipay.bills["2026-11-26"] = bill
    with pytest.raises(BillUnavailable, match="unpacked"):
        gateway.trade_bill(DAY)
