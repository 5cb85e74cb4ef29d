"""What a tracking provider (Kuaidi100, AfterShip) tells us, in one shape, and how subscribing
a waybill with it can fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from statemachine.errors import OrderPilotError
from statemachine.tracking import CarrierStatus


@dataclass(frozen=True, slots=True)
class TrackingUpdate:
    """The newest state of one waybill as a provider reported it.

    `status` None means the provider's code moves nothing here: the update is recorded only.
    """

    provider: str  # kuaidi100 | aftership
    provider_carrier: str  # the provider's carrier code: shunfeng, yuantong, sf-express …
    tracking_no: str
    code: str  # the provider's own status code (Kuaidi100 state, AfterShip tag/subtag)
    status: CarrierStatus | None
    label: str  # what the code means, for people
    event_id: str  # stable for the same update: repeats are replays
    occurred_at: datetime | None = None
    location: str | None = None
    detail: str | None = None


class SubscribeFailed(OrderPilotError):
    """The provider refused the subscription for good (bad key, bad number): do not retry."""

    code = "subscribe_failed"


class TransientSubscribeError(SubscribeFailed):
    """Network trouble or a provider error: nothing happened, try again later."""

    code = "subscribe_transient"


class TrackingSubscriber(Protocol):
    def subscribe(self, company: str, tracking_no: str, phone: str | None = None) -> str:
        """Ask the provider to push updates for the waybill; repeating it is harmless."""
