"""The API server loads the address tables before it takes requests (integrations/http/app.py):
the first placement after a deploy must not wait seconds for them, past a provider's 5 s (a
Shopify webhook answered late is retried as failed). Checked in a fresh process, where nothing
has loaded them yet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = r"""
import sys
from fastapi.testclient import TestClient
from integrations.geo import regions
from integrations.http.app import create_app
from integrations.http.settings import HttpSettings
from integrations.payments.settings import PaymentSettings
from orderpilot import OrderPilot

pilot = OrderPilot(f"sqlite:///{sys.argv[1]}")
app = create_app(pilot.context, HttpSettings(secrets={"shop": "s" * 16}),
                 PaymentSettings(provider="simulated"))
before = regions._library.cache_info().currsize
with TestClient(app):  # starts the app as uvicorn does: its lifespan runs before requests
    started = regions._library.cache_info().currsize
pilot.close()
print(before, started)
"""


def test_the_address_tables_are_loaded_when_the_server_starts(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "shop.db")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "1"], done.stdout
