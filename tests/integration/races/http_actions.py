"""Racing callers of the ops HTTP routes that are not inbound events of `once`'s kind by
default — order notes and webhook subscriptions — each worker posting to its own real server
on the store (as separate API servers would)."""

from __future__ import annotations

from typing import Any

from orderpilot import OrderPilot
from tests.integration.races.correction_actions import _served, serve_http


def ops_over_http(pilot: OrderPilot, method: str, path: str,
                  body: dict[str, Any] | None = None) -> dict[str, Any]:
    """This worker's server answers an ops request: its status, replay header and body."""
    serve_http(pilot)
    response = _served[0][2].send(method, path, body, at=pilot.context.clock.now())
    return {"status": response.status_code,
            "replay": response.headers.get("idempotent-replay") == "true",
            "body": response.json() if response.content else None}
