"""Address entries listed before the address parser changed (traditional characters written as
simplified, 090d64d; Hong Kong / Macau region names, 37faa3b) keep matching: migration 0016
re-keys them (0018 again, for house numbers in Chinese numerals and courier notes; 0019 for
Hong Kong / Macau districts, house-number ranges and floors in numerals; 0020 for notes in
Latin-script addresses; 0021 for dashes in a unit and floor words), 0022 re-keys what placement
recorded of each order's address (velocity, address changes), and
listing an order placed before the change lists the key new orders get. Before, such an entry
matched no order placed after the upgrade: the blacklisted address passed."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select, update

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, upgrade
from integrations.db.schema import BuyerRow, OrderRow
from integrations.db.schema_risk import BlacklistEntryRow, RiskBuyerAddressRow, RiskOrderFactsRow
from integrations.geo.addresses import parse_address
from integrations.risk.config import default_ruleset
from integrations.risk.sql_store import SqlRiskStore
from orderpilot import OrderPilot
from statemachine import ids
from statemachine.risk_port import PlacedLine, PlacementFacts
from tests.factories import placed_order, stock

AT = datetime(2026, 11, 20, tzinfo=UTC)
TRADITIONAL = "浙江省杭州市西湖區文三路18號3單元"
OLD_KEY = "CN|330106|區文三路|18|3單元"  # what the parser before 090d64d made of it
NEW_KEY = "CN|330106|文三路|18|3单元"
ENTRIES = BlacklistEntryRow.__table__


def _entry(n: int, list_name: str, value: str, shown: str | None, evidence: list[str]) -> dict:
    return {"id": n, "list_name": list_name, "kind": "address", "value": value, "shown": shown,
            "reason": "ring", "evidence_order_ids": evidence, "created_by": "mei",
            "created_at": AT, "expires_at": None, "removed_at": None, "removed_by": None}


def _store_at_0015(url: str):
    """A store at revision 0015 holding order o-1, shipped to TRADITIONAL and keyed the old
    way (OLD_KEY)."""
    return _store_at(url, "0015_sweep_and_health_indexes", TRADITIONAL, OLD_KEY)


def _store_at(url: str, revision: str, line: str, key: str, *more: str):
    """A store at `revision` holding order o-1, shipped to `line` and keyed `key` (and o-2,
    o-3 … shipped to the lines in `more`, keyed `key` too)."""
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.execute(insert(BuyerRow.__table__).values(id="b-1", created_at=AT))
        for n, shipped_to in enumerate((line, *more), start=1):
            conn.execute(insert(OrderRow.__table__).values(
                id=n, buyer_id="b-1", state="completed", version=1, currency="CNY", total=100,
                paid=100, refunded=0, created_at=AT, updated_at=AT,
                attrs={"shipping_address": {"line": shipped_to}, "address": {"key": key}}))
    return engine


def test_migration_0016_rekeys_address_entries_written_in_traditional_characters(empty_url):
    # Given a store at 0015 with an order shipped to a traditional-script address, keyed the
    # old way, and address entries: listed from that order; typed by a person; the same
    # address listed already under its simplified key; plain entries; one it cannot re-derive
    engine = _store_at_0015(empty_url)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), [
            _entry(1, "block", OLD_KEY, None, ["o-1"]),  # from the order: merged into 2
            _entry(2, "block", NEW_KEY, None, ["o-9"]),
            _entry(3, "allow", "CN|330106|區文三路|20|", "浙江省杭州市西湖區文三路20號", []),
            _entry(4, "block", "CN|440106|黄埔大道|18|3栋", None, ["o-7"]),  # simplified already
            _entry(5, "block", "CN||澳門某街|1|", None, ["case 991"]),  # nothing to parse again
            # keyed before 37faa3b: 特别行政区 and a repeated 澳门 left in the street
            _entry(6, "block", "CN|820000|特别行政区澳门新马路|12|", "澳门特别行政区澳门新马路12号",
                   []),
        ])
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(ENTRIES).order_by(ENTRIES.c.id))}
    engine.dispose()
    # Then the typed entry has the simplified key, the order's entry gave its evidence to the
    # entry listed under that key and was removed, and the rest are as they were
    assert rows[3].value == "CN|330106|文三路|20|" and rows[3].removed_at is None
    assert rows[2].value == NEW_KEY and rows[2].evidence_order_ids == ["o-9", "o-1"]
    assert rows[1].removed_at is not None
    assert rows[1].removed_by == "migration 0016: same address as entry 2"
    assert (rows[4].value, rows[5].value) == ("CN|440106|黄埔大道|18|3栋", "CN||澳門某街|1|")
    assert rows[4].removed_at is None and rows[5].removed_at is None
    assert rows[6].value == "CN|820000|新马路|12|"


def test_a_rekeyed_entry_alone_under_its_key_takes_it(empty_url):
    engine = _store_at_0015(empty_url)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), [_entry(1, "block", OLD_KEY, None, ["o-1"])])
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(select(ENTRIES)).one()
    engine.dispose()
    assert (row.value, row.removed_at, row.evidence_order_ids) == (NEW_KEY, None, ["o-1"])


NUMERALS = "浙江省杭州市西湖区文三路十八号三单元"
NUMERALS_OLD_KEY = "CN|330106|文三路十八号三单元||"  # before Chinese numerals were read


def test_migration_0018_rekeys_entries_written_with_chinese_numerals_or_a_courier_note(
        empty_url):
    # Given a store at 0017 with an order shipped to a house number in Chinese numerals,
    # keyed the old way, and address entries: listed from that order; typed by a person with
    # a note (the note was in the key); the order's address listed already under its new key;
    # one that needs no change
    engine = _store_at(empty_url, "0017_parcel_goods", NUMERALS, NUMERALS_OLD_KEY)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), [
            _entry(1, "block", NUMERALS_OLD_KEY, None, ["o-1"]),  # merged into 2
            _entry(2, "block", NEW_KEY, None, ["o-9"]),
            _entry(3, "allow", "CN|330106|文三路|20|放门卫", "浙江省杭州市西湖区文三路20号(放门卫)",
                   []),
            _entry(4, "block", "CN|440106|黄埔大道|18|3栋", None, ["o-7"]),
        ])
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(ENTRIES).order_by(ENTRIES.c.id))}
    engine.dispose()
    # Then each has the key an order placed today gets
    assert rows[1].removed_at is not None
    assert rows[1].removed_by == "migration 0018: same address as entry 2"
    assert rows[2].value == NEW_KEY and rows[2].evidence_order_ids == ["o-9", "o-1"]
    assert (rows[3].value, rows[3].removed_at) == ("CN|330106|文三路|20|", None)
    assert (rows[4].value, rows[4].removed_at) == ("CN|440106|黄埔大道|18|3栋", None)


KOWLOON_CITY, CENTRAL = "香港九龙城区太子道西188号", "香港中西区太子道西188号"
HK_OLD_KEY = "CN|810000|太子道西|188|"  # before the district was kept: every district's key
KOWLOON_CITY_KEY, CENTRAL_KEY = "CN|810000|九龙城区太子道西|188|", "CN|810000|中西区太子道西|188|"


def _by_the_store(*entries: dict) -> list[dict]:
    """The entries with no id: numbered by the store (its sequence, on PostgreSQL), so that
    rows the migration adds are too."""
    return [{k: v for k, v in entry.items() if k != "id"} for entry in entries]


def _rows(engine) -> dict:  # noqa: ANN001
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(ENTRIES).order_by(ENTRIES.c.id))}
    engine.dispose()
    return rows


def test_migration_0019_rekeys_district_range_and_floor_entries(empty_url):
    # Given a store at 0018 with an order to Kowloon City keyed without its district, and
    # entries keyed the old way: listed from that order; a Macau parish, a range with a
    # full-width dash (1820) and a floor in numerals, typed; 1820号 itself, typed
    engine = _store_at(empty_url, "0018_address_keys_numerals_notes", KOWLOON_CITY,
                       HK_OLD_KEY)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), [
            _entry(1, "block", HK_OLD_KEY, None, ["o-1"]),
            _entry(2, "allow", "CN|820000|友谊大马路|1|", "澳门花地玛堂区友谊大马路1号", []),
            _entry(3, "block", "CN|330106|文三路|1820|", "浙江省杭州市西湖区文三路18－20号", []),
            _entry(4, "block", "CN|330106|文三路|18|三楼", "浙江省杭州市西湖区文三路18号三楼", []),
            _entry(5, "allow", "CN|330106|文三路|1820|", "浙江省杭州市西湖区文三路1820号", []),
        ])
    # When the store is upgraded
    upgrade(engine)
    rows = _rows(engine)
    # Then each has the key an order placed today gets (a floor: 3层 since 0021, which spells
    # 3楼 / 3层 / 3F one way)
    assert {n: (r.value, r.removed_at) for n, r in rows.items()} == {
        1: (KOWLOON_CITY_KEY, None), 2: ("CN|820000|花地玛堂区友谊大马路|1|", None),
        3: ("CN|330106|文三路|18-20|", None), 4: ("CN|330106|文三路|18|3层", None),
        5: ("CN|330106|文三路|1820|", None)}


def test_migration_0019_splits_an_entry_that_stood_for_two_districts(empty_url):
    # Given one block entry typed for Kowloon City which, keyed without the district, also
    # took in an order to the same street and number in Central and Western (o-2)
    engine = _store_at(empty_url, "0018_address_keys_numerals_notes", KOWLOON_CITY,
                       HK_OLD_KEY, CENTRAL)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", HK_OLD_KEY, KOWLOON_CITY, ["o-1", "o-2", "case 7"])))
    # When the store is upgraded
    upgrade(engine)
    rows = _rows(engine)
    # Then both addresses stay blocked, each under its own key with its own evidence, by the
    # same decision (reason, author, time)
    assert len(rows) == 2
    kowloon, central = rows[1], rows[max(rows)]
    assert (kowloon.value, kowloon.evidence_order_ids) == (KOWLOON_CITY_KEY, ["o-1", "case 7"])
    assert (central.value, central.evidence_order_ids) == (CENTRAL_KEY, ["o-2"])
    assert (central.list_name, central.reason, central.created_by, central.shown) == (
        "block", "ring", "mei", None)
    assert central.created_at == kowloon.created_at and central.removed_at is None


def test_migration_0019_merges_a_split_off_address_listed_already(empty_url):
    # Given the entry of the test above, and Central and Western listed under its new key
    # (by an orderpilot that had the fix before the migration ran)
    engine = _store_at(empty_url, "0018_address_keys_numerals_notes", KOWLOON_CITY,
                       HK_OLD_KEY, CENTRAL)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", HK_OLD_KEY, KOWLOON_CITY, ["o-1", "o-2"]),
            _entry(2, "block", CENTRAL_KEY, None, ["o-9"])))
    upgrade(engine)
    rows = _rows(engine)
    # Then the listed entry takes the evidence; no third entry
    assert {n: (r.value, r.evidence_order_ids) for n, r in rows.items()} == {
        1: (KOWLOON_CITY_KEY, ["o-1"]), 2: (CENTRAL_KEY, ["o-9", "o-2"])}


LATIN = "18 Wensan Road, Hangzhou, CN"
LATIN_NOTED = "18 Wensan Road (leave at gate), Hangzhou, CN"
LATIN_NOTED_OLD_KEY = "CN|||hangzhou||18 wensan road leave at gate|18|"  # the note's words in it
LATIN_KEY = "CN|||hangzhou||18 wensan road|18|"


def test_migration_0020_rekeys_latin_entries_with_a_courier_note(empty_url):
    # Given a store at 0019 with an order to a Latin address with a note, keyed the old way,
    # and entries: listed from that order; the address listed already without the note; the
    # same address with a note, typed, on the allow list
    engine = _store_at(empty_url, "0019_address_keys_districts", LATIN_NOTED,
                       LATIN_NOTED_OLD_KEY)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", LATIN_NOTED_OLD_KEY, None, ["o-1"]),
            _entry(2, "block", LATIN_KEY, LATIN, ["o-9"]),
            _entry(3, "allow", LATIN_NOTED_OLD_KEY, LATIN_NOTED, [])))
    # When the store is upgraded
    upgrade(engine)
    rows = _rows(engine)
    # Then the order's entry is merged into the one listed without the note, and the typed
    # one has the key without it
    assert rows[1].removed_by == "migration 0020: same address as entry 2"
    assert (rows[2].value, rows[2].evidence_order_ids) == (LATIN_KEY, ["o-9", "o-1"])
    assert (rows[3].value, rows[3].removed_at) == (LATIN_KEY, None)


def _rewrite_attrs(pilot: OrderPilot, order_id: str, change) -> None:  # noqa: ANN001
    """Change an order's stored attrs in place, as an older version of the code left them."""
    orders, number = OrderRow.__table__, ids.ORDER.parse(order_id)
    with pilot.context.tx() as tx:
        attrs = tx.connection.execute(select(orders.c.attrs).where(
            orders.c.id == number)).scalar_one()
        change(attrs)
        tx.connection.execute(update(orders).where(orders.c.id == number).values(attrs=attrs))


