"""The outbound webhook relay: outbox → deliveries → signed POSTs, retried, dead-lettered.

One round: hand new outbox rows to the matching subscriptions, claim the due chain heads, send
each chain (subscription × order) in order — chains in parallel, a chain stops at its first
failure — and record every outcome. No transaction is open while anything is on the network,
so delivery never holds up a transition. Requests carry Standard Webhooks headers
(`webhook-id`, `webhook-timestamp`, `webhook-signature`) signed by the `standardwebhooks`
package; the id is the event's stable id, the same on every retry, so receivers can dedupe.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from integrations.connect_config import WebhookPolicy
from integrations.db.webhooks import Attempt, Claimed, WebhookStore
from integrations.service.context import Context
from statemachine.ids import message_id

log = logging.getLogger("orderpilot.webhooks")


class Sender(Protocol):
    """Sends one kind of subscription's deliveries. A built-in kind (buyer notices, tracking
    subscriptions) also says which events it wants (`events`); webhooks use their own filters."""

    events: list[str] | None

    def send(self, delivery: Claimed, now: datetime) -> Attempt:
        """Try one delivery; never raises for a receiver's or the network's failure."""


def message_body(delivery: Claimed) -> str:
    """The Standard Webhooks payload: type, timestamp, data (the event as stored)."""
    return json.dumps({"type": delivery.event, "timestamp": delivery.occurred_at.isoformat(),
                       "data": {**delivery.payload, "event_id": message_id(delivery.outbox_id)}},
                      ensure_ascii=False, separators=(",", ":"), default=str)


def signed_headers(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed at `at`."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body)}


class StandardWebhookSender:
    """POSTs signed events; a 2xx answer is a delivery, anything else a failed attempt."""

    events = None

    def __init__(self, policy: WebhookPolicy):
        self._http = httpx.Client(
            timeout=policy.timeout_seconds, follow_redirects=False,
            limits=httpx.Limits(max_connections=policy.concurrency,
                                max_keepalive_connections=policy.concurrency),
            headers={"user-agent": "orderpilot-webhooks/1", "content-type": "application/json"})

    def send(self, delivery: Claimed, now: datetime) -> Attempt:
        body = message_body(delivery)
        headers = signed_headers(delivery.secret, message_id(delivery.outbox_id), now, body)
        try:
            response = self._http.post(delivery.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as error:
            return Attempt(delivery.id, delivery.attempts, None, f"{type(error).__name__}: "
                                                                 f"{error}")
        problem = None if response.is_success else f"HTTP {response.status_code}: " \
                                                   f"{response.text[:200]}"
        return Attempt(delivery.id, delivery.attempts, response.status_code, problem)

    def close(self) -> None:
        self._http.close()


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did."""

    fanned_out: int
    claimed: int
    delivered: int
    failed: int
    dead: int

    @property
    def idle(self) -> bool:
        return self.fanned_out == 0 and self.claimed == 0


class WebhookRelay:
    """Runs rounds against one store with one sender per subscription kind."""

    def __init__(self, ctx: Context, senders: Mapping[str, Sender],
                 policy: WebhookPolicy | None = None):
        self.ctx, self.senders = ctx, dict(senders)
        self.policy = policy or ctx.settings.webhooks
        self._builtin = {kind: list(sender.events) for kind, sender in self.senders.items()
                         if kind != "webhook" and sender.events is not None}
        self._pool = ThreadPoolExecutor(self.policy.concurrency, "webhook-relay")

    def fan_out(self) -> int:
        """Hand every waiting outbox row to the subscriptions; returns the rows handled."""
        total = 0
        while True:
            with self.ctx.tx() as tx:
                handled = WebhookStore(tx.store.sql).fan_out(self.ctx.clock.now(), 1000,
                                                             self._builtin)
            total += handled
            if handled < 1000:
                return total

    def round(self) -> Round:
        fanned = self.fan_out()
        now = self.ctx.clock.now()
        with self.ctx.tx() as tx:
            claimed = WebhookStore(tx.store.sql).claim(
                now, now + timedelta(seconds=self.policy.lease_seconds), self.policy.batch,
                self.policy.chain_limit)
        if not claimed:
            return Round(fanned, 0, 0, 0, 0)
        attempts, released = self._send(claimed)
        return self._record(fanned, len(claimed), attempts, released)

    def drain(self, max_rounds: int = 10_000) -> list[Round]:
        """Run rounds until one finds nothing due (retries in backoff are left waiting)."""
        rounds = []
        for _ in range(max_rounds):
            rounds.append(self.round())
            if rounds[-1].idle:
                break
        return rounds

    def forever(self, interval: float = 0.5, should_stop: Callable[[], bool] = lambda: False,
                on_round: Callable[[Round], None] = lambda r: None) -> None:
        """Run rounds until `should_stop`; sleep `interval` after a round with nothing to do."""
        while not should_stop():
            done = self.round()
            on_round(done)
            if done.idle:
                time.sleep(interval)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for sender in self.senders.values():
            close = getattr(sender, "close", None)
            if close:
                close()

    def _send(self, claimed: list[Claimed]) -> tuple[list[Attempt], list[int]]:
        chains: dict[tuple[int, int], list[Claimed]] = {}
        for delivery in claimed:
            chains.setdefault((delivery.subscription_id, delivery.order_id), []).append(delivery)
        attempts, released = [], []
        for tried, untried in self._pool.map(self._send_chain, chains.values()):
            attempts += tried
            released += untried
        return attempts, released

    def _send_chain(self, chain: list[Claimed]) -> tuple[list[Attempt], list[int]]:
        """Send in order; after a failure the rest of the chain waits for the next round."""
        tried: list[Attempt] = []
        for n, delivery in enumerate(chain):
            sender = self.senders.get(delivery.kind)
            attempt = sender.send(delivery, self.ctx.clock.now()) if sender else Attempt(
                delivery.id, delivery.attempts, None, f"no sender for {delivery.kind}")
            tried.append(attempt)
            if not attempt.ok:
                _log_failure(delivery, attempt)
                return tried, [d.id for d in chain[n + 1:]]
        return tried, []

    def _record(self, fanned: int, claimed: int, attempts: list[Attempt],
                released: list[int]) -> Round:
        now = self.ctx.clock.now()
        retry_at: dict[int, datetime | None] = {}
        for a in attempts:
            if not a.ok:
                delay = None if a.permanent else self.policy.retry_delay(a.attempts_before + 1)
                retry_at[a.delivery_id] = None if delay is None else now + timedelta(
                    seconds=delay)
        with self.ctx.tx() as tx:
            WebhookStore(tx.store.sql).record(attempts, released, now, retry_at)
        failed = sum(1 for a in attempts if not a.ok)
        dead = sum(1 for when in retry_at.values() if when is None)
        return Round(fanned, claimed, len(attempts) - failed, failed, dead)


def _log_failure(delivery: Claimed, attempt: Attempt) -> None:
    """Log where and why, never the secret, and only the receiver's host (URLs carry tokens)."""
    log.warning("webhook delivery dl-%d (sub-%d, %s, o-%d) attempt %d failed at %s: %s",
                delivery.id, delivery.subscription_id, delivery.event, delivery.order_id,
                attempt.attempts_before + 1, urlsplit(delivery.url).hostname, attempt.error)
