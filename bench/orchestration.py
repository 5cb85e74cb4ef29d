"""Benchmark: our path (in-process lifecycle + outbox relay) vs one Prefect flow run per
transition; event → triggered run latency; per-run overhead before and after tuning.

    python bench/orchestration.py                      # SQLite-backed Prefect server
    python bench/orchestration.py --prefect-db postgresql+asyncpg://postgres@127.0.0.1/prefect
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from bench.prefect_server import prefect_server  # noqa: E402
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
    """Trivial 3-task flow: default sync, heartbeat off, async; a flow without tasks; and our
    review-overdue flow (tags, a read, an artifact) before and after turning heartbeats off."""
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

    review = _review_overdue_call()
    out = {"sync_default_ms": timed(trivial), "async_default_ms": timed(
        lambda: asyncio.run(trivial_async())), "review_overdue_default_ms": timed(review)}
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        out["sync_no_heartbeat_ms"] = timed(trivial)
        out["sync_no_heartbeat_no_tasks_ms"] = timed(empty)
        out["review_overdue_no_heartbeat_ms"] = timed(review)
    return out


def _review_overdue_call() -> Any:
    """Our review-overdue flow on an order that is no longer held (no pause, full bookkeeping)."""
    from flows.risk_review import review_overdue

    pilot = new_pilot()
    order_id = pilot.orders.place(buyer_id="b-1", shipping_address=ADDRESS, lines=[
        {"sku": "mug", "quantity": 1, "unit_price": 2500}]).id
    url = str(pilot.context.engine.url)
    return lambda: review_overdue(order_id, database_url=url)


def trigger_latency(api_url: str, events: int, gap: float) -> dict[str, float]:
    """Post `orderpilot.bench.ping` events; measure event → run created / running."""
    import subprocess

    env = {**os.environ, "PREFECT_API_URL": api_url}
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("ping.py"))], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_automation(api_url)
        sent = _post_pings(api_url, events, gap)
        runs = _wait_for_runs(events)
    finally:
        server.terminate()
        server.wait(timeout=30)
    created = sorted((r.created - sent[r.parameters["n"]]).total_seconds() for r in runs)
    running = sorted((r.start_time - sent[r.parameters["n"]]).total_seconds() for r in runs)
    return {"events": events, "created_p50_s": statistics.median(created),
            "created_p95_s": _p95(created), "running_p50_s": statistics.median(running),
            "running_p95_s": _p95(running)}


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def _post_pings(api_url: str, events: int, gap: float) -> dict[int, Any]:
    import uuid
    from datetime import UTC, datetime

    sent = {}
    with PrefectHttpSink(api_url) as sink:
        for n in range(events):
            now = datetime.now(UTC)
            sink.publish([{"id": str(uuid.uuid4()), "occurred": now.isoformat(),
                           "event": "orderpilot.bench.ping", "payload": {"n": n},
                           "resource": {"prefect.resource.id": f"orderpilot.bench.{n}"}}])
            sent[n] = now
            time.sleep(gap)
    return sent


def _wait_for_automation(api_url: str) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        while not client.read_automations():
            time.sleep(0.5)


def _wait_for_runs(events: int, timeout: float = 300) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(
                any_=["bench-ping"])), flow_run_filter=FlowRunFilter(
                start_time=FlowRunFilterStartTime(is_null_=False)), limit=200)
            if len(runs) >= events:
                return runs
            time.sleep(1)
    raise RuntimeError(f"only {len(runs)} of {events} triggered runs started")


def main() -> None:
    args = _arguments()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    parts = set(args.parts.split(","))
    report: dict[str, Any] = {}
    with prefect_server(args.prefect_db) as url, temporary_settings({PREFECT_API_URL: url}):
        for name, run in (("ours", lambda: our_path(args.orders, url)),
                          ("overhead", lambda: per_run_overhead(args.overhead_runs)),
                          ("naive", lambda: naive_path(args.naive_orders)),
                          ("naive_default", lambda: naive_path(
                              max(5, args.naive_orders // 10), tuned=False)),
                          ("latency", lambda: trigger_latency(url, args.events, args.gap))):
            if name in parts:
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
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between ping events")
    parser.add_argument("--parts", default="ours,overhead,naive,naive_default,latency")
    parser.add_argument("--prefect-db", help="PREFECT_API_DATABASE_CONNECTION_URL")
    return parser.parse_args()


if __name__ == "__main__":
    main()