def test_listing_an_order_placed_before_the_change_lists_the_key_new_orders_get(any_url,
                                                                                 clock):
    # Given an order to a traditional-script address whose stored key is the old one (placed
    # before the parser wrote traditional characters as simplified)
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    old = placed_order(pilot, buyer="b-old", quantity=1,
                       shipping_address={"line": TRADITIONAL})
    _rewrite_attrs(pilot, old.id, lambda attrs: attrs["address"].update(key=OLD_KEY))
    # When a reviewer blacklists its address from the order
    entries = pilot.risk.blacklist_order(old.id, by="mei", reason="ring",
                                         kinds=("buyer", "address"))
    # Then the entry has today's key, and a new order to that address is rejected
    assert [e.value for e in entries if e.kind == "address"] == [NEW_KEY]
    again = placed_order(pilot, buyer="b-new", quantity=1,
                         shipping_address={"line": TRADITIONAL})
    assert again.state == "rejected"
    pilot.close()


def test_an_order_whose_address_no_longer_parses_lists_the_key_it_was_placed_with(any_url,
                                                                                   clock):
    # Given an order whose stored shipping address today's parser refuses (no street at all)
    pilot = OrderPilot(any_url, clock=clock)
    stock(pilot)
    order = placed_order(pilot, buyer="b-old", quantity=1,
                         shipping_address={"line": TRADITIONAL})
    _rewrite_attrs(pilot, order.id, lambda attrs: attrs.update(shipping_address={"line": "   "}))
    # When a reviewer blacklists its address, the buyer and the stored key are listed
    entries = pilot.risk.blacklist_order(order.id, by="mei", reason="ring",
                                         kinds=("buyer", "address"))
    assert sorted((e.kind, e.value) for e in entries) == [("address", NEW_KEY),
                                                          ("buyer", "b-old")]
    pilot.close()


