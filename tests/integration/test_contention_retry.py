"""A real PostgreSQL deadlock reaches the retry policy: the victim's whole unit of work is run
again and the caller never hears of it (integrations/service/contention.py)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from integrations.db.audit import audit
from integrations.service import contention
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock

pytestmark = pytest.mark.postgres

# The payer's sessions look for a deadlock after this long; the other writer's much later, so
# PostgreSQL picks the payer as the victim (the session whose check finds the circle aborts).
PAYER_DEADLOCK_TIMEOUT, OTHER_DEADLOCK_TIMEOUT = "250ms", "20s"


def test_a_payment_caught_in_a_deadlock_is_run_again_and_goes_through(postgres_url, clock):
    # Given an order awaiting payment, and another writer that has locked its stock row
    database = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" SET deadlock_timeout = '
                      f"'{PAYER_DEADLOCK_TIMEOUT}'")
    pilot = OrderPilot(postgres_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    order = placed_order(pilot)
    other = psycopg.connect(postgres_url)
    other.execute(f"SET deadlock_timeout = '{OTHER_DEADLOCK_TIMEOUT}'")
    other.execute("SELECT 1 FROM inventory WHERE sku = 'SKU-1' FOR UPDATE")
    before = contention.retries()
    try:
        with ThreadPoolExecutor(1) as payer:
            # When the payment locks the order and waits for the stock row, and the other
            # writer then asks for the order: a circle, and the payer's session is the victim
            paying = payer.submit(pilot.orders.fire, order.id, "pay", amount=order.total,
                                  payment_ref="wx-deadlock")
            _wait_until_a_session_waits_for_a_lock(other, database)
            other.execute("SELECT 1 FROM orders WHERE id = %s FOR UPDATE", [int(order.id[2:])])
            other.commit()
            # Then the payment is re-run after the other writer commits, and goes through
            paid = paying.result(timeout=30)
    finally:
        other.close()
    assert paid.state == "paid"
    assert contention.retries() - before >= 1, "the payment never collided: no deadlock made"
    with pilot.context.engine.connect() as connection:
        assert audit(connection) == []
    pilot.close()


def _wait_until_a_session_waits_for_a_lock(watcher: psycopg.Connection, database: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND wait_event_type = 'Lock'", [database]).fetchone()[0]
        if waiting:
            return
        time.sleep(0.005)
    raise AssertionError("the payment never waited for the stock row")
