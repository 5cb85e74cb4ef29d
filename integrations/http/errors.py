"""One place that turns domain errors into HTTP statuses with a body a caller can act on."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from integrations.ingest.once import IdempotencyConflict
from statemachine.errors import (
    ConcurrentUpdate,
    Contention,
    GuardRejected,
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OrderPilotError,
    SchemaMismatch,
    StoreUnavailable,
    UnitsInOpenCase,
)

STATUS: dict[type[OrderPilotError], int] = {
    InvalidInput: 422, NotFound: 404, InvalidTransition: 409, GuardRejected: 409,
    ConcurrentUpdate: 409, InsufficientStock: 409, IdempotencyConflict: 409,
    Contention: 503, StoreUnavailable: 503,  # nothing written, the same request may succeed
    SchemaMismatch: 500,  # nothing written; a deployment to fix (no Retry-After: not a moment)
}
RETRY_AFTER_SECONDS = "1"  # for 503: a collision or a lost store is usually over in a moment


def error_body(error: OrderPilotError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error.code, "message": str(error)}
    if isinstance(error, InvalidInput):
        body["problems"] = error.problems
    if isinstance(error, InvalidTransition | GuardRejected):
        body["state"] = error.state
        body["trigger"] = error.trigger
    if isinstance(error, InvalidTransition):
        body["allowed"] = error.allowed
    if isinstance(error, GuardRejected):
        body["reason"] = error.reason
    if isinstance(error, UnitsInOpenCase):
        body["open_cases"] = error.cases
    return body


def status_of(error: OrderPilotError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


def install(app: FastAPI) -> None:
    """Register the domain-error and request-validation handlers on `app`."""

    @app.exception_handler(OrderPilotError)
    async def domain_error(request: Request, error: OrderPilotError) -> JSONResponse:
        status = status_of(error)
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
        return JSONResponse(error_body(error), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = {("body" if e.get("type") == "json_invalid" else _where(e.get("loc", ()))):
                    _what(e) for e in error.errors()}
        return JSONResponse(error_body(InvalidInput(problems)), 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body FastAPI could not even decode: malformed
            return JSONResponse(error_body(InvalidInput({"body": str(error.detail)})), 422)
        return JSONResponse({"error": f"http_{error.status_code}", "message": str(error.detail)},
                            error.status_code, headers=getattr(error, "headers", None))


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc[1:]) if loc and loc[0] in ("body", "path", "query", "header") else list(loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _what(error: dict[str, Any]) -> str:
    if error.get("type") == "missing":
        return "field required"
    if error.get("type") == "json_invalid":
        return "body is not valid JSON"
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {str(got)[:80]!r})"
    return f"{error.get('msg', 'invalid')}{shown}"
