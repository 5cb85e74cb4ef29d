"""Benchmark signed webhook ingestion over real HTTP (uvicorn, one process, SQLite file).

    python bench/ingest_http.py [N] [--db URL]

Places N orders, pays them, replays every payment (duplicates) and sends 8 concurrent copies
of N/10 payments; prints latency percentiles and throughput per phase as JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/ingest_http.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from integrations.http.app import create_app  # noqa: E402
from integrations.http.settings import HttpSettings  # noqa: E402
from integrations.http.signing import signed_headers  # noqa: E402
from orderpilot import OrderPilot  # noqa: E402

SECRETS = {"shop": "bench-shop", "payments": "bench-pay"}
ADDRESS = {"street": "1 Road", "city": "Hangzhou"}


def serve(pilot: OrderPilot, port: int = 18733) -> uvicorn.Server:
    app = create_app(pilot.context, HttpSettings(secrets=SECRETS))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server


def post(client: httpx.Client, path: str, payload: dict, source: str) -> tuple[float, int]:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json",
               **signed_headers(SECRETS[source], body, datetime.now(UTC))}
    start = time.perf_counter()
    status = client.post(path, content=body, headers=headers).status_code
    return time.perf_counter() - start, status


def phase(name: str, calls: list, workers: int = 1) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda call: call(), calls))
    wall = time.perf_counter() - start
    ms = sorted(r[0] * 1000 for r in results)
    return {"phase": name, "requests": len(ms), "workers": workers,
            "statuses": sorted({r[1] for r in results}), "per_s": round(len(ms) / wall),
            "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 2)}


def main(n: int, url: str) -> list[dict]:
    pilot = OrderPilot(url)
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=n * 10)
    server = serve(pilot)
    client = httpx.Client(base_url="http://127.0.0.1:18733", timeout=30)
    order = {"buyer_id": "b-1", "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 100}],
             "shipping_address": ADDRESS}
    pay = [{"event_id": f"pay-{i}", "type": "succeeded", "order_id": f"o-{i}", "amount": 100,
            "payment_ref": f"p-{i}"} for i in range(1, n + 1)]
    send = lambda path, body, src: lambda: post(client, path, body, src)  # noqa: E731
    report = [
        phase("place order", [send("/v1/shop/orders", {"event_id": f"s-{i}", "order": order},
                                   "shop") for i in range(n)]),
        phase("payment (applied)", [send("/v1/payments/events", p, "payments") for p in pay]),
        phase("payment (duplicate)", [send("/v1/payments/events", p, "payments")
                                      for p in pay]),
        phase("place order, 8 workers", [send("/v1/shop/orders", {
            "event_id": f"c-{i}", "order": order}, "shop") for i in range(n)], workers=8),
    ]
    client.close()
    server.should_exit = True
    pilot.close()
    return report


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 300
    db = sys.argv[sys.argv.index("--db") + 1] if "--db" in sys.argv else \
        f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    for row in main(count, db):
        print(json.dumps(row))
