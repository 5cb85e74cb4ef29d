"""ASGI middleware that authenticates every `/v1/<source>/...` request before routing
(and bounds the body size of the providers' `/hooks/...`, which carry their own signatures).

It runs before FastAPI parses anything, so an unsigned request gets 401 even when its body is
malformed, and the handler sees exactly the bytes that were signed.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations.http.settings import HttpSettings
from integrations.http.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_problem
from statemachine.clock import Clock


class SignatureMiddleware:
    def __init__(self, app: ASGIApp, settings: HttpSettings, clock: Clock):
        self.app, self.settings, self.clock = app, settings, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        signed = scope["type"] == "http" and scope["path"].startswith("/v1/")
        hooked = scope["type"] == "http" and scope["path"].startswith("/hooks/")
        if not signed and not hooked:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, self.settings.max_body_bytes)
        if body is None:
            await _refuse(413, "payload_too_large", "request body is too large")(
                scope, receive, send)
            return
        problem = self._problem(scope, body) if signed else None  # /hooks: provider schemes
        if problem is not None:
            await _refuse(401, "unauthorized", problem)(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    def _problem(self, scope: Scope, body: bytes) -> str | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        source = scope["path"].split("/")[2]
        return signature_problem(self.settings.secret(source), headers.get(TIMESTAMP_HEADER),
                                 headers.get(SIGNATURE_HEADER), body, self.clock.now(),
                                 self.settings.replay_window_seconds)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "HMAC-SHA256"} if status == 401 else None
    return JSONResponse({"error": code, "message": message}, status, headers=headers)
