"""Apply an inbound event exactly once and log it with its response.

The log row (`webhook_events`) is keyed `<source>:<event id>`, written in the same transaction as
the state change, and holds the response: a duplicate returns that response and changes nothing.
The same key goes into the service inbox, so the Python API cannot apply it a second time.
The event's time is read once, when it comes in, and handed to `prepare` and `apply` as `now`,
the one time every row it writes carries (log, inbox, history, outbox, ledger, money
operations), retries included.

Two retries, one inside the other: `_once` is the service's Contention retry
(service/contention.py, as for every Python API call: a lost lock or stock race is run again, then
503 with Retry-After), and `RETRIES` around it re-runs a delivery that lost a unique key (another
delivery of the same event: its stored answer is replayed) or a version check (a concurrent change
to the same order: applied again on the new version).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.db import records
from integrations.db.errors import is_integrity_error
from integrations.ingest.events import Inbound
from integrations.service.contention import retrying
from integrations.service.context import Context, Tx
from integrations.service.idempotency import remember
from integrations.service.views import OrderView
from statemachine.errors import ConcurrentUpdate, Contention, OrderPilotError

RETRIES = 3


class IdempotencyConflict(OrderPilotError):
    """An event id came back with a different body: refused, the first one stands."""

    code = "idempotency_conflict"

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"event {key} was already received with a different body")


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying an event did: the order it touched, whether state moved, and the body."""

    order_id: int | None
    applied: bool
    body: dict[str, Any]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    duplicate: bool = False


Apply = Callable[[Tx, Any, datetime], Applied]  # (tx, what `prepare` gave, the event's now)
Prepare = Callable[[str, datetime], Any]  # (the event's key, its now)


def event_key(source: str, event: Inbound) -> str:
    return f"{source}:{event.event_id}"


def order_body(tx: Tx, number: int) -> dict[str, Any]:
    """The order as an applied event's answer shows it (read in the event's transaction)."""
    return OrderView.of(tx.store.get_order(number)).model_dump(mode="json")


def digest(event: Inbound) -> str:
    return hashlib.sha256(event.model_dump_json().encode()).hexdigest()


def once(ctx: Context, source: str, kind: str, event: Inbound, apply: Apply,
         prepare: Prepare | None = None, status: int = 200, inbox: bool = True,
         now: datetime | None = None) -> Outcome:
    """Apply the event and log it, in one transaction; a logged event replays its response.

    `prepare` (optional) runs first in its own transaction, idempotent by key (opening a case:
    the service call commits on its own). `inbox=False` when `apply` keeps the key in the
    service inbox itself (placing an order does, with the request's digest). A concurrent
    delivery of the same event (or a concurrent change to the same order) makes the loser fail
    on a unique key or a version check; it is retried, and then replays. `now`: the caller's
    reading of the clock when it does more after (a placement sends its verification code at
    the time it wrote); else read here, once.
    """
    body_digest, now = digest(event), now or ctx.clock.now()
    for attempt in range(1, RETRIES + 1):
        try:
            return _once(ctx, source, kind, event, apply, prepare, status, body_digest,
                         inbox and prepare is None, now)
        except Exception as error:
            unique = is_integrity_error(error)
            if not unique and not isinstance(error, ConcurrentUpdate):
                raise
            if attempt == RETRIES and unique:  # never the raw error
                raise Contention(f"applying event {event_key(source, event)}", attempt,
                                 "unique key conflict") from error
            if attempt == RETRIES:
                raise
    raise AssertionError("unreachable")


def replayed(ctx: Context, source: str, event: Inbound) -> Outcome | None:
    """The logged response to this event, or None if it was never applied (read only)."""
    with ctx.tx(readonly=True) as tx:
        return _replay(tx, event_key(source, event), digest(event))


@retrying("applying the event")
def _once(ctx: Context, source: str, kind: str, event: Inbound, apply: Apply,
          prepare: Prepare | None, status: int, body_digest: str, remember_key: bool,
          now: datetime) -> Outcome:
    key, prepared = event_key(source, event), None
    if prepare is not None:
        with ctx.tx(readonly=True) as tx:
            prior = _replay(tx, key, body_digest)
        if prior is not None:
            return prior
        prepared = prepare(key, now)
    return _apply_and_log(ctx, source, kind, event, apply, prepared, status, body_digest,
                          remember_key, now)


def _apply_and_log(ctx: Context, source: str, kind: str, event: Inbound, apply: Apply,
                   prepared: Any, status: int, body_digest: str,
                   remember_key: bool, now: datetime) -> Outcome:
    """Claim the key first: a concurrent copy blocks on the unique key until this commits,
    then fails and replays; it never sees the new state without the log row."""
    key = event_key(source, event)
    with ctx.tx() as tx:
        prior = _replay(tx, key, body_digest)
        if prior is not None:
            return prior
        sql = tx.store.sql
        records.event_put(sql, {
            "key": key, "source": source, "kind": kind, "order_id": None,
            "body_sha256": body_digest, "applied": False, "note": None, "status_code": 0,
            "response": {}, "occurred_at": event.occurred_at, "received_at": now})
        if remember_key and tx.store.inbox_get(key) is not None:
            raise IdempotencyConflict(key)  # the key was already used through the Python API
        done = apply(tx, prepared, now)
        if remember_key and done.order_id is not None:
            remember(tx, key, kind, done.order_id, now)
        body = {"event_id": event.event_id, "kind": kind, "applied": done.applied,
                "note": done.note, "duplicate": False, **done.body}
        records.event_finish(sql, key, {
            "order_id": done.order_id, "applied": done.applied, "note": done.note,
            "status_code": status, "response": body})
        return Outcome(status, body)


def _replay(tx: Tx, key: str, body_digest: str) -> Outcome | None:
    row = records.event_get(tx.store.sql, key)
    if row is None:
        return None
    if row.body_sha256 != body_digest:
        raise IdempotencyConflict(key)
    return Outcome(row.status_code, {**row.response, "duplicate": True}, duplicate=True)
