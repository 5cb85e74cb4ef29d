"""Input at the edge: pydantic models for every command, turned into `InvalidInput` errors.

Errors name the field the way a caller wrote it (`lines[0].quantity`) and say what was expected.
Lengths come from `statemachine.limits`, the same constants the columns are declared with; text
no store can hold (NUL, lone surrogates) is refused in every field; money and quantities are
strict integers (`true`, `"1999"` and `1999.0` are refused, not coerced); currencies must be
ISO 4217 codes of money a buyer pays in (not XTS, XXX, metals, units of account, fund codes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from ipaddress import IPv4Address, IPv6Address
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyAddress,
    Strict,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from integrations.currencies import shop_currency_problem
from statemachine import ids, limits
from statemachine.aftersales import CaseKind, Inspection
from statemachine.errors import InvalidInput

NAME = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
Name = Field(pattern=NAME, description="letters, digits and . _ : - (1–64 characters)")

M = TypeVar("M", bound=BaseModel)


def _shop_currency(code: str) -> str:
    """The one check of an order's currency, for every entry (API, HTTP, events, imports)."""
    problem = shop_currency_problem(code)
    if problem:
        raise PydanticCustomError("currency", problem)
    return code


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. CNY"),
                     AfterValidator(_shop_currency)]


def _utc_holds(value: datetime) -> datetime:
    """The store binds every time in UTC: a time whose UTC instant is outside years 1–9999
    (year 1 at +14:00, 31 Dec 9999 at -12:00) cannot be stored."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("utc_range", "expected a time whose UTC instant falls in "
                                  "years 1–9999") from None
    return value


When = Annotated[AwareDatetime, AfterValidator(_utc_holds)]  # aware, and storable in UTC
Money = Annotated[int, Strict()]  # minor units; a bool, a string or a float is refused
Count = Annotated[int, Strict()]


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """Every text, however nested, must be something a store can keep and a person can
        read (not only zero-width characters)."""
        for text in _texts(value):
            problem = limits.unstorable(text) or limits.invisible(text)
            if problem:
                raise PydanticCustomError("unstorable", problem)
        return value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _texts(item)]
    return []


class LineIn(Edge):
    sku: str = Field(pattern=NAME)
    quantity: Count = Field(gt=0, le=100_000)
    unit_price: Money = Field(ge=0, le=10**10, description="minor units (cents / fen), at most "
                              "10^10 so that any order total fits a 64-bit column")


class Address(Edge):
    """The address as the shop has it: one `line`, or fields (street with its city or district).
    Which of them is enough is decided by the parser (`integrations.geo.addresses`)."""

    line: str | None = Field(None, min_length=1, max_length=limits.ADDRESS_LINE,
                             description="the whole address on one line, as the buyer typed it")
    street: str | None = Field(None, min_length=1, max_length=limits.STREET)
    city: str | None = Field(None, min_length=1, max_length=limits.REGION)
    recipient: str | None = Field(None, max_length=limits.REGION)
    phone: str | None = Field(None, max_length=limits.PHONE)
    district: str | None = Field(None, max_length=limits.REGION)
    province: str | None = Field(None, max_length=limits.REGION)
    postal_code: str | None = Field(None, max_length=limits.POSTAL_CODE)
    country: str = Field("CN", pattern=r"^[A-Z]{2}$")


class PlaceOrder(Edge):
    buyer_id: str = Field(pattern=NAME)
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    shipping_address: Address
    currency: Currency | None = None
    device_id: str | None = Field(None, max_length=limits.REF)
    ip: IPvAnyAddress | None = None
    phone: str | None = Field(None, max_length=limits.PHONE)
    service: Literal["standard", "express"] | None = None
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="for buyer notices by mail")
    locale: str | None = Field(None, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_]\w+)*$",
                               description="the buyer's language for notices (zh-CN, en …)")
    idempotency_key: str | None = Field(None, min_length=1, max_length=limits.IDEMPOTENCY_KEY)

    @field_validator("ip")
    @classmethod
    def _unmapped(cls, ip: IPv4Address | IPv6Address | None) -> IPv4Address | IPv6Address | None:
        """::ffff:1.2.3.4 (what a dual-stack front end reports) is the IPv4 address 1.2.3.4:
        stored, counted and matched as one IP, whichever form the shop sends."""
        if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        return ip


class Receipt(Edge):
    sku: str = Field(pattern=NAME)
    warehouse: str = Field(pattern=NAME)
    quantity: Count = Field(gt=0, le=10_000_000)


class Pay(Edge):
    amount: Money = Field(gt=0)
    payment_ref: str = Field(min_length=1, max_length=limits.REF)
    authorised_only: Annotated[bool, Strict()] = Field(
        False, description="the provider authorised the amount and holds it for capture at "
                           "shipping: the order is fulfilled, nothing is counted as paid yet")


class StartPayment(Edge):
    amount: Money = Field(gt=0)
    payment_ref: str = Field(min_length=1, max_length=limits.REF)
    method: str | None = Field(None, pattern=NAME, description="card, bank_transfer, …")


class FailPayment(Edge):
    payment_ref: str = Field(min_length=1, max_length=limits.REF)
    reason: str | None = Field(None, max_length=limits.REASON)


class Capture(Edge):
    amount: Money = Field(gt=0)


class Revive(Edge):
    amount: Money = Field(gt=0)
    payment_ref: str = Field(min_length=1, max_length=limits.REF)


class ExtendHold(Edge):
    minutes: float = Field(gt=0, le=30, description="added to the current hold, at most 30")


class Decided(Edge):
    """A person's decision: who (as the history records them) and why."""

    by: str = Field(pattern=r"^\S(.{0,98}\S)?$", description="who decides (1–100 characters)")
    reason: str = Field(min_length=1, max_length=500)


