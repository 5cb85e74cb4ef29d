"""An in-memory signal store for replaying history: signals come only from earlier orders.

`signals_for(facts, account_created_at)` must be called before `record(facts)` for the same
order, so an order never sees itself. The label of a row is never passed in here.
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime

from statemachine.risk.ruleset import RuleSet
from statemachine.risk.signals import ADDRESS, BUYER, DEVICE, IP, RiskSignals, phone_sharing
from statemachine.risk_port import PlacementFacts


def _keys(facts: PlacementFacts) -> dict[str, str]:
    keys = {BUYER: facts.buyer_id}
    if facts.device_id:
        keys[DEVICE] = facts.device_id
    if facts.ip:
        keys[IP] = facts.ip
    if facts.address_key:
        keys[ADDRESS] = facts.address_key
    return keys


class InMemorySignalStore:
    """Velocity windows, device/IP sharing and buyer history kept from recorded orders."""

    def __init__(self, ruleset: RuleSet) -> None:
        self._window = ruleset.velocity.window_seconds
        self._phone_window = ruleset.phone_velocity.window_seconds
        self._phone_orders: dict[str, deque[tuple[datetime, str]]] = defaultdict(deque)
        self._times: dict[tuple[str, str], deque[datetime]] = defaultdict(deque)
        self._buyers_on: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._orders: dict[str, int] = defaultdict(int)
        self._spent: dict[str, int] = defaultdict(int)

    def _recent(self, key: tuple[str, str], now: datetime) -> int:
        times = self._times.get(key)
        if not times:
            return 0
        # out at exactly one window, as the store's (placed_at > now - window)
        while times and (now - times[0]).total_seconds() >= self._window:
            times.popleft()
        return len(times)

    def _others(self, kind: str, value: str | None, buyer: str) -> int | None:
        if not value:
            return None
        return len(self._buyers_on.get((kind, value), set()) - {buyer})

    def _phone_others(self, phone: str, buyer: str, now: datetime) -> int:
        """Other buyers with an order carrying `phone` in the phone-velocity window."""
        orders = self._phone_orders.get(phone)
        while orders and (now - orders[0][0]).total_seconds() >= self._phone_window:
            orders.popleft()
        return len({b for _, b in orders or ()} - {buyer})

    def signals_for(
        self, facts: PlacementFacts, account_created_at: datetime | None
    ) -> RiskSignals:
        """Signals for an order about to be decided, from recorded (earlier) orders only."""
        buyer, now = facts.buyer_id, facts.placed_at
        count = self._orders.get(buyer, 0)
        return RiskSignals(
            account_created_at=account_created_at,
            velocity={d: self._recent((d, v), now) for d, v in _keys(facts).items()},
            orders_total=count,
            device_other_buyers=self._others(DEVICE, facts.device_id, buyer),
            ip_other_buyers=self._others(IP, facts.ip, buyer),
            **phone_sharing([(p, self._phone_others(p, buyer, now)) for p in facts.phones]),
            buyer_mean_amount=self._spent[buyer] / count if count else None,
        )

    def record(self, facts: PlacementFacts) -> None:
        """Remember an order once it has been decided."""
        for dimension, value in _keys(facts).items():
            self._times[(dimension, value)].append(facts.placed_at)
            if dimension in (DEVICE, IP):
                self._buyers_on[(dimension, value)].add(facts.buyer_id)
        for phone in facts.phones:  # the buyer's and the recipient's, each once
            self._phone_orders[phone].append((facts.placed_at, facts.buyer_id))
        self._orders[facts.buyer_id] += 1
        self._spent[facts.buyer_id] += facts.amount
