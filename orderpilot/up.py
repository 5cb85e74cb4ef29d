"""`orderpilot up`: the console live in one command — a Prefect server (started, or reused
when one answers), the console serving every case deployment with the relay and the sweep, and
optionally a demo shop trading in real time on its own store. Ctrl-C stops what it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from integrations.events.stopping import stopped_by
from integrations.notifications.masking import mask_url
from statemachine.errors import InvalidInput

if TYPE_CHECKING:
    from orderpilot.demo_live import LiveShop

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFECT_DATABASE = "orderpilot_prefect"
_DEFAULT_STORE = "ORDERPILOT_DATABASE_URL / sqlite:///orderpilot.db"
SQLITE_LIMITS = ("SQLite (in {home}): fine to look around; under bursts it answers \"database "
                 "is locked\" (HTTP 503) and the console's re-drive re-creates what was "
                 "refused. Give a real shop PostgreSQL (--prefect-db URL).")


@dataclass(frozen=True)
class Server:
    api_url: str
    described: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def prefect_database(choice: str | None, home: Path) -> tuple[str | None, str]:
    """The Prefect server's database: `choice` (a URL or "sqlite"), else the local PostgreSQL
    when it answers, else SQLite — and a sentence saying which and why."""
    if choice == "sqlite":
        return None, SQLITE_LIMITS.format(home=home)
    if choice:
        return choice, "PostgreSQL (given)"
    try:
        import psycopg

        with psycopg.connect(LOCAL_POSTGRES, autocommit=True, connect_timeout=2) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (PREFECT_DATABASE,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{PREFECT_DATABASE}"')
    except Exception:  # no local PostgreSQL: say so and use SQLite
        return None, SQLITE_LIMITS.format(home=home)
    return (f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PREFECT_DATABASE}",
            f"PostgreSQL at 127.0.0.1:5432, database {PREFECT_DATABASE}")


def healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def reuse_or_start(port: int, choice: str | None, home: Path,
                   wait: float = 180.0) -> Server:
    """The Prefect server at PREFECT_API_URL (or 127.0.0.1:port) if it answers; else a new one."""
    api_url = os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{port}/api"
    if healthy(api_url):
        return Server(api_url, "reused (it was already running)")
    database, described = prefect_database(choice, home)
    return start_server(port, database, home, described, wait)


def start_server(port: int, database: str | None, home: Path, described: str = "",
                 wait: float = 180.0) -> Server:
    """`prefect server start` (UI included) on 127.0.0.1:port, its state in `home`."""
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_API_URL": api_url}
    if database:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database
    with (home / "prefect-server.log").open("ab") as log:  # the server keeps its own handle
        process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start",
                                    "--host", "127.0.0.1", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + wait
    while not healthy(api_url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"the Prefect server did not start; see {home}/prefect-server.log")
        time.sleep(0.5)
    return Server(api_url, f"started here; {described}", process)


@contextmanager
def stopped_on_exit(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        if server.process is not None:
            server.process.send_signal(signal.SIGINT)
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()


def store_url(db: str | None, demo: bool, home: Path) -> str | None:
    """The store the console serves: the demo's own file, or the one given (settings if None)."""
    if demo and db:
        raise InvalidInput({"db": "the live demo plays on its own store (.orderpilot/"
                                  "demo-shop.db), never on one that holds real orders: drop "
                                  "--db or --demo"})
    return f"sqlite:///{home / 'demo-shop.db'}" if demo else db


def run_up(db: str | None, demo: bool, port: int, prefect_db: str | None,
           metrics_port: int | None, say: Callable[[str], None],
           home: Path = Path(".orderpilot"), stop: threading.Event | None = None) -> None:
    """Start (or reuse) the server, run the console (and the demo) until Ctrl-C / SIGTERM."""
    home.mkdir(exist_ok=True)
    url = store_url(db, demo, home)
    say("starting the Prefect server (or finding one) …")
    with stopped_on_exit(reuse_or_start(port, prefect_db, home)) as server:
        os.environ["PREFECT_API_URL"] = server.api_url  # before Prefect reads its settings
        from deployments.console import Console
        from flows.wiring import context

        # Ctrl-C stops it even when started from a script in the background (where a shell
        # starts it with SIGINT ignored, and Python then never raises KeyboardInterrupt)
        with stopped_by(signal.SIGTERM, signal.SIGINT, stop=stop) as stop:
            console, shop = Console(context(url), metrics_port=metrics_port), None
            try:  # a console started is stopped, even when the demo refuses its store
                console.start()
                shop = _start_demo(url, stop) if demo else None
                for line in summary(server, url, demo, metrics_port, console.ctx.settings.shop):
                    say(line)
                while not stop.wait(1.0):
                    pass
            finally:
                stop.set()
                say("stopping …")
                if shop is not None:
                    shop.join(timeout=10)
                console.stop()
    say("stopped everything `orderpilot up` started")


def _start_demo(url: str | None, stop: threading.Event) -> threading.Thread:
    """The live demo shop trading on a thread of its own until `stop`; its store is closed
    when it stops (or when the shop refuses the store)."""
    from orderpilot.api import OrderPilot
    from orderpilot.demo_live import LiveShop

    store = OrderPilot(url)
    try:
        shop = LiveShop(store)
    except BaseException:
        store.close()
        raise
    thread = threading.Thread(target=_trade, args=(shop, stop), name="demo", daemon=True)
    thread.start()
    return thread


def _trade(shop: LiveShop, stop: threading.Event) -> None:
    try:
        shop.run(stop)
    finally:
        shop.pilot.close()


def summary(server: Server, url: str | None, demo: bool, metrics_port: int | None,
            shop: str | None = None) -> list[str]:
    from flows.naming import named

    ui = server.ui_url
    lines = ["", "orderpilot is up — open the console" + (f" of shop {shop}:" if shop else ":"),
             f"  Prefect UI       {ui}",
             f"  review queue     {ui}/artifacts/key/{named(shop, 'review-queue')}",
             f"  shop health      {ui}/artifacts/key/{named(shop, 'shop-health')}",
             f"  Prefect server   {server.described}",
             f"  order store      {mask_url(url, keep_path=True) if url else _DEFAULT_STORE}"
             + (" (the demo shop's own store)" if demo else "")]
    if metrics_port:
        lines.append(f"  metrics          http://127.0.0.1:{metrics_port}/metrics")
    return [*lines, "Ctrl-C stops everything this command started.", ""]
