"""Wiring: settings → engine (schema upgraded on first use) → service context."""

from __future__ import annotations

from integrations.config import Settings
from integrations.db.engine import make_engine
from integrations.db.migrate import ensure_schema
from integrations.payments.select import gateway_from_settings
from integrations.risk.settings import (
    RiskSettings,
    risk_check_from_settings,
    risk_hooks,
    verifier_from_settings,
)
from integrations.service.context import Context, SystemClock
from statemachine.clock import Clock
from statemachine.ports import PaymentGateway
from statemachine.risk_port import RiskCheck


def build_context(database_url: str | None = None, clock: Clock | None = None,
                  risk_check: RiskCheck | None = None, settings: Settings | None = None,
                  migrate: bool = True, gateway: PaymentGateway | None = None) -> Context:
    """Everything a service function needs, from explicit arguments or ORDERPILOT_* settings."""
    settings = settings or Settings()
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
    engine = make_engine(settings.database_url)
    if migrate:
        ensure_schema(engine)
    risk = RiskSettings()  # ORDERPILOT_RISK_*; default: the packaged rule set
    return Context(engine=engine, clock=clock or SystemClock(), settings=settings,
                   timeouts=settings.timeouts(),
                   risk_check=risk_check or risk_check_from_settings(risk),
                   hooks=risk_hooks(risk.ruleset()), verifier=verifier_from_settings(risk),
                   gateway=gateway or gateway_from_settings())
