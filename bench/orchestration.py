"""Benchmark of the orchestration: our path (in-process lifecycle + outbox relay) vs one
Prefect flow run per transition; per-run overhead; and the console — its cost against the
served review patterns, memory against waiting reviews, and a steady shop with the review
latency from the placement that holds an order to its form in the UI (bench/console_load.py).

    python bench/orchestration.py                      # SQLite-backed Prefect server
    python bench/orchestration.py --prefect-db postgresql+asyncpg://postgres@127.0.0.1/prefect
    python bench/orchestration.py --parts patterns,steady --rate 10 --share 0.2 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from bench import console_load  # noqa: E402
from bench.prefect_server import PIDS, prefect_server  # noqa: E402
from integrations.events.relay import PrefectHttpSink, drain  # noqa: E402
from orderpilot.api import OrderPilot  # noqa: E402

ADDRESS = {"street": "1 Bund", "city": "SH"}


def new_pilot() -> OrderPilot:
    pilot = OrderPilot(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    pilot.inventory.receive(sku="mug", warehouse="sh", quantity=10_000_000)
    return pilot


def lifecycle(fire: Any, place: Any, pilot: OrderPilot, n: int) -> None:
    """One order from placement to completion: 8 order/parcel transitions after placement."""
    order_id = place(buyer_id=f"b-{n % 500}", shipping_address=ADDRESS,
                     lines=[{"sku": "mug", "quantity": 1, "unit_price": 2500}])
    fire("order", order_id, "pay", {"amount": 2500, "payment_ref": f"pay-{n}"})
    for trigger in ("start_picking", "pack", "ship"):
        fire("order", order_id, trigger, {})
    parcel = pilot.shipments.of_order(order_id)[0].id
    fire("shipment", parcel, "pick_up", {})
    fire("shipment", parcel, "deliver", {})
    fire("order", order_id, "close", {})


def our_path(orders: int, api_url: str) -> dict[str, float]:
    pilot = new_pilot()

    def fire(kind: str, entity: str, trigger: str, params: dict[str, Any]) -> None:
        (pilot.orders if kind == "order" else pilot.shipments).fire(entity, trigger, **params)

    started = time.perf_counter()
    for n in range(orders):
        lifecycle(fire, lambda **r: pilot.orders.place(**r).id, pilot, n)
    lived = time.perf_counter()
    with PrefectHttpSink(api_url) as sink:
        events = drain(pilot.context, sink, batch=1000)
    done = time.perf_counter()
    return {"orders": orders, "lifecycle_s": lived - started, "relay_s": done - lived,
            "events": events, "events_per_s": events / (done - lived),
            "orders_per_s": orders / (done - started)}


def naive_path(orders: int, tuned: bool = True) -> dict[str, float]:
    """The same lifecycle, but every transition (and the placement) is its own flow run.

    Tuned (heartbeat off) is the naive peer at its best, so that ratio is conservative.
    """
    from prefect import flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    pilot = new_pilot()

    @flow(name="naive-transition")
    def transition(kind: str, entity: str, trigger: str, params: dict[str, Any]) -> None:
        (pilot.orders if kind == "order" else pilot.shipments).fire(entity, trigger, **params)

    @flow(name="naive-place")
    def place(request: dict[str, Any]) -> str:
        return pilot.orders.place(**request).id

    started = time.perf_counter()
    settings = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None} if tuned else {}
    with temporary_settings(settings):
        for n in range(orders):
            lifecycle(transition, lambda **r: place(r), pilot, n)
    elapsed = time.perf_counter() - started
    return {"orders": orders, "flow_runs": orders * 8, "seconds": elapsed,
            "orders_per_s": orders / elapsed, "ms_per_run": elapsed / (orders * 8) * 1000}


def per_run_overhead(runs: int) -> dict[str, float]:
    """Trivial 3-task flow: default sync, heartbeat off, async; a flow without tasks."""
    from prefect import flow, task
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    @task
    def step(x: int) -> int:
        return x + 1

    @flow(name="trivial-sync")
    def trivial() -> int:
        return step(step(step(0)))

    @flow(name="empty-sync")
    def empty() -> int:
        return 0

    @flow(name="trivial-async")
    async def trivial_async() -> int:
        return step(step(step(0)))

    def timed(call: Any) -> float:
        call()  # warm-up
        started = time.perf_counter()
        for _ in range(runs):
            call()
        return (time.perf_counter() - started) / runs * 1000

    out = {"sync_default_ms": timed(trivial), "async_default_ms": timed(
        lambda: asyncio.run(trivial_async()))}
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        out["sync_no_heartbeat_ms"] = timed(trivial)
        out["sync_no_heartbeat_no_tasks_ms"] = timed(empty)
    return out


PATTERNS = ("console", "served_paused", "served_suspended")  # part `patterns` runs all three


def main() -> None:
    args = _arguments()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    parts = set(args.parts.split(","))
    report: dict[str, Any] = {}
    with prefect_server(args.prefect_db) as url, temporary_settings({PREFECT_API_URL: url}):
        server = console_load.Tree(PIDS[url])
        for name, run in (("ours", lambda: our_path(args.orders, url)),
                          ("overhead", lambda: per_run_overhead(args.overhead_runs)),
                          ("naive", lambda: naive_path(args.naive_orders)),
                          ("naive_default", lambda: naive_path(
                              max(5, args.naive_orders // 10), tuned=False)),
                          ("console", lambda: console_load.console_pattern(
                              url, server, per_step=args.pending_step)),
                          ("served_paused", lambda: console_load.served_pattern(
                              url, server, "paused", args.served_reviews)),
                          ("served_suspended", lambda: console_load.served_pattern(
                              url, server, "suspended", args.served_reviews)),
                          ("steady", lambda: console_load.steady_shop(
                              url, server, args.rate, args.share, args.seconds))):
            if name in parts or ("patterns" in parts and name in PATTERNS):
                report[name] = run()
                print(name, json.dumps(report[name]), flush=True)
    for naive in ("naive", "naive_default"):
        if "ours" in report and naive in report:
            report[f"ratio_vs_{naive}"] = (report["ours"]["orders_per_s"]
                                           / report[naive]["orders_per_s"])
    print(json.dumps(report, indent=2))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--naive-orders", type=int, default=200)
    parser.add_argument("--overhead-runs", type=int, default=20)
    parser.add_argument("--pending-step", type=int, default=100,
                        help="reviews added per memory sample of the console")
    parser.add_argument("--served-reviews", type=int, default=4,
                        help="reviews per served pattern (each is a process)")
    parser.add_argument("--rate", type=float, default=10.0, help="steady shop: orders/s")
    parser.add_argument("--share", type=float, default=0.2, help="steady shop: share held")
    parser.add_argument("--seconds", type=float, default=60.0, help="steady shop: window")
    parser.add_argument("--parts", default="ours,overhead,naive,naive_default,patterns,steady")
    parser.add_argument("--prefect-db", help="PREFECT_API_DATABASE_CONNECTION_URL")
    return parser.parse_args()


if __name__ == "__main__":
    main()
