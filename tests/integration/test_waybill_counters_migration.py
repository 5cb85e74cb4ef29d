"""Migration 0029 seeds the simulated carrier's waybill counters from the parcels a store
already holds, so a number handed out after the upgrade never repeats one handed out before
(when each process counted from 1)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, head_revision, upgrade
from integrations.db.schema import BuyerRow, OrderRow, ShipmentRow
from integrations.db.schema_fulfil import WaybillCounterRow

AT = datetime(2026, 11, 20, tzinfo=UTC)


def test_the_counters_start_after_the_highest_simulated_number_of_each_carrier(empty_url):
    # Given a store at 0028 with parcels numbered by the simulated carrier (two carriers), one
    # numbered by a real carrier, and one of our own numbers
    engine, config = make_engine(empty_url), alembic_config(empty_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0028_address_keys_forms")
        conn.execute(insert(BuyerRow.__table__).values(id="b-li", created_at=AT))
        conn.execute(insert(OrderRow.__table__).values(
            id=1, buyer_id="b-li", state="shipped", version=1, currency="CNY", total=12_900,
            paid=12_900, refunded=0, created_at=AT, updated_at=AT,
            attrs={"shipping_address": {"city": "杭州市", "street": "文三路18号"}}))
        conn.execute(insert(ShipmentRow.__table__), [
            {"id": n, "order_id": 1, "state": "in_transit", "version": 1, "warehouse": "WH-HZ",
             "carrier": carrier, "tracking_no": tracking_no, "created_at": AT}
            for n, (carrier, tracking_no) in enumerate([
                ("sim-express", "SIM-EXPRESS-0000042"), ("sim-express", "SIM-EXPRESS-0000007"),
                ("sim-post", "SIM-POST-0000003"), ("sf", "SF1500000001"),
                ("sim-express", "o-1-1")], start=1)])
    # When it is upgraded
    assert upgrade(engine) == head_revision()
    # Then each simulated carrier counts on from its highest number; the others have none
    with engine.connect() as conn:
        rows = conn.execute(select(WaybillCounterRow.__table__).order_by("carrier")).all()
    assert [tuple(r) for r in rows] == [("sim-express", 42), ("sim-post", 3)]
    engine.dispose()
