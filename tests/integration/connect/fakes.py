"""Fake provider servers on 127.0.0.1: each request is recorded and answered by a function."""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.http import serving_thread

Answer = Callable[[str, str, dict[str, str], bytes], tuple[int, Any]]


class FakeServer:
    """`requests`: (method, path, headers, body) of every request, in arrival order."""

    def __init__(self, answer: Answer):
        self.answer = answer
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        serving_thread(self.server).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = (self.command, self.path, {k.lower(): v for k, v in
                                                     self.headers.items()}, body)
                fake.requests.append(request)
                status, payload = fake.answer(*request)
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = _any  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
