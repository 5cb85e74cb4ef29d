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


def test_a_pilot_reads_the_same_block_as_the_flows(prefect_server, sqlite_url, monkeypatch):
    # `OrderPilot()` (the CLI, `orderpilot api`, a shop's own code) on a real server's block
    from prefect.blocks.system import Secret

    from orderpilot import OrderPilot

    Secret(value="sk_test_KeptInPrefect0002").save("orderpilot-stripe-key-2", overwrite=True)
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_SECRET_BLOCKS",
                       '{"stripe_api_key": "orderpilot-stripe-key-2"}')
    pilot = OrderPilot(sqlite_url)
    try:
        # read when asked for (the gateway is built on first use), from the block
        assert pilot.context.payment_settings().secret("stripe_api_key") == \
            "sk_test_KeptInPrefect0002"
    finally:
        pilot.close()
