"""Inbound event bodies (pydantic, at the edge). Each carries the provider's event id."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, ConfigDict, Field

from integrations.service.inputs import (
    NAME,
    Address,
    Count,
    Currency,
    Edge,
    Money,
    PaymentRef,
    PlaceOrder,
    When,
)
from statemachine import limits
from statemachine.aftersales import CaseKind
from statemachine.tracking import CarrierStatus

EventId = Field(min_length=1, max_length=limits.REF, pattern=r"^[\x21-\x7e]+$",
                description="the provider's event id: the idempotency key (printable ASCII)")
MAX_MONEY = 10**12  # minor units; keeps sums far inside a 64-bit column


class Inbound(Edge):
    event_id: str = EventId
    occurred_at: When | None = None


def _example(**body: object) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [body]})


class OrderPlaced(Inbound):
    model_config = _example(event_id="shop-evt-1", order={
        "buyer_id": "b-1", "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 5}],
        "shipping_address": {"street": "1 Road", "city": "Hangzhou"}})
    order: PlaceOrder


class PaymentEvent(Inbound):
    model_config = _example(event_id="pay-evt-1", type="succeeded", order_id="o-1", amount=5,
                            payment_ref="pay-1")
    type: Literal["succeeded", "pending", "failed", "refunded", "chargeback"] = Field(
        description="succeeded: the money arrived; pending: a payment started that has not "
                    "settled (the order waits in payment_pending); failed; refunded; chargeback")
    order_id: str = Field(pattern=r"^o-[0-9]{1,18}$")
    amount: Money = Field(gt=0, le=MAX_MONEY, description="minor units")
    currency: Currency | None = None
    payment_ref: PaymentRef
    case_id: str | None = Field(None, pattern=r"^c-[0-9]{1,18}$",
                                description="the after-sales case a refund settles, if any")
    reason: str | None = Field(None, max_length=limits.REASON)


class CarrierEvent(Inbound):
    model_config = _example(event_id="trk-evt-1", carrier="sim-express", tracking_no="o-1-1",
                            status="in_transit", location="Hangzhou hub")
    carrier: str = Field(pattern=NAME)
    tracking_no: str = Field(min_length=1, max_length=limits.REF)
    status: CarrierStatus
    location: str | None = Field(None, max_length=limits.LOCATION)
    reason: str | None = Field(None, max_length=limits.REASON)


class CaseLineRequest(Edge):
    line_no: Count = Field(ge=1, le=10_000)
    quantity: Count = Field(gt=0, le=100_000)


class AfterSalesRequest(Inbound):
    model_config = _example(event_id="as-evt-1", kind="refund_only", reason="arrived broken",
                            lines=[{"line_no": 1, "quantity": 1}],
                            photos=["https://img.example.com/1.jpg"])
    kind: CaseKind
    lines: list[CaseLineRequest] = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=limits.REASON)
    photos: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)


class ReviewDecision(Inbound):
    model_config = _example(event_id="rev-evt-1", decision="approve", reviewer="amy",
                            reason="known buyer")
    decision: Literal["approve", "reject"]
    reviewer: str = Field(pattern=NAME)
    reason: str | None = Field(None, max_length=limits.REASON)


class VerificationAnswer(Inbound):
    model_config = _example(event_id="ver-evt-1", code="123456")
    code: str = Field(pattern=r"^[0-9]{4,8}$", description="the digits the buyer received")


class BuyerSignedUp(Inbound):
    model_config = _example(event_id="signup-1", buyer_id="b-1",
                            signed_up_at="2026-11-11T08:00:00+08:00")
    buyer_id: str = Field(pattern=NAME)
    signed_up_at: When


class ListEntryIn(Inbound):
    model_config = _example(event_id="list-1", list="block", kind="phone",
                            value="+86 170 1234 5678", reason="order-farming ring",
                            author="mei", expires_at="2027-01-01T00:00:00+08:00")
    list: Literal["block", "allow"]
    kind: Literal["buyer", "device", "phone", "address", "ip"]
    value: str = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=500)
    author: str = Field(pattern=NAME)
    expires_at: When | None = None
    evidence: list[str] = Field(default_factory=list, max_length=100)


class ListEntryRemoval(Inbound):
    model_config = _example(event_id="list-rm-1", author="lee")
    author: str = Field(pattern=NAME)


class AddressCorrectionIn(Inbound):
    model_config = _example(event_id="addr-1", address={
        "province": "浙江省", "city": "杭州市", "district": "西湖区", "street": "文三路18号"},
        by="mei", reason="买家来电确认")
    address: Address = Field(description="the address as placement takes it (fields or "
                             "`line`); recipient and phone are kept unless named")
    by: str = Field(pattern=NAME, description="who corrects it (recorded)")
    reason: str | None = Field(None, max_length=limits.REASON)


class NoteIn(Edge):
    event_id: str | None = Field(
        None, min_length=1, max_length=limits.REF, pattern=r"^[\x21-\x7e]+$",
        description="optional: the sender's id for this note (printable ASCII); a note sent "
                    "again under it is written once and answered as the first time")
    text: str = Field(min_length=1, max_length=limits.NOTE)
    author: str = Field(pattern=NAME)
    kind: Literal["note", "message"] = "note"


class NoteAdded(Inbound):
    """A note sent with its id, as it is logged (and replayed): its order is part of it."""

    order_id: int
    text: str
    author: str
    kind: str