class Reasoned(Edge):
    reason: str | None = Field(None, max_length=limits.REASON)


class Parcel(Edge):
    carrier: str = Field(pattern=NAME)
    tracking_no: str = Field(min_length=1, max_length=limits.REF)
    warehouse: str | None = Field(None, pattern=NAME)


P = TypeVar("P", bound=Parcel)


def _distinct_waybills(parcels: list[P] | None) -> list[P] | None:
    """One waybill per parcel: scans find a parcel by (carrier, tracking_no), so a second
    parcel under the same number would never move (and its order never be delivered)."""
    seen: dict[tuple[str, str], int] = {}
    for n, parcel in enumerate(parcels or ()):
        first = seen.setdefault((parcel.carrier, parcel.tracking_no), n)
        if first != n:
            raise PydanticCustomError("waybill_repeated", f"parcels[{n}] repeats the carrier "
                                      f"and tracking_no of parcels[{first}]: one waybill per "
                                      f"parcel")
    return parcels


Waybills = Annotated[list[Parcel] | None, AfterValidator(_distinct_waybills)]


class BoxLine(Edge):
    line_no: Count = Field(ge=1)
    quantity: Count = Field(gt=0)
    warehouse: str | None = Field(None, pattern=NAME, description=(
        "where these units were sold from, if not the box's warehouse (a consolidated box)"))


class ShipParcel(Parcel):
    lines: list[BoxLine] | None = Field(None, max_length=100, description=(
        "what the box holds: then every label declares its lines and every sold unit is in "
        "exactly one box; without, a warehouse's units are shared evenly over its boxes"))


class Ship(Edge):
    parcels: Annotated[list[ShipParcel] | None, AfterValidator(_distinct_waybills)] = Field(
        None, min_length=1)
    promised_by: When | None = None
    reason: str | None = Field(None, max_length=limits.REASON)
    ship_refunded: str | None = Field(
        None, min_length=1, max_length=limits.REASON,
        description="ship although the buyer's money was all refunded (at the provider): why, "
                    "e.g. a gift")


class Pack(Edge):
    evidence: list[Annotated[str, Field(min_length=1, max_length=limits.REASON)]] = Field(
        default_factory=list, max_length=20, description="outbound photo urls / scan ids")
    reason: str | None = Field(None, max_length=limits.REASON)


class DoubleCheck(Edge):
    notes: str | None = Field(None, max_length=limits.REASON)


