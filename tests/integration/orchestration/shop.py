"""Small named factories for orchestration tests: a shop on a real SQLite file, a recorder."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from orderpilot.api import OrderPilot
from statemachine.clock import ManualClock
from statemachine.risk_port import Reason, RiskAction, RiskDecision, approve_everything
from tests.fakes.http import serving_thread

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def open_shop(path: str, clock: ManualClock | None = None, risk_check: Any = None,
              settings: Any = None) -> OrderPilot:
    """A pilot on a SQLite file with 1,000 units of sku `mug` in warehouse `sh`; orders are
    approved unless a test passes its own risk check (these tests are about orchestration)."""
    pilot = OrderPilot(f"sqlite:///{path}", clock=clock or ManualClock(START),
                       risk_check=risk_check or approve_everything, settings=settings)
    pilot.inventory.receive(sku="mug", warehouse="sh", quantity=1000)
    return pilot


def place(pilot: OrderPilot, buyer: str = "b-1", quantity: int = 1, price: int = 2500) -> str:
    order = pilot.orders.place(buyer_id=buyer, shipping_address={"street": "1 Bund", "city": "SH"},
                               lines=[{"sku": "mug", "quantity": quantity, "unit_price": price}])
    return order.id


def review_big_orders(facts: Any, connection: Any) -> RiskDecision:
    """A risk check that holds orders above 5000.00 for a human."""
    if facts.amount > 500_000:
        return RiskDecision(RiskAction.REVIEW, 70, (Reason(
            "amount_threshold", "amount above 5000", {"amount": facts.amount}),))
    return RiskDecision(RiskAction.APPROVE, 5, ())


class Recorder:
    """A real HTTP server that accepts POSTs (events, apprise json://) and remembers them."""

    def __init__(self, on_post: Callable[[int], None] = lambda n: None):
        self.deliveries: list[dict[str, Any]] = []
        self.bodies: list[Any] = []
        self.posts = 0
        self.on_post = on_post
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = serving_thread(self.server)
        self.thread.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api"

    def applied(self) -> list[dict[str, Any]]:
        """What an idempotent consumer applies: the first delivery of each event id."""
        seen: dict[str, dict[str, Any]] = {}
        for event in self.deliveries:
            seen.setdefault(event["id"], event)
        return list(seen.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.posts += 1
                recorder.bodies.append(body)
                if isinstance(body, list):
                    recorder.deliveries.extend(body)
                recorder.on_post(recorder.posts)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
