"""The demo's buyers as risk control sees them: regular customers with their own device and IP
and a real sign-up date, plus a small fraud ring; and a reviewer working the review queue."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

from orderpilot.api import OrderPilot

RING_DEVICES = ("d-ring-1", "d-ring-2")
FRAUD_SHARE = 0.08  # of orders placed by the ring
VAGUE_SHARE = 0.08  # regular buyers who type an address without a house number


def register_buyers(pilot: OrderPilot, rng: random.Random, count: int) -> None:
    """Regular buyers signed up 1-600 days before the shop day."""
    now = pilot.clock.now()
    for k in range(1, count + 1):
        pilot.risk.register_buyer(f"b-{k}", signed_up_at=now - timedelta(
            days=rng.uniform(1, 600)))


def buyer_request(pilot: OrderPilot, rng: random.Random, buyer_pool: int, n: int
                  ) -> dict[str, Any]:
    """Who orders, from which device, IP and address (fraud ring members now and then)."""
    if rng.random() < FRAUD_SHARE:
        return _ring_member(pilot, rng, n)
    k = rng.randint(1, buyer_pool)
    street = (f"{k % 997 + 1} Wensan Rd" if rng.random() >= VAGUE_SHARE
              else "Wensan Road near the park")
    return {"buyer_id": f"b-{k}", "device_id": f"d-{k}", "ip": f"10.{k // 250}.{k % 250}.7",
            "shipping_address": {"street": street, "city": "Hangzhou"}}


def _ring_member(pilot: OrderPilot, rng: random.Random, n: int) -> dict[str, Any]:
    buyer = f"f-{n}"  # a fresh account per order
    if rng.random() < 0.5:  # signed up seconds ago: the behavioural score rejects at once
        pilot.risk.register_buyer(buyer, signed_up_at=pilot.clock.now() - timedelta(
            seconds=rng.randint(5, 50)))
    return {"buyer_id": buyer, "device_id": rng.choice(RING_DEVICES),
            "ip": f"203.0.113.{rng.randint(1, 20)}",
            "shipping_address": {"street": f"{rng.randint(1, 99)} Gudun Rd", "city": "Hangzhou"}}


def work_review_queue(pilot: OrderPilot, rng: random.Random) -> dict[str, list[str]]:
    """A reviewer clears the queue: ring orders rejected (buyer and device blacklisted),
    most others approved, a few rejected."""
    done: dict[str, list[str]] = {"approve": [], "reject": []}
    for task in pilot.reviews.list():
        if task.buyer_id.startswith("f-"):
            pilot.reviews.reject(task.order_id, by="risk-ops:mei", blacklist=("buyer", "device"),
                                 reason="new account on a device shared by a ring")
            done["reject"].append(task.order_id)
        elif rng.random() < 0.1:
            pilot.reviews.reject(task.order_id, by="risk-ops:mei",
                                 reason="buyer could not confirm the address")
            done["reject"].append(task.order_id)
        else:
            pilot.reviews.approve(task.order_id, by="risk-ops:mei",
                                  reason="buyer confirmed by phone")
            done["approve"].append(task.order_id)
    return done


def risk_summary(decisions: Counter, reviewed: Counter) -> str:
    """One line: what the engine decided at placement and what reviewers did."""
    total = sum(decisions.values()) or 1
    return (f"risk at placement: approve {decisions['approve']}, review {decisions['review']} "
            f"({decisions['review'] / total:.0%}), reject {decisions['reject']}; "
            f"reviewers approved {reviewed['approve']}, rejected {reviewed['reject']}")
