"""A local stand-in for Alipay's open API gateway (`gateway.do`) and its notify sender.

It checks every request's RSA2 signature with the app's public key, answers the documented
JSON (`alipay_trade_refund_response` …) signed with "Alipay's" private key, and builds the
asynchronous notifications Alipay posts to the shop (form fields, RSA2 over the sorted fields
without `sign` / `sign_type`). It hands out trade-bill download links (valid 30 s) and serves
the ZIPs put in `bills`. Keys are generated per test session; nothing here is a real key.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from Cryptodome.Hash import SHA256
from Cryptodome.PublicKey import RSA
from Cryptodome.Signature import PKCS1_v1_5

from tests.fakes.http import Answer, FakeProvider

BEIJING = timezone(timedelta(hours=8))
APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"
DOWNLOAD_PATH = "/downloadBillFile.resource"


@lru_cache(maxsize=2)
def key_pair(name: str) -> tuple[str, str]:
    """(private PEM, public PEM) generated once per process for `name` (app / alipay)."""
    key = RSA.generate(2048)
    return key.export_key().decode(), key.publickey().export_key().decode()


def sign(private_pem: str, text: str) -> str:
    digest = SHA256.new(text.encode())
    return base64.b64encode(PKCS1_v1_5.new(RSA.import_key(private_pem)).sign(digest)).decode()


def verify(public_pem: str, text: str, signature: str) -> bool:
    digest = SHA256.new(text.encode())
    return PKCS1_v1_5.new(RSA.import_key(public_pem)).verify(digest, base64.b64decode(signature))


# Amounts in major units of the trade's currency, with that currency's decimals: yuan
# "88.88", a cross-border trade priced in yen "1000" (Alipay: the format must suit the currency)
PLACES = {"JPY": 0, "KRW": 0, "KWD": 3}


def _amount(minor: int, currency: str | None = None) -> str:
    places = PLACES.get(currency or "CNY", 2)
    return f"{minor / 10 ** places:.{places}f}"


def _minor(text: str, currency: str | None = None) -> int | None:
    """An amount a request sent → minor units; None if it is not written for `currency` (more
    decimals than it has: Alipay refuses the request)."""
    places = PLACES.get(currency or "CNY", 2)
    whole, _, decimals = text.partition(".")
    if not whole.isdigit() or len(decimals) > places or (decimals and not decimals.isdigit()):
        return None
    return int(whole) * 10 ** places + int(decimals.ljust(places, "0") or 0)


class FakeAlipay(FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.app_private, self.app_public = key_pair("app")
        self.alipay_private, self.alipay_public = key_pair("alipay")
        self.trades: dict[str, dict[str, Any]] = {}
        self._trade_nos = itertools.count(1)
        self._notify_ids = itertools.count(1)
        self.bills: dict[str, bytes] = {}  # bill_date → the ZIP its download link serves
        self.links: dict[str, tuple[str, float]] = {}  # token → (bill_date, issued at)
        self.link_ttl = 30.0  # Alipay: "It expires after 30 seconds"
        self.answer_key = self.alipay_private  # set to another key to forge the answers

    @property
    def gateway(self) -> str:
        return f"{self.url}/gateway.do"

    # --- what the buyer does (test controls) --------------------------------------------------

    def pay(self, out_trade_no: str, total: int | None = None,
            currency: str | None = None) -> dict[str, Any]:
        """The buyer scans the QR code and pays (a trade is created if none was pre-created;
        `currency`: a cross-border trade priced in it, its notices' `trans_currency`)."""
        with self._lock:
            trade = self.trades.get(out_trade_no) or self._new_trade(out_trade_no, total or 0)
            if currency:
                trade["currency"] = currency
            if trade["status"] not in ("CREATED", "WAIT_BUYER_PAY"):
                raise ValueError(f"trade {out_trade_no} is {trade['status']}: cannot be paid")
            trade["status"] = "TRADE_SUCCESS"
            return dict(trade)

    def portal_refund(self, out_trade_no: str, request_no: str, amount: int) -> None:
        """Staff refund `amount` by hand in the merchant portal (the trade's refunded total
        grows; Alipay then notifies it, see `notify(refund=...)`)."""
        with self._lock:
            trade = self.trades[out_trade_no]
            if amount > trade["total"] - trade["refunded"]:
                raise ValueError(f"trade {out_trade_no} cannot refund {amount} more")
            trade["refunds"][request_no] = amount
            trade["refunded"] += amount
            if trade["refunded"] == trade["total"]:
                trade["status"] = "TRADE_CLOSED"

    def notify(self, out_trade_no: str, status: str, *, at: datetime | None = None,
               refund: tuple[str, int] | None = None, forge: bool = False,
               notify_id: str | None = None, out_biz_no: str | None = None) -> dict[str, str]:
        """The form Alipay posts for a trade event (TRADE_SUCCESS, TRADE_CLOSED …), signed. A
        refund's notice names its request number (`out_biz_no`), or `out_biz_no` if given
        ("": none, as for a refund made in the merchant portal)."""
        trade = self.trades[out_trade_no]
        when = (at or datetime.now(BEIJING)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        form = {"notify_time": when, "notify_type": "trade_status_sync",
                "notify_id": notify_id or f"ac0509952473069{next(self._notify_ids):06d}",
                "app_id": APP_ID, "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
                "trade_no": trade["trade_no"], "out_trade_no": out_trade_no,
                "buyer_id": "2088102122524333", "seller_id": SELLER_ID, "trade_status": status,
                "total_amount": _amount(trade["total"], trade.get("currency")),
                "receipt_amount": _amount(trade["total"], trade.get("currency")),
                "subject": "orderpilot order", "gmt_create": when, "gmt_payment": when}
        if trade.get("currency"):
            form["trans_currency"] = trade["currency"]
        if refund is not None:
            form |= {"out_biz_no": refund[0] if out_biz_no is None else out_biz_no,
                     "refund_fee": _amount(refund[1], trade.get("currency")), "gmt_refund": when}
            form = {k: v for k, v in form.items() if v != ""}
        if status == "TRADE_CLOSED":
            form["gmt_close"] = when
        signed = "&".join(f"{k}={v}" for k, v in sorted(form.items()) if k != "sign_type")
        form["sign"] = sign(self.app_private if forge else self.alipay_private, signed)
        return form

    # --- the API ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, fields: dict[str, str],
               headers: dict[str, str]) -> Answer:
        if path == DOWNLOAD_PATH:
            return self._download(fields)
        name = fields.get("method", "")
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "sign")
        if fields.get("app_id") != APP_ID or not verify(self.app_public, unsigned,
                                                        fields.get("sign", "")):
            return _unsigned({"code": "40002", "msg": "Invalid Arguments",
                              "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"})
        biz = json.loads(fields.get("biz_content") or "{}")
        handler = {"alipay.trade.precreate": self._precreate, "alipay.trade.query": self._query,
                   "alipay.trade.refund": self._refund, "alipay.trade.close": self._close,
                   "alipay.trade.fastpay.refund.query": self._refund_query,
                   "alipay.data.dataservice.bill.downloadurl.query": self._bill_url}.get(name)
        if handler is None:
            return _unsigned({"code": "40004", "msg": "Business Failed",
                              "sub_code": "isv.invalid-method"})
        return self._signed(name, handler(biz))

    def _precreate(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz["out_trade_no"]) or self._new_trade(
            biz["out_trade_no"], _minor(biz["total_amount"]))
        return _ok(out_trade_no=trade["out_trade_no"],
                   qr_code=f"https://qr.alipay.com/bax{trade['trade_no'][-8:]}")

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None or trade["status"] == "CREATED":
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return _ok(trade_no=trade["trade_no"], out_trade_no=trade["out_trade_no"],
                   trade_status=trade["status"],
                   total_amount=_amount(trade["total"], trade.get("currency")),
                   buyer_logon_id="159****5620")

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        request_no = biz.get("out_request_no", "")
        amount = _minor(biz["refund_amount"], biz.get("refund_currency"))
        if amount is None:
            return _failed("ACQ.INVALID_PARAMETER", "参数有误：退款金额格式不正确")
        if request_no in trade["refunds"]:  # the same request number refunds once
            return self._refund_answer(trade, fund_change="N")
        if trade["status"] not in ("TRADE_SUCCESS",):
            return _failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if amount > trade["total"] - trade["refunded"]:
            return _failed("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        trade["refunds"][request_no] = amount
        trade["refund_currencies"][request_no] = biz.get("refund_currency", "CNY")
        trade["refunded"] += amount
        if trade["refunded"] == trade["total"]:
            trade["status"] = "TRADE_CLOSED"
        return self._refund_answer(trade, fund_change="Y")

    def _refund_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        amount = trade["refunds"].get(biz["out_request_no"]) if trade else None
        if amount is None:
            return _ok(out_request_no=biz["out_request_no"])
        currency = trade.get("currency")
        return _ok(out_request_no=biz["out_request_no"], refund_amount=_amount(amount, currency),
                   total_amount=_amount(trade["total"], currency),
                   refund_status="REFUND_SUCCESS")

    def _close(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None or trade["status"] == "CREATED":  # never scanned: no trade yet
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade["status"] != "WAIT_BUYER_PAY":
            return _failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade["status"] = "TRADE_CLOSED"
        return _ok(trade_no=trade["trade_no"], out_trade_no=trade["out_trade_no"])

    def _bill_url(self, biz: dict[str, Any]) -> dict[str, Any]:
        day = biz.get("bill_date", "")
        if biz.get("bill_type") != "trade":
            return _failed("isv.invalid-arguments", "账单类型错误")
        if day not in self.bills:
            return _failed("isp.bill_not_exist", "账单不存在")
        token = secrets.token_hex(8)
        self.links[token] = (day, time.monotonic())
        return _ok(bill_download_url=f"{self.url}{DOWNLOAD_PATH}?bizType=trade&userId="
                                     f"{SELLER_ID}&fileType=csv.zip&bizDates={day.replace('-', '')}"
                                     f"&downloadFileName={day}.csv.zip&token={token}")

    def _download(self, fields: dict[str, str]) -> Answer:
        """The bill ZIP for a link handed out less than `link_ttl` ago; else a 404 (our
        stand-in's choice: what Alipay answers for an expired link is not documented)."""
        day, issued = self.links.get(fields.get("token", ""), ("", 0.0))
        if not day or time.monotonic() - issued > self.link_ttl:
            return 404, {"content-type": "text/html;charset=utf-8"}, "链接已失效".encode()
        return 200, {"content-type": "application/oct-stream"}, self.bills[day]

    # --- helpers ------------------------------------------------------------------------------

    def scan(self, out_trade_no: str) -> None:
        """The buyer opens the QR code: the trade exists, waiting for payment."""
        with self._lock:
            self.trades[out_trade_no]["status"] = "WAIT_BUYER_PAY"

    def _new_trade(self, out_trade_no: str, total: int) -> dict[str, Any]:
        trade = {"out_trade_no": out_trade_no, "total": total, "status": "CREATED",
                 "trade_no": f"2026111122001{next(self._trade_nos):011d}", "refunds": {},
                 "refund_currencies": {}, "refunded": 0}
        self.trades[out_trade_no] = trade
        return trade

    def _refund_answer(self, trade: dict[str, Any], fund_change: str) -> dict[str, Any]:
        return _ok(trade_no=trade["trade_no"], out_trade_no=trade["out_trade_no"],
                   buyer_logon_id="159****5620", fund_change=fund_change,
                   refund_fee=_amount(trade["refunded"], trade.get("currency")))

    def _signed(self, method: str, inner: dict[str, Any]) -> Answer:
        text = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        name = method.replace(".", "_") + "_response"
        body = f'{{"{name}":{text},"sign":"{sign(self.answer_key, text)}"}}'
        return 200, {"content-type": "application/json;charset=utf-8"}, body.encode()


def _ok(**fields: Any) -> dict[str, Any]:
    return {"code": "10000", "msg": "Success", **fields}


def _failed(sub_code: str, sub_msg: str) -> dict[str, Any]:
    return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}


def _unsigned(error: dict[str, Any]) -> Answer:
    body = json.dumps({"error_response": error}, ensure_ascii=False).encode()
    return 200, {"content-type": "application/json;charset=utf-8"}, body
