"""Address entries listed before the address parser changed (traditional characters written as
simplified, 090d64d; Hong Kong / Macau region names, 37faa3b) keep matching: migration 0016
re-keys them (0018 again, for house numbers in Chinese numerals and courier notes), and
listing an order placed before the change lists the key new orders get. Before, such an entry
matched no order placed after the upgrade: the blacklisted address passed."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select, update

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, upgrade
from integrations.db.schema import BuyerRow, OrderRow
from integrations.db.schema_risk import BlacklistEntryRow
from orderpilot import OrderPilot
from statemachine import ids
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


def _store_at(url: str, revision: str, line: str, key: str):
    """A store at `revision` holding order o-1, shipped to `line` and keyed `key`."""
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.execute(insert(BuyerRow.__table__).values(id="b-1", created_at=AT))
        conn.execute(insert(OrderRow.__table__).values(
            id=1, buyer_id="b-1", state="completed", version=1, currency="CNY", total=100,
            paid=100, refunded=0, created_at=AT, updated_at=AT,
            attrs={"shipping_address": {"line": line}, "address": {"key": key}}))
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
