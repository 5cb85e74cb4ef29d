"""Ops commands on an order's money (signed with the `ops` secret): a refund not tied to a
case. A command, not an event applied once: sent again it is made again — unless it names
its `key`, which makes a retry the same refund (the provider pays once)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from integrations.http.deps import ERRORS, Ctx, OrderId
from integrations.service import goodwill
from integrations.service.inputs import parse_id
from integrations.service.views import GoodwillRefund
from statemachine import limits

router = APIRouter(responses=ERRORS, tags=["ops"])


class GoodwillRefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "amount": 500, "reason": "物流延误，补偿 5 元", "by": "cs:wangfang",
        "key": "ticket-20261130-17"}]})
    amount: StrictInt = Field(description="minor units of the order's currency (500 = ¥5.00)")
    reason: str = Field(description="why, kept with the refund (1–500 characters)")
    by: str = Field(description="who decided it (recorded)")
    key: str | None = Field(None, max_length=limits.REF,
                            description="optional: a retry under the same key is the same "
                                        "refund (refund:o-17:<key>)")
    currency: str | None = Field(None, description="optional: must be the order's currency")


@router.post("/v1/ops/orders/{order_id}/refunds")
def refund_goodwill(order_id: OrderId, body: GoodwillRefundIn, ctx: Ctx) -> GoodwillRefund:
    """Pay the buyer back through the payment provider, tied to no case (goodwill, a price
    adjustment): answered as it ended — `succeeded`, `pending` (the money sweep makes it
    under the same `refund` key) or `refused` (`error` says why). Bad input: 422 naming each
    field, nothing written; more than may be refunded: 409."""
    return goodwill.refund_goodwill(ctx, parse_id("order_id", order_id, "o"),
                                    amount=body.amount, reason=body.reason, by=body.by,
                                    key=body.key, currency=body.currency)
