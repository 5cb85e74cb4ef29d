"""Schemathesis against the app's own OpenAPI schema, over a real HTTP server: no 500s.

Two runs: every generated request correctly signed (so it reaches validation and the service
layer), and the same requests unsigned (so the auth layer sees malformed input too). The store
holds SKU-1 and order o-1 (total 5), matching the examples in the schema, so the explicit
examples reach the success and conflict paths as well as 404 / 422. Each runs against a SQLite
file and against PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from integrations.bootstrap import build_context
from integrations.http.app import create_app
from integrations.http.signing import signed_headers
from orderpilot import OrderPilot
from tests.conftest import fresh_postgres_database
from tests.factories import stock
from tests.fakes.http import patient_client
from tests.integration.integ.server import SECRETS, review_big_orders, running_server

SCHEMA = schemathesis.openapi.from_dict(
    create_app(build_context("sqlite://", migrate=False)).openapi())
FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def base_url(request, tmp_path_factory) -> Iterator[str]:
    """The app over a SQLite file, and again over PostgreSQL, whose columns refuse what SQLite
    keeps silently (too long, NUL): a 500 there is a limit the schema and the store disagree on."""
    with ExitStack() as stack:
        store = (f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'shop.db'}"
                 if request.param == "sqlite" else stack.enter_context(fresh_postgres_database()))
        pilot = OrderPilot(store, risk_check=review_big_orders)
        stack.callback(pilot.close)
        stock(pilot, sku="SKU-1", quantity=1000)
        pilot.orders.place(buyer_id="b-1", lines=[{"sku": "SKU-1", "quantity": 1,
                                                   "unit_price": 5}],
                           shipping_address={"street": "1 Road", "city": "Hangzhou"})
        yield stack.enter_context(running_server(pilot))


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the run: a new SSL context per request would cost ~40 ms each."""
    with patient_client() as client:
        yield client


def send(http: httpx.Client, case, base_url: str, signed: bool) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=base_url)
    if "json" in kwargs:
        body = json.dumps(kwargs.pop("json")).encode()
    else:
        body = kwargs.pop("data", None) or b""
        body = body.encode() if isinstance(body, str) else body
    headers = {k: str(v) for k, v in (kwargs.get("headers") or {}).items()}
    path = httpx.URL(kwargs["url"]).path
    if signed and path.startswith("/v1/"):
        secret = SECRETS.get(path.split("/")[2], "unknown-source")
        headers |= signed_headers(secret, body, datetime.now(UTC))
    return http.request(kwargs["method"], kwargs["url"], content=body, headers=headers,
                        params=kwargs.get("params"))


@SCHEMA.parametrize()
@FUZZ
def test_no_signed_generated_request_causes_a_server_error(case, base_url, http):
    response = send(http, case, base_url, signed=True)
    assert response.status_code < 500, (case.path, case.body, response.text)
    assert response.status_code != 400, ("malformed input must be a 422", response.text)
    case.validate_response(response, checks=[not_a_server_error])


@SCHEMA.parametrize()
@settings(FUZZ, max_examples=5)
def test_no_unsigned_generated_request_gets_past_the_signature_check(case, base_url, http):
    response = send(http, case, base_url, signed=False)
    if case.path.startswith("/v1/"):
        assert response.status_code == 401, (case.path, response.text)
    else:
        assert response.status_code < 500, (case.path, response.text)
