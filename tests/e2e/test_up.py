"""`orderpilot up` as a user runs it: one command, the console live with a demo shop on its own
store, the URL printed, Ctrl-C stopping what it started (a server it found keeps running)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from orderpilot import OrderPilot
from tests.fakes.http import PATIENT
from tests.integration.integ.server import free_port
from tests.integration.orchestration.console_kit import paused, wait_for

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_up_plays_the_demo_on_its_own_store_and_ctrl_c_stops_it(tmp_path: Path,
                                                                prefect_server: str):
    # Given a Prefect server already running (up reuses it)
    began, metrics = datetime.now(UTC), free_port()
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "NO_COLOR": "1", "COLUMNS": "200"}
    up = subprocess.Popen([sys.executable, "-m", "orderpilot.cli", "up", "--demo",
                           "--metrics-port", str(metrics)], cwd=tmp_path, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(up.stdout), daemon=True)
    reader.start()
    try:
        # When it is up, it says where to look
        # (the whole block: the reader thread may not have read past its first line yet)
        wait_for("the URL", lambda: any("Ctrl-C stops everything" in line for line in lines),
                 120)
        ui = prefect_server.removesuffix("/api")
        assert any("orderpilot is up" in line for line in lines)
        assert any(f"{ui}/artifacts/key/review-queue" in line for line in lines)
        assert any("reused" in line for line in lines)
        # and the demo shop trades: orders placed, relayed, counted
        wait_for("a few demo orders", lambda: "trigger=\"pay\"" in httpx.get(
            f"http://127.0.0.1:{metrics}/metrics", timeout=PATIENT).text, 120)
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=60)
        reader.join(timeout=10)
        up.stdout.close()
    # Then Ctrl-C stopped it cleanly; the server it found still answers
    assert code == 0 and "stopped everything `orderpilot up` started" in "".join(lines)
    assert httpx.get(f"{prefect_server}/health", timeout=PATIENT).status_code == 200
    # and every order the demo's store holds for review waits as a suspended run
    demo = OrderPilot(f"sqlite:///{tmp_path / '.orderpilot' / 'demo-shop.db'}")
    held = [t.order_id for t in demo.reviews.list()]
    assert all(paused(demo, order_id) for order_id in held)
    assert demo.orders.list().orders, "the demo placed orders"
    demo.close()
    # and the Runs page holds people's work only: the relay, the sweep and the jobs are no runs
    machinery = [r.name for r in runs_since(began) if not any(
        t in r.tags for t in ("kind:risk-review", "kind:refund-review", "kind:stall"))]
    assert machinery == []


def runs_since(moment: datetime) -> list[object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterExpectedStartTime

    query = FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=moment))
    with get_client(sync_client=True) as client:
        return list(client.read_flow_runs(flow_run_filter=query, limit=200))


def test_the_demo_never_plays_on_a_store_that_holds_orders(tmp_path: Path, sqlite_url: str):
    from tests.factories import placed_order, stock

    pilot = OrderPilot(sqlite_url)
    stock(pilot)
    placed_order(pilot)
    pilot.close()
    for args in (["up", "--demo", "--db", sqlite_url], ["demo", "--db", sqlite_url]):
        done = subprocess.run([sys.executable, "-m", "orderpilot.cli", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})
        assert done.returncode == 2, done.stdout + done.stderr
        assert "db" in done.stdout + done.stderr


def test_a_demo_that_refuses_its_store_stops_the_console_it_started(tmp_path: Path,
                                                                     prefect_server: str,
                                                                     monkeypatch):
    from orderpilot.up import run_up
    from statemachine.errors import InvalidInput
    from tests.factories import placed_order, stock

    # Given the demo's own store holding an order no demo made (the demo refuses it)
    home = tmp_path / ".orderpilot"
    home.mkdir()
    shop = OrderPilot(f"sqlite:///{home / 'demo-shop.db'}")
    stock(shop)
    placed_order(shop)
    shop.close()
    monkeypatch.setenv("PREFECT_API_URL", prefect_server)  # run_up sets it; put back after
    before, said = signal.getsignal(signal.SIGTERM), []
    # When `up --demo` starts the console, then the demo
    with pytest.raises(InvalidInput):
        run_up(None, True, free_port(), None, None, said.append, home=home,
               stop=threading.Event())
    # Then the console it had started is stopped (its loops ended), and the caller's SIGTERM
    # handler is back
    loops = {"relay", "cases", "answers", "jobs", "sweep", "dashboard"}
    assert {t.name for t in threading.enumerate() if t.is_alive()} & loops == set()
    assert "stopping …" in said and signal.getsignal(signal.SIGTERM) is before
