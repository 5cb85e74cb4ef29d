"""A real HTTP server for tests: uvicorn on a free 127.0.0.1 port, a SQLite file behind it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from integrations.db.schema import Base
from integrations.http.app import create_app
from integrations.http.settings import HttpSettings
from integrations.http.signing import signed_headers
from integrations.payments.settings import PaymentSettings
from integrations.service.context import Context
from orderpilot import OrderPilot
from statemachine.risk_port import Reason, RiskAction, RiskDecision
from tests.fakes.http import patient_client

SECRETS = {"shop": "shop-secret-for-tests", "payments": "pay-secret-for-tests",
           "carriers": "carrier-secret-for-tests", "reviews": "review-secret-for-tests",
           "ops": "ops-secret-for-tests"}


def review_big_orders(facts: Any, connection: Any) -> RiskDecision:
    """A test risk check: orders above 5000 go to review, the rest are approved."""
    if facts.amount > 5000:
        return RiskDecision(RiskAction.REVIEW, 0.7, (Reason("amount", "amount over 5000",
                                                            {"amount": facts.amount}),))
    return RiskDecision(RiskAction.APPROVE, 0.1, (Reason("allow", "small amount"),))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(pilot: OrderPilot, secrets: dict[str, str] | None = None,
                   group_commit: bool = False,
                   payments: PaymentSettings | None = None,
                   context: Context | None = None) -> Iterator[str]:
    """Serve the ingestion app for `pilot` (or for `context`, another of its contexts) until
    the block ends; yields the base URL."""
    settings = HttpSettings(secrets=secrets or SECRETS, group_commit=group_commit)
    port = free_port()
    app = create_app(context or pilot.context, settings,
                     payments or PaymentSettings(provider="simulated"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Client:
    """Signs every request the way a provider would; overrides let tests break the signature."""

    def __init__(self, base_url: str, secrets: dict[str, str] | None = None):
        self.http = patient_client(base_url)
        self.secrets = secrets or SECRETS

    def send(self, method: str, path: str, payload: Any = None, *, secret: str | None = None,
             at: datetime | None = None, body: bytes | None = None,
             sent_body: bytes | None = None, signed: bool = True) -> httpx.Response:
        raw = body if body is not None else (
            json.dumps(payload).encode() if payload is not None else b"")
        source = path.split("/")[2] if path.startswith("/v1/") else "ops"
        headers = {"content-type": "application/json"}
        if signed:
            headers |= signed_headers(secret or self.secrets[source], raw,
                                      at or datetime.now(UTC))
        return self.http.request(method, path, content=sent_body if sent_body is not None
                                 else raw, headers=headers)

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> httpx.Response:
        return self.send("POST", path, payload, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.send("GET", path, **kwargs)


def row_counts(pilot: OrderPilot) -> dict[str, int]:
    with pilot.context.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}
