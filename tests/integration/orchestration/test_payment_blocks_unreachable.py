"""A payment credential kept in a Prefect Secret block, and a Prefect server that cannot give
it: orders are still read (the gateway, and its credentials, are built when money first
moves), and money is refused telling the operator which setting, which block, which server
and what to do — never httpx's bare `ConnectError`. A pilot given its own gateway reads no
block at all.

The Prefect client here is the real one, asking a real socket: a port nothing listens on, or
a local server that refuses us (401)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

import flows.wiring
from integrations.http.app import create_app
from integrations.payments.simulated import AdoptingGateway
from integrations.service.money_refunds import refund_case
from orderpilot import OrderPilot, SecretsUnavailable
from orderpilot.cli import app
from statemachine.risk_port import approve_everything
from tests.factories import delivered_order, stock

BLOCKS = '{"stripe_api_key": "shop-stripe-key"}'


@pytest.fixture
def stripe_key_in_a_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    monkeypatch.setenv("ORDERPILOT_PAYMENTS_SECRET_BLOCKS", BLOCKS)


@pytest.fixture
def prefect_down() -> Iterator[str]:
    """PREFECT_API_URL naming a port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    with temporary_settings({PREFECT_API_URL: url}):
        yield url


class _Refuses(BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        body = b'{"detail": "Unauthorized"}'
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def prefect_refuses() -> Iterator[str]:
    """A server at PREFECT_API_URL that answers every request 401 (a wrong auth string)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://user:s3cret@127.0.0.1:{server.server_address[1]}/api"
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_orders_are_read_with_prefect_down_and_money_names_the_block_and_the_server(
    sqlite_url, clock, stripe_key_in_a_block, prefect_down
):
    # Given a delivered order with an approved refund request (made through a gateway of the
    # test's own), the Stripe key kept in a Secret block, and no Prefect server answering
    seeding = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything,
                         gateway=AdoptingGateway())
    stock(seeding)
    order = delivered_order(seeding)
    case = seeding.cases.open(order.id, kind="refund_only", reason="missing part",
                              lines=[{"line_no": 1, "quantity": 1}])
    seeding.cases.fire(case.id, "auto_approve")
    seeding.close()
    # When ops read the order, from the CLI and from a pilot (before: SecretsUnavailable when
    # the pilot opened — every command, reads included, refused while Prefect was down)
    shown = CliRunner().invoke(app, ["order", "show", order.id, "--db", sqlite_url])
    assert shown.exit_code == 0, shown.output
    assert order.id in shown.stdout and "delivered" in shown.stdout
    pilot = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything)
    try:
        assert pilot.orders.get(order.id).state == "delivered"
        assert [o.id for o in pilot.orders.list().orders] == [order.id]
        # When money must move, the gateway's credentials are read then, and the refusal says
        # which setting, which block, which server, and what to do — nothing written
        with pytest.raises(SecretsUnavailable) as refused:
            refund_case(pilot.context, int(case.id[2:]), "cs-agent")
        assert pilot.cases.get(case.id).state == "auto_approved"
        assert pilot.orders.get(order.id).refunded == 0
    finally:
        pilot.close()
    message = str(refused.value)
    assert "stripe_api_key" in message and "'shop-stripe-key'" in message
    assert f"the Prefect server at {prefect_down}" in message
    assert "Connection refused" in message
    assert "point PREFECT_API_URL at" in message
    assert "or set ORDERPILOT_PAYMENTS_STRIPE_API_KEY in the environment" in message
    assert refused.value.code == "secrets_unavailable"


def test_a_server_that_refuses_us_is_named_without_its_credentials(
    sqlite_url, stripe_key_in_a_block, prefect_refuses
):
    pilot = OrderPilot(sqlite_url)
    try:
        with pytest.raises(SecretsUnavailable) as refused:
            pilot.context.gateway.refund("pi_1", 100, idempotency_key="k-1")
    finally:
        pilot.close()
    message = str(refused.value)
    assert f"the Prefect server at {prefect_refuses}: it answered 401 Unauthorized" in message
    assert "check PREFECT_API_AUTH_STRING" in message
    assert "s3cret" not in message


def test_a_pilot_given_its_gateway_reads_no_block(
    sqlite_url, stripe_key_in_a_block, prefect_down, monkeypatch
):
    # Given Prefect down and a reader of blocks that lists what it is asked
    asked: list[str] = []
    real = flows.wiring.secret_block
    monkeypatch.setattr(flows.wiring, "secret_block", lambda name: asked.append(name) or real(name))
    # When a pilot is opened with a gateway of its own
    pilot = OrderPilot(sqlite_url, gateway=AdoptingGateway())
    try:
        # Then it opens, and no block was read for it (before: the block was read, and with
        # Prefect down the pilot could not open at all)
        assert asked == []
        # And a webhook app asking for the webhook secrets reads them then, by name
        with pytest.raises(SecretsUnavailable, match="'shop-stripe-key'"):
            create_app(pilot.context)
        assert asked == ["shop-stripe-key"]
    finally:
        pilot.close()


def test_the_flows_context_reads_each_block_once(sqlite_url, stripe_key_in_a_block, monkeypatch):
    # Given the Stripe key in a block (read by a stand-in for Prefect that counts)
    asked: list[str] = []
    monkeypatch.setattr(
        flows.wiring, "secret_block", lambda name: asked.append(name) or "sk_test_FromTheBlock0001"
    )
    # When the flows' context is built
    ctx = flows.wiring.context.__wrapped__(sqlite_url)
    try:
        # Then its gateway took the block's key, read once (before: twice, once for the
        # gateway and once more for settings the flows never use)
        assert asked == ["shop-stripe-key"]
    finally:
        ctx.close()


@pytest.mark.prefect
def test_an_approval_made_while_the_secrets_cannot_be_read_stands_and_the_sweep_pays_it(
    sqlite_url, clock, prefect_server, monkeypatch
):
    from prefect.blocks.system import Secret

    from integrations.db.money_store import MoneyStore
    from integrations.payments.stripe_gateway import StripeGateway
    from integrations.service.checkout import capture_order, open_checkout
    from integrations.service.money_sweep import sweep_money
    from tests.fakes.stripe_api import FakeStripe

    with FakeStripe() as fake:
        # Given Stripe configured with its key in a Secret block of the real Prefect server
        Secret(value="sk_test_KeptForTheSweep01").save("shop-stripe-key-sweep", overwrite=True)
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_BASE", fake.url)
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_from_env")
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_SECRET_BLOCKS",
                           '{"stripe_api_key": "shop-stripe-key-sweep"}')
        # and an order paid through Stripe (¥299) whose refund request waits for a person
        stripe = StripeGateway("sk_test_KeptForTheSweep01", api_base=fake.url, max_retries=0)
        seeding = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything,
                             gateway=stripe)
        stock(seeding)
        order = seeding.orders.place(buyer_id="b-1", currency="CNY", lines=[
            {"sku": "SKU-1", "quantity": 1, "unit_price": 29_900}], shipping_address={
            "province": "浙江省", "city": "杭州市", "street": "文三路 18 号"})
        fake.authorise(open_checkout(seeding.context, int(order.id[2:])).payment_ref)
        capture_order(seeding.context, int(order.id[2:]))
        case = seeding.cases.open(order.id, kind="refund_only", reason="杯口有缺口",
                                  lines=[{"line_no": 1, "quantity": 1}])
        seeding.cases.fire(case.id, "review")
        seeding.close()
        stripe.close()
        pilot = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything)
        try:
            # When a reviewer approves it while the Prefect server holding the key is down
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                down = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
            with temporary_settings({PREFECT_API_URL: down}):
                approved = pilot.cases.approve(case.id, by="mei", reason="照片为证")
                # and asks again (`case refund`) while it is still down
                again = pilot.cases.refund(case.id, by="mei")
            # Then the approval stands and its refund is answered pending, saying why
            # (before: SecretsUnavailable was raised at the caller)
            assert approved.state == "approved" and approved.refund is not None
            assert approved.refund.status == "pending"
            assert approved.refund.refund == f"refund:{case.id}"
            assert approved.refund.error.startswith(
                "payment secrets unavailable: the payment setting stripe_api_key is kept in "
                "the Prefect Secret block 'shop-stripe-key-sweep'")
            assert (again.status, again.refund, again.error) == (
                "pending", approved.refund.refund, approved.refund.error)  # the same refund
            assert fake.calls("POST", "/v1/refunds") == []  # Stripe was never asked
            with pilot.context.tx(readonly=True) as tx:
                [op] = [o for o in MoneyStore(tx.store.sql).of_order(int(order.id[2:]))
                        if o.kind.value == "refund"]
            assert (op.status.value, op.amount) == ("pending", 29_900)
            # When the server is back and the money sweep runs past the retry delay
            clock.advance(minutes=3)
            moved = sweep_money(pilot.context, clock.now())
            # Then the refund is made once, with its key, and the case is refunded
            assert moved["retried"] == 1
            assert pilot.cases.get(case.id).state == "refunded"
            assert pilot.orders.get(order.id).refunded == 29_900
            assert [r["amount"] for r in fake.refunds.values()] == [29_900]
        finally:
            pilot.close()


def test_a_refund_of_the_order_made_while_the_secrets_cannot_be_read_is_left_for_the_sweep(
    any_url, clock, stripe_key_in_a_block, prefect_down
):
    from integrations.db.money_store import MoneyStore
    from integrations.service.money_refunds import refund_order
    from integrations.service.money_sweep import sweep_money

    # Given a delivered order (paid, seeded through a gateway of the test's own) and the
    # Stripe key kept in a Secret block of a Prefect server that does not answer
    seeding = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                         gateway=AdoptingGateway())
    stock(seeding)
    order = delivered_order(seeding)
    seeding.close()
    number = int(order.id[2:])
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    try:
        # When finance refunds ¥5.00 of it as goodwill (no key of its own)
        refund = refund_order(pilot.context, number, 500, "物流延误补偿", "finance:li")
        # Then the refund is answered recorded and pending, saying why (before:
        # SecretsUnavailable was raised over it, and the same call made again — nothing in the
        # answer said a refund was recorded — recorded a second ¥5.00 refund)
        assert (refund.status.value, refund.amount) == ("pending", 500)
        assert (refund.error or "").startswith(
            "payment secrets unavailable: the payment setting stripe_api_key is kept in the "
            "Prefect Secret block 'shop-stripe-key'")
        with pilot.context.tx(readonly=True) as tx:
            refunds = [op.key for op in MoneyStore(tx.store.sql).of_order(number)
                       if op.kind.value == "refund"]
        assert refunds == [refund.key]
        assert pilot.orders.get(order.id).refunded == 0
    finally:
        pilot.close()
    # When the money sweep runs past the retry delay with a gateway that can be reached
    clock.advance(minutes=3)
    paying = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                        gateway=AdoptingGateway())
    try:
        assert sweep_money(paying.context, clock.now())["retried"] == 1
        # Then it is paid once, under its key
        with paying.context.tx(readonly=True) as tx:
            refunds = [(op.key, op.status.value) for op in
                       MoneyStore(tx.store.sql).of_order(number) if op.kind.value == "refund"]
        assert refunds == [(refund.key, "succeeded")]
        assert paying.orders.get(order.id).refunded == 500
    finally:
        paying.close()
