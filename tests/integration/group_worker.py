"""Worker processes for the group-commit tests (importable by spawned processes).

Each worker places orders from several threads through one `GroupCommit` and reports every
answer it got — an order id, or the error's class — only after `run` returned, i.e. after the
commit that made the write durable. A report line is written and flushed per answer, so a
worker killed mid-batch has reported exactly what was acknowledged to its callers.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from integrations.service import orders
from integrations.service.group_commit import GroupCommit
from integrations.service.inputs import PlaceOrder, parse
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import order_request


def place_many(url: str, worker: int, orders_each: int, threads: int, report: str,
               max_batch: int = 16) -> None:
    """Place `orders_each` one-unit orders from `threads` threads; one report line per answer."""
    pilot = OrderPilot(url, risk_check=approve_everything)
    group = GroupCommit(pilot.context, max_batch=max_batch, max_wait=0.003)
    Path(report).with_suffix(".ready").touch()  # imported, store open: what a failure says
    lock = threading.Lock()
    with open(report, "a", encoding="utf-8") as out:

        def one(n: int) -> None:
            request = parse(PlaceOrder, order_request(buyer=f"w{worker}-{n}", quantity=1))
            try:
                answer = group.run(lambda c: orders.place(c, request, "race")).public_id
            except Exception as error:
                answer = f"error {type(error).__name__}"
            with lock:
                out.write(f"{worker} {n} {answer}\n")
                out.flush()

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(orders_each)))
    group.close()
    pilot.close()


if __name__ == "__main__":  # python -m tests.integration.group_worker URL WORKER N THREADS FILE
    place_many(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
