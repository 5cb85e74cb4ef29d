"""The outbox relay: publish unpublished outbox rows, oldest first, then mark them published.

At least once, in order: rows are read in id order, sent in one batch, and marked only after
the receiver confirmed the batch (HTTP 2xx). If the relay dies between the two, the next run
sends the same rows again with the same event ids, and the consumer drops the repeats.
Prefect's `emit_event` is not used: it drops events silently when the server is down.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from integrations.db import outbox
from integrations.events.envelope import envelope, event_id
from integrations.events.identity import store_id
from integrations.notifications.masking import mask_url
from integrations.service.context import Context
from statemachine.errors import OrderPilotError

TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


class PublishFailed(OrderPilotError):
    """The receiver did not confirm the batch; nothing was marked published."""

    code = "publish_failed"


class EventSink(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None:
        """Deliver the batch or raise; returning means the receiver has it."""


class PrefectHttpSink:
    """Posts batches to a Prefect server's `POST /api/events` (204 = accepted)."""

    def __init__(self, api_url: str, *, auth_string: str | None = None, timeout: float = 10.0,
                 attempts: int = 4, backoff: float = 0.5):
        headers = {}
        if auth_string:
            headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
        self.url = api_url.rstrip("/") + "/events"
        self.attempts, self.backoff = attempts, backoff
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Post the batch; retry connection errors and 5xx/429, raise PublishFailed at the end."""
        problem = ""
        for attempt in range(self.attempts):
            try:
                response = self._http.post(self.url, json=events)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code not in TRANSIENT_STATUS:
                    break
            time.sleep(self.backoff * 2**attempt)
        raise PublishFailed(f"{len(events)} event(s) not delivered to "
                            f"{mask_url(self.url, keep_path=True)}: {problem}")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrefectHttpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def relay_once(ctx: Context, sink: EventSink, batch: int = 500,
               source: str | None = None) -> int:
    """Publish the oldest unpublished rows (up to `batch`); returns how many were published.
    Event ids derive from the row id and `source` (default: this store's identity)."""
    source = source or f"orderpilot:{store_id(ctx)}"
    with ctx.tx(readonly=True) as tx:
        rows = outbox.unpublished(tx.connection, batch)
        orders = outbox.orders_of(tx.connection, {row.order_id for row in rows})
    if not rows:
        return 0
    sink.publish(_envelopes(rows, orders, source, ctx.settings.shop))
    with ctx.tx() as tx:
        outbox.mark_published(tx.connection, [r.id for r in rows], ctx.clock.now())
    return len(rows)


def _envelopes(rows: list[Any], orders: dict[int, Any], source: str,
               shop: str | None) -> list[dict[str, Any]]:
    """Envelopes in id order; each names the previous event of its order in this batch."""
    last: dict[int, uuid.UUID] = {}
    out = []
    for row in rows:
        out.append(envelope(row, orders.get(row.order_id), last.get(row.order_id), source,
                            shop))
        last[row.order_id] = event_id(row.id, source)
    return out


def drain(ctx: Context, sink: EventSink, batch: int = 500, source: str | None = None) -> int:
    """Publish until nothing is left; returns the total published."""
    source, total = source or f"orderpilot:{store_id(ctx)}", 0
    while (sent := relay_once(ctx, sink, batch, source)) > 0:
        total += sent
    return total


def relay_forever(ctx: Context, sink: EventSink, *, batch: int = 500, interval: float = 1.0,
                  should_stop: Callable[[], bool] = lambda: False,
                  on_error: Callable[[Exception], None] = lambda error: None) -> int:
    """Drain, sleep `interval`, repeat; a failed delivery is reported and retried next round."""
    total = 0
    while not should_stop():
        try:
            total += drain(ctx, sink, batch)
        except PublishFailed as error:
            on_error(error)
        time.sleep(interval)
    return total


def unpublished(ctx: Context) -> int:
    """How many outbox rows wait for the relay."""
    with ctx.tx(readonly=True) as tx:
        return outbox.count_unpublished(tx.connection)
