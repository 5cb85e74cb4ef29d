"""A store whose schema is not the one the code expects says so — which revision it is at, which
one the code expects, what to do — instead of passing for a store that is down."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, head_revision
from orderpilot import OrderPilot, SchemaMismatch
from tests.factories import order_request

ADDRESS = {"street": "文三路18号", "city": "杭州市", "province": "浙江省",
           "district": "西湖区", "recipient": "王芳", "phone": "+86 139 1234 5678"}


def roll_back_schema(url: str, to: str) -> None:
    """What a restore of an old backup under a running shop does: the schema at `to`."""
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, to)
    engine.dispose()


@pytest.mark.parametrize("to", ["base", "0010_risk_lists"])
def test_a_store_whose_schema_is_missing_or_behind_names_its_revision_and_db_upgrade(
        shop, client, any_url, to):
    # Given a running shop with an order, whose store is rolled back under it (a backup from
    # before revision 0011 restored, or an empty store)
    order = shop.orders.place(**order_request(buyer="b-1001", shipping_address=ADDRESS))
    roll_back_schema(any_url, to)
    # When its parcels are read, and the order over HTTP
    with pytest.raises(SchemaMismatch) as reading:
        shop.shipments.of_order(order.id)
    read = client.get(f"/v1/ops/orders/{order.id}")
    # Then the caller learns the schema is behind and what to run, not that the store is down
    found = None if to == "base" else to
    assert (reading.value.found, reading.value.expected) == (found, head_revision())
    assert "orderpilot db upgrade" in str(reading.value)
    assert f"revision {found or 'none'}" in str(reading.value), reading.value
    assert read.status_code == 500 and read.json()["error"] == "schema_mismatch", read.text
    assert "orderpilot db upgrade" in read.json()["message"]
    assert "Retry-After" not in read.headers


def test_a_store_upgraded_by_a_newer_orderpilot_is_refused_at_start_naming_its_revision(
        any_url, clock):
    # Given a store a newer orderpilot upgraded past what this code ships
    engine = make_engine(any_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    # When this orderpilot starts on it
    with pytest.raises(SchemaMismatch) as starting:
        OrderPilot(any_url, clock=clock)
    # Then it says which revision it found and that a newer orderpilot is needed
    assert starting.value.found == "0099_from_the_future"
    assert "newer orderpilot" in str(starting.value), starting.value