ROOM_3_502, ROOM_35_02 = "浙江省杭州市西湖区文三路18号3-502", "浙江省杭州市西湖区文三路18号35-02"
ROOMS_OLD_KEY = "CN|330106|文三路|18|3502"  # before a unit kept its dashes: both rooms' key
# (building B: tower B, B座, keys as building B since 0027, and migrations run today's parser)
FLOOR_OLD_KEY, FLOOR_KEY = "CN|330106|文三路|18|b栋3f", "CN|330106|文三路|18|b栋3层"


def test_migration_0021_splits_an_entry_of_two_rooms_and_merges_floor_spellings(empty_url):
    # Given a store at 0020: an entry listed for 3-502 that took in an order to 35-02 (one key
    # then), and a floor listed as 3F beside the same floor listed as 3层
    engine = _store_at(empty_url, "0020_address_keys_latin_notes", ROOM_3_502, ROOMS_OLD_KEY,
                       ROOM_35_02)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", ROOMS_OLD_KEY, ROOM_3_502, ["o-1", "o-2"]),
            _entry(2, "block", FLOOR_OLD_KEY, "浙江省杭州市西湖区文三路18号B栋3F", []),
            _entry(3, "block", FLOOR_KEY, None, ["o-7"])))
    # When the store is upgraded
    upgrade(engine)
    rows = _rows(engine)
    # Then each room has its entry with its own order, nothing unblocked …
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active["CN|330106|文三路|18|3-502"] == ["o-1"]
    assert active["CN|330106|文三路|18|35-02"] == ["o-2"]
    # … and the two spellings of the floor are one entry
    assert active[FLOOR_KEY] == ["o-7"]
    assert rows[2].removed_by == "migration 0021: same address as entry 3"


