"""Providers' settlement files → `SettlementRecord`s, for reconciliation.

- **Alipay** trade bill (业务明细, `bill_type=trade`, downloaded from the merchant portal or
  through `alipay.data.dataservice.bill.downloadurl.query`): GBK (or UTF-8) CSV, `#` lines
  above and below the table, values often followed by a tab. `交易` rows are charges
  (ref = 支付宝交易号), `退款` rows refunds (ref = 退款批次号/请求号, our request number);
  商户订单号 is the payment (our `o-42`). Amounts are 订单金额（元）, the fee is 服务费（元）
  (negative when charged). Times are Beijing time.
- **Stripe** itemized balance report (`balance_change_from_activity.itemized.*`, CSV: gross / fee
  in major units, `created_utc`) or balance transactions as the API lists them (JSON).

Bad content is refused as a whole, naming the line and the column; nothing is half read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.payments.stripe_gateway import KIND_OF_CATEGORY, record_of
from statemachine.currency import exponent
from statemachine.errors import InvalidInput
from statemachine.ports import SettlementRecord

BEIJING = timezone(timedelta(hours=8))
ALIPAY_KINDS = {"交易": "charge", "退款": "refund"}
ALIPAY_NEEDS = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "订单金额（元）",
                "服务费（元）", "退款批次号/请求号")
STRIPE_NEEDS = ("balance_transaction_id", "currency", "gross", "fee", "reporting_category",
                "source_id")
MAX_BYTES = 50 * 1024 * 1024


def read_statement(provider: str, data: bytes, name: str = "file") -> list[SettlementRecord]:
    """The records of a provider's settlement file (`provider`: alipay or stripe)."""
    readers: dict[str, Callable[[bytes, str], list[SettlementRecord]]] = {
        "alipay": alipay_bill, "stripe": stripe_report}
    if provider not in readers:
        raise InvalidInput({"provider": f"expected alipay or stripe (got {provider!r})"})
    if len(data) > MAX_BYTES:
        raise InvalidInput({name: f"larger than {MAX_BYTES // 2 ** 20} MiB"})
    return readers[provider](data, name)


def alipay_bill(data: bytes, name: str = "file") -> list[SettlementRecord]:
    """Alipay's trade bill (业务明细) → records, CNY."""
    rows = _rows(_table(_text(data, name)), name, "支付宝交易号", ALIPAY_NEEDS)
    records = []
    for line, row in rows:
        cell = _Cells(name, line, row)
        kind = ALIPAY_KINDS.get(cell.text("业务类型"))
        if kind is None:
            raise cell.bad("业务类型", f"expected 交易 or 退款 (got {row['业务类型']!r})")
        amount = abs(cell.money("订单金额（元）", "CNY"))
        order_ref = cell.text("商户订单号") or None
        ref = cell.text("支付宝交易号") if kind == "charge" else cell.text("退款批次号/请求号")
        if not ref:
            raise cell.bad("退款批次号/请求号", "a refund row needs its request number")
        records.append(SettlementRecord(
            kind, ref, order_ref, amount if kind == "charge" else -amount, "CNY",
            -cell.money("服务费（元）", "CNY"), cell.when("完成时间", BEIJING)))
    return records


def stripe_report(data: bytes, name: str = "file") -> list[SettlementRecord]:
    """Stripe's itemized balance report (CSV) or balance transactions (JSON) → records."""
    text = _text(data, name)
    if text.lstrip().startswith(("{", "[")):
        return _stripe_json(text, name)
    records = []
    for line, row in _rows(text, name, "balance_transaction_id", STRIPE_NEEDS):
        cell = _Cells(name, line, row)
        kind = KIND_OF_CATEGORY.get(cell.text("reporting_category"))
        if kind is None:  # payouts, transfers, top-ups: not a sale's movement
            continue
        currency = cell.text("currency").upper()
        records.append(SettlementRecord(
            kind, cell.text("source_id") or cell.text("balance_transaction_id"),
            row.get("payment_intent_id", "").strip() or None,
            cell.money("gross", currency), currency, cell.money("fee", currency),
            cell.when("created_utc" if "created_utc" in row else "created", UTC)))
    return records


def _stripe_json(text: str, name: str) -> list[SettlementRecord]:
    try:
        doc = json.loads(text)
        items = doc["data"] if isinstance(doc, dict) else doc
        return [r for item in items if (r := record_of(item)) is not None]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidInput({name: f"not a list of Stripe balance transactions ({error})"}) \
            from None


def _text(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Alipay writes GBK; GB18030 is its superset
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput({name: "neither UTF-8 nor GBK text"})


def _table(text: str) -> str:
    """The CSV table of an Alipay bill: the lines between its `#` header and footer."""
    lines = text.splitlines()
    body = [ln for ln in lines if not ln.startswith("#")]
    return "\n".join(ln.replace("(", "（").replace(")", "）") if i == 0 else ln
                     for i, ln in enumerate(body))


def _rows(text: str, name: str, first: str, needs: tuple[str, ...]
          ) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if not header or header[0] != first:
        raise InvalidInput({name: f"no table starting with the column {first!r}"})
    missing = [n for n in needs if n not in header]
    if missing:
        raise InvalidInput({name: f"columns missing: {', '.join(missing)}"})
    for number, values in enumerate(reader, start=2):
        if any(v.strip() for v in values):
            yield number, dict(zip(header, values, strict=False))


class _Cells:
    """One row's values, read with errors that name the file, line and column."""

    def __init__(self, name: str, line: int, row: dict[str, Any]):
        self.name, self.line, self.row = name, line, row

    def bad(self, column: str, problem: str) -> InvalidInput:
        return InvalidInput({f"{self.name} line {self.line} {column}": problem})

    def text(self, column: str) -> str:
        return str(self.row.get(column) or "").strip().strip("`").strip()

    def money(self, column: str, currency: str) -> int:
        raw = self.text(column) or "0"
        try:
            value = Decimal(raw.replace(",", "")) * 10 ** exponent(currency)
        except InvalidOperation:
            raise self.bad(column, f"not an amount ({raw!r})") from None
        if not value.is_finite() or value != value.to_integral_value():
            raise self.bad(column, f"{raw} is not a whole number of {currency} minor units")
        return int(value)

    def when(self, column: str, zone: timezone) -> datetime:
        raw = self.text(column)
        for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S"):
            try:
                return datetime.strptime(raw, layout).replace(tzinfo=zone).astimezone(UTC)
            except ValueError:
                continue
        raise self.bad(column, f"expected a time like 2026-11-26 14:03:00 (got {raw!r})")
