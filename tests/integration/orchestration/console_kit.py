"""Helpers for console tests against the real Prefect server: a running console, waits, the
case runs of an entity, and a proxy that makes the server refuse chosen calls."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from tests.fakes.http import patient_client, serving_thread

T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def runs_of(pilot: Any, entity: str, *states: Any) -> list[Any]:
    """The case runs of `entity` in `pilot`'s store (other tests' stores share the server)."""
    from prefect.client.orchestration import get_client

    from flows import case_runs
    from integrations.events.identity import store_id

    tags = [f"store:{store_id(pilot.context)}", f"entity:{entity}"]
    with get_client(sync_client=True) as client:
        return case_runs.runs_tagged(client, tags, list(states) or None)


def paused(pilot: Any, entity: str) -> list[Any]:
    from prefect.client.schemas.objects import StateType

    return runs_of(pilot, entity, StateType.PAUSED)


@contextmanager
def running_console(pilot: Any, gateway: Any = None, **options: Any) -> Iterator[Any]:
    """The console for `pilot`'s store, fast intervals, stopped afterwards (its payments
    through `gateway` when given, else the store's own, as `orderpilot serve` wires it)."""
    from deployments.console import Console
    from flows.wiring import ports as real_ports
    from integrations.console.jobs import Ports

    defaults = {"poll": 0.2, "sweep_every": 3600, "redrive_every": 3600, "dashboard_every": 3600}
    wired = real_ports(pilot.context)
    console = Console(pilot.context, ports_=Ports(gateway or pilot.context.gateway, wired.carrier,
                                                   wired.notify, retry_delays=(0.05,)),
                      **{**defaults, **options})
    console.start()
    try:
        yield console
    finally:
        console.stop()


class RefusingProxy:
    """A real HTTP proxy in front of the Prefect server that answers 503 ("database is
    locked", as a loaded SQLite-backed server does) to the calls matching `pattern` while
    `refusing` is set."""

    def __init__(self, upstream: str, pattern: str):
        self.upstream, self.pattern = upstream.rstrip("/"), re.compile(pattern)
        self.refusing, self.refused = True, 0
        self.http = patient_client()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        serving_thread(self.server).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.http.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.removeprefix("/api")
                if proxy.refusing and proxy.pattern.search(f"{self.command} {path}"):
                    proxy.refused += 1
                    self._reply(503, b'{"detail": "database is locked"}', "application/json")
                    return
                answer = proxy.http.request(
                    self.command, proxy.upstream + path, content=body,
                    headers={k: v for k, v in self.headers.items()
                             if k.lower() not in ("host", "content-length")})
                self._reply(answer.status_code, answer.content,
                            answer.headers.get("content-type", "application/json"))

            def _reply(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
