"""The stock and the promise follow a corrected address (`correct_address`).

Placement holds an order's stock in the warehouse nearest the buyer and adds a day to the
promised delivery for each full `km_per_day` the warehouses it chose lie beyond the buyer's
nearest one (`promise_extra_days`, read when the order ships). A correction to another province
moved the buyer and left both as placed: a Shenzhen order corrected to Shanghai shipped from
Shenzhen, 1,200 km away, though Shanghai had the stock, and was promised in the usual 5 days.
Now, by placement's own code:

- while nobody has started on it — its units held (unpaid) or sold (paid) and it in no pick
  wave — the order's stock is planned again from the new address (`choose_allocation`, its
  own units counted free) and, when that plan ships from nearer (the farthest warehouse, then
  the units' kilometres; never when the distances are unknown), moved: the old units given
  back (marked `moved`), the new ones held, and sold again if they were;
- once it is in a wave, picking, backordered or packed, its units stay where they are (a
  person may have them in hand) and the plan kept is measured again from the new address
  (`explain_plan`): the promise follows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from integrations.db import waves_store
from integrations.db.fulfil_store import FulfilStore
from integrations.db.stock import CONSUMED, HELD
from integrations.geo.distance import buyer_distances
from integrations.service.context import Context, Tx
from statemachine.address import ParsedAddress
from statemachine.errors import Contention, InsufficientStock
from statemachine.order_aggregate import Order, OrderState
from statemachine.stock import Allocation, AllocationChoice, Need, choose_allocation, explain_plan

UNDER_WAY = frozenset({OrderState.PICKING, OrderState.BACKORDERED, OrderState.PACKED})


@dataclass(frozen=True, slots=True)
class Plan:
    choice: AllocationChoice  # the plan the order ships from, with its reasons and extra days
    moved: bool  # the stock was moved to it by this correction


def planned_for(ctx: Context, tx: Tx, order: Order, parsed: ParsedAddress,
                now: datetime) -> Plan:
    """The order's stock plan for a buyer at `parsed`, the stock moved to it when it may be."""
    policy = ctx.settings.fulfilment
    km = buyer_distances(parsed.region_code, policy.warehouse_regions, policy.distance)
    store = FulfilStore(tx.connection)
    held, sold = store.holds(order.id, HELD), store.holds(order.id, CONSUMED)
    kept = [Allocation(h.line_no, h.sku, h.warehouse, h.quantity) for h in (*held, *sold)]
    needs = [Need(ln.line_no, ln.sku, ln.quantity) for ln in order.lines]
    available = tx.stock.availability(ln.sku for ln in order.lines)
    staying = Plan(explain_plan(kept, needs, available, km, policy.km_per_day), False)
    if not _movable(tx, order, bool(held), bool(sold)) or _units(kept) != _units(needs):
        return staying
    free = Counter(available) + _placed(kept)  # its own units count as free for it
    try:
        choice = choose_allocation(needs, free, km, policy.km_per_day)
    except InsufficientStock:
        return staying
    if _distance(choice.allocations, km) >= _distance(kept, km):  # not nearer (or the
        return staying  # distances are not known: no regions configured) — no churn
    if not tx.stock.move(order.id, choice.allocations, now):  # PostgreSQL: a concurrent
        raise Contention("correcting the address", 1,  # order took it; re-run on a fresh read
                         "a concurrent order took the stock planned for the new address")
    if sold:
        tx.stock.consume([order.id])
    return Plan(choice, True)


def _movable(tx: Tx, order: Order, held: bool, sold: bool) -> bool:
    """Held or sold (not both, not neither), and no one has started on it."""
    if order.state in UNDER_WAY or held == sold:
        return False
    return not waves_store.in_a_wave(tx.store.sql, order.id)


def _distance(plan: Iterable[Allocation], km: Mapping[str, float]) -> tuple[float, float]:
    """How far a plan ships from: its farthest warehouse, then its units' kilometres."""
    plan = list(plan)
    far = [km.get(a.warehouse, math.inf) for a in plan]
    return max(far, default=math.inf), sum(d * a.quantity for d, a in zip(far, plan,
                                                                          strict=True))


def _units(items: Iterable[Allocation | Need]) -> Counter[str]:
    units: Counter[str] = Counter()
    for item in items:
        units[item.sku] += item.quantity
    return units


def _placed(plan: Iterable[Allocation]) -> Counter[tuple[str, str]]:
    placed: Counter[tuple[str, str]] = Counter()
    for a in plan:
        placed[(a.sku, a.warehouse)] += a.quantity
    return placed
