"""Start a real `prefect server start` for benchmarks (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

PIDS: dict[str, int] = {}  # API URL → server process id (for CPU / memory measurements)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def prefect_server(database_url: str | None = None) -> Iterator[str]:
    """A fresh Prefect server in a subprocess; yields its API URL; stops it afterwards."""
    port, home = _free_port(), tempfile.mkdtemp(prefix="prefect-bench-")
    env = {**os.environ, "PREFECT_HOME": home, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host",
                                "127.0.0.1", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    started = time.monotonic()
    try:
        while not _up(url):
            if time.monotonic() - started > 120:
                raise RuntimeError("prefect server did not start in 120 s")
            time.sleep(0.3)
        print(f"prefect server up in {time.monotonic() - started:.1f} s at {url}", flush=True)
        PIDS[url] = process.pid
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
