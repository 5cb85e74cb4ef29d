"""Deliveries per second sustained by the outbound webhook relay.

    python bench/webhooks_out.py [--orders N] [--rounds R] [--stores sqlite postgres]
                                 [--concurrency 1 8] [--json PATH]

Each round a shop places and pays N orders (3 events each) with one subscription for every
event; the relay (fan-out, claim, Standard Webhooks signing, POST, record) drains them into a
receiver in another process (uvicorn) that verifies every signature with `standardwebhooks`.
Baseline, alternating with the relay rounds in the same run: one pre-signed body POSTed as many
times by plain httpx with the same parallelism, no store — the HTTP and receiver ceiling on
this machine. Reported: medians over the rounds, and where the relay's time goes (share of the
wall time in fan-out, claim and record transactions; the rest is signing, sending and waiting).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/webhooks_out.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from integrations.config import Settings  # noqa: E402
from integrations.connect_config import WebhookPolicy  # noqa: E402
from integrations.db.webhooks import WebhookStore  # noqa: E402
from integrations.events.webhook_relay import signed_headers  # noqa: E402
from orderpilot import ManualClock, OrderPilot  # noqa: E402
from statemachine.risk_port import approve_everything  # noqa: E402

RECEIVER = '''
import os
from standardwebhooks import Webhook
hook = Webhook(os.environ["SECRET"])
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    status = 204
    if os.environ.get("VERIFY") == "1":
        try:
            hook.verify(body, headers)
        except Exception:
            status = 401
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_receiver(secret: str, verify: bool) -> tuple[subprocess.Popen, str]:
    port, folder = free_port(), tempfile.mkdtemp()
    Path(folder, "receiver_app.py").write_text(RECEIVER)
    env = {**os.environ, "SECRET": secret, "VERIFY": "1" if verify else "0"}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "receiver_app:app", "--port",
                                str(port), "--log-level", "warning"], cwd=folder, env=env)
    for _ in range(200):
        try:
            httpx.post(f"http://127.0.0.1:{port}/", content=b"{}", timeout=1)
            return process, f"http://127.0.0.1:{port}/hooks"
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("receiver did not start")


def shop(url: str, orders: int, concurrency: int) -> OrderPilot:
    policy = WebhookPolicy(concurrency=concurrency, batch=500, chain_limit=20)
    pilot = OrderPilot(url, clock=ManualClock(datetime.now(UTC)), risk_check=approve_everything,
                       settings=Settings(webhooks=policy))
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=orders * 2)
    return pilot


def fill(pilot: OrderPilot, orders: int, start: int) -> None:
    for n in range(start, start + orders):
        order = pilot.orders.place(buyer_id=f"b-{n % 97}", lines=[
            {"sku": "SKU-1", "quantity": 1, "unit_price": 1999}],
            shipping_address={"street": "文三路 18 号", "city": "杭州市"})
        pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{n}")


def relay_run(pilot: OrderPilot) -> tuple[float, int, dict[str, float]]:
    """Drain the outbox through the relay; wall time, deliveries, seconds per part."""
    parts = {"fan_out": 0.0, "claim": 0.0, "record": 0.0}
    originals = {name: getattr(WebhookStore, name) for name in parts}

    def timed(name: str):
        def wrapper(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return originals[name](self, *args, **kwargs)
            finally:
                parts[name] += time.perf_counter() - started
        return wrapper

    for name in parts:
        setattr(WebhookStore, name, timed(name))
    relay = pilot.webhooks.relay()
    try:
        started = time.perf_counter()
        rounds = relay.drain()
        wall = time.perf_counter() - started
    finally:
        relay.close()
        for name, original in originals.items():
            setattr(WebhookStore, name, original)
    assert sum(r.failed for r in rounds) == 0, "the receiver refused deliveries"
    parts["send_and_wait"] = wall - sum(parts.values())
    return wall, sum(r.delivered for r in rounds), parts


def baseline(url: str, bodies: int, concurrency: int, secret: str) -> float:
    """Plain POSTs of one typical body, signed once up front, same parallelism: the HTTP and
    receiver ceiling on this machine (deliveries/s)."""
    body = json.dumps({"type": "orderpilot.order.paid", "data": {"order_id": "o-1",
                       "total": 1999, "currency": "CNY", "state": "paid"}})
    headers = {"content-type": "application/json",
               **signed_headers(secret, "msg_baseline", datetime.now(UTC), body)}
    with httpx.Client(limits=httpx.Limits(max_connections=concurrency)) as client:
        def post(_: int) -> int:
            return client.post(url, content=body.encode(), headers=headers).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            codes = list(pool.map(post, range(bodies)))
        wall = time.perf_counter() - started
    assert all(c == 204 for c in codes)
    return bodies / wall


def measure(db_url: str, orders: int, concurrency: int, verify: bool, rounds: int) -> dict:
    """Alternate relay and baseline runs (fresh orders each time); medians of the rounds."""
    pilot = shop(db_url, orders * rounds, concurrency)
    sub = pilot.webhooks.subscribe("http://127.0.0.1:9/")  # URL replaced below
    receiver, url = start_receiver(sub.secret, verify)
    rates, ceilings, breakdowns = [], [], []
    try:
        with pilot.context.tx() as tx:
            tx.store.sql.run("UPDATE webhook_subscriptions SET url = :u WHERE id = :id",
                             {"u": url, "id": int(sub.id[4:])})
        for n in range(rounds):
            fill(pilot, orders, n * orders)
            wall, delivered, parts = relay_run(pilot)
            rates.append(delivered / wall)
            breakdowns.append({k: round(v / wall, 3) for k, v in parts.items()})
            ceilings.append(baseline(url, delivered, concurrency, sub.secret))
    finally:
        receiver.terminate()
        receiver.wait(10)
        pilot.close()
    rate, ceiling = statistics.median(rates), statistics.median(ceilings)
    return {"store": db_url.split(":")[0], "concurrency": concurrency, "verify": verify,
            "deliveries_per_round": orders * 3, "rounds": rounds,
            "deliveries_per_s": round(rate, 1), "rates": [round(r, 1) for r in rates],
            "baseline_posts_per_s": round(ceiling, 1),
            "ratio_to_baseline": round(rate / ceiling, 3),
            "time_shares": breakdowns[len(breakdowns) // 2]}


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database (created and dropped here)."""
    if kind == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        return
    import psycopg

    admin = os.environ.get("ORDERPILOT_TEST_POSTGRES_URL",
                           "postgresql://postgres@127.0.0.1:5432/test")
    name = f"orderpilot_bench_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000, help="orders per round (3 events "
                        "each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = []
    for store in args.stores:
        for concurrency in args.concurrency:
            with database(store) as url:
                result = measure(url, args.orders, concurrency, not args.no_verify,
                                 args.rounds)
            print(f"{store} concurrency {concurrency}: {result['deliveries_per_s']} "
                  f"deliveries/s (rounds {result['rates']}); plain POSTs "
                  f"{result['baseline_posts_per_s']}/s; ratio {result['ratio_to_baseline']}; "
                  f"time {result['time_shares']}")
            results.append(result)
    summary = {"benchmark": "webhooks_out", "orders_per_round": args.orders, "runs": results}
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
