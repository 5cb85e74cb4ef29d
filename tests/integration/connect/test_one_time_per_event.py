"""Every row one inbound event writes carries one time (issue 10: a call takes `now` once, from
its caller or the clock, and all its writes use it). The shop's clock ticks a millisecond on
every read while the event is applied, so a handler or service that reads it again writes a
second time: the rows the event wrote or changed — history, outbox, ledger, money operations,
inbox, the webhook log, cases, disputes — must all show one. Real HTTP server, webhooks signed
as the providers sign them, both stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pprint import pformat
from typing import Any

import pytest
from sqlalchemy import select

from integrations.db.base import UtcDateTime
from integrations.db.schema import Base
from integrations.service import disputes
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.conftest import START
from tests.factories import stock
from tests.fakes.clocks import TickingClock
from tests.integration.connect.shopify_http import send
from tests.integration.connect.test_shopify_case_refund_lines import TEA, owed_case
from tests.integration.connect.test_shopify_case_refunds import serve, settings
from tests.integration.connect.test_shopify_disputes import shopify_dispute

# times that are not the event's own: the provider's, or deadlines reckoned from it
NOT_NOW = {"webhook_events.occurred_at", "deadlines.due_at", "orders.hold_expires_at",
           "disputes.evidence_due_by", "shipments.promised_by", "review_tasks.due_at",
           "verification_challenges.expires_at", "risk_blacklist_entries.expires_at",
           "webhook_deliveries.next_attempt_at", "waves.cutoff_at",
           "risk_buyer_profiles.signed_up_at"}


def stamps(pilot: OrderPilot) -> dict[tuple[str, tuple], dict[str, datetime | None]]:
    """Every time in the store: (table, primary key) → {column: value}."""
    rows: dict[tuple[str, tuple], dict[str, datetime | None]] = {}
    with pilot.context.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            times = [c for c in table.columns if isinstance(c.type, UtcDateTime)]
            if not times:
                continue
            keys = list(table.primary_key.columns)
            for row in conn.execute(select(*keys, *times)):
                rows[(table.name, tuple(row[:len(keys)]))] = dict(
                    zip([c.name for c in times], row[len(keys):], strict=True))
    return rows


def written(before: dict, after: dict) -> dict[str, set[datetime]]:
    """The times the event wrote: `table.column` → the values new or changed in it."""
    found: dict[str, set[datetime]] = {}
    for (table, key), columns in after.items():
        old = before.get((table, key), {})
        for column, value in columns.items():
            name = f"{table}.{column}"
            if value is not None and value != old.get(column) and name not in NOT_NOW:
                found.setdefault(name, set()).add(value)
    return found


def one_time(pilot: OrderPilot, deliver: Callable[[], Any]) -> tuple[Any, dict[str, set]]:
    """Deliver one event on a ticking clock; (its answer, the times it wrote), checked one."""
    before = stamps(pilot)
    pilot.clock.advance(minutes=1)  # a row the event rewrites changes, whatever it was
    with pilot.clock.ticking():
        answer = deliver()
    times = written(before, stamps(pilot))
    assert len(set().union(*times.values())) == 1, pformat(times)
    return answer, times


@pytest.fixture
def shop(any_url: str) -> Iterator[tuple[OrderPilot, Any, str]]:
    """The Shopify shop of the admin-refund tests (tea tins on line 1, a tea set on line 2),
    its clock ticking when told to."""
    pilot = OrderPilot(any_url, clock=TickingClock(START), risk_check=approve_everything,
                       settings=settings())
    stock(pilot, sku="SKU-2", quantity=20)
    yield from serve(pilot)


def test_a_lost_chargeback_settles_the_admin_refund_it_pays_back_at_the_time_of_its_step(shop):
    # Given a case refund owed in Shopify's admin and a chargeback of all the goods opened
    pilot, http, _ = shop
    case_id = owed_case(pilot, http)
    send(http, "disputes/create", shopify_dispute(TEA, amount="139.70"), "wh-d1")
    # When the dispute is lost (one call: its step books the chargeback, which pays the
    # case's refund back and settles it)
    _, times = one_time(pilot, lambda: disputes.fire_dispute(
        pilot.context, 1, "lose", "finance:li", {"reason": "银行判买家胜"}))
    # Then the settled refund, the case's step and the ledger carry the step's time (before:
    # the settlement and the case refunded read the clock again, a later time each)
    assert pilot.cases.get(case_id).state == "refunded"
    assert {"payment_operations.settled_at", "payment_records.at", "transition_history.at",
            "outbox.created_at", "aftersales_cases.updated_at"} <= times.keys(), times
