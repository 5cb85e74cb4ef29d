"""The servers of bench/ingest_http.py, each in its own process on its own store.

`orderpilot api` (with `--group-commit` for the group server) and the floor
(bench/http_floor.py), started on a fresh SQLite file or PostgreSQL database; their CPU use
read from /proc while they run.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orderpilot import OrderPilot

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SECRETS = {"shop": "bench-shop", "payments": "bench-pay"}
SKUS = (("PHONE-X1", 399_900), ("CASE-2", 4_900), ("CABLE-3", 2_900), ("TEA-4", 12_800))


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    placed: itertools.count = field(default_factory=lambda: itertools.count(1))
    states: Counter[str] = field(default_factory=Counter)
    batch_log: Path | None = None  # its batches, one line each (bench/batch_probe)

    def cpu(self) -> float:
        """CPU seconds (user + system, all threads) the server process has used."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def runqueue_waits(self) -> dict[str, int]:
        """Per thread, the ns it has waited for a CPU while runnable (/proc schedstat)."""
        waits = {}
        for task in Path(f"/proc/{self.process.pid}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                waits[task.parent.name] = int(task.read_text().split()[1])
        return waits


def waited(before: dict[str, int], after: dict[str, int]) -> float:
    """Seconds of run-queue wait between two readings (a thread that ended in between is
    left out: anyio's idle workers exit, so this is a lower bound)."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


@contextlib.contextmanager
def database(store: str, directory: Path, name: str) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database created and dropped here (admin
    connection from ORDERPILOT_TEST_POSTGRES_URL). The floor is always a SQLite file."""
    if store == "sqlite" or name == "floor":
        yield f"sqlite:///{directory / name}.db"
        return
    import psycopg

    admin = os.environ.get("ORDERPILOT_TEST_POSTGRES_URL", POSTGRES)
    database_name = f"orderpilot_ingest_{name}_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database_name}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{database_name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')


def start(name: str, url: str, port: int, tree: Path = ROOT, synchronous: str | None = None,
          batch_log: Path | None = None) -> Server:
    """The server in its own process on the store at `url` (stock received for products),
    running the code of `tree` (another checkout: the base of a before / after comparison;
    its store is set up by this checkout's code, so both must share the schema). `synchronous`:
    the SQLite durability level (ORDERPILOT_SQLITE_SYNCHRONOUS; None: the product's default;
    code older than the setting runs NORMAL whatever is given). `batch_log`: a group-commit
    server writes a line per batch there (bench/batch_probe)."""
    level = {"ORDERPILOT_SQLITE_SYNCHRONOUS": synchronous} if synchronous else {}
    if name == "floor":
        command = [sys.executable, str(ROOT / "bench" / "http_floor.py"),
                   "--db", url.removeprefix("sqlite:///"),
                   *(["--synchronous", synchronous] if synchronous else [])]
    else:
        pilot = OrderPilot(url)
        for sku, _ in SKUS:
            pilot.inventory.receive(sku=sku, warehouse="WH-HANGZHOU", quantity=10_000_000)
        pilot.close()
        command = [sys.executable, "-m", "orderpilot.cli", "api", "--db", url,
                   *(["--group-commit"] if name.endswith("group") else [])]
    if _answers(port):  # our clients would measure whoever listens there (it happened)
        raise RuntimeError(f"port {port} is in use (another benchmark?): choose --port")
    env = {**os.environ, "ORDERPILOT_HTTP_SECRETS": json.dumps(SECRETS), "PYTHONPATH": str(tree),
           **level}
    if batch_log is not None:
        env |= {"PYTHONPATH": f"{ROOT / 'bench' / 'batch_probe'}{os.pathsep}{tree}",
                "ORDERPILOT_BENCH_BATCH_LOG": str(batch_log)}
    log = Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite") else None
    err = open(log / f"{name}.stderr", "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen([*command, "--port", str(port)], cwd=tree, env=env,
                               stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _answers(port):
            return Server(name, port, process, batch_log=batch_log)
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{name} server did not start on port {port}")


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def stop(server: Server) -> None:
    server.process.terminate()  # uvicorn shuts down gracefully on SIGTERM
    server.process.wait(timeout=60)