FACTS, BUYER_ADDRESSES = RiskOrderFactsRow.__table__, RiskBuyerAddressRow.__table__
ROOM_3_502_KEY, ROOM_35_02_KEY = "CN|330106|文三路|18|3-502", "CN|330106|文三路|18|35-02"


def _with_risk_facts(engine, placed_at: datetime, keys: dict[int, str]) -> None:  # noqa: ANN001
    """What placement recorded for each order o-n of buyer b-1 (its key then), and the
    buyer's addresses built from it."""
    with engine.begin() as conn:
        conn.execute(insert(FACTS), [
            {"order_id": n, "buyer_id": "b-1", "device_id": None, "ip": None,
             "address_norm": key, "phone_norm": "+8613800138000", "amount": 100,
             "currency": "CNY", "placed_at": placed_at} for n, key in keys.items()])
        conn.execute(insert(BUYER_ADDRESSES), [
            {"buyer_id": "b-1", "address_key": key, "last_seen": placed_at}
            for key in set(keys.values())])


def _signals_of_a_new_order_to(engine, line: str, placed_at: datetime):  # noqa: ANN001
    facts = PlacementFacts(
        order_id="o-999999", buyer_id="b-1", amount=12900, currency="CNY",
        lines=(PlacedLine("SKU-1", 1, 12900),), shipping_address={"line": line},
        address=parse_address({"line": line}), placed_at=placed_at)
    with engine.connect() as conn:
        return SqlRiskStore(conn).signals(facts, default_ruleset())


