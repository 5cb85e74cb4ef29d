"""Providers' settlement files read as they are handed out: Alipay's GBK trade bill (业务明细),
Stripe's itemized balance report (CSV) and balance transactions (JSON). Bad content is refused
naming the line and the column."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from integrations.payments.statements import read_statement
from statemachine.errors import InvalidInput
from tests.fakes.alipay_bill import BEIJING, BillRow, trade_bill

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
STRIPE_CSV = (
    "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,"
    "payment_intent_id\n"
    "txn_1,2026-11-26 02:00:00,cny,1399.00,47.87,1351.13,charge,ch_1,pi_1\n"
    "txn_2,2026-11-26 03:00:00,cny,-200.00,0.00,-200.00,refund,re_1,pi_1\n"
    "txn_3,2026-11-26 04:00:00,jpy,5000,0,5000,charge,ch_2,pi_2\n"
    "txn_4,2026-11-26 05:00:00,cny,-1351.13,0.00,-1351.13,payout,po_1,\n")


def test_alipay_trade_bill_in_gbk_reads_trades_and_refunds_in_fen_and_utc():
    # Given the bill of 26 Nov 2026 as Alipay hands it out (GBK, # lines, tab-suffixed ids)
    data = (FIXTURES / "alipay" / "trade_bill_20261126.csv").read_bytes()
    # When read
    records = read_statement("alipay", data, "bill")
    # Then trades are charges under Alipay's trade number, refunds under our request number,
    # amounts in fen, the service fee charged (returned on a refund), Beijing time → UTC
    got = [(r.kind, r.ref, r.payment_ref, r.amount, r.fee, r.at) for r in records]
    assert got == [
        ("charge", "2026112622001456781000012345", "o-101", 29900, 179,
         datetime(2026, 11, 26, 1, 12, 41, tzinfo=UTC)),
        ("charge", "2026112622001456781000012346", "o-102", 139900, 839,
         datetime(2026, 11, 26, 5, 5, 2, tzinfo=UTC)),
        ("refund", "refund:c-7", "o-101", -5000, -30,
         datetime(2026, 11, 26, 12, 30, tzinfo=UTC)),
        ("charge", "2026112622001456781000012399", "TB-88123", 6800, 41,
         datetime(2026, 11, 26, 15, 59, 58, tzinfo=UTC))]
    assert {r.currency for r in records} == {"CNY"}


def test_a_utf8_bill_with_ascii_brackets_reads_the_same():
    rows = [BillRow("2026112622001", "o-1", "交易", 8888,
                    datetime(2026, 11, 26, 8, tzinfo=BEIJING), "茶叶 龙井 250克")]
    data = trade_bill(rows, date(2026, 11, 26), encoding="utf-8").decode()
    data = data.replace("（元）", "(元)")
    [record] = read_statement("alipay", data.encode("utf-8"))
    assert (record.amount, record.fee) == (8888, 53)


@pytest.mark.parametrize(("change", "field", "says"), [
    (("299.00,299.00", "2x9.00,299.00"), "bill line 2 订单金额（元）", "not an amount"),
    (("299.00,299.00", "299.001,299.00"), "bill line 2 订单金额（元）", "whole number"),
    (("2026-11-26 09:12:41,,", "26/11/2026,,"), "bill line 2 完成时间", "expected a time"),
    ((",交易,小米", ",转账,小米"), "bill line 2 业务类型", "交易 or 退款"),
    (("refund:c-7\t", ""), "bill line 4 退款批次号/请求号", "request number"),
    (("服务费（元）,", "手续费,"), "bill", "columns missing: 服务费（元）"),
])
def test_a_bad_bill_is_refused_naming_the_line_and_column(change, field, says):
    text = (FIXTURES / "alipay" / "trade_bill_20261126.csv").read_bytes().decode("gbk")
    assert change[0] in text
    bad = text.replace(change[0], change[1], 1).encode("gbk")
    with pytest.raises(InvalidInput) as refused:
        read_statement("alipay", bad, "bill")
    assert says in refused.value.problems[field]


def test_a_file_that_is_no_bill_is_refused():
    with pytest.raises(InvalidInput) as refused:
        read_statement("alipay", "交易号,金额\n1,2\n".encode("gbk"), "bill")
    assert "支付宝交易号" in refused.value.problems["bill"]
    with pytest.raises(InvalidInput) as refused:
        read_statement("alipay", b"\xff\xfe\x00\xd8 not text", "bill")
    assert "neither UTF-8 nor GBK" in refused.value.problems["bill"]
    with pytest.raises(InvalidInput) as refused:
        read_statement("paypal", b"", "bill")
    assert "alipay or stripe" in refused.value.problems["provider"]


def test_stripe_itemized_report_reads_minor_units_and_skips_payouts():
    records = read_statement("stripe", STRIPE_CSV.encode())
    got = [(r.kind, r.ref, r.payment_ref, r.amount, r.currency, r.fee) for r in records]
    assert got == [("charge", "ch_1", "pi_1", 139900, "CNY", 4787),
                   ("refund", "re_1", "pi_1", -20000, "CNY", 0),
                   ("charge", "ch_2", "pi_2", 5000, "JPY", 0)]
    assert records[0].at == datetime(2026, 11, 26, 2, tzinfo=UTC)


def test_stripe_balance_transactions_as_the_api_lists_them():
    listed = {"object": "list", "data": [
        {"id": "txn_1", "object": "balance_transaction", "amount": 4999, "currency": "cny",
         "fee": 170, "net": 4829, "created": 1795910400, "reporting_category": "charge",
         "type": "charge", "source": {"id": "ch_1", "payment_intent": "pi_1"}},
        {"id": "txn_2", "object": "balance_transaction", "amount": -4999, "currency": "cny",
         "fee": 1500, "created": 1795914000, "reporting_category": "dispute",
         "type": "adjustment", "source": "dp_1"}]}
    records = read_statement("stripe", json.dumps(listed).encode())
    assert [(r.kind, r.ref, r.payment_ref, r.amount, r.fee) for r in records] == [
        ("charge", "ch_1", "pi_1", 4999, 170), ("dispute", "dp_1", None, -4999, 1500)]
    with pytest.raises(InvalidInput):
        read_statement("stripe", b'{"data": [{"id": "txn_1"}]}', "report")
