"""What flows share: one service context per database URL, the Prefect API URL, run labels."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

import httpx
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL

from integrations.bootstrap import build_context
from integrations.console.jobs import Ports
from integrations.events.relay import PrefectHttpSink
from integrations.notify import deliver, notifier_from
from integrations.payments.credentials import BlocksUnreachable, read_payment_settings
from integrations.payments.select import gateway_from_settings
from integrations.payments.settings import PaymentSettings
from integrations.service.carrier_adapters import carrier_adapter
from integrations.service.context import Context
from statemachine.errors import InvalidInput
from statemachine.ports import PaymentGateway


@lru_cache(maxsize=8)
def context(database_url: str | None = None) -> Context:
    """The service context for `database_url` (default: ORDERPILOT_DATABASE_URL), built once,
    with the configured payment provider (credentials from Prefect Secret blocks if named).
    Closed when the process exits, or once the cache has let it go (a ninth store URL in one
    process) and no caller holds it any more: left open, its pooled PostgreSQL connection
    warned at exit ("… was deleted while still open")."""
    gateway = payment_gateway()
    ctx = build_context(database_url, gateway=gateway, secrets=secret_block)
    ctx.own(gateway)  # built for this context alone: its HTTP client closes with it
    ctx.close_when_dropped()
    return ctx


def payment_settings(load: Callable[[str], str] | None = None) -> PaymentSettings:
    """ORDERPILOT_PAYMENTS_*, with each credential the environment lacks read from the Prefect
    Secret block named for it in ORDERPILOT_PAYMENTS_SECRET_BLOCKS: the same reading as every
    pilot's (build_context), with the same reader of blocks unless given another."""
    return read_payment_settings(load or secret_block)


def secret_block(name: str) -> str:
    """The value of the Prefect Secret block `name` (ValueError: there is none;
    BlocksUnreachable: the Prefect server did not answer or refused us — never httpx's own
    error, which named neither the block nor what to do)."""
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(name).get())
    except httpx.HTTPStatusError as error:  # Prefect's own status error is one too
        status = error.response.status_code
        raise BlocksUnreachable(_prefect_server(), f"it answered {status} "
                                f"{error.response.reason_phrase}", _remedy(status)) from error
    except (httpx.HTTPError, RuntimeError) as error:  # RuntimeError: the client's version check
        reason = (str(error).strip() or type(error).__name__).splitlines()[0][:200]
        raise BlocksUnreachable(_prefect_server(), f"it did not answer ({reason})",
                                _remedy(None)) from error


def _prefect_server() -> str:
    """The Prefect API this process asks, as it may be shown (no credentials in it)."""
    url = PREFECT_API_URL.value()
    if not url:
        return "the temporary Prefect server this process starts (PREFECT_API_URL is not set)"
    parts = urlsplit(str(url))
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no user:password
    return f"the Prefect server at {shown}"


def _remedy(status: int | None) -> str:
    if status in (401, 403):
        return "check PREFECT_API_AUTH_STRING (or PREFECT_API_KEY) for that server"
    return "start that server or point PREFECT_API_URL at the one holding the block"


def prefect_api_url() -> str:
    """The Prefect API the relay publishes to (the active profile's PREFECT_API_URL)."""
    url = PREFECT_API_URL.value()
    if not url:
        raise InvalidInput({"PREFECT_API_URL": "not set: start `prefect server start` and run "
                            "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`"})
    return str(url)


def event_sink(api_url: str | None = None) -> PrefectHttpSink:
    """A sink that posts to the Prefect server's events endpoint and raises on failure."""
    auth = PREFECT_API_AUTH_STRING.value()
    return PrefectHttpSink(api_url or prefect_api_url(),
                           auth_string=auth.get_secret_value() if auth else None)


def payment_gateway() -> PaymentGateway:
    """The configured payment provider (ORDERPILOT_PAYMENTS_PROVIDER; simulated by default):
    the console's refunds go through the same provider as the API's."""
    gateway: PaymentGateway = gateway_from_settings(payment_settings())
    return gateway


def ports(ctx: Context) -> Ports:
    """The outside systems the console's jobs and decisions talk to. Notices go through the
    routes `ctx` read at start-up, money through the gateway it was built with, one notifier
    for all. Each case decision asks for its ports: a gateway built per decision re-read the
    Prefect Secret blocks and left its provider's connection pool open — as did one built
    here without a context (`ctx` was optional), which nothing closed."""
    notifier = notifier_from(ctx.notify_routes)
    return Ports(gateway=ctx.gateway,
                 carrier=lambda name, clock: carrier_adapter(ctx, name, clock),
                 notify=lambda message: deliver(notifier, message))
