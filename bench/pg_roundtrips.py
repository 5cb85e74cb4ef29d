"""Where a place + pay goes on PostgreSQL: round trips, wall and client CPU per order.

    python bench/pg_roundtrips.py [--orders 500] [--url postgresql://postgres@127.0.0.1:5432/test]
                                  [--json PATH]
    python bench/pg_roundtrips.py --ships 100 [--rounds 5]   (the waybill turns, below)

One process, a fresh database, the public API with the packaged risk rules: each order is
placed (its own buyer, device, IP, Chinese address and +86 phone) and paid. First `--orders` orders
timed as they run (wall, and this process's CPU: psycopg, SQLAlchemy, our code; PostgreSQL's
own processes are not counted), then as many again with psycopg's cursor `execute` /
`executemany`, the connection's `commit` / `rollback` and its pipelines counted (a wrapper per
call, so this second pass is not timed). A round trip is a wait for the server's answer: a
statement or a transaction end sent on its own, psycopg's BEGIN when it goes alone ahead of a
transaction's first statement, or a pipeline (psycopg's `Connection.pipeline()`: the writes
deferred by `Sql.later` with the statement or COMMIT they travel with, db/sql.py). As a cross-
check, `tcp_segments_in_per_order` counts the TCP segments that carried the server's answers
(Linux TCP_INFO `tcpi_data_segs_in` of every psycopg connection of the process).

Why it matters: on PostgreSQL a client waits for each statement's answer; on the same 2-core
VM a round trip costs tens of µs of latency that no Python trimming removes.

`--ships B`: what the waybill turns cost a batch of ships naming their parcels (the replay's
bulk path: `BulkDriver._hand_over` ships each packed order of its batch with `orders.fire`
in the batch's one transaction). Three ways, alternated round by round on fresh packed
orders (set up through the API, not timed), B ships per transaction: no turns (the store's
`take_turn` a no-op: before 5ba3f78, and wrong — two ships of one waybill were both
stored); a turn per ship (5ba3f78: each ship's `refuse_taken` asks for its own); the
batch's turns in one sorted statement first (`waybills.take_turns`, as the bulk driver does
now; each ship then finds its turn held). Per way: wall per ship (median of the rounds),
the ratio to no turns, and round trips per ship (one more batch, counted, not timed).
"""

from __future__ import annotations

import argparse
import gc
import json
import socket
import struct
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

if not __package__:  # run as `python bench/pg_roundtrips.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


class Counted:
    """Counts psycopg's statements and transaction ends while installed (class-level wraps)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.tables: Counter[str] = Counter()

    def __enter__(self) -> Counted:
        import psycopg

        self._saved = {(cls, name): getattr(cls, name) for cls, name in (
            (psycopg.Cursor, "execute"), (psycopg.Cursor, "executemany"),
            (psycopg.Connection, "commit"), (psycopg.Connection, "rollback"),
            (psycopg.Connection, "pipeline"))}
        for (cls, name), original in self._saved.items():
            setattr(cls, name, self._wrap(name, original))
        self._segments = _segments_in()
        return self

    def __exit__(self, *exc: object) -> None:
        for (cls, name), original in self._saved.items():
            setattr(cls, name, original)
        self.calls["tcp_segments_in"] = _segments_in() - self._segments

    def _wrap(self, name: str, original):  # noqa: ANN001, ANN202
        def counted(obj, *args, **kwargs):  # noqa: ANN001, ANN202
            conn = getattr(obj, "connection", obj)
            alone = conn._pipeline is None  # noqa: SLF001 - psycopg's own state, read only
            self.calls[name] += 1
            if alone:
                self.calls["round_trips"] += 1
                if name.startswith("execute") and conn.info.transaction_status == 0:
                    self.calls["round_trips"] += 1  # psycopg's BEGIN, on its own
            if args and name.startswith("execute"):
                words = str(args[0]).split()
                self.tables[" ".join(words[:3] if words[0] != "SELECT" else words[:1])] += 1
            return original(obj, *args, **kwargs)
        return counted


def _segments_in() -> int:
    """TCP segments with data received so far on this process's open psycopg connections."""
    import psycopg

    total = 0
    for conn in gc.get_objects():
        if isinstance(conn, psycopg.Connection) and not conn.closed:
            sock = socket.socket(fileno=conn.pgconn.socket)
            try:  # struct tcp_info: tcpi_data_segs_in is the u32 at offset 152 (Linux ≥ 4.6)
                total += struct.unpack_from("I", sock.getsockopt(
                    socket.IPPROTO_TCP, socket.TCP_INFO, 256), 152)[0]
            finally:
                sock.detach()
    return total