def test_migration_0022_rekeys_what_placement_recorded_of_an_address(empty_url):
    # Given a store at 0021 whose buyer ordered to room 3-502 ten minutes ago, recorded under
    # the key of before 0021 (…|3502)
    engine = _store_at(empty_url, "0021_address_keys_units", ROOM_3_502, ROOMS_OLD_KEY)
    _with_risk_facts(engine, AT, {1: ROOMS_OLD_KEY})
    # When the store is upgraded and the buyer orders to the same room again
    upgrade(engine)
    signals = _signals_of_a_new_order_to(engine, ROOM_3_502, AT.replace(minute=10))
    engine.dispose()
    # Then it is the same address: no change of address, one earlier order to it in the hour
    assert signals.address_changes == 0
    assert signals.velocity["address"] == 1


def test_migration_0022_splits_rooms_recorded_as_one_and_keeps_what_it_cannot_parse(
        empty_url):
    # Given orders to 3-502 and 35-02 recorded under one key (before 0021), and one whose
    # stored address today's parser refuses
    engine = _store_at(empty_url, "0021_address_keys_units", ROOM_3_502, ROOMS_OLD_KEY,
                       ROOM_35_02, "   ")
    _with_risk_facts(engine, AT, {1: ROOMS_OLD_KEY, 2: ROOMS_OLD_KEY, 3: ROOMS_OLD_KEY})
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
        addresses = set(conn.execute(select(BUYER_ADDRESSES.c.address_key,
                                            BUYER_ADDRESSES.c.last_seen)).all())
    engine.dispose()
    # Then each room has its own key, and the buyer shipped to both (and to the unparsed one)
    assert facts == {1: ROOM_3_502_KEY, 2: ROOM_35_02_KEY, 3: ROOMS_OLD_KEY}
    assert addresses == {(ROOM_3_502_KEY, AT), (ROOM_35_02_KEY, AT), (ROOMS_OLD_KEY, AT)}


NO_18, NO_18_KEY = "浙江省杭州市西湖区文三路18号", "CN|330106|文三路|18|"


def test_migration_0023_splits_an_entry_of_a_building_and_a_bracketed_room(empty_url):
    # Given a store at 0022: an entry listed from an order to No. 18 and one to No. 18 (3-502),
    # one key then (the bracket was a note), and what placement recorded of both
    engine = _store_at(empty_url, "0022_address_keys_in_risk_facts", NO_18, NO_18_KEY,
                       "浙江省杭州市西湖区文三路18号(3-502)")
    _with_risk_facts(engine, AT, {1: NO_18_KEY, 2: NO_18_KEY})
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", NO_18_KEY, None, ["o-1", "o-2"]),
            _entry(2, "allow", "CN|330106|文三路|20|三-五〇二",
                   "浙江省杭州市西湖区文三路20号三-五〇二", [])))
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
    rows = _rows(engine)
    # Then the building and the room each have their entry with their own order, and the
    # room in numerals its key in digits; each order's fact has its address's key
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active == {NO_18_KEY: ["o-1"], ROOM_3_502_KEY: ["o-2"],
                      "CN|330106|文三路|20|3-502": []}
    assert facts == {1: NO_18_KEY, 2: ROOM_3_502_KEY}


def test_migration_0024_splits_an_entry_of_kowloon_and_kowloon_city(empty_url):
    # Given a store at 0023: an entry listed from an order to 九龙 (the area) 弥敦道1号 and one
    # to 九龙城区弥敦道1号, one key then (九龙 was read as 九龙城区), and placement's facts
    old_key = "CN|810000|九龙城区弥敦道|1|"
    engine = _store_at(empty_url, "0023_address_keys_bare_units", "香港九龙弥敦道1号", old_key,
                       "香港九龙城区弥敦道1号")
    _with_risk_facts(engine, AT, {1: old_key, 2: old_key})
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", old_key, None, ["o-1", "o-2"])))
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
    rows = _rows(engine)
    # Then each address has its entry with its own order, and its fact its key
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active == {"CN|810000|弥敦道|1|": ["o-1"], old_key: ["o-2"]}
    assert facts == {1: "CN|810000|弥敦道|1|", 2: old_key}


