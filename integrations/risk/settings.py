"""Risk wiring from settings: ORDERPILOT_RISK_RULES / _MODEL / _SHADOW_RULES -> a `RiskCheck`
and the lifecycle hooks (credit events, review tasks)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.risk.adapter import RuleSetRiskCheck
from integrations.risk.config import default_ruleset, load_ruleset
from integrations.risk.hooks import (
    CreditHook,
    OutcomeCounter,
    address_mover,
    review_task_hook,
)
from integrations.verification.hooks import ChallengeCloser
from integrations.verification.simulated import SimulatedVerifier
from statemachine.risk.ruleset import RuleSet
from statemachine.verification import Verifier


class RiskSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_RISK_", env_file=".env",
                                      extra="ignore")

    rules: Path | None = Field(None, description="rule set TOML (default: packaged rules)")
    model: Path | None = Field(None, description="learned scorer from `orderpilot risk train`")
    shadow_rules: Path | None = Field(None, description="candidate rule set, never acted on")
    review_budget: float = Field(0.2, ge=0.0, le=1.0, description="share of orders people may "
                                 "review; over it, `orderpilot risk stats` and ops are told")
    verify_url: str | None = Field(None, description="apprise URL with {phone} for step-up "
                                   "verification SMS; unset: the simulated verifier")

    def ruleset(self) -> RuleSet:
        return load_ruleset(self.rules) if self.rules else default_ruleset()


def risk_check_from_settings(settings: RiskSettings | None = None) -> RuleSetRiskCheck:
    """The default risk check: the configured (or packaged) rule set, scorer and shadow set."""
    settings = settings or RiskSettings()
    scorer = None
    if settings.model:
        from integrations.risk.model import load_scorer

        scorer = load_scorer(settings.model)
    shadow = load_ruleset(settings.shadow_rules) if settings.shadow_rules else None
    return RuleSetRiskCheck(settings.ruleset(), scorer, shadow)


def risk_hooks(ruleset: RuleSet) -> tuple:
    """Hooks every context runs after a transition (whatever risk check is in use)."""
    return (CreditHook(ruleset.credit), OutcomeCounter(), review_task_hook, ChallengeCloser(),
            address_mover)


def verifier_from_settings(settings: RiskSettings | None = None) -> Verifier:
    """SMS codes through apprise when ORDERPILOT_RISK_VERIFY_URL is set, else simulated."""
    settings = settings or RiskSettings()
    if settings.verify_url:
        from integrations.verification.apprise_sms import AppriseSmsVerifier

        return AppriseSmsVerifier(settings.verify_url)
    return SimulatedVerifier()
