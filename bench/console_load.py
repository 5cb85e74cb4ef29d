"""What the console costs, measured: the console vs the served review patterns, memory against
the number of waiting reviews, and a steady shop — with the review latency a person sees, from
the placement that holds an order to its run suspended with a form in the UI.

Used by bench/orchestration.py (parts `patterns` and `steady`); every figure is a process
measurement (psutil CPU time and RSS of the process trees), on whatever machine runs it.
"""

from __future__ import annotations

import contextvars
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from orderpilot.api import OrderPilot
from statemachine.risk_port import Reason, RiskAction, RiskDecision

ROOT = Path(__file__).resolve().parents[1]
ADDRESS = {"street": "文三路 18 号", "city": "杭州市", "province": "浙江省"}
HELD_PRICE, PLAIN_PRICE = 600_000, 2_500


class Tree:
    """A process and its children: CPU seconds used and memory held."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)

    def _all(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu(self) -> float:
        total = 0.0
        for p in self._all():
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_mb(self) -> float:
        total = 0
        for p in self._all():
            with suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        return total / 2**20


def hold_big_orders(facts: Any, store: Any) -> RiskDecision:
    """Hold orders above ¥5,000 for a person (the operating manuals' amount rule)."""
    if facts.amount > 500_000:
        return RiskDecision(RiskAction.REVIEW, 70, (Reason(
            "amount_threshold", "amount above 5000", {"amount": facts.amount}),))
    return RiskDecision(RiskAction.APPROVE, 5, ())


def new_shop() -> tuple[OrderPilot, str]:
    url = f"sqlite:///{tempfile.mkdtemp(prefix='console-bench-')}/shop.db"
    pilot = OrderPilot(url, risk_check=hold_big_orders)
    pilot.inventory.receive(sku="PHONE-X1", warehouse="WH-HZ", quantity=10_000_000)
    return pilot, url


def place(pilot: OrderPilot, n: int, held: bool) -> str:
    price = HELD_PRICE if held else PLAIN_PRICE
    return pilot.orders.place(buyer_id=f"b-{n % 997}", shipping_address=ADDRESS,
                              lines=[{"sku": "PHONE-X1", "quantity": 1, "unit_price": price}]).id


@contextmanager
def console_process(api_url: str, db_url: str) -> Iterator[Tree]:
    """`orderpilot serve` in its own process, as a shop runs it; stopped with SIGTERM (as a
    service manager stops it; SIGINT is ignored when the bench itself runs in the background)."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_LOGGING_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "orderpilot.cli", "serve", "--db", db_url,
                                "--poll", "0.5"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _deployed({"risk-review"}), 120)
        time.sleep(3)  # its first re-drive and dashboard
        yield Tree(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=90)


def wait_for(check: Callable[[], Any], timeout: float, every: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout} s")


def _deployed(names: set[str]) -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return names <= {d.name for d in client.read_deployments()}


def store_runs(pilot: OrderPilot, *states: Any) -> list[Any]:
    """The store's risk-review runs (in `states`)."""
    from prefect.client.orchestration import get_client

    from flows.case_runs import runs_tagged
    from integrations.events.identity import store_id

    with get_client(sync_client=True) as client:
        return runs_tagged(client, [f"store:{store_id(pilot.context)}", "kind:risk-review"],
                           list(states) or None)


def suspended_at(run_id: Any) -> datetime | None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return next((s.timestamp for s in client.read_flow_run_states(run_id)
                     if s.name == "Suspended"), None)


def resume(run_id: Any, decision: str = "approve") -> None:
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(run_id, run_input={"decision": decision, "reason": "bench",
                                       "reviewer": "bench", "blacklist_buyer": False})


def console_pattern(api_url: str, server: Tree, steps: int = 3, per_step: int = 100
                    ) -> dict[str, Any]:
    """Reviews opened and answered by the console; memory at 0 … steps × per_step waiting."""
    from prefect.client.schemas.objects import StateType

    pilot, db = new_shop()
    with console_process(api_url, db) as console:
        idle = _idle_cores([console, server], 10)
        memory = [{"waiting": 0, "console_mb": console.rss_mb(), "server_mb": server.rss_mb()}]
        c0, s0, t0 = console.cpu(), server.cpu(), time.monotonic()
        for step in range(1, steps + 1):
            for n in range(per_step):
                place(pilot, n, held=True)
            wait_for(lambda s=step: len(store_runs(pilot, StateType.PAUSED)) >= s * per_step,
                     600, 1)
            memory.append({"waiting": step * per_step, "console_mb": console.rss_mb(),
                           "server_mb": server.rss_mb()})
        opened = steps * per_step
        c1, s1, t1 = console.cpu(), server.cpu(), time.monotonic()
        for run in store_runs(pilot, StateType.PAUSED):
            resume(run.id)
        wait_for(lambda: not store_runs(pilot, StateType.PAUSED, StateType.SCHEDULED,
                                        StateType.RUNNING), 600, 1)
        c2, s2, t2 = console.cpu(), server.cpu(), time.monotonic()
    return {"reviews": opened, "idle_cores": idle, "memory": memory,
            "open_cpu_s": _per(c1 - c0, s1 - s0, t1 - t0, idle, opened),
            "answer_cpu_s": _per(c2 - c1, s2 - s1, t2 - t1, idle, opened)}


def served_pattern(api_url: str, server: Tree, kind: str, reviews: int = 4) -> dict[str, Any]:
    """`reviews` runs of a served flow that pauses (`paused`) or suspends (`suspended`)."""
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment

    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_LOGGING_LEVEL": "WARNING"}
    served = subprocess.Popen([sys.executable, str(Path(__file__).with_name(
        "review_patterns.py")), "serve"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tree = Tree(served.pid)
    try:
        wait_for(lambda: _deployed({"paused", "suspended"}), 120)
        idle = _idle_cores([tree, server], 10)
        c0, s0, t0 = tree.cpu(), server.cpu(), time.monotonic()
        runs = [run_deployment(f"bench-{kind}-review/{kind}", parameters={"n": n}, timeout=0)
                for n in range(reviews)]
        wait_for(lambda: all(_state(r.id).type == StateType.PAUSED for r in runs), 600, 1)
        time.sleep(3)  # a suspended run's process exits after its pause
        waiting_mb, c1, s1, t1 = tree.rss_mb(), tree.cpu(), server.cpu(), time.monotonic()
        for run in runs:
            resume(run.id)
        wait_for(lambda: all(_state(r.id).is_completed() for r in runs), 600, 1)
        c2, s2, t2 = tree.cpu(), server.cpu(), time.monotonic()
    finally:
        served.send_signal(2)
        served.wait(timeout=60)
    return {"reviews": reviews, "idle_cores": idle, "served_mb_while_waiting": waiting_mb,
            "open_cpu_s": _per(c1 - c0, s1 - s0, t1 - t0, idle, reviews),
            "answer_cpu_s": _per(c2 - c1, s2 - s1, t2 - t1, idle, reviews)}


def steady_shop(api_url: str, server: Tree, rate: float = 10.0, share: float = 0.2,
                seconds: float = 60.0, decide_after: float = 10.0) -> dict[str, Any]:
    """A shop at `rate` orders/s, `share` held, each decided `decide_after` s later: cores of
    the console and the server over `seconds`, review latency from the holding placement."""
    pilot, db = new_shop()
    held: dict[str, datetime] = {}
    stop = threading.Event()
    began = datetime.now(UTC)
    with console_process(api_url, db) as console:
        reviewer = threading.Thread(target=contextvars.copy_context().run,  # Prefect settings
                                    args=(_reviewer, pilot, held, decide_after, stop))
        reviewer.start()
        warm_up = max(10.0, decide_after + 5)
        _place_at(pilot, rate, share, warm_up, held)
        c0, s0, t0 = console.cpu(), server.cpu(), time.monotonic()
        rss = [(console.rss_mb(), server.rss_mb())]
        _place_at(pilot, rate, share, seconds, held, every=lambda: rss.append(
            (console.rss_mb(), server.rss_mb())))
        c1, s1, t1 = console.cpu(), server.cpu(), time.monotonic()
        time.sleep(5)
        stop.set()
        reviewer.join()
        latencies = _latencies(pilot, held)
        runs_page = runs_page_share(began)
    elapsed = t1 - t0
    return {"rate": rate, "share": share, "seconds": round(elapsed, 1), "held": len(held),
            "console_cores": (c1 - c0) / elapsed, "server_cores": (s1 - s0) / elapsed,
            "total_cores": (c1 - c0 + s1 - s0) / elapsed,
            "console_mb": [round(r[0]) for r in rss], "server_mb": [round(r[1]) for r in rss],
            "review_latency_p50_s": statistics.median(latencies),
            "review_latency_p95_s": _p95(latencies), "latency_samples": len(latencies),
            "runs_page": runs_page}


def _place_at(pilot: OrderPilot, rate: float, share: float, seconds: float,
              held: dict[str, datetime], every: Callable[[], None] = lambda: None) -> None:
    started, n, every_n = time.monotonic(), 0, max(1, int(rate * 5))
    while (elapsed := time.monotonic() - started) < seconds:
        if n >= elapsed * rate:
            time.sleep(0.01)
            continue
        is_held = (n % round(1 / share)) == 0
        order_id = place(pilot, len(held) * 10 + n, is_held)
        if is_held:
            held[order_id] = datetime.now(UTC)  # the order is held from this moment
        n += 1
        if n % every_n == 0:
            every()


def _reviewer(pilot: OrderPilot, held: dict[str, datetime], after: float,
              stop: threading.Event) -> None:
    """A reviewer approving each waiting review `after` seconds after its order was held."""
    from prefect.client.schemas.objects import StateType

    while not stop.wait(1.0):
        for run in store_runs(pilot, StateType.PAUSED):
            order_id = run.parameters["order_id"]
            if (datetime.now(UTC) - held.get(order_id, datetime.now(UTC))).total_seconds() > after:
                resume(run.id)


def _latencies(pilot: OrderPilot, held: dict[str, datetime]) -> list[float]:
    runs = {r.parameters["order_id"]: r for r in store_runs(pilot)}
    found = []
    for order_id, placed in held.items():
        if order_id in runs and (at := suspended_at(runs[order_id].id)) is not None:
            found.append((at - placed).total_seconds())
    return found


def runs_page_share(since: datetime) -> dict[str, Any]:
    """What the UI's Runs page holds since `since`: every flow run, and how many of them are
    people's work (a case run) rather than machinery."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterExpectedStartTime

    query = FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=since))
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while page := client.read_flow_runs(flow_run_filter=query, limit=200, offset=len(runs)):
            runs += page
    people = sum(1 for r in runs if any(t.startswith("kind:") and t != "kind:console"
                                        for t in r.tags))
    return {"runs": len(runs), "people": people,
            "not_people_share": (len(runs) - people) / len(runs) if runs else 0.0}


def _state(run_id: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state


def _idle_cores(trees: list[Tree], seconds: float) -> list[float]:
    before = [t.cpu() for t in trees]
    time.sleep(seconds)
    return [(t.cpu() - b) / seconds for t, b in zip(trees, before, strict=True)]


def _per(client_cpu: float, server_cpu: float, elapsed: float, idle: list[float],
         n: int) -> dict[str, float]:
    """CPU seconds per review, with each side's idle use over the same time taken out."""
    return {"client": max(0.0, client_cpu - idle[0] * elapsed) / n,
            "server": max(0.0, server_cpu - idle[1] * elapsed) / n}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
