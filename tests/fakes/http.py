"""A small recording HTTP server on 127.0.0.1 that stands in for a provider's API in tests.

Subclasses answer requests as the provider documents; the base records every request (method,
path, query / form fields, headers) and plays scripted faults first: a status with nothing
done (a 503 from the provider's edge), or a delay *after* the request was handled (the client
times out although the provider acted — the case idempotency keys exist for). A test about a
client's timeout holds the answer until it releases it (`hold_next`) rather than delaying it
for a while: the client times out however loaded the machine is, whereas a delay only beats a
timeout while the machine keeps up.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

# How long a test's own HTTP client waits for an answer from a server on 127.0.0.1. The servers
# answer in milliseconds, but on a loaded machine (2 cores, the suite beside other work) one
# request can wait seconds for a core, and the first Chinese address a process parses loads
# jionlp's tables (2-11 s): httpx's default of 5 s failed tests that are not about timing (a
# file's first Shopify placement, run alone). Tests that are about a timeout set their own.
PATIENT = httpx.Timeout(60)


def patient_client(base_url: str = "") -> httpx.Client:
    """An httpx client for a test's own requests, with the PATIENT timeout."""
    return httpx.Client(base_url=base_url, timeout=PATIENT)


# The longest a held answer waits for its release: a test that forgot to release it ends
# anyway (its serving thread is a daemon; the fake releases every hold when it stops).
HOLD_LIMIT = 120.0

# How often a test server's serve_forever looks for shutdown(): at the default 0.5 s, each test
# that stopped one waited up to half a second in its teardown (~80 such tests in the suite).
SHUTDOWN_POLL = 0.02


def serving_thread(server: BaseServer) -> threading.Thread:
    """A daemon thread (not started) serving `server`, whose shutdown() returns within ~20 ms."""
    return threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL},
                            daemon=True)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    fields: dict[str, str]  # query string and form body, flat (`metadata[order_id]`)
    headers: dict[str, str]
    answered: int = 0


@dataclass
class Fault:
    status: int | None = None  # answer this status without handling the request
    delay: float = 0.0  # handle the request, then wait this long before answering
    hold: threading.Event | None = None  # handle it, then answer only once this is set
    body: bytes = b'{"error": {"type": "api_error", "message": "upstream unavailable"}}'
    when: Callable[[str, str], bool] = field(default=lambda method, path: True)


Answer = tuple[int, dict[str, str], bytes]


class FakeProvider:
    """Start with `with FakeX() as fake:`; `fake.url` is its base address."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.faults: deque[Fault] = deque()
        self._held: list[threading.Event] = []
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = serving_thread(self._server)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for release in self._held:  # answer (to nobody) and let the serving threads end
            release.set()
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, times: int = 1, status: int = 503, **kw: Any) -> None:
        self.faults.extend(Fault(status=status, **kw) for _ in range(times))

    def delay_next(self, seconds: float, times: int = 1, **kw: Any) -> None:
        self.faults.extend(Fault(delay=seconds, **kw) for _ in range(times))

    def hold_next(self, times: int = 1, **kw: Any) -> threading.Event:
        """Handle the next `times` requests (matching `when`), then answer none of them until
        the returned event is set (or the fake stops): a provider that hangs."""
        release = threading.Event()
        self._held.append(release)
        self.faults.extend(Fault(hold=release, **kw) for _ in range(times))
        return release

    def calls(self, method: str, path_start: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_start)]

    def handle(self, method: str, path: str, fields: dict[str, str],
               headers: dict[str, str]) -> Answer:
        raise NotImplementedError

    def _serve(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Answer:
        parts = urlsplit(target)
        fields = dict(parse_qsl(parts.query, keep_blank_values=True))
        if body and "json" not in headers.get("content-type", ""):
            fields.update(parse_qsl(body.decode(), keep_blank_values=True))
        fault = self._take_fault(method, parts.path)
        if fault is not None and fault.status is not None:
            self._record(method, parts.path, fields, headers, fault.status)
            return fault.status, {"content-type": "application/json"}, fault.body
        with self._lock:
            answer = self.handle(method, parts.path, fields, headers)
        self._record(method, parts.path, fields, headers, answer[0])
        if fault is not None and fault.hold is not None:
            fault.hold.wait(HOLD_LIMIT)
        elif fault is not None:
            time.sleep(fault.delay)
        return answer

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in list(self.faults):
                if fault.when(method, path):
                    self.faults.remove(fault)
                    return fault
        return None

    def _record(self, method: str, path: str, fields: dict[str, str], headers: dict[str, str],
                status: int) -> None:
        with self._lock:
            self.requests.append(Recorded(method, path, fields, headers, status))


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = provider._serve(self.command, self.path, body, headers)
            try:
                self.send_response(status)
                for name, value in {"content-length": str(len(payload)), **extra}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    return Handler
