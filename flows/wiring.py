"""What flows share: one service context per database URL, the Prefect API URL, run labels."""

from __future__ import annotations

from functools import lru_cache

from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL

from integrations.bootstrap import build_context
from integrations.carriers.simulated import AdoptingCarrier
from integrations.console.jobs import Ports
from integrations.events.relay import PrefectHttpSink
from integrations.notify import deliver, notifier_from
from integrations.payments.simulated import AdoptingGateway
from integrations.service.context import Context
from statemachine.clock import Clock
from statemachine.ports import Carrier, CarrierProfile, Message, Notifier, PaymentGateway


@lru_cache(maxsize=8)
def context(database_url: str | None = None) -> Context:
    """The service context for `database_url` (default: ORDERPILOT_DATABASE_URL), built once."""
    return build_context(database_url)


def prefect_api_url() -> str:
    """The Prefect API the relay publishes to (the active profile's PREFECT_API_URL)."""
    url = PREFECT_API_URL.value()
    if not url:
        raise RuntimeError("PREFECT_API_URL is not set: start `prefect server start` and run "
                           "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`")
    return str(url)


def event_sink(api_url: str | None = None) -> PrefectHttpSink:
    """A sink that posts to the Prefect server's events endpoint and raises on failure."""
    auth = PREFECT_API_AUTH_STRING.value()
    return PrefectHttpSink(api_url or prefect_api_url(),
                           auth_string=auth.get_secret_value() if auth else None)


def notifier() -> Notifier:
    """The configured notifier (apprise URLs from ORDERPILOT_NOTIFY_*), read on every call."""
    return notifier_from()


def notify(message: Message) -> None:
    """Send through the configured notifier; raise if a configured channel refused it."""
    deliver(notifier(), message)


def carrier(name: str, clock: Clock) -> Carrier:
    """The carrier adapter the flows chase `name`'s parcels through (simulated until a real
    one lands)."""
    return AdoptingCarrier(CarrierProfile(name), clock)


def payment_gateway() -> PaymentGateway:
    """The payment gateway refunds go through (simulated until a real adapter lands)."""
    return AdoptingGateway()


def ports() -> Ports:
    """The outside systems the console's jobs and decisions talk to."""
    return Ports(gateway=payment_gateway(), carrier=carrier, notify=notify)
