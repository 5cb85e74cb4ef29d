"""Contention on PostgreSQL: worker processes colliding on the same rows, on purpose.

Two workloads, each in a fresh database, for 1, 2 and 4 worker processes:

- **hot sku**: every command of every worker touches one hot sku. A worker places an order of
  the hot sku and a second sku, naming them in random order (the opposite-order deadlock of
  issue 11), then pays it or the buyer cancels it. This is the lock-order path: inventory rows
  in (sku, warehouse) order, the order row before its stock.
- **siblings**: all workers deliver the parcels of the same orders at the same moment — each
  order ships in one parcel per worker and worker w delivers parcel w of order k, for every k,
  in step. "Is this the last open parcel?" is a decision on sibling rows: it runs under the
  order's row lock (`lock`), or, for comparison, without that lock under SERIALIZABLE isolation
  (`serializable`: PostgreSQL aborts one of two transactions that read each other's parcels,
  with SQLSTATE 40001, and the service re-runs it).

Per run: commands/s, latency p50 / p99 per command (retries included), retries per 1,000
commands (`contention.retries()`), errors by class, and the store's invariants after the run
(`integrations.db.audit`): violations must be 0.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import statistics
import time
from typing import Any

ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "street": "文三路 18 号",
           "recipient": "李雷", "phone": "+86 138 0013 8000"}


def hot_sku_worker(pilot: Any, worker: int, seconds: float) -> dict[str, Any]:
    """Place (hot sku + another, random order), then pay or cancel, for `seconds`."""
    rng, clock = random.Random(worker), _Clock()
    cold = f"COLD-{worker % 2}"
    while clock.running(seconds):
        lines = [{"sku": "HOT", "quantity": 1, "unit_price": 1999},
                 {"sku": cold, "quantity": 1, "unit_price": 999}]
        rng.shuffle(lines)
        n = clock.commands
        order = clock.timed(pilot.orders.place, buyer_id=f"b-{worker}-{n % 40}", lines=lines,
                            shipping_address=ADDRESS)
        if order is None:
            continue
        if rng.random() < 0.75:
            clock.timed(pilot.orders.fire, order.id, "pay", amount=order.total,
                        payment_ref=f"wx-{worker}-{n}")
        else:
            clock.timed(pilot.orders.fire, order.id, "cancel", reason="买家取消", actor="buyer")
    return clock.report()


def sibling_worker(pilot: Any, worker: int, parcels: list[list[str]]) -> dict[str, Any]:
    """Deliver parcel `worker` of every order, in the same order as the other workers."""
    clock = _Clock()
    for order_parcels in parcels:
        clock.timed(pilot.shipments.fire, order_parcels[worker], "deliver")
    return clock.report()


def serializable_instead_of_locks(pilot: Any) -> None:
    """The alternative measured against the order lock: no aggregate lock, SERIALIZABLE.

    The isolation level is the database's default (`serializable_database`, set before the
    workers start): units of work run on connections held by `Context.units`, not on the
    engine, so an engine option would not reach them. Checked here, so a run that silently
    fell back to READ COMMITTED cannot be reported as SERIALIZABLE."""
    from integrations.db.repository import Store

    Store.lock_orders = lambda self, order_ids: None  # type: ignore[method-assign]
    with pilot.context.tx(readonly=True) as tx:
        level = tx.connection.exec_driver_sql("SHOW transaction_isolation").scalar()
    if level != "serializable":
        raise RuntimeError(f"the serializable run is at {level}")


def serializable_database(url: str) -> None:
    """Make SERIALIZABLE the default isolation of every new connection to this database."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_isolation = \'serializable\'')