def test_migration_0023_keeps_the_building_listed_when_its_first_order_was_to_a_room(empty_url):
    # Given a store at 0022: an entry for No. 18 whose first evidence order went to the
    # bracketed room (a new key now) and whose second to No. 18 itself (its key unchanged)
    engine = _store_at(empty_url, "0022_address_keys_in_risk_facts",
                       "浙江省杭州市西湖区文三路18号(3-502)", NO_18_KEY, NO_18)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", NO_18_KEY, None, ["o-1", "o-2"])))
    # When the store is upgraded
    upgrade(engine)
    rows = _rows(engine)
    # Then No. 18 stays blocked with its order, and the room is blocked with its own (before:
    # the split handed o-2 to the entry itself, then moved the entry to the room: No. 18
    # was unblocked)
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active == {NO_18_KEY: ["o-2"], ROOM_3_502_KEY: ["o-1"]}


def test_migration_0023_keeps_an_order_to_the_building_of_a_typed_room_listed(empty_url):
    # Given a store at 0022: room (3-502) typed by a person (keyed as No. 18 then), which took
    # in the evidence of an order to No. 18 itself (one key then)
    engine = _store_at(empty_url, "0022_address_keys_in_risk_facts", NO_18, NO_18_KEY)
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", NO_18_KEY, "浙江省杭州市西湖区文三路18号(3-502)", ["o-1"])))
    # When the store is upgraded
    upgrade(engine)
    rows = _rows(engine)
    # Then the typed room and No. 18 with its order are both listed (before: the order was
    # dropped and the entry moved to the room: No. 18 unblocked)
    active = {r.value: (r.shown, r.evidence_order_ids) for r in rows.values()
              if r.removed_at is None}
    assert active == {ROOM_3_502_KEY: ("浙江省杭州市西湖区文三路18号(3-502)", []),
                      NO_18_KEY: (None, ["o-1"])}


def test_migration_0025_splits_an_entry_of_a_chain_and_a_range_and_rekeys_kowloon_names(
        empty_url):
    # Given a store at 0024: an entry listed from an order to 文三路1-2-3号 (building 1, unit
    # 2, room 3) and one to 文三路12-3号, one key then (…|12-3|, the first dash dropped); an
    # entry listed from an order to 香港九龙城道1号 (keyed on 城道 in 九龙城区 then), one typed
    # for 香港九龙坑1号 (on 坑), and placement's facts
    range_key, road_old, village_old = ("CN|330106|文三路|12-3|", "CN|810000|九龙城区城道|1|",
                                        "CN|810000|坑|1|")
    engine = _store_at(empty_url, "0024_address_keys_kowloon", "浙江省杭州市西湖区文三路1-2-3号",
                       range_key, "浙江省杭州市西湖区文三路12-3号", "香港九龙城道1号")
    _with_risk_facts(engine, AT, {1: range_key, 2: range_key, 3: road_old})
    with engine.begin() as conn:
        conn.execute(update(OrderRow.__table__).where(OrderRow.__table__.c.id == 3).values(
            attrs={"shipping_address": {"line": "香港九龙城道1号"}, "address": {"key": road_old}}))
        conn.execute(insert(ENTRIES), _by_the_store(
            _entry(1, "block", range_key, None, ["o-1", "o-2"]),
            _entry(2, "block", road_old, None, ["o-3"]),
            _entry(3, "block", village_old, "香港九龙坑1号", [])))
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
    rows = _rows(engine)
    # Then the chain and the range each have their entry with their own order, the Kowloon
    # names their whole name (九龙城道: no district since 0027, as a road named after one),
    # and each order's fact its address's key
    chain_key, road_key = "CN|330106|文三路|1|2-3", "CN|810000|九龙城道|1|"
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active == {chain_key: ["o-1"], range_key: ["o-2"], road_key: ["o-3"],
                      "CN|810000|九龙坑|1|": []}
    assert facts == {1: chain_key, 2: range_key, 3: road_key}


