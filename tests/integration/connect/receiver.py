"""A webhook receiver on 127.0.0.1 that verifies Standard Webhooks signatures with the
`standardwebhooks` package, fails on purpose when told to, and dedupes by webhook-id."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.fakes.http import serving_thread

Decide = Callable[[dict[str, Any], int], int]  # (message, attempt no. for its id) → status


class Receiver:
    """`accepted`: every verified message answered 2xx, in arrival order (repeats included)."""

    def __init__(self, secret: str, decide: Decide | None = None):
        self.secret, self.decide = secret, decide or (lambda message, attempt: 204)
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.forged = 0
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = serving_thread(self.server)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/orderpilot"

    def applied(self) -> list[dict[str, Any]]:
        """What an idempotent consumer applies: the first accepted copy of each webhook-id."""
        seen, out = set(), []
        for message in self.accepted:
            if message["id"] not in seen:
                seen.add(message["id"])
                out.append(message)
        return out

    def by_order(self) -> dict[str, list[str]]:
        orders: dict[str, list[str]] = {}
        for message in self.applied():
            orders.setdefault(message["data"]["order_id"], []).append(message["id"])
        return orders

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.forged += 1
                    self._answer(401)
                    return
                message = {"id": self.headers["webhook-id"], **payload}
                with receiver.lock:
                    attempt = receiver.attempts.get(message["id"], 0) + 1
                    receiver.attempts[message["id"]] = attempt
                status = receiver.decide(message, attempt)
                with receiver.lock:
                    (receiver.accepted if 200 <= status < 300 else receiver.refused).append(
                        message)
                self._answer(status)

            def _answer(self, status: int) -> None:
                body = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