def shipped_orders(pilot: Any, orders: int, parcels: int) -> list[list[str]]:
    """`orders` paid orders, each shipped in `parcels` parcels that are all on their way."""
    pilot.inventory.receive(sku="SIB", warehouse="WH-HZ", quantity=orders * parcels)
    out = []
    for k in range(orders):
        order = pilot.orders.place(buyer_id=f"b-s{k % 40}", shipping_address=ADDRESS, lines=[
            {"sku": "SIB", "quantity": parcels, "unit_price": 1999}])
        pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"wx-s{k}")
        pilot.orders.fire(order.id, "start_picking")
        pilot.orders.fire(order.id, "pack")
        labels = [{"carrier": "sim-express", "tracking_no": f"SF{k:06d}{p}"}
                  for p in range(parcels)]
        pilot.orders.fire(order.id, "ship", parcels=labels)
        ids = [s.id for s in pilot.shipments.of_order(order.id)]
        for parcel in ids:
            pilot.shipments.fire(parcel, "pick_up", location="杭州转运中心")
        out.append(ids)
    return out


def run(url: str, workers: int, workload: str, mode: str = "lock",
        **kwargs: Any) -> dict[str, Any]:
    """Start `workers` processes on `workload` together; their reports summarised, plus the
    store's invariant violations afterwards."""
    if mode == "serializable":
        serializable_database(url)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_work, args=(url, workload, mode, w, barrier, out, kwargs))
             for w in range(workers)]
    began = time.perf_counter()
    for proc in procs:
        proc.start()
    reports = [out.get(timeout=900) for _ in procs]
    for proc in procs:
        proc.join()
    wall = max(r["seconds"] for r in reports) if reports else time.perf_counter() - began
    return {"workers": workers, "workload": workload, "mode": mode,
            **summarise(reports, wall), "invariant_violations": violations(url)}


def violations(url: str) -> list[str]:
    from integrations.db.audit import audit
    from integrations.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return audit(connection)
    finally:
        engine.dispose()


def _work(url: str, workload: str, mode: str, worker: int, barrier: Any, out: Any,
          kwargs: dict[str, Any]) -> None:
    from integrations.geo.addresses import parse_address
    from orderpilot import OrderPilot
    from statemachine.risk_port import approve_everything

    pilot = OrderPilot(url, risk_check=approve_everything)
    if mode == "serializable":
        serializable_instead_of_locks(pilot)
    parse_address(ADDRESS)  # the address parser loads its dictionaries (seconds) before the clock
    barrier.wait()
    if workload == "hot_sku":
        out.put(hot_sku_worker(pilot, worker, kwargs["seconds"]))
    else:
        out.put(sibling_worker(pilot, worker, kwargs["parcels"]))
    pilot.close()


def summarise(reports: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    """One row: throughput, latency percentiles, retries per 1,000 commands, errors."""
    latencies = sorted(ms for r in reports for ms in r["latencies_ms"])
    commands = len(latencies)
    errors: dict[str, int] = {}
    for report in reports:
        for name, n in report["errors"].items():
            errors[name] = errors.get(name, 0) + n
    retries = sum(r["retries"] for r in reports)
    return {"commands": commands, "seconds": round(wall, 2),
            "commands_per_s": round(commands / wall, 1) if wall else 0.0,
            "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
            "p99_ms": round(latencies[int(0.99 * (commands - 1))], 2) if latencies else None,
            "retries": retries,
            "retries_per_1000": round(1000 * retries / commands, 1) if commands else 0.0,
            "errors": errors}


class _Clock:
    """Times each command and counts its outcome."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}

    @property
    def commands(self) -> int:
        return len(self.latencies)

    def running(self, seconds: float) -> bool:
        return time.perf_counter() - self.start < seconds

    def timed(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        from statemachine.errors import OrderPilotError

        began = time.perf_counter()
        try:
            return command(*args, **kwargs)
        except OrderPilotError as error:  # sold out, already cancelled, contention: counted
            name = type(error).__name__
            self.errors[name] = self.errors.get(name, 0) + 1
            return None
        finally:
            self.latencies.append(1000 * (time.perf_counter() - began))

    def report(self) -> dict[str, Any]:
        from integrations.service.contention import retries

        return {"latencies_ms": self.latencies, "errors": self.errors, "retries": retries(),
                "seconds": time.perf_counter() - self.start}