def _backend_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL backends serving this process's connections
    (same machine: /proc/<backend pid>/stat; 0 where it cannot be read)."""
    import os

    import psycopg

    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for conn in gc.get_objects():
        if isinstance(conn, psycopg.Connection) and not conn.closed:
            try:
                fields = Path(f"/proc/{conn.info.backend_pid}/stat").read_text().rsplit(")", 1)[1]
            except OSError:
                continue
            total += sum(int(v) for v in fields.split()[11:13]) / tick
    return total


def _order(pilot, n: int) -> None:  # noqa: ANN001
    # every buyer on its own address and phone: the same ones would trip velocity (> 5 orders
    # an hour per address) and send most orders to SMS verification
    address = {"line": f"浙江省杭州市西湖区文三路{n + 1}号", "recipient": "李雷",
               "phone": f"+86 138 {n // 10000:04d} {n % 10000:04d}"}
    order = pilot.orders.place(buyer_id=f"b-{n}", shipping_address=address, device_id=f"d-{n}",
                               ip=f"10.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}",
                               lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}])
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"pi_{n}")


def measure(url: str, orders: int) -> dict:
    import psycopg

    from orderpilot import OrderPilot

    name = f"orderpilot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pilot = OrderPilot(url.rsplit("/", 1)[0].replace("postgresql://",
                                                         "postgresql+psycopg://") + f"/{name}")
        pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=3 * orders + 100)
        for n in range(50):  # warm: prepared statements, caches
            _order(pilot, n)
        wall, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu()
        for n in range(50, 50 + orders):
            _order(pilot, n)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = _backend_cpu() - server
        with Counted() as counted:
            for n in range(50 + orders, 50 + 2 * orders):
                _order(pilot, n)
        pilot.close()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    per = {k: round(v / orders, 2) for k, v in counted.calls.items()}
    statements = per.get("execute", 0) + per.get("executemany", 0)
    ends = per.get("commit", 0) + per.get("rollback", 0)
    return {"benchmark": "pg_roundtrips", "orders": orders,
            "wall_ms_per_order": round(1e3 * wall / orders, 2),
            "client_cpu_ms_per_order": round(1e3 * cpu / orders, 2),
            "server_cpu_ms_per_order": round(1e3 * server / orders, 2),
            "statements_per_order": statements, "transactions_per_order": ends,
            "round_trips_per_order": per.get("round_trips", 0),
            "pipelines_per_order": per.get("pipeline", 0),
            "tcp_segments_in_per_order": per.get("tcp_segments_in", 0),
            "statements_by_kind": {k: round(v / orders, 2)
                                   for k, v in counted.tables.most_common()}}


WAYS = ("no_turns", "turn_per_ship", "batch_sorted")


def _packed(pilot, first: int, count: int) -> list[int]:  # noqa: ANN001
    """`count` new orders placed, paid, picked and packed through the API; their numbers."""
    numbers = []
    for n in range(first, first + count):
        _order(pilot, n)
        order_id = f"o-{n + 1}"
        pilot.orders.fire(order_id, "start_picking")
        pilot.orders.fire(order_id, "pack")
        numbers.append(n + 1)
    return numbers


def _ship_batch(pilot, numbers: list[int], way: str) -> None:  # noqa: ANN001
    """Ship these orders in one transaction, each with its own waybill, as the bulk driver
    does (numbers in descending order: a batch's order is the events', not the waybills')."""
    from integrations.db.repository import Store
    from integrations.service import orders
    from integrations.service.inputs import Ship, parse
    from integrations.service.waybills import take_turns

    ctx = pilot.context
    params = {n: parse(Ship, {"parcels": [{"carrier": "sim-express", "warehouse": "WH-1",
                                           "tracking_no": f"SF{n:010d}"}]}
                       ).model_dump(exclude_none=True) for n in numbers}
    real = Store.take_turn
    if way == "no_turns":
        Store.take_turn = lambda self, *names: None
    try:
        with ctx.tx() as tx:
            if way == "batch_sorted":
                take_turns(tx, [label for n in numbers for label in params[n]["parcels"]])
            for n in sorted(numbers, reverse=True):
                orders.fire(ctx, tx, tx.store.get_order(n), "ship", "bench", params[n],
                            now=ctx.clock.now())
    finally:
        Store.take_turn = real


def measure_ships(url: str, batch: int, rounds: int) -> dict:
    import statistics

    import psycopg

    from orderpilot import OrderPilot

    name = f"orderpilot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    walls: dict[str, list[float]] = {way: [] for way in WAYS}
    trips: dict[str, float] = {}
    try:
        pilot = OrderPilot(url.rsplit("/", 1)[0].replace("postgresql://",
                                                         "postgresql+psycopg://") + f"/{name}")
        pilot.inventory.receive(sku="SKU-1", warehouse="WH-1",
                                quantity=batch * len(WAYS) * (rounds + 2) + 100)
        made = 0
        for r in range(rounds + 2):  # a warm-up round, the timed ones, a counted one
            for way in WAYS if r % 2 == 0 else WAYS[::-1]:
                numbers = _packed(pilot, made, batch)
                made += batch
                if r == rounds + 1:
                    with Counted() as counted:
                        _ship_batch(pilot, numbers, way)
                    trips[way] = round(counted.calls["round_trips"] / batch, 2)
                    continue
                start = time.perf_counter()
                _ship_batch(pilot, numbers, way)
                if r > 0:
                    walls[way].append(time.perf_counter() - start)
        pilot.close()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    per_ship = {way: 1e3 * statistics.median(w) / batch for way, w in walls.items()}
    return {"benchmark": "pg_roundtrips_ships", "ships_per_transaction": batch,
            "rounds": rounds,
            "wall_ms_per_ship": {way: round(v, 3) for way, v in per_ship.items()},
            "ratio_to_no_turns": {way: round(v / per_ship["no_turns"], 3)
                                  for way, v in per_ship.items()},
            "round_trips_per_ship": trips}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--ships", type=int, help="measure the waybill turns instead, "
                        "this many ships per transaction")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = (measure_ships(args.url, args.ships, args.rounds) if args.ships
              else measure(args.url, args.orders))
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
