"""Every dependency of the HTTP routes is a coroutine: FastAPI runs a plain `def` dependency in
its thread pool, a hand-off to a worker thread and back per request for reading app state."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from integrations.bootstrap import build_context
from integrations.http.app import create_app


def _api_routes(routes: list) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI ≥ 0.150 keeps routers
        if included is not None:
            yield from _api_routes(included.routes)


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_route_dependencies_run_on_the_event_loop():
    app = create_app(build_context("sqlite://", migrate=False))
    routes = list(_api_routes(app.routes))
    calls = {(r.path, getattr(c, "__qualname__", repr(c))): c
             for r in routes for c in _calls(r.dependant)}
    assert len(calls) >= 10, "the routes should name their dependencies (Ctx, Run)"
    sync = sorted(key for key, call in calls.items() if not inspect.iscoroutinefunction(call))
    assert sync == [], f"plain def dependencies (each costs a thread hand-off): {sync}"
