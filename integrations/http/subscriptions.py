"""Webhook subscriptions over HTTP, for operations (signed with the `ops` secret): the same
service functions as `orderpilot webhooks …` and `pilot.webhooks`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from integrations.http.deps import ERRORS, Ctx
from integrations.service import webhooks
from integrations.service.inputs import check_text
from integrations.service.webhooks import DeliveryView, NewSubscription, SubscriptionView
from statemachine import limits

router = APIRouter(prefix="/v1/ops/webhooks", responses=ERRORS, tags=["ops"])


class SubscribeIn(BaseModel):
    url: str
    events: list[str] = Field(default_factory=lambda: ["orderpilot.*"])
    description: str | None = None
    secret: str | None = None
    by: str = Field("ops", min_length=1, max_length=limits.ACTOR)


class ResendIn(BaseModel):
    delivery_ids: list[str] = Field(default_factory=list, description="dl-…; none: every "
                                    "dead letter of the subscription")


@router.post("", status_code=201)
def subscribe(body: SubscribeIn, ctx: Ctx) -> NewSubscription:
    """Add a subscription; the answer holds its signing secret (never shown again)."""
    by = check_text("by", body.by, limits.ACTOR, what="a name")  # a NUL is named, not stored
    return webhooks.subscribe(ctx, body.model_dump(exclude={"by"}), by)


@router.get("")
def subscriptions(ctx: Ctx) -> list[SubscriptionView]:
    return webhooks.subscriptions(ctx)


@router.post("/{subscription_id}/pause")
def pause(subscription_id: str, ctx: Ctx) -> SubscriptionView:
    return webhooks.set_active(ctx, subscription_id, False)


@router.post("/{subscription_id}/resume")
def resume(subscription_id: str, ctx: Ctx) -> SubscriptionView:
    return webhooks.set_active(ctx, subscription_id, True)


@router.delete("/{subscription_id}", status_code=204)
def remove(subscription_id: str, ctx: Ctx) -> None:
    webhooks.remove(ctx, subscription_id)


@router.get("/{subscription_id}/deliveries")
def deliveries(subscription_id: str, ctx: Ctx, status: str | None = None,
               limit: int = 100) -> list[DeliveryView]:
    """The subscription's delivery log (pending / delivered / dead)."""
    return webhooks.deliveries(ctx, subscription_id, status, None, max(1, min(limit, 1000)))


@router.post("/{subscription_id}/resend")
def resend(subscription_id: str, body: ResendIn, ctx: Ctx) -> dict[str, Any]:
    """Queue dead letters again (given ones, or all of the subscription)."""
    ids = body.delivery_ids or None
    count = webhooks.resend(ctx, ids, None if ids else subscription_id)
    return {"queued": count}
