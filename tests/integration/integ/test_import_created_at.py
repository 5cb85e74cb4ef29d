"""An imported order keeps the time the buyer placed it (the export's `created_at`), so what
reads an order's age — refund triage's "paid before" and order age, the console's queues —
sees the shop's history, not the day of the import. The stock hold runs from the import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integrations.db import buyers
from integrations.ingest.imports import import_record
from integrations.ingest.order_files import OrderRecord
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.conftest import START
from tests.factories import stock
from tests.integration.test_order_lifecycle import row_counts

ADDRESS = {"recipient": "王芳", "phone": "13912345678", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "street": "文三路 18 号"}


def record(ext: str, **extra: Any) -> OrderRecord:
    return OrderRecord([1], {"external_id": ext, "buyer_id": "pdd-8812",
                             "shipping_address": ADDRESS, "currency": "CNY",
                             "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "39.90"}],
                             **extra})


@pytest.fixture
def shop(any_url: str, clock) -> Any:  # noqa: ANN001
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    yield pilot
    pilot.close()


def test_an_imported_order_keeps_the_time_it_was_placed_and_its_hold_runs_from_the_import(
        shop, clock):
    # Given an export saying the buyer ordered on the evening of 10 November, Beijing time
    # When it is imported the next morning (UTC)
    done = import_record(shop.context, record("PDD-1", created_at="2026-11-10T20:15:00+08:00"),
                         "pdd", "import:pdd")
    # Then the order was created when the buyer placed it (before: the import's time), in UTC
    assert done.status == "placed", done.problems
    order = shop.orders.get(done.order_id)
    assert order.created_at == datetime(2026, 11, 10, 12, 15, tzinfo=UTC) < START
    # and so was its buyer, new with it (refund triage counts the buyer's age from it)
    with shop.context.tx(readonly=True) as tx:
        assert buyers.buyer(tx.connection, "pdd-8812").created_at == order.created_at
    # And the stock hold runs from the import, not from the evening before
    shop.sweep(clock.now() + timedelta(minutes=5))
    assert shop.orders.get(done.order_id).state == "awaiting_payment"


def test_an_export_without_a_creation_time_is_placed_at_the_import(shop, clock):
    done = import_record(shop.context, record("PDD-2"), "pdd", "import:pdd")
    assert shop.orders.get(done.order_id).created_at == START


@pytest.mark.parametrize(("created_at", "says"), [
    ("2026-11-10 20:15:00", "no UTC offset"),
    ("2026-11-11T09:00:01Z", "after the time of the import"),
    ("10/11/2026", "expected an ISO 8601 time"),
    (20261110, "expected an ISO 8601 time"),
])
def test_a_creation_time_without_a_zone_or_in_the_future_is_refused_naming_it(
        shop, created_at, says):
    # Given an export whose creation time has no zone, lies after the import's now, or is
    # not a time at all
    before = row_counts(shop)
    # When it is imported
    done = import_record(shop.context, record("PDD-3", created_at=created_at), "pdd",
                         "import:pdd")
    # Then the record is refused naming created_at, and nothing is written
    assert done.status == "error" and list(done.problems) == ["created_at"], done.problems
    assert says in done.problems["created_at"]
    assert row_counts(shop) == before


def test_the_future_is_judged_by_the_now_the_import_is_given(shop):
    # The clock says 09:00; an import run as of 08:00 refuses an order placed at 08:30
    done = import_record(shop.context, record("PDD-4", created_at="2026-11-11T08:30:00Z"),
                         "pdd", "import:pdd", now=START - timedelta(hours=1))
    assert list(done.problems) == ["created_at"], done.problems
