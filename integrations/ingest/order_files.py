"""Order files → import records: JSON Lines (one order per line), CSV (one row per order line),
or WooCommerce's REST order JSON. Parsing only; `ingest/imports.py` applies the records.

The generic record (JSON Lines; money in major units as the exports show it, "19.99"):

    {"external_id": "PDD-2611-0001", "buyer_id": "pdd-8812", "currency": "CNY",
     "lines": [{"sku": "TEA-01", "quantity": 2, "unit_price": "39.90"}],
     "shipping_address": {"recipient": "王芳", "phone": "13912345678", "province": "浙江省",
                          "city": "杭州市", "district": "西湖区", "street": "文三路 18 号"},
     "paid": {"amount": "79.80", "payment_ref": "wx-4200001"}, "ip": "…", "email": "…",
     "created_at": "2026-11-10T20:15:00+08:00"}

`created_at` (optional): when the buyer placed the order, ISO 8601 with its UTC offset; the
order keeps it (refund triage reads an order's age and the buyer's paid orders before it).

CSV: the same fields flattened, one row per order line; rows with the same external_id are one
order: external_id, buyer_id, sku, quantity, unit_price, recipient, phone, province, city,
district, street, postal_code, country, currency, paid_amount, payment_ref, ip, email,
created_at.
A platform export with other headers (Chinese ones, say) is read through a column map
`{"订单号": "external_id", "商品编码": "sku", …}`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "street",
                  "postal_code", "country")


@dataclass
class OrderRecord:
    """One order to import, with where it came from (rows or line numbers) for the report."""

    rows: list[int]
    data: dict[str, Any] = field(default_factory=dict)
    problem: dict[str, str] | None = None  # the file itself was unreadable here

    @property
    def external_id(self) -> str:
        return str(self.data.get("external_id") or "")


def read_orders(path: Path, kind: str | None = None,
                columns: Mapping[str, str] | None = None) -> list[OrderRecord]:
    """Every order in the file, in file order; unreadable rows become records with a problem."""
    kind = kind or _kind_of(path)
    if kind == "csv":
        return list(_csv(path, columns or {}))
    if kind == "woocommerce":
        return [_woo(n, o) for n, o in _json_items(path)]
    return [_jsonl(n, line) for n, line in _lines(path)]


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise ValueError(f"{path.name}: expected .jsonl or .csv (or pass the format)")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _jsonl(number: int, line: str) -> OrderRecord:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        return OrderRecord([number], {}, {"line": f"not JSON: {error.msg}"})
    if not isinstance(data, dict):
        return OrderRecord([number], {}, {"line": "expected a JSON object per line"})
    return OrderRecord([number], data)


def _csv(path: Path, columns: Mapping[str, str]) -> Iterator[OrderRecord]:
    orders: dict[str, OrderRecord] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):  # row 1: the header
            values = {columns.get(k, k): (v or "").strip() for k, v in row.items() if k}
            key = values.get("external_id") or f"row-{number}"
            record = orders.setdefault(key, OrderRecord([], _order_part(values)))
            record.rows.append(number)
            record.data["lines"].append({"sku": values.get("sku", ""),
                                         "quantity": values.get("quantity", ""),
                                         "unit_price": values.get("unit_price", "")})
    yield from orders.values()


def _order_part(values: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: values[k] for k in ("external_id", "buyer_id", "currency", "ip",
                                                    "email", "created_at") if values.get(k)}
    data["shipping_address"] = {k: values[k] for k in ADDRESS_FIELDS if values.get(k)}
    if values.get("paid_amount"):
        data["paid"] = {"amount": values["paid_amount"],
                        "payment_ref": values.get("payment_ref", "")}
    data["lines"] = []
    return data


def _json_items(path: Path) -> Iterator[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8-sig").strip()
    if text.startswith("["):
        yield from enumerate(json.loads(text), start=1)
    else:
        yield from ((n, json.loads(line)) for n, line in _lines(path))


def _woo(number: int, order: Any) -> OrderRecord:
    """A WooCommerce REST order (wc/v3 `GET /orders`) as a generic record."""
    if not isinstance(order, dict):
        return OrderRecord([number], {}, {"order": "expected a WooCommerce order object"})
    ship, bill = order.get("shipping") or {}, order.get("billing") or {}
    data: dict[str, Any] = {
        "external_id": f"woo-{order.get('id')}", "currency": order.get("currency"),
        "buyer_id": f"woo-{order['customer_id']}" if order.get("customer_id")
        else f"woo-guest-{order.get('id')}",
        "ip": order.get("customer_ip_address") or None, "email": bill.get("email") or None,
        "lines": [{"sku": item.get("sku") or "", "quantity": item.get("quantity"),
                   "unit_price": str(item.get("price", ""))}
                  for item in order.get("line_items") or []],
        "shipping_address": {k: v for k, v in {
            "recipient": " ".join(p for p in (ship.get("last_name"), ship.get("first_name"))
                                  if p),
            "phone": ship.get("phone") or bill.get("phone"), "province": ship.get("state"),
            "city": ship.get("city"), "street": " ".join(p for p in (
                ship.get("address_1"), ship.get("address_2")) if p),
            "postal_code": ship.get("postcode"), "country": ship.get("country")}.items() if v}}
    if order.get("date_created_gmt"):  # UTC, written without its offset
        data["created_at"] = f"{order['date_created_gmt']}+00:00"
    if order.get("date_paid") and order.get("status") in ("processing", "completed"):
        data["paid"] = {"amount": str(order.get("total")),
                        "payment_ref": order.get("transaction_id") or f"woo-{order.get('id')}"}
    return OrderRecord([number], data)
