"""A service context closes what it opened — its connections to the store and its payment
provider's HTTP connections — and a copy of it (dataclasses.replace, as tests and callers
make one with other settings) shares its original's instead of opening more.

Counted on the real resources: the process's open handles on the SQLite file, and its TCP
connections to a local Stripe stand-in (psutil)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

import flows.wiring
from integrations.payments.stripe_gateway import StripeGateway
from orderpilot import OrderPilot
from tests.fakes.stripe_api import FakeStripe


def open_handles(database: Path) -> int:
    """How many connections this process holds on the SQLite file."""
    return sum(Path(f.path) == database for f in psutil.Process().open_files())


def connections_to(url: str) -> int:
    """How many TCP connections this process holds open to the server at `url`."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    return sum(
        bool(c.raddr) and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
        for c in psutil.Process().net_connections(kind="tcp")
    )


@pytest.fixture
def stripe(monkeypatch: pytest.MonkeyPatch):
    with FakeStripe() as fake:
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_PROVIDER", "stripe")
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_KEY", "sk_test_Resources0001")
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_WEBHOOK_SECRET", "whsec_Resources0001")
        monkeypatch.setenv("ORDERPILOT_PAYMENTS_STRIPE_API_BASE", fake.url)
        yield fake


@contextmanager
def called_from_two_threads(gateway, prefix: str) -> Iterator[None]:
    """A call from this thread and one from a worker thread that stays alive meanwhile (as
    the console's job threads and the webhook app's thread pool do)."""
    gateway.checkout(f"{prefix}-1", 100, "CNY", idempotency_key=f"{prefix}:1")
    called, release = threading.Event(), threading.Event()

    def work() -> None:
        gateway.checkout(f"{prefix}-2", 100, "CNY", idempotency_key=f"{prefix}:2")
        called.set()
        release.wait(30)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert called.wait(30)
        yield
    finally:
        release.set()
        worker.join()


def test_a_copy_of_a_context_shares_its_connections(sqlite_url):
    # Given a pilot that has used its store
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    pilot = OrderPilot(sqlite_url)
    with pilot.context.tx(readonly=True):
        pass
    held = open_handles(database)
    # When a copy with other settings is made and used
    copy = replace(
        pilot.context,
        settings=pilot.context.settings.model_copy(update={"late_payments": "revive"}),
    )
    with copy.tx(readonly=True):
        pass
    # Then it runs on the original's connections (before: a second pool of its own, which
    # nothing closed)
    assert copy.units is pilot.context.units
    assert open_handles(database) == held
    # And closing the copy closes nothing of the original's; closing the original, all
    copy.close()
    assert pilot.orders.list().orders == []
    pilot.close()
    assert open_handles(database) == 0


def test_a_copy_that_writes_with_another_durability_opens_and_closes_its_own(sqlite_url):
    # Given a pilot, and a copy of its context asking for the other SQLite durability
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    pilot = OrderPilot(sqlite_url)
    settings = pilot.context.settings
    other = "full" if settings.sqlite_synchronous == "normal" else "normal"
    copy = replace(
        pilot.context, settings=settings.model_copy(update={"sqlite_synchronous": other})
    )
    # Then the copy writes on connections of its own (not the original's, which write with
    # the other durability), and its close() closes them, not the original's
    assert copy.units is not pilot.context.units
    with copy.tx(), pilot.context.tx(readonly=True):
        pass
    assert (copy.units._open, pilot.context.units._open) == (1, 1)
    copy.close()
    assert (copy.units._open, pilot.context.units._open) == (0, 1)
    pilot.close()
    assert open_handles(database) == 0  # (SQLite defers closing a file others hold locks on)


def test_closing_a_pilot_closes_its_payment_gateways_connections(sqlite_url, stripe):
    # Given a pilot paying through Stripe, called from two threads
    pilot = OrderPilot(sqlite_url)
    with called_from_two_threads(pilot.context.gateway, "o"):
        assert connections_to(stripe.url) > 0
        # When it is closed
        pilot.close()
        # Then no connection to Stripe is left open (before: every one was)
        assert connections_to(stripe.url) == 0


def test_a_gateway_passed_in_is_left_to_its_caller(sqlite_url, stripe):
    gateway = StripeGateway("sk_test_Resources0001", api_base=stripe.url)
    pilot = OrderPilot(sqlite_url, gateway=gateway)
    pilot.close()
    gateway.checkout("o-1", 100, "CNY", idempotency_key="o:1")  # still the caller's to use
    gateway.close()
    assert connections_to(stripe.url) == 0


def test_the_flows_context_closes_the_gateway_built_for_it(sqlite_url, stripe):
    ctx = flows.wiring.context.__wrapped__(sqlite_url)
    with called_from_two_threads(ctx.gateway, "f"):
        assert connections_to(stripe.url) > 0
        ctx.close()
        assert connections_to(stripe.url) == 0


def test_closing_the_stripe_gateway_closes_every_threads_connections(stripe):
    # Given the gateway called from this thread and from a worker thread
    gateway = StripeGateway("sk_test_Resources0001", api_base=stripe.url)
    with called_from_two_threads(gateway, "t"):
        # When it is closed from this thread, then none is left open (before: the SDK kept
        # a session per thread and closed only the calling thread's)
        gateway.close()
        assert connections_to(stripe.url) == 0
