"""A simulated shop day: stock arrives, a few hundred buyers order, pay (or not), parcels move.

It runs on a simulated clock (a day passes in seconds) against the store the settings name —
by default the SQLite file `orderpilot.db` in the current directory.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import track
from rich.table import Table

from integrations.config import Settings
from integrations.fulfil_config import FulfilmentPolicy
from integrations.risk.settings import RiskSettings
from orderpilot.api import OrderPilot
from orderpilot.demo_risk import (
    WAREHOUSE_REGIONS,
    answer_verifications,
    buyer_request,
    register_buyers,
    risk_summary,
    work_review_queue,
)
from statemachine.clock import ManualClock
from statemachine.errors import InsufficientStock

SKUS = {f"SKU-{n:03d}": price for n, price in enumerate(
    [1999, 4990, 899, 12900, 2599, 39900, 1500, 7800, 650, 25900], start=1)}
WAREHOUSES = ("WH-HANGZHOU", "WH-SHENZHEN", "WH-CHENGDU")
FATES = (("completed", 55), ("unpaid", 15), ("cancel_unpaid", 5), ("cancel_paid", 5),
         ("refund", 10), ("in_transit", 10))


def run_demo(database_url: str | None, orders: int, seed: int, console: Console) -> dict:
    """Play `orders` orders through their lives; print and return a summary."""
    rng = random.Random(seed)
    clock = ManualClock(datetime(2026, 11, 11, 8, 0, tzinfo=UTC))
    settings = Settings(fulfilment=FulfilmentPolicy(warehouse_regions=WAREHOUSE_REGIONS))
    pilot = OrderPilot(database_url, clock=clock, settings=settings)
    for sku in SKUS:
        for wh in WAREHOUSES:
            pilot.inventory.receive(sku=sku, warehouse=wh, quantity=rng.randint(20, 80))
    register_buyers(pilot, rng, orders_buyers(orders))
    placed, refused, decisions, reviewed, verified = _place_all(pilot, clock, rng, orders,
                                                                console)
    fulfilled = _fulfil(pilot, clock, rng, placed, console)
    summary = _summary(pilot, placed, refused, fulfilled)
    _print(console, summary, pilot)
    budget = RiskSettings().review_budget
    console.print(risk_summary(decisions, reviewed, verified, budget))
    summary["risk"] = {"placement": dict(decisions), "reviewers": dict(reviewed),
                       "verification": dict(verified), "review_budget": budget,
                       "review_share": decisions["review"] / max(1, sum(decisions.values()))}
    pilot.close()
    return summary


def _place_all(pilot: OrderPilot, clock: ManualClock, rng: random.Random, orders: int,
               console: Console) -> tuple[list[tuple[str, str]], int, Counter, Counter, Counter]:
    """Place the orders; buyers asked for a code answer it (or not); held ones wait for the
    reviewer, who works the queue now and then."""
    placed, refused, held = [], 0, {}
    decisions, reviewed, verified = Counter(), Counter(), Counter()
    for n in track(range(orders), description="placing and paying orders", console=console):
        clock.advance(seconds=rng.randint(20, 200))
        try:
            order_id, fate, action = _one_order(pilot, rng, n)
        except InsufficientStock:
            refused += 1
            continue
        decisions[action] += 1
        if action == "verify":
            answered = answer_verifications(pilot, rng, [order_id])
            verified.update(answered)
            if answered["passed"]:
                _start(pilot, order_id, *_total_and_buyer(pilot, order_id), fate)
                placed.append((order_id, fate))
        elif action == "review":
            held[order_id] = fate
        else:
            placed.append((order_id, fate if action == "approve" else "rejected"))
        if n % 25 == 0:
            _resolve_reviews(pilot, rng, held, placed, reviewed)
            pilot.sweep()
    _resolve_reviews(pilot, rng, held, placed, reviewed)
    return placed, refused, decisions, reviewed, verified


def _total_and_buyer(pilot: OrderPilot, order_id: str) -> tuple[int, str]:
    order = pilot.orders.get(order_id)
    return order.total, order.buyer_id


def _one_order(pilot: OrderPilot, rng: random.Random, n: int) -> tuple[str, str, str]:
    skus = rng.sample(list(SKUS), rng.choice((1, 1, 1, 2, 3)))
    order = pilot.orders.place(
        lines=[{"sku": s, "quantity": rng.choice((1, 1, 2, 3)), "unit_price": SKUS[s]}
               for s in skus], **buyer_request(pilot, rng, orders_buyers(n), n))
    fate = rng.choices([f for f, _ in FATES], weights=[w for _, w in FATES])[0]
    if order.state == "awaiting_payment":
        _start(pilot, order.id, order.total, order.buyer_id, fate)
    return order.id, fate, order.risk["action"] if order.risk else "approve"


def _resolve_reviews(pilot: OrderPilot, rng: random.Random, held: dict[str, str],
                     placed: list[tuple[str, str]], reviewed: Counter) -> None:
    for action, order_ids in work_review_queue(pilot, rng).items():
        reviewed[action] += len(order_ids)
        for order_id in order_ids:
            fate = held.pop(order_id, "unpaid") if action == "approve" else "rejected"
            held.pop(order_id, None)
            if action == "approve":
                order = pilot.orders.get(order_id)
                _start(pilot, order_id, order.total, order.buyer_id, fate)
            placed.append((order_id, fate))


def _start(pilot: OrderPilot, order_id: str, total: int, buyer_id: str, fate: str) -> None:
    """The buyer's first move on an order released to payment."""
    if fate == "cancel_unpaid":
        pilot.orders.fire(order_id, "cancel", actor=buyer_id, reason="changed my mind")
    elif fate != "unpaid":
        pilot.orders.fire(order_id, "pay", actor="gateway", amount=total,
                          payment_ref=f"pay-{order_id}", idempotency_key=f"pay-{order_id}")


