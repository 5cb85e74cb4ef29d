"""Alipay behind the payment port, with `python-alipay-sdk` (RSA2 signatures both ways).

Alipay trades are paid at once (no separate capture): `checkout` pre-creates the trade (a QR
code for the buyer) with our order id as `out_trade_no`; `capture` confirms with
`alipay.trade.query` that the money arrived; `refund` is `alipay.trade.refund` with our
idempotency key as `out_request_no` (Alipay refunds a request number once, however often it is
sent); `void` is `alipay.trade.close` for a trade the buyer never paid; `trade_bill` downloads
a day's trade bill for reconciliation. The SDK does no retries: timeouts, 5xx and
`ACQ.SYSTEM_ERROR` are retried here with the same parameters, then reported as
`TransientPaymentError`. The app's private key never appears in a message or log.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.error import HTTPError, URLError

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from integrations.payments import alipay_bill
from integrations.payments.statements import MAX_BYTES
from statemachine.currency import exponent
from statemachine.ports import (
    Checkout,
    PaymentResult,
    PermanentPaymentError,
    RefundLine,
    TransientPaymentError,
)

SUCCESS = "10000"
RETRYABLE_CODES = {"20000"}  # service unavailable
RETRYABLE_SUB_CODES = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR", "isp.unknow-error"}
PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")


def _amount_pattern(places: int) -> str:
    """Alipay writes amounts in major units of the trade's currency with at most that
    currency's decimals: yuan "88.88"; a cross-border trade priced in yen or won "1000"."""
    return "[0-9]{1,13}" + (rf"(\.[0-9]{{1,{places}}})?" if places else "")


class BadAmount(PermanentPaymentError):
    """An amount from Alipay that is not the currency's major units with at most its
    decimals: refused, not rounded."""

    def __init__(self, field: str, text: object, currency: str = "CNY"):
        self.field, self.text = field, text
        places = exponent(currency)
        what = "yuan" if currency == "CNY" else currency
        example = "88." + "8" * places if places else "1000"
        decimals = {0: "no decimals", 2: "at most two decimals"}.get(
            places, f"at most {places} decimals")
        super().__init__(f"alipay {field} {text!r} is not an amount in {what} (digits, "
                         f"{decimals}, e.g. {example!r})")