def test_migration_0026_merges_spellings_of_one_room_and_rekeys_phones_and_road_names(
        empty_url):
    # Given a store at 0025: orders to one room written 5栋302 and 5幢302室 (two keys then), one
    # with a phone number after the address (in the key then) and one to 南山大道 written
    # without its district (keyed on 大道); entries listed from each, and placement's facts
    lines = {1: ("江苏省南京市鼓楼区中山路100号5栋302", "CN|320106|中山路|100|5栋302"),
             2: ("江苏省南京市鼓楼区中山路100号5幢302室", "CN|320106|中山路|100|5幢302室"),
             3: ("陕西省西安市雁塔区小寨东路1号 13800138000", "CN|610113|小寨东路|1|13800138000"),
             4: ("深圳市南山大道1号", "CN|440305|大道|1|")}
    engine = _store_at(empty_url, "0025_address_keys_chains", *lines[1],
                       *(line for line, _ in list(lines.values())[1:]))
    _with_risk_facts(engine, AT, {n: key for n, (_, key) in lines.items()})
    orders = OrderRow.__table__
    with engine.begin() as conn:
        for n, (line, key) in lines.items():
            conn.execute(update(orders).where(orders.c.id == n).values(
                attrs={"shipping_address": {"line": line}, "address": {"key": key}}))
        conn.execute(insert(ENTRIES), _by_the_store(
            *(_entry(n, "block", key, None, [f"o-{n}"]) for n, (_, key) in lines.items())))
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
    rows = _rows(engine)
    # Then the room is listed once with both orders, the phone number is out of the key, the
    # road has its name (in the city since 0027: the road names no district), and each
    # order's fact its address's key
    room, road = "CN|320106|中山路|100|5栋302", "CN|440300|南山大道|1|"
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active == {room: ["o-1", "o-2"], "CN|610113|小寨东路|1|": ["o-3"], road: ["o-4"]}
    assert facts == {1: room, 2: room, 3: "CN|610113|小寨东路|1|", 4: road}


def test_migration_0027_rekeys_roads_named_after_districts_kowloon_and_zones(empty_url):
    # Given a store at 0026: orders to 西湖大道 written without a district (keyed in 西湖区
    # then), to 九龙弥敦道1号 (no region then) and to 苏州市工业园区 (keyed in 苏州市 on
    # 工业园区星湖街); an entry listed from each order, one typed for 苏州工业园区星湖街328号
    # (its key already today's), and placement's facts
    lines = {1: ("浙江省杭州市西湖大道1号", "CN|330106|西湖大道|1|"),
             2: ("九龙弥敦道1号", "CN||||九龙|弥敦道|1|"),
             3: ("江苏省苏州市工业园区星湖街328号", "CN|320500|工业园区星湖街|328|")}
    engine = _store_at(empty_url, "0026_address_keys_spellings", *lines[1],
                       *(line for line, _ in list(lines.values())[1:]))
    _with_risk_facts(engine, AT, {n: key for n, (_, key) in lines.items()})
    orders = OrderRow.__table__
    park = "CN|320571|星湖街|328|"
    with engine.begin() as conn:
        for n, (line, key) in lines.items():
            conn.execute(update(orders).where(orders.c.id == n).values(
                attrs={"shipping_address": {"line": line}, "address": {"key": key}}))
        conn.execute(insert(ENTRIES), _by_the_store(
            *(_entry(n, "block", key, None, [f"o-{n}"]) for n, (_, key) in lines.items()),
            _entry(4, "block", park, "苏州工业园区星湖街328号", [])))
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
        addresses = set(conn.execute(select(BUYER_ADDRESSES.c.address_key)).scalars())
    rows = _rows(engine)
    # Then 西湖大道 is keyed in the city, 弥敦道 in Hong Kong, and the park's two spellings
    # are one entry with the order; each order's fact and the buyer's addresses follow
    road, nathan = "CN|330100|西湖大道|1|", "CN|810000|弥敦道|1|"
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active == {road: ["o-1"], nathan: ["o-2"], park: ["o-3"]}
    assert facts == {1: road, 2: nathan, 3: park}
    assert addresses == {road, nathan, park}


