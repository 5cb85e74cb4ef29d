"""Migration 0029 seeds the simulated carrier's waybill counters from the parcels a store
already holds, so a number handed out after the upgrade never repeats one handed out before
(when each process counted from 1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select, text

from integrations.db.carrier_store import simulated_count
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
    # When it is upgraded to 0029
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0029_waybill_counters")
    # Then each simulated carrier counts on from its highest number; the others have none
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT carrier, last_no FROM waybill_counters "
                                 "ORDER BY carrier")).all()
    assert [tuple(r) for r in rows] == [("sim-express", 42), ("sim-post", 3)]
    # And at the head (0030) the counters are their numbers' prefixes'
    assert upgrade(engine) == head_revision()
    with engine.connect() as conn:
        rows = conn.execute(select(WaybillCounterRow.__table__).order_by("prefix")).all()
    assert [tuple(r) for r in rows] == [("SIM-EXPRESS", 42), ("SIM-POST", 3)]
    engine.dispose()


def test_carriers_whose_names_differ_in_case_count_on_from_the_highest_of_the_two(empty_url):
    # Given a store at 0029 where "SF" handed out SF-0000009 and "sf" SF-0000005, each with a
    # counter of its own (the two counted the same numbers)
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
                ("SF", "SF-0000009"), ("sf", "SF-0000005"),
                ("sim-express", "SIM-EXPRESS-0000042")], start=1)])
        command.upgrade(config, "0029_waybill_counters")
        assert sorted(conn.execute(text("SELECT carrier, last_no FROM waybill_counters"))) == [
            ("SF", 9), ("sf", 5), ("sim-express", 42)]
    # When it is upgraded
    assert upgrade(engine) == head_revision()
    # Then one counter counts for both, on from the highest number either handed out
    with engine.connect() as conn:
        rows = conn.execute(select(WaybillCounterRow.__table__).order_by("prefix")).all()
    assert [tuple(r) for r in rows] == [("SF", 9), ("SIM-EXPRESS", 42)]
    # And a downgrade gives each carrier name its counter back, on from the prefix's
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0029_waybill_counters")
        assert sorted(conn.execute(text("SELECT carrier, last_no FROM waybill_counters"))) == [
            ("SF", 9), ("sf", 9), ("sim-express", 42)]
    engine.dispose()


PARCELS = [  # (carrier, tracking number): what 0029 read each way
    ("sim-express", "SIM-EXPRESS-0000042"), ("sim-express", "SIM-EXPRESS-0000007"),
    ("sim-express", "SIM-EXPRESS-12345678"),  # past 9,999,999: eight digits
    ("sim-express", "SIM-EXPRESS-000001"),  # six digits: not the adapter's
    ("sim-express", "SIM-EXPRESS-0000099-chase-1"), ("sim-express", "SIM-EXPRESS-00001x0"),
    ("sim-express", "sim-express-0000500"),  # not in capitals
    ("sim-express", "o-1-1"), ("sim-express", "SIM-EXPRESS-"),
    ("sf", "SF-0000005"), ("SF", "SF-0000009"), ("sf", "SF1500000001"),
    ("sim.post", "SIM.POST-0000003"), ("sim.post", "SIMXPOST-0000300"),  # a dot is a dot
    ("sim_post", "SIMXPOST-0000004"), ("sim%", "SIM%-0000002"), ("sim%", "SIMX-0000200"),
    ("zto", "ZTO-0000001 "), ("zto", "ZTO--0000001"), ("zto", "ZTO-0000012"),
    ("yto", "YTO1234567890"), ("顺丰", "顺丰-0000077"), ("顺丰", "o-9-1"),
    ("straße", "STRASSE-0000008"), ("straße", "STRAßE-0000800"),  # capitals one letter longer
]


def seeded_the_old_way(parcels: list[tuple[str, str]]) -> dict[str, int]:
    """0029 as first written (fe4847d): every number with a dash read into Python."""
    last: dict[str, int] = {}
    for carrier, tracking_no in parcels:
        if "-" not in tracking_no:
            continue
        found = re.fullmatch(re.escape(carrier.upper()) + r"-(\d{7,})", tracking_no)
        if found:
            last[carrier] = max(last.get(carrier, 0), int(found.group(1)))
    return last


def test_the_counters_are_seeded_in_the_store_as_they_were_in_python(empty_url):
    # Given a store at 0028 with parcels numbered every way 0029 tells apart
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
            {"id": n, "order_id": 1, "state": "delivered", "version": 1, "warehouse": "WH-HZ",
             "carrier": carrier, "tracking_no": tracking_no, "created_at": AT}
            for n, (carrier, tracking_no) in enumerate(PARCELS, start=1)])
        # When it is upgraded to 0029
        command.upgrade(config, "0029_waybill_counters")
        seeded = dict(conn.execute(text("SELECT carrier, last_no FROM waybill_counters")).all())
    # Then the counters are those the Python scan gave
    assert seeded == seeded_the_old_way(PARCELS) == {
        "sim-express": 12_345_678, "sf": 5, "SF": 9, "sim.post": 3, "sim%": 2, "zto": 12,
        "顺丰": 77, "straße": 8}
    engine.dispose()


def test_a_number_past_the_counters_range_is_left_out_of_the_seed(empty_url):
    # Given parcels whose digits after the carrier's head are more than a BIGINT holds (a
    # 20-digit number, and one just past 2**63 - 1) beside numbers the counter can reach
    engine, config = make_engine(empty_url), alembic_config(empty_url)
    parcels = [("sf", "SF-99999999999999999999"), ("sf", "SF-0000042"),
               ("zto", "ZTO-9223372036854775808"), ("zto", "ZTO-00000000000000000000031"),
               ("straße", "STRASSE-123456789012345678901"), ("straße", "STRASSE-0000008")]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0028_address_keys_forms")
        conn.execute(insert(BuyerRow.__table__).values(id="b-li", created_at=AT))
        conn.execute(insert(OrderRow.__table__).values(
            id=1, buyer_id="b-li", state="shipped", version=1, currency="CNY", total=12_900,
            paid=12_900, refunded=0, created_at=AT, updated_at=AT,
            attrs={"shipping_address": {"city": "杭州市", "street": "文三路18号"}}))
        conn.execute(insert(ShipmentRow.__table__), [
            {"id": n, "order_id": 1, "state": "delivered", "version": 1, "warehouse": "WH-HZ",
             "carrier": carrier, "tracking_no": tracking_no, "created_at": AT}
            for n, (carrier, tracking_no) in enumerate(parcels, start=1)])
        # When it is upgraded to 0029
        command.upgrade(config, "0029_waybill_counters")
        seeded = dict(conn.execute(text("SELECT carrier, last_no FROM waybill_counters")).all())
    # Then the upgrade goes through (PostgreSQL's CAST refused them: bigint out of range), and
    # the counters count on from the numbers they can reach: a number no BIGINT counter can
    # come to is never one the adapter writes (SQLite's CAST made them 2**63 - 1, a counter
    # whose next step overflows)
    assert seeded == {"sf": 42, "zto": 31, "straße": 8}
    engine.dispose()


ANY_CARRIER_OR_CASE = PARCELS + [  # what 0029 left out, and more ways to be no number of ours
    ("zto", "SF-0000050"), ("yto", "sf-0000070"), ("jd", "Sf-0000060"),  # other carriers, case
    ("sim-express", "sim-express-0000600"), ("zto", "zto-0000900"),
    ("sf", "SF-12-0000003"),  # the prefix is all before the last dash
    ("jd", "jd-9223372036854775807"), ("jd", "JD-9223372036854775808"),  # a BIGINT's last, past
    ("x", "-0000001"), ("x", "сф-0000001"), ("x", "СФ-0000002"),  # no prefix; Cyrillic
    ("x", "straße-0000009"), ("x", "a\nb-0000004"), ("x", "SF-００００５０"),
    ("x", "X" * 65 + "-0000001"), ("x", "Y" * 64 + "-0000001"),  # longer than the column, not
]


def test_0032_moves_every_prefix_past_its_numbers_under_any_carrier_and_in_any_case(empty_url):
    # Given a store at 0030 whose counters were seeded as 0029 did (numbers under their own
    # carrier, in capitals), holding numbers typed under other carriers and in lower case,
    # and a counter already past every number of its prefix
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
            {"id": n, "order_id": 1, "state": "delivered", "version": 1, "warehouse": "WH-HZ",
             "carrier": carrier, "tracking_no": tracking_no, "created_at": AT}
            for n, (carrier, tracking_no) in enumerate(ANY_CARRIER_OR_CASE, start=1)])
        command.upgrade(config, "0030_waybill_counter_prefixes")
        conn.execute(text("UPDATE waybill_counters SET last_no = 99999999 "
                          "WHERE prefix = 'SIM-EXPRESS'"))
        before = dict(conn.execute(text("SELECT prefix, last_no FROM waybill_counters")).all())
    # When it is upgraded to the head (0032)
    assert upgrade(engine) == head_revision()
    with engine.connect() as conn:
        after = dict(conn.execute(text("SELECT prefix, last_no FROM waybill_counters")).all())
    # Then every prefix counts on past every stored number the writer would pass (the Python
    # rule, carrier_store.simulated_count) — and no counter went back
    passed: dict[str, int] = {}
    for _, number in ANY_CARRIER_OR_CASE:
        if (found := simulated_count(number)) is not None:
            passed[found[0]] = max(passed.get(found[0], 0), found[1])
    expected = {p: max(before.get(p, 0), passed.get(p, 0)) for p in {*before, *passed}}
    assert after == expected
    assert {p: after[p] for p in ("SF", "ZTO", "SIM-EXPRESS", "JD", "SF-12", "СФ")} == {
        "SF": 70, "ZTO": 900, "SIM-EXPRESS": 99_999_999, "JD": 2**63 - 1, "SF-12": 3,
        "СФ": 2}
    assert before["SF"] == 9 and "JD" not in before  # what 0029 had seeded
    engine.dispose()