def amount_text(amount: int, currency: str = "CNY") -> str:
    """Minor units → Alipay's amount string: 8888 CNY → "88.88", 1000 JPY → "1000"."""
    places = exponent(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"


def minor_units(text: str, field: str = "amount", currency: str = "CNY") -> int:
    """Alipay's amount string → minor units, exactly ("88.8" CNY → 8880, "1000" JPY → 1000);
    anything else ("88.888", "-1", "NaN", "1000.5" yen) raises BadAmount naming `field`."""
    places = exponent(currency)
    if not isinstance(text, str) or not re.fullmatch(_amount_pattern(places), text):
        raise BadAmount(field, text, currency)
    return int(Decimal(text).scaleb(places))


class AlipayGateway:
    provider = "alipay"

    def __init__(self, app_id: str, app_private_key: str, alipay_public_key: str, *,
                 gateway_url: str, notify_url: str | None = None, max_retries: int = 2,
                 timeout_seconds: float = 20.0, retry_delay: float = 0.5,
                 subject: str = "orderpilot order", bill_max_bytes: int = MAX_BYTES):
        self.client = AliPay(appid=app_id, app_notify_url=notify_url,
                              app_private_key_string=app_private_key,
                              alipay_public_key_string=alipay_public_key, sign_type="RSA2",
                              config=AliPayConfig(timeout=timeout_seconds))
        self.client._gateway = gateway_url  # the SDK's only knob for the endpoint
        self.max_retries, self.retry_delay, self.subject = max_retries, retry_delay, subject
        self.timeout_seconds, self.bill_max_bytes = timeout_seconds, bill_max_bytes

    def checkout(self, order_id: str, amount: int, currency: str, *,
                 idempotency_key: str) -> Checkout:
        _only_cny(currency)
        answer = self.call(lambda: self.client.api_alipay_trade_precreate(
            subject=self.subject, out_trade_no=order_id, total_amount=amount_text(amount)))
        return Checkout(self.provider, answer["out_trade_no"], amount, "CNY", idempotency_key,
                        pay_url=answer.get("qr_code"))

    def capture(self, payment_ref: str, amount: int, currency: str, *,
                idempotency_key: str) -> PaymentResult:
        """Alipay captured when the buyer paid: confirm the trade is paid in full."""
        _only_cny(currency)
        trade = self.call(lambda: self.client.api_alipay_trade_query(out_trade_no=payment_ref))
        if trade.get("trade_status") not in PAID:
            raise PermanentPaymentError(f"alipay trade {payment_ref} is "
                                        f"{trade.get('trade_status')}, not paid")
        if minor_units(trade.get("total_amount"), "total_amount") != amount:
            raise PermanentPaymentError(f"alipay trade {payment_ref} is for "
                                        f"{trade['total_amount']} yuan, not "
                                        f"{amount_text(amount)}")
        return PaymentResult("capture", trade["trade_no"], payment_ref, amount, "CNY",
                             idempotency_key)

    def refund(self, payment_ref: str, amount: int, *, idempotency_key: str,
               lines: tuple[RefundLine, ...] = (), currency: str | None = None
               ) -> PaymentResult:
        """A cross-border trade priced in another currency (its notices' `trans_currency`) is
        refunded in that currency: `refund_currency`, else Alipay reads the amount as yuan;
        the amount is written with that currency's decimals (yen and won have none)."""
        if lines and sum(line.amount for line in lines) != amount:
            raise PermanentPaymentError(f"refund lines add up to "
                                        f"{sum(ln.amount for ln in lines)}, not {amount}")
        paid_in = currency or "CNY"
        extra: dict[str, Any] = {"refund_reason": "orderpilot " + idempotency_key}
        if currency and currency != "CNY":
            extra["refund_currency"] = currency
        if lines:  # Alipay's own line-level refund detail
            extra["goods_detail"] = [{"goods_id": f"line-{ln.line_no}", "goods_name":
                                      f"line {ln.line_no}", "quantity": ln.quantity,
                                      "price": amount_text(ln.amount // ln.quantity, paid_in)}
                                     for ln in lines]
        answer = self.call(lambda: self.client.api_alipay_trade_refund(
            amount_text(amount, paid_in), out_trade_no=payment_ref,
            out_request_no=idempotency_key, **extra))
        done = answer.get("fund_change") == "Y" or self._refund_done(
            payment_ref, idempotency_key, amount, paid_in)
        status = "succeeded" if done else "pending"
        return PaymentResult("refund", idempotency_key, payment_ref, amount, currency or "CNY",
                             idempotency_key, lines, status)

    def void(self, payment_ref: str, *, idempotency_key: str) -> PaymentResult:
        # a trade the buyer never opened (no scan of the QR code) does not exist: nothing to close
        with contextlib.suppress(_NoSuchTrade):
            self.call(lambda: self.client.api_alipay_trade_close(out_trade_no=payment_ref))
        return PaymentResult("void", payment_ref, payment_ref, 0, "CNY", idempotency_key)

    def trade_bill(self, day: date) -> tuple[bytes, str]:
        """The day's trade bill (业务明细 CSV, as the merchant portal gives it) and its file
        name, downloaded through the API: integrations/payments/alipay_bill.py."""
        return alipay_bill.trade_bill(self, day, self.bill_max_bytes)

    def _refund_done(self, payment_ref: str, request_no: str, amount: int,
                     currency: str) -> bool:
        """A repeated refund request answers fund_change=N: ask whether it was done before,
        and for the same amount (a request number reused for another amount is refused)."""
        answer = self.call(lambda: self.client.api_alipay_trade_fastpay_refund_query(
            request_no, out_trade_no=payment_ref))
        if "refund_amount" in answer and minor_units(answer["refund_amount"], "refund_amount",
                                                     currency) != amount:
            raise PermanentPaymentError(f"refund request {request_no} was made for "
                                        f"{answer['refund_amount']} {currency}, not "
                                        f"{amount_text(amount, currency)}")
        return answer.get("refund_status") == "REFUND_SUCCESS"

    def call(self, request: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """One SDK call with retries on what Alipay says may be retried (same parameters)."""
        for attempt in range(self.max_retries + 1):
            try:
                answer = request()
            except HTTPError as error:
                error.close()  # it holds the answer's connection (else a ResourceWarning)
                if error.code < 500 and error.code != 429:
                    raise PermanentPaymentError(f"alipay answered HTTP {error.code}") from None
                problem = _transport_problem(error)
            except (URLError, TimeoutError, ConnectionError, AliPayValidationError) as error:
                problem = _transport_problem(error)
            except AliPayException as error:  # unsigned answer: Alipay's gateway refused us
                raise PermanentPaymentError(f"alipay refused the request: {error}") from None
            else:
                code, sub = str(answer.get("code")), str(answer.get("sub_code", ""))
                if code == SUCCESS:
                    return answer
                if code not in RETRYABLE_CODES and sub not in RETRYABLE_SUB_CODES:
                    raise _business_error(answer)
                problem = f"alipay {code} {sub}".strip()
            if attempt < self.max_retries:
                time.sleep(self.retry_delay * 2 ** attempt)
        raise TransientPaymentError(f"{problem}; retry with the same request number")


class _NoSuchTrade(PermanentPaymentError):
    pass


def _business_error(answer: dict[str, Any]) -> PermanentPaymentError:
    sub = answer.get("sub_code", "")
    text = f"alipay {answer.get('code')} {sub}: {answer.get('sub_msg') or answer.get('msg')}"
    return _NoSuchTrade(text) if sub.endswith("TRADE_NOT_EXIST") else PermanentPaymentError(text)


def _transport_problem(error: Exception) -> str:
    if isinstance(error, HTTPError):
        return f"alipay answered HTTP {error.code}"
    if isinstance(error, AliPayValidationError):
        return "alipay answer failed its signature check (outcome unknown)"
    return f"alipay unreachable ({error.__class__.__name__})"


def _only_cny(currency: str) -> None:
    if currency != "CNY":
        raise PermanentPaymentError(f"alipay settles CNY only (got {currency})")
