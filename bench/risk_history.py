"""Placement cost against the length of one buyer's history (issue 10: signals from counters),
and of one phone's (phone_velocity: an index range over its window, not a history scan).

    python bench/risk_history.py [ORDERS] [--postgres URL] [--out bench/results/risk_history.json]

One buyer places ORDERS orders (default 4,000) through `pilot.orders.place` with the default
rule set, 15 minutes apart (so the velocity rule stays quiet); every tenth is cancelled by the
buyer so the outcome counters move too (after the ninth cancellation the buyer's credit is below
60 and its orders go to review: `states` counts where the orders ended). Beside it, in the same
run and taking turns order by order, a shop where a fresh buyer places each order (each on
their own phone): the baseline whose cost cannot depend on a buyer's history. And a third shop,
a ring: each order a fresh buyer's, all to one phone, so from the fourth order on every order
is held by `phone_velocity` (96 orders to the phone in its one-day window, thousands in its
history). Reported: median placement time of the first, second and last 200 orders of each,
the ratios last / first and last / second (1.0 = flat), `history_effect` (the loyal buyer's
last / first over the fresh buyers': what history alone adds, machine drift divided out) and
`phone_history_effect` (the same for the ring phone, from the second 200 on: its window is full
by then, so only the phone's history grows).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/risk_history.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orderpilot import ManualClock, OrderPilot  # noqa: E402

WINDOW = 200
ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
           "street": "文三路18号3单元"}


def _request(buyer: str, n: int, phone: str) -> dict:
    return {"buyer_id": buyer, "device_id": f"d-{buyer}", "ip": f"10.{n // 250 % 250}.{n % 250}.9",
            "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}],
            "shipping_address": ADDRESS, "phone": phone}


class Shop:
    """One store: a loyal buyer's shop (`one`), a shop of fresh buyers (`fresh`), or of fresh
    buyers all shipping to one phone (`ring`)."""

    def __init__(self, url: str, kind: str):
        self.clock = ManualClock(datetime(2026, 11, 11, tzinfo=UTC))
        self.pilot = OrderPilot(url, clock=self.clock)
        self.pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=10_000_000)
        self.kind, self.same_buyer, self.times = kind, kind == "one", []
        self.states: dict[str, int] = {}

    def place(self, n: int) -> None:
        self.clock.advance(minutes=15)
        buyer, phone = {"one": ("b-loyal", "13800138000"), "fresh": (f"b-{n}", f"139{n:08d}"),
                        "ring": (f"b-ring-{n}", "13700137000")}[self.kind]
        start = time.perf_counter()
        order = self.pilot.orders.place(**_request(buyer, n, phone))
        self.times.append((time.perf_counter() - start) * 1000)
        self.states[order.state] = self.states.get(order.state, 0) + 1
        if n % 10 == 9 and order.state == "awaiting_payment":
            self.pilot.orders.fire(order.id, "cancel", actor=buyer, reason="changed my mind")


def summary(times: list[float]) -> dict[str, float]:
    first = statistics.median(times[:WINDOW])
    # orders 201-400: the ring phone's one-day window (96 orders) is full by then, as at the
    # end, so last / second is the history's effect alone, without the window filling up
    second = statistics.median(times[WINDOW:2 * WINDOW])
    last = statistics.median(times[-WINDOW:])
    return {"first_p50_ms": round(first, 3), "second_p50_ms": round(second, 3),
            "last_p50_ms": round(last, 3), "ratio_last_to_first": round(last / first, 3),
            "ratio_last_to_second": round(last / second, 3)}


def main(argv: list[str]) -> dict:
    orders = int(argv[0]) if argv and argv[0].isdigit() else 4000
    pg = argv[argv.index("--postgres") + 1] if "--postgres" in argv else None
    with tempfile.TemporaryDirectory() as tmp:
        if pg:
            _reset(pg)
        # the two shops take turns, order by order, so a change in the machine's load
        # touches both series alike (PostgreSQL: one database, buyers apart)
        shops = [Shop(pg or f"sqlite:///{tmp}/{kind}.db", kind)
                 for kind in ("one", "fresh", "ring")]
        for n in range(orders):
            for shop in shops:
                shop.place(n if shop.kind != "fresh" or not pg else n + orders)
        for shop in shops:
            shop.pilot.close()
    one, fresh, ring = (summary(shop.times) for shop in shops)
    results = {"orders": orders, "store": "postgresql" if pg else "sqlite",
               "one_buyer": one, "fresh_buyers": fresh, "one_phone": ring,
               "history_effect": round(one["ratio_last_to_first"]
                                       / fresh["ratio_last_to_first"], 3),
               "phone_history_effect": round(ring["ratio_last_to_second"]
                                             / fresh["ratio_last_to_second"], 3),
               "states": {shop.kind: shop.states for shop in shops}}
    print(json.dumps(results, indent=2))
    if "--out" in argv:
        Path(argv[argv.index("--out") + 1]).write_text(json.dumps(results, indent=2) + "\n")
    return results


def _reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
