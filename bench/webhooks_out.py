"""Deliveries per second sustained by the outbound webhook relay.

    python bench/webhooks_out.py [--orders N] [--db URL] [--concurrency 1 8] [--json PATH]

A shop places and pays N orders (3 events each) with one subscription for every event; the
relay (fan-out, claim, Standard Webhooks signing, POST, record) drains them into a receiver
in another process (uvicorn) that verifies every signature with `standardwebhooks`. Baseline,
in the same run: the same bodies POSTed by plain httpx with the same parallelism, no store and
no signing — the HTTP ceiling on this machine. Also a cProfile of one relay run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/webhooks_out.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from integrations.config import Settings  # noqa: E402
from integrations.connect_config import WebhookPolicy  # noqa: E402
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


def relay_run(pilot: OrderPilot, profile: bool = False) -> tuple[float, int, str]:
    relay = pilot.webhooks.relay()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    rounds = relay.drain()
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    relay.close()
    delivered = sum(r.delivered for r in rounds)
    assert sum(r.failed for r in rounds) == 0, "the receiver refused deliveries"
    text = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(18)
        text = out.getvalue()
    return wall, delivered, text


def baseline(url: str, bodies: int, concurrency: int) -> float:
    """Plain POSTs of a typical body, same parallelism: the HTTP ceiling (deliveries/s)."""
    body = json.dumps({"type": "orderpilot.order.paid", "data": {"order_id": "o-1",
                       "total": 1999, "currency": "CNY", "state": "paid"}}).encode()
    with httpx.Client(limits=httpx.Limits(max_connections=concurrency)) as client:
        def post(_: int) -> int:
            return client.post(url, content=body).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            codes = list(pool.map(post, range(bodies)))
        wall = time.perf_counter() - started
    assert all(c == 204 for c in codes)
    return bodies / wall


def measure(db_url: str, orders: int, concurrency: int, verify: bool) -> dict:
    pilot = shop(db_url, orders, concurrency)
    sub = pilot.webhooks.subscribe("http://127.0.0.1:9/")  # URL replaced below
    receiver, url = start_receiver(sub.secret, verify)
    try:
        with pilot.context.tx() as tx:
            tx.store.sql.run("UPDATE webhook_subscriptions SET url = :u", {"u": url})
        fill(pilot, orders, 0)
        wall, delivered, _ = relay_run(pilot)
        ceiling = baseline(url, delivered, concurrency)
        fill(pilot, max(orders // 4, 50), orders)
        _, _, profile = relay_run(pilot, profile=True)
    finally:
        receiver.terminate()
        receiver.wait(10)
        pilot.close()
    rate = delivered / wall
    return {"store": db_url.split(":")[0], "concurrency": concurrency, "verify": verify,
            "deliveries": delivered, "seconds": round(wall, 3),
            "deliveries_per_s": round(rate, 1), "baseline_posts_per_s": round(ceiling, 1),
            "ratio_to_baseline": round(rate / ceiling, 3), "profile": profile}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--db", default=None, help="default: a fresh SQLite file per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = []
    for concurrency in args.concurrency:
        url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        result = measure(url, args.orders, concurrency, not args.no_verify)
        print(f"{result['store']} concurrency {concurrency}: {result['deliveries']} deliveries "
              f"in {result['seconds']} s = {result['deliveries_per_s']}/s; plain POSTs "
              f"{result['baseline_posts_per_s']}/s; ratio {result['ratio_to_baseline']}")
        results.append(result)
    print(results[-1]["profile"])
    summary = {"benchmark": "webhooks_out", "orders": args.orders, "runs": [
        {k: v for k, v in r.items() if k != "profile"} for r in results]}
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
