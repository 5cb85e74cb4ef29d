"""Webhook subscriptions and deliveries in the store: fan-out, claim, record, the logs.

A subscription hears the events committed after it is created (`add_subscription`).

Fan-out reads outbox rows no subscription has seen yet (`fanned_out_at IS NULL`), adds one
delivery per matching subscription and marks exactly those rows, by id: on PostgreSQL a row
with a lower id may commit later, and marking by range would skip it.

A claim takes the due deliveries that head their chain (subscription × order): a delivery
waits while an earlier one of its chain is dead-lettered or not due (retrying, or claimed by a
relay). Claiming pushes `next_attempt_at` out by the lease, so a relay that dies mid-batch
loses nothing: the lease runs out and the next run sends the same deliveries again.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.db.rows import Insert
from integrations.db.schema_connect import WebhookDeliveryRow
from integrations.db.sql import Sql, in_list

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
SUB_COLS = ("id, kind, url, events, description, active, after_outbox_id, created_by, "
            "created_at, updated_at")
DELIVERY_COLS = ("id, subscription_id, outbox_id, order_id, event, status, attempts, "
                 "next_attempt_at, last_status_code, last_error, created_at, last_attempt_at, "
                 "delivered_at")
DELIVERIES = WebhookDeliveryRow.__table__
# What fan-out writes (the rest is each attempt's); DO NOTHING: one delivery per subscription
# and outbox row, however often fan-out meets it
FANNED = Insert(DELIVERIES, but=("id", "last_status_code", "last_error", "last_attempt_at",
                                 "delivered_at"), key=("subscription_id", "outbox_id"))
CLAIM_LOCK = 461_015_001  # PostgreSQL advisory lock: one relay claims at a time
# How long one attempt to create a subscription waits for the outbox writers: transitions queue
# behind its lock request, so a session idle in a transaction must not stall them. The service
# runs the creation again after a pause (service/contention.py, ATTEMPTS runs): a writer that
# is merely slow is waited out over ~3 s in all, and transitions go through between attempts
# instead of waiting behind one long request
SUBSCRIBE_LOCK_WAIT_MS = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a relay has claimed, with what it needs to send it."""

    id: int
    subscription_id: int
    order_id: int
    outbox_id: int
    attempts: int
    event: str
    kind: str
    url: str
    secret: str
    payload: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt got back: a 2xx status means delivered."""

    delivery_id: int
    attempts_before: int
    status_code: int | None
    error: str | None  # why it failed; on a delivery, a note (e.g. a notice skipped)
    permanent: bool = False  # retrying cannot help (e.g. a provider refused the request)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookStore:
    def __init__(self, sql: Sql):
        self.sql = sql

    # --- subscriptions ------------------------------------------------------------------------

    def add_subscription(self, values: dict[str, Any]) -> int:
        """Add a subscription that hears exactly the events committed after it.

        It starts after the highest outbox id, read once no event can still commit below it.
        On PostgreSQL ids are taken at INSERT and transactions commit in any order: an event
        with a lower id, written but not committed yet, committed after the subscription and
        was never handed to it. SHARE mode waits for the transactions writing the outbox
        (an INSERT holds ROW EXCLUSIVE, taken before its id) and holds new ones until this
        commits, so the ids below the start are all committed and the next are above it.
        Transitions wait for that moment (a short transaction; take it before anything else).
        The wait is bounded (`SUBSCRIBE_LOCK_WAIT_MS`): a writer left idle in its transaction
        would hold the lock request, and every transition queued behind it, for as long as it
        idles; past the bound PostgreSQL refuses the lock (SQLSTATE 55P03), nothing written,
        and the service runs the creation again — past its budget the caller gets
        `Contention`.
        SQLite's writers take turns: ids are taken in commit order already."""
        if not self.sql.sqlite:
            self.sql.run(f"SET LOCAL lock_timeout = {int(SUBSCRIBE_LOCK_WAIT_MS)}")
            self.sql.run("LOCK TABLE outbox IN SHARE MODE")
        return self.sql.insert_id(
            "INSERT INTO webhook_subscriptions (kind, url, secret, events, description, active, "
            "after_outbox_id, created_by, created_at, updated_at) VALUES (:kind, :url, :secret, "
            ":events, :description, :active, (SELECT COALESCE(MAX(id), 0) FROM outbox), "
            ":created_by, :at, :at)", values)

    def subscriptions(self, kind: str | None = None, *, kept: bool = False
                      ) -> list[dict[str, Any]]:
        """By id; `kept`: each held until commit against removal (FOR KEY SHARE on
        PostgreSQL: fan-out writes deliveries for them)."""
        where = "WHERE kind = :kind " if kind else ""
        lock = " FOR KEY SHARE" if kept and not self.sql.sqlite else ""
        rows = self.sql.all(f"SELECT {SUB_COLS} FROM webhook_subscriptions {where}ORDER BY id"
                            + lock, {"kind": kind} if kind else {})
        return [self._subscription(r) for r in rows]

    def subscription(self, number: int) -> dict[str, Any] | None:
        row = self.sql.one(f"SELECT {SUB_COLS} FROM webhook_subscriptions WHERE id = :id",
                           {"id": number})
        return None if row is None else self._subscription(row)

    def set_active(self, number: int, active: bool, at: datetime) -> bool:
        return self.sql.run("UPDATE webhook_subscriptions SET active = :a, updated_at = :at "
                            "WHERE id = :id", {"a": active, "at": at, "id": number}).rowcount == 1

    def remove(self, number: int) -> bool:
        """Delete a webhook subscription and its log (built-in ones can only be paused). The
        row is locked first: a fan-out writing deliveries for it finishes before (its
        deliveries are deleted too) or reads it gone after."""
        lock = "" if self.sql.sqlite else " FOR UPDATE"
        if self.sql.one("SELECT id FROM webhook_subscriptions WHERE id = :id AND "
                        f"kind = 'webhook'{lock}", {"id": number}) is None:
            return False
        self.sql.run("DELETE FROM webhook_deliveries WHERE subscription_id = :id", {"id": number})
        return self.sql.run("DELETE FROM webhook_subscriptions WHERE id = :id",
                            {"id": number}).rowcount == 1

    # --- fan-out ------------------------------------------------------------------------------

    def fan_out(self, now: datetime, batch: int,
                builtin: Mapping[str, Sequence[str]] | None = None) -> int:
        """Give the next `batch` unseen outbox rows to the matching subscriptions; returns
        how many rows were handled (0: nothing waits). Built-in subscriptions (buyer
        notices, tracking) take the filters in `builtin`; a kind missing there gets nothing."""
        rows = self.sql.all("SELECT id, event, order_id FROM outbox WHERE "
                            "fanned_out_at IS NULL ORDER BY id LIMIT :n", {"n": batch})
        if not rows:
            return 0
        builtin = builtin or {}
        subs = [(s["id"], s["events"] if s["kind"] == "webhook" else builtin[s["kind"]],
                 s["after_outbox_id"]) for s in self.subscriptions(kept=True)
                if s["active"] and (s["kind"] == "webhook" or s["kind"] in builtin)]
        deliveries = [{"subscription_id": sub, "outbox_id": r[0], "order_id": r[2],
                       "event": r[1], "status": PENDING, "attempts": 0, "next_attempt_at": now,
                       "created_at": now}
                      for r in rows for sub, patterns, after in subs
                      if r[0] > after and matches(patterns, r[1])]
        FANNED.write(self.sql, deliveries)
        where, params = in_list("id", [r[0] for r in rows])
        self.sql.run(f"UPDATE outbox SET fanned_out_at = :now WHERE {where}",
                     {**params, "now": now})
        return len(rows)

    # --- claim, record ------------------------------------------------------------------------

    def claim(self, now: datetime, lease_until: datetime, batch: int,
              chain_limit: int) -> list[Claimed]:
        """Claim up to `batch` due chain heads (at most `chain_limit` per chain), oldest first."""
        if not self.sql.sqlite:
            self.sql.run("SELECT pg_advisory_xact_lock(:k)", {"k": CLAIM_LOCK})
        ids = [r[0] for r in self.sql.all(_ELIGIBLE, {"now": now, "scan": batch * 4,
                                                      "chain": chain_limit, "n": batch})]
        if not ids:
            return []
        where, params = in_list("id", ids)
        taken = [r[0] for r in self.sql.all(
            f"UPDATE webhook_deliveries SET next_attempt_at = :lease WHERE {where} AND "
            "status = 'pending' AND next_attempt_at <= :now RETURNING id",
            {**params, "lease": lease_until, "now": now})]
        where, params = in_list("d.id", taken)
        return [Claimed(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                        self.sql.doc(r[9]), self.sql.when(r[10])) for r in self.sql.all(
            "SELECT d.id, d.subscription_id, d.order_id, d.outbox_id, d.attempts, d.event, "
            "s.kind, s.url, s.secret, o.payload, o.created_at FROM webhook_deliveries d "
            "JOIN webhook_subscriptions s ON s.id = d.subscription_id "
            f"JOIN outbox o ON o.id = d.outbox_id WHERE {where} ORDER BY d.id", params)]

    def record(self, attempts: Sequence[Attempt], released: Iterable[int], now: datetime,
               retry_at: dict[int, datetime | None]) -> None:
        """Store each attempt's outcome; `retry_at[id]` None dead-letters a failure.
        Released deliveries (not tried: their chain stopped) are due again at once."""
        done = [{"id": a.delivery_id, "code": a.status_code, "now": now, "note": a.error}
                for a in attempts if a.ok]
        failed = [{"id": a.delivery_id, "code": a.status_code, "err": (a.error or "")[:500],
                   "now": now, "status": DEAD if retry_at[a.delivery_id] is None else PENDING,
                   "next": retry_at[a.delivery_id] or now} for a in attempts if not a.ok]
        if done:
            self.sql.many("UPDATE webhook_deliveries SET status = 'delivered', attempts = "
                          "attempts + 1, last_status_code = :code, last_error = :note, "
                          "last_attempt_at = :now, delivered_at = :now WHERE id = :id", done)
        if failed:
            self.sql.many("UPDATE webhook_deliveries SET status = :status, attempts = "
                          "attempts + 1, last_status_code = :code, last_error = :err, "
                          "last_attempt_at = :now, next_attempt_at = :next WHERE id = :id",
                          failed)
        free = [{"id": n, "now": now} for n in released]
        if free:
            self.sql.many("UPDATE webhook_deliveries SET next_attempt_at = :now "
                          "WHERE id = :id AND status = 'pending'", free)

    # --- logs, dead letters -------------------------------------------------------------------

    def deliveries(self, subscription_id: int | None = None, status: str | None = None,
                   order_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql, params = f"SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE 1 = 1", {}
        for column, value in (("subscription_id", subscription_id), ("status", status),
                              ("order_id", order_id)):
            if value is not None:
                sql, params = sql + f" AND {column} = :{column}", {**params, column: value}
        rows = self.sql.all(sql + " ORDER BY id DESC LIMIT :limit", {**params, "limit": limit})
        names = DELIVERY_COLS.split(", ")
        return [self._dated(dict(zip(names, r, strict=True))) for r in reversed(rows)]

    def counts(self) -> dict[int, dict[str, int]]:
        """Deliveries per subscription and status."""
        found: dict[int, dict[str, int]] = {}
        for sub, status, n in self.sql.all("SELECT subscription_id, status, COUNT(*) FROM "
                                           "webhook_deliveries GROUP BY subscription_id, status"):
            found.setdefault(sub, {})[status] = int(n)
        return found

    def resend(self, now: datetime, delivery_ids: Sequence[int] = (),
               subscription_id: int | None = None) -> int:
        """Put dead deliveries back in the queue with a fresh attempt count."""
        if delivery_ids:
            where, params = in_list("id", list(delivery_ids))
        elif subscription_id is not None:
            where, params = "subscription_id = :sub", {"sub": subscription_id}
        else:
            where, params = "1 = 1", {}
        return self.sql.run(f"UPDATE webhook_deliveries SET status = 'pending', attempts = 0, "
                            f"next_attempt_at = :now WHERE status = 'dead' AND {where}",
                            {**params, "now": now}).rowcount

    def _subscription(self, r: Sequence[Any]) -> dict[str, Any]:
        names = SUB_COLS.split(", ")
        row = dict(zip(names, r, strict=True))
        row["events"], row["active"] = self.sql.doc(row["events"]), bool(row["active"])
        return self._dated(row)

    def _dated(self, row: dict[str, Any]) -> dict[str, Any]:
        for key in ("created_at", "updated_at", "next_attempt_at", "last_attempt_at",
                    "delivered_at"):
            if key in row:
                row[key] = self.sql.when(row[key])
        return row


def matches(patterns: Iterable[str], event: str) -> bool:
    """Whether an event name matches any filter (`orderpilot.order.*`, `*`, exact names)."""
    return any(fnmatch.fnmatchcase(event, p) for p in patterns)


# Chain heads: due and pending, with no earlier delivery of the same chain that is dead or
# waiting (retrying or claimed). The inner scan is bounded so a huge backlog stays cheap.
_ELIGIBLE = """
SELECT id FROM (
  SELECT d.id AS id, ROW_NUMBER() OVER (PARTITION BY d.subscription_id, d.order_id
                                        ORDER BY d.id) AS n
  FROM (SELECT id, subscription_id, order_id FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= :now ORDER BY id LIMIT :scan) d
  WHERE NOT EXISTS (
    SELECT 1 FROM webhook_deliveries e
    WHERE e.subscription_id = d.subscription_id AND e.order_id = d.order_id AND e.id < d.id
      AND (e.status = 'dead' OR (e.status = 'pending' AND e.next_attempt_at > :now)))
) heads WHERE n <= :chain ORDER BY id LIMIT :n
"""