class Empty(Edge):
    pass


class Scan(Edge):
    location: str | None = Field(None, max_length=limits.LOCATION)
    scan_id: str | None = Field(None, max_length=limits.REF)
    reason: str | None = Field(None, max_length=limits.REASON)


class CaseLineIn(Edge):
    line_no: Count = Field(ge=1)
    quantity: Count = Field(gt=0)


class OpenCase(Edge):
    kind: CaseKind
    lines: list[CaseLineIn] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=limits.REASON)


class Inspect(Edge):
    result: Inspection
    notes: str | None = Field(None, max_length=limits.NOTES)


class Refund(Edge):
    amount: Money | None = Field(None, gt=0)
    reason: str | None = Field(None, max_length=limits.REASON)


ORDER_PARAMS: dict[str, type[Edge]] = {
    "approve": Reasoned, "review": Reasoned, "reject": Reasoned, "pay": Pay,
    "start_payment": StartPayment, "fail_payment": FailPayment, "capture": Capture,
    "revive": Revive,
    "extend_hold": ExtendHold, "expire": Reasoned, "start_picking": Empty, "pack": Pack,
    "double_check": DoubleCheck,
    "ship": Ship, "deliver": Empty, "close": Reasoned, "cancel": Reasoned,
}
SHIPMENT_PARAMS: dict[str, type[Edge]] = {"stall": Reasoned, "lose": Reasoned,
                                          "return_to_sender": Reasoned}
class Labelled(Edge):
    """A case step that sends a parcel: its labels (default: our own tracking numbers)."""

    parcels: Waybills = Field(None, min_length=1, max_length=10)
    reason: str | None = Field(None, max_length=500)


CASE_PARAMS: dict[str, type[Edge]] = {"inspect": Inspect, "refund": Refund,
                                      "await_return": Labelled, "exchange": Labelled,
                                      "repair": Labelled}


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate `data` against `model`; raise InvalidInput naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput({_where(e["loc"]): _what(e) for e in error.errors()}) from None


def trigger_params(trigger: str, known: Sequence[str], models: dict[str, type[Edge]],
                   default: type[Edge], params: dict[str, Any]) -> dict[str, Any]:
    """Check the trigger name against `known`, then its params against the trigger's model."""
    if trigger not in known:
        raise InvalidInput({"trigger": f"expected one of {', '.join(known)} (got {trigger!r})"})
    model = models.get(trigger, default)
    if not params and _all_optional(model):
        return {}  # nothing to check: every field would be None and dropped
    return parse(model, params).model_dump(exclude_none=True)


@cache
def _all_optional(model: type[Edge]) -> bool:
    return not any(f.is_required() for f in model.model_fields.values())


def parse_id(field: str, value: Any, prefix: str) -> int:
    """`o-42` → 42 (ASCII digits only: `o-١` is refused); else InvalidInput naming the field."""
    return ids.BY_PREFIX[prefix].parse(value, field)


def check_text(field: str, value: Any, max_length: int, *, what: str = "text") -> str:
    """A non-empty text of at most `max_length` characters that the store can keep."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= max_length:
        raise InvalidInput({field: f"expected {what} of 1–{max_length} characters "
                                   f"(got {_shown(value)})"})
    problem = limits.unstorable(value) or limits.invisible(value.strip())
    if problem:
        raise InvalidInput({field: problem})
    return value


def check_actor(actor: Any) -> str:
    return check_text("actor", actor, limits.ACTOR, what="a name")


def check_when(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput({field: f"expected a timezone-aware datetime (got {value!r})"})
    try:
        return _utc_holds(value)
    except PydanticCustomError as error:
        raise InvalidInput({field: f"{error.message()} (got {value!r})"}) from None


def _where(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "input"


def _what(error: dict[str, Any]) -> str:
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {_shown(got)})"
    return f"{error['msg']}{shown}" if error["type"] != "missing" else "field required"


def _shown(value: Any) -> str:
    """A bad value as an error message may show it: short (a 10 kB reason is not echoed)."""
    text = repr(value)
    if len(text) <= 80:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else "long"
    return f"{text[:60]}… ({size})"


