"""Import orders from files (platform exports) through the same service functions as the API.

Each record is checked whole before anything is written (lines, address, money, the paid
amount against the goods), then placed with the idempotency key `import:<source>:<external
id>` — importing the same file again places nothing twice — and, when the export says it was
paid, paid. A record that cannot be imported writes nothing and reports every problem, named
the way the file names it (row numbers for CSV, line numbers for JSON Lines). The order keeps
the export's `created_at` (when the buyer placed it); its hold and history run at the import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integrations.ingest.order_files import OrderRecord
from integrations.service import orders
from integrations.service.buyer_ids import imported_buyer
from integrations.service.context import Context
from integrations.service.idempotency import replay_or_none
from integrations.service.input_checks import provider_ref_problem
from integrations.service.inputs import PlaceOrder, check_when, parse
from statemachine import ids
from statemachine.currency import minor, split_total
from statemachine.errors import InvalidInput, OrderPilotError
from statemachine.order import takes_payment
from statemachine.order_aggregate import OrderState


@dataclass
class Imported:
    """The outcome of one record: placed / paid / already imported / held / refused / error."""

    rows: list[int]
    external_id: str
    status: str
    order_id: str | None = None
    problems: dict[str, str] = field(default_factory=dict)


def import_record(ctx: Context, record: OrderRecord, source: str, actor: str,
                  now: datetime | None = None) -> Imported:
    """Import one order at `now` (default: the context's clock); never raises for bad data
    (the problems are in the result)."""
    ext = record.external_id
    if record.problem:
        return Imported(record.rows, ext, "error", problems=record.problem)
    now = now or ctx.clock.now()
    try:
        data = record.data
        with ctx.tx(readonly=True) as tx:
            buyer = data.get("buyer_id") or imported_buyer(
                tx, source, data.get("email"), data.get("shipping_address") or {})
            prior = replay_or_none(tx, _key(source, record), "place", None)
        request, paid, placed_at = _request(ctx, record, source, now, buyer)
        key = request.idempotency_key or ""
        if prior is not None:
            return Imported(record.rows, ext, "already imported", ids.ORDER(prior))
        # sold on the platform already: a contradicting address is held for review
        number = orders.place_order(ctx, request, actor, now, placed_at=placed_at,
                                    contradictions="review")
        return _pay(ctx, record, number, paid, key, actor, now)
    except OrderPilotError as error:
        problems = error.problems if isinstance(error, InvalidInput) else {"order": str(error)}
        return Imported(record.rows, ext, "error", problems=problems)


def _key(source: str, record: OrderRecord) -> str:
    return f"import:{source}:{record.external_id or '-'}"


def _request(ctx: Context, record: OrderRecord, source: str, now: datetime,
             buyer: str | None) -> tuple[PlaceOrder, Any, datetime | None]:
    data = record.data
    currency = str(data.get("currency") or ctx.settings.currency)
    problems: dict[str, str] = {}
    if not record.external_id:
        problems["external_id"] = "required: it makes a second import of the file harmless"
    lines = _lines(data.get("lines") or [], currency, problems)
    paid = _paid(data.get("paid"), currency, sum(ln["quantity"] * ln["unit_price"]
                                                 for ln in lines), problems)
    address = data.get("shipping_address") or {}
    if not buyer:
        problems["buyer_id"] = "required (or an email or a shipping_address.phone to derive " \
                               "it from)"
    placed_at = _placed_at(data.get("created_at"), now, problems)
    try:  # checked even when other fields are bad, so the report names every problem
        request = parse(PlaceOrder, {
            "buyer_id": buyer or "unknown", "lines": lines or [{}], "currency": currency,
            "shipping_address": address, "ip": data.get("ip") or None,
            "email": data.get("email") or None,
            "idempotency_key": _key(source, record)})
    except InvalidInput as error:
        lines_known_bad = any(k.startswith("lines") for k in problems)
        problems = {**{k: v for k, v in error.problems.items()
                       if not (lines_known_bad and k.startswith("lines"))}, **problems}
    if problems:
        raise InvalidInput(problems)
    return request, paid, placed_at


def _placed_at(value: Any, now: datetime, problems: dict[str, str]) -> datetime | None:
    """When the buyer placed the order, as the export says (`created_at`, ISO 8601 with its
    offset), in UTC; None when the export does not say (the order is placed at the import).
    A time without a zone could be any of 24 hours, and one after `now` has not happened."""
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        problems["created_at"] = "expected an ISO 8601 time with its UTC offset, e.g. " \
                                 f"2026-11-10T20:15:00+08:00 (got {value!r})"
    elif when.tzinfo is None:
        problems["created_at"] = f"{value!r} has no UTC offset (+08:00, Z): it could be any " \
                                 "of 24 hours"
    elif when > now:
        problems["created_at"] = f"{value!r} is after the time of the import " \
                                 f"({now.isoformat()}): an order cannot be placed in the future"
    else:
        try:
            return check_when("created_at", when).astimezone(UTC)
        except InvalidInput as error:
            problems.update(error.problems)
    return None


def _lines(raw: list[Any], currency: str, problems: dict[str, str]) -> list[dict[str, Any]]:
    """Lines with minor-unit prices; a `line_total` is split over the quantity exactly."""
    lines: list[dict[str, Any]] = []
    if not raw:
        problems["lines"] = "at least one line is required"
    for i, line in enumerate(raw):
        try:
            quantity = int(str(line.get("quantity", "")).strip())
            if "line_total" in line:
                total = minor(line["line_total"], currency, f"lines[{i}].line_total")
                lines += split_total(str(line.get("sku", "")), quantity, total)
            else:
                lines.append({"sku": str(line.get("sku", "")), "quantity": quantity,
                              "unit_price": minor(line.get("unit_price", ""), currency,
                                                  f"lines[{i}].unit_price")})
        except InvalidInput as error:  # before ValueError: InvalidInput is one
            problems.update(error.problems)
        except ValueError:
            problems[f"lines[{i}].quantity"] = f"expected a whole number (got " \
                                               f"{line.get('quantity')!r})"
    return lines


def _paid(paid: Any, currency: str, goods: int, problems: dict[str, str]) -> dict | None:
    """The export's payment: at least the goods (shipping and tax may be on top)."""
    if not paid:
        return None
    try:
        amount = minor(paid.get("amount", ""), currency, "paid.amount")
    except InvalidInput as error:
        problems.update(error.problems)
        return None
    if amount < goods:
        problems["paid.amount"] = f"{amount} is less than the goods' {goods}: a part payment " \
                                  "cannot be imported as paid"
    if not paid.get("payment_ref"):
        problems["paid.payment_ref"] = "required when the order was paid"
    else:  # refused here, with the row, not once the order is placed (pay checks it too)
        problems |= provider_ref_problem("paid.payment_ref", str(paid["payment_ref"]),
                                         "part of the refund's idempotency key")
    return {"amount": amount, "payment_ref": str(paid.get("payment_ref", ""))}


def _pay(ctx: Context, record: OrderRecord, number: int, paid: dict | None, key: str,
         actor: str, now: datetime) -> Imported:
    rows, ext = record.rows, record.external_id
    with ctx.tx(readonly=True) as tx:
        order = tx.store.get_order(number)
    if order.state is OrderState.REJECTED:
        return Imported(rows, ext, "rejected by risk", order.public_id)
    if paid is None:
        return Imported(rows, ext, "placed", order.public_id)
    if not takes_payment(order):
        return Imported(rows, ext, f"placed, {order.state}: payment not applied",
                        order.public_id)
    orders.fire_order(ctx, number, "pay", actor, {"amount": order.total,
                                                  "payment_ref": paid["payment_ref"]},
                      idempotency_key=f"{key}:pay", now=now)
    return Imported(rows, ext, "placed and paid", order.public_id)
