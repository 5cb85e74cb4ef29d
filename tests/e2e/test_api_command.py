"""`orderpilot api` as a user runs it: a separate process, secrets from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from integrations.http.signing import signed_headers
from orderpilot import OrderPilot
from tests.factories import order_request, stock
from tests.fakes.http import patient_client
from tests.integration.integ.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_api_command_serves_signed_webhooks_with_secrets_from_the_environment(tmp_path):
    # Given a store with stock and a shop secret in the environment
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    pilot = OrderPilot(url)
    stock(pilot)
    pilot.close()
    port = free_port()
    env = {**os.environ, "ORDERPILOT_HTTP_SECRETS": json.dumps({"shop": "e2e-secret"})}
    server = subprocess.Popen(
        [sys.executable, "-c", "from orderpilot.cli import app; app()", "api", "--db", url,
         "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, server)
        body = json.dumps({"event_id": "e2e-1", "order": order_request()}).encode()
        # When the shop posts a signed order, and an unsigned one
        with patient_client(base) as client:
            signed = client.post("/v1/shop/orders", content=body, headers={
                "content-type": "application/json",
                **signed_headers("e2e-secret", body, datetime.now(UTC))})
            unsigned = client.post("/v1/shop/orders", content=body)
        # Then the first is placed and the second refused
        assert signed.status_code == 201, signed.text
        assert unsigned.status_code == 401
    finally:
        server.terminate()
        server.communicate(timeout=20)


def _wait_healthy(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90  # a cold start imports the address parser (~3 s quiet)
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read().decode()
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("orderpilot api did not become healthy in 90 s")
