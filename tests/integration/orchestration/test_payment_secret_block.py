"""A payment credential kept in a Prefect Secret block on a real server reaches the gateway."""

from __future__ import annotations

import pytest

from flows.wiring import payment_settings

pytestmark = pytest.mark.prefect


def test_a_stripe_key_in_a_secret_block_is_read_by_the_flows(prefect_server, monkeypatch):
    from prefect.blocks.system import Secret

    Secret(value="sk_test_KeptInPrefect0001").save("orderpilot-stripe-key", overwrite=True)
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_SECRET_BLOCKS",
                       '{"stripe_api_key": "orderpilot-stripe-key"}')
    assert payment_settings().secret("stripe_api_key") == "sk_test_KeptInPrefect0001"
