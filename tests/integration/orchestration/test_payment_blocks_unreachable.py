"""A payment credential kept in a Prefect Secret block, and a Prefect server that cannot give
it: the operator is told which setting, which block, which server and what to do — never
httpx's bare `ConnectError` (before: `OrderPilot()` and every CLI command that opens a store
ended in that traceback).

The Prefect client here is the real one, asking a real socket: a port nothing listens on, or
a local server that refuses us (401)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from orderpilot import OrderPilot, SecretsUnavailable

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


def test_a_pilot_names_the_block_and_the_server_when_prefect_is_down(
    sqlite_url, stripe_key_in_a_block, prefect_down
):
    # Given the Stripe key kept in a Secret block, and no Prefect server answering
    # When a pilot opens (as every CLI command that opens a store does)
    with pytest.raises(SecretsUnavailable) as refused:
        OrderPilot(sqlite_url)
    # Then the error says which setting, which block, which server, and what to do
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
    with pytest.raises(SecretsUnavailable) as refused:
        OrderPilot(sqlite_url)
    message = str(refused.value)
    assert f"the Prefect server at {prefect_refuses}: it answered 401 Unauthorized" in message
    assert "check PREFECT_API_AUTH_STRING" in message
    assert "s3cret" not in message
