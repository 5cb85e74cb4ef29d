"""Input at the edge: pydantic models for every command, turned into `InvalidInput` errors.

Errors name the field the way a caller wrote it (`lines[0].quantity`) and say what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyAddress,
    ValidationError,
)

from statemachine import ids
from statemachine.aftersales import CaseKind, Inspection
from statemachine.errors import InvalidInput

NAME = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
Name = Field(pattern=NAME, description="letters, digits and . _ : - (1–64 characters)")

M = TypeVar("M", bound=BaseModel)


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LineIn(Edge):
    sku: str = Field(pattern=NAME)
    quantity: int = Field(gt=0, le=100_000)
    unit_price: int = Field(ge=0, le=10**10, description="minor units (cents / fen), at most "
                            "10^10 so that any order total fits a 64-bit column")


class Address(Edge):
    """The address as the shop has it: one `line`, or fields (street with its city or district).
    Which of them is enough is decided by the parser (`integrations.geo.addresses`)."""

    line: str | None = Field(None, min_length=1, max_length=400,
                             description="the whole address on one line, as the buyer typed it")
    street: str | None = Field(None, min_length=1, max_length=300)
    city: str | None = Field(None, min_length=1, max_length=100)
    recipient: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32)
    district: str | None = Field(None, max_length=100)
    province: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str = Field("CN", pattern=r"^[A-Z]{2}$")


class PlaceOrder(Edge):
    buyer_id: str = Field(pattern=NAME)
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    shipping_address: Address
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    device_id: str | None = Field(None, max_length=128)
    ip: IPvAnyAddress | None = None
    phone: str | None = Field(None, max_length=32)
    service: Literal["standard", "express"] | None = None
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="for buyer notices by mail")
    locale: str | None = Field(None, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_]\w+)*$",
                               description="the buyer's language for notices (zh-CN, en …)")
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)


class Receipt(Edge):
    sku: str = Field(pattern=NAME)
    warehouse: str = Field(pattern=NAME)
    quantity: int = Field(gt=0, le=10_000_000)


class Pay(Edge):
    amount: int = Field(gt=0)
    payment_ref: str = Field(min_length=1, max_length=128)


class ExtendHold(Edge):
    minutes: float = Field(gt=0, le=30, description="added to the current hold, at most 30")


class Decided(Edge):
    """A person's decision: who (as the history records them) and why."""

    by: str = Field(pattern=r"^\S(.{0,98}\S)?$", description="who decides (1–100 characters)")
    reason: str = Field(min_length=1, max_length=500)


class Reasoned(Edge):
    reason: str | None = Field(None, max_length=500)


class Parcel(Edge):
    carrier: str = Field(pattern=NAME)
    tracking_no: str = Field(min_length=1, max_length=128)
    warehouse: str | None = Field(None, pattern=NAME)


class Ship(Edge):
    parcels: list[Parcel] | None = Field(None, min_length=1)
    promised_by: AwareDatetime | None = None
    reason: str | None = Field(None, max_length=500)


class Pack(Edge):
    evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=20,
                                description="outbound photo urls / scan ids")
    reason: str | None = Field(None, max_length=500)


class DoubleCheck(Edge):
    notes: str | None = Field(None, max_length=500)


class Empty(Edge):
    pass


class Scan(Edge):
    location: str | None = Field(None, max_length=200)
    scan_id: str | None = Field(None, max_length=128)
    reason: str | None = Field(None, max_length=500)


class CaseLineIn(Edge):
    line_no: int = Field(ge=1)
    quantity: int = Field(gt=0)


class OpenCase(Edge):
    kind: CaseKind
    lines: list[CaseLineIn] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=500)


class Inspect(Edge):
    result: Inspection
    notes: str | None = Field(None, max_length=1000)


class Refund(Edge):
    amount: int | None = Field(None, gt=0)
    reason: str | None = Field(None, max_length=500)


ORDER_PARAMS: dict[str, type[Edge]] = {
    "approve": Reasoned, "review": Reasoned, "reject": Reasoned, "pay": Pay,
    "extend_hold": ExtendHold, "expire": Reasoned, "start_picking": Empty, "pack": Pack,
    "double_check": DoubleCheck,
    "ship": Ship, "deliver": Empty, "close": Reasoned, "cancel": Reasoned,
}
SHIPMENT_PARAMS: dict[str, type[Edge]] = {"stall": Reasoned, "lose": Reasoned,
                                          "return_to_sender": Reasoned}
class Labelled(Edge):
    """A case step that sends a parcel: its labels (default: our own tracking numbers)."""

    parcels: list[Parcel] | None = Field(None, min_length=1, max_length=10)
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
    """`o-42` → 42; anything else is an InvalidInput naming the field (statemachine/ids.py)."""
    return ids.BY_PREFIX[prefix].parse(value, field)


def check_actor(actor: Any) -> str:
    if not isinstance(actor, str) or not 0 < len(actor) <= 128:
        raise InvalidInput({"actor": f"expected a non-empty name (got {actor!r})"})
    return actor


def check_when(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput({field: f"expected a timezone-aware datetime (got {value!r})"})
    return value


def _where(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "input"


def _what(error: dict[str, Any]) -> str:
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
    return f"{error['msg']}{shown}" if error["type"] != "missing" else "field required"


