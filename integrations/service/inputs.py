"""The commands' input: one pydantic model per command (placing an order, paying, shipping,
opening an after-sales case, …) and which model checks each trigger's params. How they are
checked, and how a bad field is named in the error, is service/input_checks.py; its names are
imported here too, where the rest of the code has always found them (`parse`, `parse_id`,
`check_when`, `Edge`, `Money`, …).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field, IPvAnyAddress, Strict, field_validator
from pydantic_core import PydanticCustomError

from integrations.service.input_checks import (
    NAME,
    Count,
    Currency,
    Edge,
    Money,
    PaymentRef,
    When,
    check_actor,
    check_text,
    check_when,
    parse,
    parse_id,
    trigger_params,
)
from statemachine import limits
from statemachine.aftersales import CaseKind, Inspection
from statemachine.waybills import waybill_key

__all__ = [  # the checks' names, for the code that imports them from here
    "NAME", "Count", "Currency", "Edge", "Money", "When", "check_actor", "check_text",
    "check_when", "parse", "parse_id", "trigger_params",
]


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
    payment_ref: PaymentRef
    authorised_only: Annotated[bool, Strict()] = Field(
        False, description="the provider authorised the amount and holds it for capture at "
                           "shipping: the order is fulfilled, nothing is counted as paid yet")


class StartPayment(Edge):
    amount: Money = Field(gt=0)
    payment_ref: PaymentRef
    method: str | None = Field(None, pattern=NAME, description="card, bank_transfer, …")


class FailPayment(Edge):
    payment_ref: PaymentRef
    reason: str | None = Field(None, max_length=limits.REASON)


class Capture(Edge):
    amount: Money = Field(gt=0)


class Revive(Edge):
    amount: Money = Field(gt=0)
    payment_ref: PaymentRef


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
    for n, parcel in enumerate(parcels or ()):  # in any case: sf-0000050 is SF-0000050
        first = seen.setdefault((waybill_key(parcel.carrier), waybill_key(parcel.tracking_no)), n)
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


class Labelled(Edge):
    """A case step that sends a parcel: its labels (default: our own tracking numbers)."""

    parcels: Waybills = Field(None, min_length=1, max_length=10)
    reason: str | None = Field(None, max_length=500)


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
CASE_PARAMS: dict[str, type[Edge]] = {"inspect": Inspect, "refund": Refund,
                                      "await_return": Labelled, "exchange": Labelled,
                                      "repair": Labelled}