def orders_buyers(n: int) -> int:
    return 50 + n // 2


def _fulfil(pilot: OrderPilot, clock: ManualClock, rng: random.Random,
            placed: list[tuple[str, str]], console: Console) -> Counter:
    done: Counter = Counter()
    clock.advance(hours=2)
    for order_id, fate in track(placed, description="picking, shipping, delivering",
                                console=console):
        if fate in ("unpaid", "cancel_unpaid", "rejected"):
            continue
        if fate == "cancel_paid":
            pilot.orders.fire(order_id, "cancel", actor="buyer", reason="found it cheaper")
            continue
        _pick_pack_ship(pilot, order_id)
        for parcel in pilot.shipments.of_order(order_id):
            pilot.shipments.fire(parcel.id, "pick_up", location="sorting centre")
            if fate != "in_transit":
                pilot.shipments.fire(parcel.id, "scan", location="hub")
                pilot.shipments.fire(parcel.id, "deliver", location="front door")
        if fate == "refund":
            case = pilot.cases.open(order_id, kind="refund_only", reason="arrived scratched",
                                    lines=[{"line_no": 1, "quantity": 1}])
            pilot.cases.fire(case.id, "auto_approve", reason="small amount, good buyer")
            pilot.cases.fire(case.id, "refund")
        done[fate] += 1
    clock.advance(days=8)  # unpaid holds lapse, quiet parcels stall, delivered orders close
    done.update({f"sweep:{k}": v for k, v in pilot.sweep().items()})
    return done


def _pick_pack_ship(pilot: OrderPilot, order_id: str) -> None:
    pilot.orders.fire(order_id, "start_picking", actor="warehouse")
    if pilot.fulfilment.double_check_needed(order_id):  # high value: a second person
        pilot.orders.fire(order_id, "double_check", actor="checker")
    for trigger in ("pack", "ship"):
        pilot.orders.fire(order_id, trigger, actor="warehouse")


def _summary(pilot: OrderPilot, placed: list[tuple[str, str]], refused: int,
             fulfilled: Counter) -> dict:
    views = [pilot.orders.get(order_id) for order_id, _ in placed]
    states: Counter = Counter(v.state for v in views)
    payments: Counter = Counter(v.payment_status for v in views)
    return {"orders": len(placed), "refused_out_of_stock": refused, "states": dict(states),
            "payments": dict(payments),
            "sweep": {k[6:]: v for k, v in fulfilled.items() if k.startswith("sweep:")},
            "drift": len(pilot.inventory.reconcile())}


def _print(console: Console, summary: dict, pilot: OrderPilot) -> None:
    table = Table("final state", "orders", title="orderpilot demo: one simulated shop day")
    for state, count in sorted(summary["states"].items(), key=lambda kv: -kv[1]):
        table.add_row(state, str(count))
    console.print(table)
    console.print("payment track: " + ", ".join(f"{k} {v}" for k, v in summary["payments"].items()))
    console.print(f"refused (out of stock): {summary['refused_out_of_stock']}   "
                  f"timers fired by the sweep: {summary['sweep']}   "
                  f"stock drift after reconcile: {summary['drift']}")
    console.print(f"store: {pilot.context.engine.url.render_as_string()}  —  try "
                  f"[bold]orderpilot order show o-1[/]")


