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
VAGUE_SHARE = 0.08  # regular buyers who type a landmark instead of an address
FLASH_SALE = range(100, 130)  # orders during which buyer b-7 orders every other time
LATIN_SHARE = 0.1  # buyers who write their address in Latin script (expats, cross-border)
REGIONS = (("浙江省", "杭州市", "西湖区"), ("浙江省", "杭州市", "滨江区"),
           ("上海市", "", "浦东新区"), ("上海市", "", "徐汇区"),
           ("广东省", "深圳市", "南山区"), ("广东省", "广州市", "天河区"),
           ("四川省", "成都市", "武侯区"), ("北京市", "", "朝阳区"),
           ("江苏省", "南京市", "鼓楼区"), ("湖北省", "武汉市", "洪山区"))
STREETS = ("文三路", "人民路", "中山路", "解放路", "建设路", "科技大道", "学府街", "滨江路")
WAREHOUSE_REGIONS = {"WH-HANGZHOU": "330100", "WH-SHENZHEN": "440300",
                     "WH-CHENGDU": "510100"}


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
    # in a flash sale buyer b-7 (a reseller) orders every few minutes: > 5 an hour -> verify
    in_sale = FLASH_SALE.start <= n < FLASH_SALE.stop and n % 2 == 0
    k = 7 if in_sale else rng.randint(1, buyer_pool)
    return {"buyer_id": f"b-{k}", "device_id": f"d-{k}", "ip": f"10.{k // 250}.{k % 250}.7",
            "phone": f"13{k % 10}{k:08d}"[:11], "shipping_address": address_of(k, rng)}


def address_of(k: int, rng: random.Random) -> dict[str, str]:
    """Buyer k's address: Chinese (one line) for most, Latin script for some, now and then a
    landmark instead of a street address."""
    province, city, district = REGIONS[k % len(REGIONS)]
    street = STREETS[k % len(STREETS)]
    if rng.random() < VAGUE_SHARE:
        return {"line": f"{province}{city}{district}{street}万达广场附近"}
    if k % 10 < LATIN_SHARE * 10:
        return {"street": f"{k % 997 + 1} Wensan Rd", "city": "Hangzhou"}
    return {"line": f"{province}{city}{district}{street}{k % 997 + 1}号{k % 6 + 1}单元"}


def _ring_member(pilot: OrderPilot, rng: random.Random, n: int) -> dict[str, Any]:
    buyer = f"f-{n}"  # a fresh account per order
    if rng.random() < 0.5:  # signed up seconds ago: the behavioural score rejects at once
        pilot.risk.register_buyer(buyer, signed_up_at=pilot.clock.now() - timedelta(
            seconds=rng.randint(5, 50)))
    return {"buyer_id": buyer, "device_id": rng.choice(RING_DEVICES),
            "ip": f"203.0.113.{rng.randint(1, 20)}",
            "phone": f"170{rng.randint(0, 99_999_999):08d}",  # a virtual-operator number
            "shipping_address": {"line": f"浙江省杭州市西湖区古墩路{rng.randint(1, 99)}号"}}


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


def answer_verifications(pilot: OrderPilot, rng: random.Random, order_ids: list[str]
                         ) -> Counter:
    """Buyers asked for a code: nine in ten type the one they received, the rest never answer
    (the timer rejects those)."""
    done: Counter = Counter()
    for order_id in order_ids:
        if rng.random() < 0.9:
            code = pilot.context.verifier.code_for(order_id)
            done["passed" if pilot.verification.answer(order_id, code).passed else "failed"] += 1
        else:
            done["unanswered"] += 1
    return done


def risk_summary(decisions: Counter, reviewed: Counter, verified: Counter,
                 budget: float) -> str:
    """What the engine decided at placement, the review share against the budget, and what
    reviewers and verifying buyers did."""
    total = sum(decisions.values()) or 1
    share = decisions["review"] / total
    within = "within" if share <= budget else "OVER"
    return (f"risk at placement: approve {decisions['approve']}, verify {decisions['verify']}, "
            f"review {decisions['review']} ({share:.0%}, {within} the {budget:.0%} review "
            f"budget), reject {decisions['reject']}; verification passed "
            f"{verified['passed']}, unanswered {verified['unanswered']}; reviewers approved "
            f"{reviewed['approve']}, rejected {reviewed['reject']}")
