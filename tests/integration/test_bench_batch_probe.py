"""bench/batch_probe logs each batch a group-commit process commits, and bench/ingest_http.py
sums the logs up: the probe reaches into the group's internals, so a change there shows here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.ingest_http import _batches, batch_sizes

ROOT = Path(__file__).resolve().parents[2]
PLACE_THREE = """
import sys
from integrations.service import orders
from integrations.service.group_commit import GroupCommit
from integrations.service.inputs import PlaceOrder, parse
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import order_request, stock

pilot = OrderPilot(sys.argv[1], risk_check=approve_everything)
stock(pilot, quantity=3)
group = GroupCommit(pilot.context, max_batch=10, max_wait=0.5)
futures = [group.submit(lambda c, n=n: orders.place(c, parse(PlaceOrder, order_request(
    buyer=f"b-{n}", quantity=1)), "api")) for n in range(3)]
print([f.result().public_id for f in futures])
group.close()
pilot.close()
"""


def test_the_probe_logs_every_batch_with_its_members_and_the_bench_sums_them(tmp_path):
    # Given a process with the probe on its path, placing three orders through group commit
    log = tmp_path / "group.batches"
    env = {**os.environ, "ORDERPILOT_BENCH_BATCH_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench" / "batch_probe"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", PLACE_THREE, f"sqlite:///{tmp_path}/s.db"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # Then the log holds the one batch (a max_wait of 0.5 s gathers all three), committed
    batches = _batches(log, 0)
    assert [b[0] for b in batches] == [3.0]
    assert log.read_text().split()[3] == "1"
    # And the bench's summary counts them for the phase they ran in
    phase = {"batches": batches}
    summary = batch_sizes([{"group": {"c4": {"place": phase}}}])
    assert summary["group.c4.place"] | {"open_ms_p50": 0, "commit_ms_p50": 0} == {
        "batches": 1, "mean": 3, "p50": 3.0, "p90": 3, "max": 3, "alone_share": 0.0,
        "open_ms_p50": 0, "commit_ms_p50": 0}
