"""Every process pays with the same credentials: a pilot (`OrderPilot()` — the CLI's commands,
`orderpilot api`, a shop's own code) reads the payment settings, Prefect Secret blocks
included, through the function the flows use (`flows.wiring.payment_settings`).

Before, a pilot read the environment only: with the Stripe key kept in a Secret block (as the
flows are documented to read it), `OrderPilot()` raised a bare ValueError ("… STRIPE_API_KEY
is not set"), so `orderpilot stall lost` — which compensates the buyer through the gateway —
and the API could not start at all."""

from __future__ import annotations

import pytest

import flows.wiring
from flows.wiring import ports
from integrations.http.app import create_app
from integrations.payments.stripe_gateway import StripeGateway
from orderpilot import OrderPilot
from tests.fakes.stripe_api import FakeStripe

KEY = "sk_test_KeptInASecretBlock0001"
WEBHOOK_SECRET = "whsec_KeptInASecretBlock0001"
BLOCKS = {"shop-stripe-key": KEY, "shop-stripe-webhook": WEBHOOK_SECRET}


@pytest.fixture
def stripe_in_blocks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stripe configured with both credentials in Prefect Secret blocks, none in the
    environment; the blocks read are listed (Prefect's Secret.load is the one stand-in)."""
    read: list[str] = []
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_SECRET_BLOCKS", '{"stripe_api_key": '
                       '"shop-stripe-key", "stripe_webhook_secret": "shop-stripe-webhook"}')
    monkeypatch.setattr(flows.wiring, "secret_block",
                        lambda name: read.append(name) or BLOCKS[name])
    return read


def test_a_pilot_pays_with_the_key_kept_in_a_secret_block(sqlite_url, stripe_in_blocks,
                                                           monkeypatch):
    with FakeStripe() as fake:
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_BASE", fake.url)
        # Given a pilot opened as the CLI opens it
        pilot = OrderPilot(sqlite_url)
        try:
            # Then its gateway — the one the console's jobs get as their ports — is Stripe
            # (built on first use), and a call it makes carries the key from the block
            gateway = ports(pilot.context).gateway
            assert gateway is pilot.context.gateway and stripe_in_blocks == []
            assert isinstance(gateway.built(), StripeGateway)
            gateway.checkout("o-1", 29900, "CNY", idempotency_key="checkout:o-1")
            [call] = fake.calls("POST", "/v1/payment_intents")
            assert call.headers["authorization"] == f"Bearer {KEY}"
            # And the webhook app it serves checks signatures with the block's secret
            app = create_app(pilot.context)
            assert app.state.payments.secret("stripe_webhook_secret") == WEBHOOK_SECRET
            assert sorted(stripe_in_blocks) == ["shop-stripe-key", "shop-stripe-webhook"]
        finally:
            pilot.close()


def test_a_pilot_reads_no_block_when_the_environment_holds_the_credentials(
        sqlite_url, stripe_in_blocks, monkeypatch):
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_KEY", "sk_test_from_env")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    pilot = OrderPilot(sqlite_url)
    pilot.close()
    assert stripe_in_blocks == []  # the environment wins, and Prefect is not asked
