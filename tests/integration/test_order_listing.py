"""Finding orders — filters, keyset pages, search by any id, exports — on both stores, through
the Python API, the CLI and the signed read endpoint."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from orderpilot import InvalidInput, OrderPilot
from orderpilot.cli import app
from tests.integration.orchestration.shop import review_big_orders

ADDRESS = {"recipient": "李雷", "province": "广东省", "city": "深圳市", "district": "南山区",
           "street": "科技园路 1 号"}


@pytest.fixture
def shop(any_url: str, clock: Any):
    """Seven orders over two days: b-1 ×4 (one held, one paid + shipped, one cancelled), b-2 ×3."""
    pilot = OrderPilot(any_url, clock=clock, risk_check=review_big_orders)
    pilot.inventory.receive(sku="TEA-LJ", warehouse="WH-SZ", quantity=100)
    made = []
    for n, (buyer, price) in enumerate([("b-1", 2_000), ("b-2", 3_000), ("b-1", 700_000),
                                        ("b-2", 4_000), ("b-1", 5_000), ("b-2", 6_000),
                                        ("b-1", 7_000)]):
        clock.advance(hours=7)
        made.append(pilot.orders.place(buyer_id=buyer, shipping_address=ADDRESS, lines=[
            {"sku": "TEA-LJ", "quantity": 1, "unit_price": price}]).id)
        if n == 3:
            pilot.orders.fire(made[-1], "pay", amount=4_000, payment_ref="alipay-88")
            pilot.orders.fire(made[-1], "start_picking")
            pilot.orders.fire(made[-1], "pack")
            pilot.orders.fire(made[-1], "ship", parcels=[{"carrier": "sf",
                                                          "tracking_no": "SF1234567890"}])
    pilot.orders.fire(made[4], "cancel", reason="买错了")
    yield pilot, made
    pilot.close()


def test_pages_are_newest_first_and_cover_every_order_once(shop):
    pilot, made = shop
    first = pilot.orders.list(limit=3)
    second = pilot.orders.list(limit=3, after=first.next)
    third = pilot.orders.list(limit=3, after=second.next)
    ids = [o.id for page in (first, second, third) for o in page.orders]
    assert ids == made[::-1] and third.next is None


def test_filters_combine(shop, clock):
    pilot, made = shop
    assert [o.id for o in pilot.orders.list(buyer="b-1").orders] == [made[6], made[4], made[2],
                                                                    made[0]]
    assert [o.id for o in pilot.orders.list(state=["cancelled", "shipped"]).orders] == \
        [made[4], made[3]]
    assert [o.id for o in pilot.orders.list(risk="review").orders] == [made[2]]
    since = clock.now() - timedelta(hours=10)
    assert [o.id for o in pilot.orders.list(since=since).orders] == [made[6], made[5]]


def test_search_finds_an_order_by_any_id_a_person_has(shop):
    pilot, made = shop
    for text in (made[3], "alipay-88", "SF1234567890"):
        assert [o.id for o in pilot.orders.search(text).orders] == [made[3]], text
    assert len(pilot.orders.search("b-2").orders) == 3
    assert pilot.orders.search("nothing-like-this").orders == []
    # text shaped almost like an order id is searched as text, not refused (a BIGINT's worth of
    # digits at most: PostgreSQL would refuse a longer number)
    for text in ("o-", "o-x1", "o-1234567890123456789", "o-٣"):
        assert pilot.orders.search(text).orders == [], text


def test_bad_filters_name_the_field(shop):
    pilot, _ = shop
    with pytest.raises(InvalidInput, match="risk"):
        pilot.orders.list(risk="maybe")
    with pytest.raises(InvalidInput, match="limit"):
        pilot.orders.list(limit=0)
    with pytest.raises(InvalidInput, match="after"):
        pilot.orders.list(after="o-١")
    # a state misspelt: before, an empty page, read as "no order waits for payment"
    with pytest.raises(InvalidInput) as refused:
        pilot.orders.list(state=["paid", "awaiting_paymnet"])
    assert "'awaiting_payment'" in refused.value.problems["state[1]"]
    with pytest.raises(InvalidInput, match=r"state\[0\]"):
        pilot.orders.export("csv", state=["已付款"])


def test_exports_hold_every_matching_order(shop):
    pilot, made = shop
    rows = list(csv.DictReader(io.StringIO(pilot.orders.export("csv", buyer="b-2"))))
    assert [r["id"] for r in rows] == [made[5], made[3], made[1]]
    assert rows[1]["paid"] == "4000" and rows[1]["state"] == "shipped"
    assert [o["id"] for o in json.loads(pilot.orders.export("json"))] == made[::-1]


def test_the_cli_lists_pages_and_exports(shop, any_url, tmp_path):
    pilot, made = shop
    runner = CliRunner()
    listed = runner.invoke(app, ["orders", "list", "--db", any_url, "--limit", "2", "--json"])
    page = json.loads(listed.output)
    assert [o["id"] for o in page["orders"]] == made[:-3:-1] and page["next"] == made[5]
    out = tmp_path / "orders.csv"
    done = runner.invoke(app, ["orders", "export", "--db", any_url, "--out", str(out),
                               "--state", "cancelled"])
    assert done.exit_code == 0 and "1 order(s) written" in done.output
    assert out.read_text().splitlines()[1].startswith(f"{made[4]},b-1,cancelled")
    found = runner.invoke(app, ["orders", "search", "SF1234567890", "--db", any_url])
    assert made[3] in found.output and "¥40.00" in found.output
