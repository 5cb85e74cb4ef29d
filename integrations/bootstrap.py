"""Wiring: settings → engine (schema upgraded on first use) → service context."""

from __future__ import annotations

from collections.abc import Callable

from alembic.util.exc import CommandError
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from integrations.config import Settings, read_settings
from integrations.db.engine import DEFAULT_SQLITE_SYNCHRONOUS, make_engine
from integrations.db.migrate import ensure_schema
from integrations.notify import notify_routes
from integrations.payments.credentials import payment_settings_reader
from integrations.payments.deferred import DeferredGateway
from integrations.risk.settings import (
    RiskSettings,
    risk_check_from_settings,
    risk_hooks,
    verifier_from_settings,
)
from integrations.service.context import Context, SystemClock
from statemachine.clock import Clock
from statemachine.errors import SchemaMismatch, StoreUnavailable
from statemachine.ports import PaymentGateway
from statemachine.risk_port import RiskCheck


def build_context(database_url: str | None = None, clock: Clock | None = None,
                  risk_check: RiskCheck | None = None, settings: Settings | None = None,
                  migrate: bool = True, gateway: PaymentGateway | None = None,
                  secrets: Callable[[str], str] | None = None) -> Context:
    """Everything a service function needs, from explicit arguments or ORDERPILOT_* settings.
    `secrets` reads a payment credential kept in a secret block (ORDERPILOT_PAYMENTS_SECRET_
    BLOCKS; flows.wiring.secret_block reads Prefect's): the gateway and the webhook secrets
    come from the one reading every process makes (payments/credentials.py), when the
    gateway is first used or an app asks for the webhook secrets (Context.payment_settings):
    no block is read at start-up. A `gateway` given comes with its own credentials."""
    settings = settings or read_settings(Settings)
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
    # every setting read and checked before the store is opened (or a new file made for it)
    risk = read_settings(RiskSettings)  # ORDERPILOT_RISK_*; default: the packaged rule set
    risk_check = risk_check or risk_check_from_settings(risk)
    hooks, verifier = risk_hooks(risk.ruleset()), verifier_from_settings(risk)
    ours = gateway is None  # a gateway passed in is the caller's to close
    # built on first use, its settings checked now: reading an order needs no credential (and
    # no Prefect server when they are kept in its Secret blocks)
    gateway = gateway or DeferredGateway(payment_settings_reader(secrets))
    routes = notify_routes()  # ORDERPILOT_NOTIFY_ROUTES: each URL one apprise can use
    engine = open_store(settings.database_url, migrate, settings.sqlite_synchronous)
    ctx = Context(engine=engine, clock=clock or SystemClock(), settings=settings,
                   timeouts=settings.timeouts(), risk_check=risk_check, hooks=hooks,
                   verifier=verifier, gateway=gateway, secrets=secrets,
                   notify_routes=routes)
    ctx.own(engine, *([gateway] if ours else []))  # closed by ctx.close()
    return ctx


def open_store(url: str, migrate: bool = True,
               sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS) -> Engine:
    """An engine on `url`, its schema upgraded; StoreUnavailable (not a driver traceback) when
    the URL is not one we can open or the store does not answer; SchemaMismatch when a newer
    orderpilot upgraded it."""
    try:
        engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
    except (ArgumentError, NoSuchModuleError) as error:
        raise StoreUnavailable(_shown(url), f"not a database URL we can open ({error}); "
                               "expected sqlite:///FILE or postgresql://USER@HOST/DB") from None
    try:
        if migrate:
            ensure_schema(engine)
        return engine
    except SchemaMismatch:  # upgraded by a newer orderpilot: not ours to touch
        engine.dispose()
        raise
    except (DBAPIError, OSError, CommandError) as error:  # CommandError: alembic's own refusal
        engine.dispose()
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
        raise StoreUnavailable(_shown(url), reason) from None


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url[:100])