def test_migration_0027_merges_towers_and_compounds_written_apart(empty_url):
    # Given a store at 0026: orders to tower B written B座 and B栋 (two keys then), and to one
    # flat with its compound written before the road and after the house number (two keys
    # then); an entry listed from each order, and placement's facts
    pudong = "上海市浦东新区"
    lines = {1: ("浙江省杭州市西湖区文三路18号B座1203", "CN|330106|文三路|18|b座1203"),
             2: ("浙江省杭州市西湖区文三路18号B栋1203室", "CN|330106|文三路|18|b栋1203"),
             3: (f"{pudong}阳光花园张杨路500弄3号601室", "CN|310115|阳光花园张杨路|500弄3|601"),
             4: (f"{pudong}张杨路500弄3号阳光花园601室", "CN|310115|张杨路|500弄3|阳光花园601")}
    engine = _store_at(empty_url, "0026_address_keys_spellings", *lines[1],
                       *(line for line, _ in list(lines.values())[1:]))
    _with_risk_facts(engine, AT, {n: key for n, (_, key) in lines.items()})
    orders = OrderRow.__table__
    with engine.begin() as conn:
        for n, (line, key) in lines.items():
            conn.execute(update(orders).where(orders.c.id == n).values(
                attrs={"shipping_address": {"line": line}, "address": {"key": key}}))
        conn.execute(insert(ENTRIES), _by_the_store(
            *(_entry(n, "block", key, None, [f"o-{n}"]) for n, (_, key) in lines.items())))
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
    rows = _rows(engine)
    # Then the tower is listed once with both orders, and so is the flat
    tower, flat = "CN|330106|文三路|18|b栋1203", "CN|310115|张杨路|500弄3|601"
    active = {r.value: r.evidence_order_ids for r in rows.values() if r.removed_at is None}
    assert active == {tower: ["o-2", "o-1"], flat: ["o-3", "o-4"]}
    assert facts == {1: tower, 2: tower, 3: flat, 4: flat}


def test_migration_0028_merges_towers_buildings_and_compounds_and_finds_taipa(empty_url):
    # Given a store at 0027: orders to tower 3 written 三座 and 3座, to one office written with
    # and without its building's name, to one road of 桂城街道 written with a compound named
    # 镇安花园, to 西湖文化广场 (keyed in 西湖区 then) and to Taipa without 澳门 (no region
    # then); an entry listed from each order, and placement's facts
    hangzhou, nanhai = "浙江省杭州市西湖区", "广东省佛山市南海区"
    lines = {1: (f"{hangzhou}文三路18号三座1203室", "CN|330106|文三路|18|三座1203"),
             2: (f"{hangzhou}文三路18号3座1203室", "CN|330106|文三路|18|3栋1203"),
             3: (f"{hangzhou}华星大厦文三路20号501室", "CN|330106|华星大厦文三路|20|501"),
             4: (f"{hangzhou}文三路20号501室", "CN|330106|文三路|20|501"),
             5: (f"{nanhai}桂城街道镇安花园南海大道1号", "CN|440605|桂城街道镇南海大道|1|"),
             6: ("浙江省杭州市西湖文化广场1号", "CN|330106|文化广场|1|"),
             7: ("氹仔花城大马路1号", "CN|||||氹仔花城大马路|1|")}
    engine = _store_at(empty_url, "0027_address_keys_places", *lines[1],
                       *(line for line, _ in list(lines.values())[1:]))
    _with_risk_facts(engine, AT, {n: key for n, (_, key) in lines.items()})
    orders = OrderRow.__table__
    with engine.begin() as conn:
        for n, (line, key) in lines.items():
            conn.execute(update(orders).where(orders.c.id == n).values(
                attrs={"shipping_address": {"line": line}, "address": {"key": key}}))
        conn.execute(insert(ENTRIES), _by_the_store(
            *(_entry(n, "block", key, None, [f"o-{n}"]) for n, (_, key) in lines.items())))
    # When the store is upgraded
    upgrade(engine)
    with engine.connect() as conn:
        facts = dict(conn.execute(select(FACTS.c.order_id, FACTS.c.address_norm)).all())
    rows = _rows(engine)
    # Then the tower is listed once with both its orders, and so is the office; the others
    # have the keys new orders get
    tower, office = "CN|330106|文三路|18|3栋1203", "CN|330106|文三路|20|501"
    road, square = "CN|440605|桂城街道南海大道|1|", "CN|330100|西湖文化广场|1|"
    taipa = "CN|820000|氹仔花城大马路|1|"
    active = {r.value: sorted(r.evidence_order_ids) for r in rows.values()
              if r.removed_at is None}
    assert active == {tower: ["o-1", "o-2"], office: ["o-3", "o-4"], road: ["o-5"],
                      square: ["o-6"], taipa: ["o-7"]}
    assert facts == {1: tower, 2: tower, 3: office, 4: office, 5: road, 6: square, 7: taipa}
