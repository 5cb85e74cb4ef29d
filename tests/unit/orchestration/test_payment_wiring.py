"""Flows and the console move money through the configured provider (it was always the
simulated one), with credentials from the environment or from Prefect Secret blocks."""

from __future__ import annotations

import pytest

from flows.wiring import payment_gateway, payment_settings
from integrations.payments.simulated import AdoptingGateway
from integrations.payments.stripe_gateway import StripeGateway
from statemachine.errors import InvalidInput

KEY = "sk_test_FromASecretBlock0001"


@pytest.fixture
def stripe_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_SECRET_BLOCKS",
                       '{"stripe_api_key": "shop-stripe-key"}')


def test_a_credential_missing_from_the_environment_is_read_from_its_secret_block(stripe_env):
    asked: list[str] = []
    settings = payment_settings(load=lambda block: asked.append(block) or KEY)
    assert asked == ["shop-stripe-key"]
    assert settings.secret("stripe_api_key") == KEY
    assert KEY not in repr(settings)
    assert settings.secret("stripe_webhook_secret") == "whsec_from_env"  # the env's, untouched


def test_the_environment_wins_over_a_block(stripe_env, monkeypatch):
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_KEY", "sk_test_from_env")
    settings = payment_settings(load=lambda block: pytest.fail("no block should be read"))
    assert settings.secret("stripe_api_key") == "sk_test_from_env"


def test_a_block_for_an_unknown_setting_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_SECRET_BLOCKS", '{"stripe_key": "x"}')
    with pytest.raises(ValueError, match=r"unknown settings: \['stripe_key'\]"):
        payment_settings(load=lambda block: "")


def test_the_console_refunds_through_the_configured_provider(monkeypatch):
    assert isinstance(payment_gateway(), AdoptingGateway)  # the default: simulated
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_KEY", KEY)
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_x")
    gateway = payment_gateway()
    assert isinstance(gateway, StripeGateway)
    gateway.close()


def test_a_missing_block_is_refused_by_name(stripe_env):
    def load(block: str) -> str:
        raise ValueError(f"Unable to find block document named {block} for block type secret")

    with pytest.raises(InvalidInput, match="ORDERPILOT_PAYMENTS_SECRET_BLOCKS: stripe_api_key: "
                                           "the Prefect Secret block 'shop-stripe-key' could "
                                           "not be read"):
        payment_settings(load=load)
