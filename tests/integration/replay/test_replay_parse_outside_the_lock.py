"""The bulk replay parses each placement's address and phone before the window's transaction,
as the API and the webhooks do, not under SQLite's write lock: a Chinese address loads the
division table once per process (seconds) and takes a fraction of a millisecond after, and
inside the transaction both kept every other writer of the database waiting."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from integrations.geo import contact
from integrations.replay.drivers import BaseDriver
from integrations.replay.runner import ReplayOptions, replay
from integrations.service.inputs import PlaceOrder, parse
from statemachine.address import ParsedAddress
from tests.integration.replay.test_replay_fixture import FIXTURE, by_buyer, rows

PLACED = 16  # the fixture's consistent rows: each is placed once


@pytest.fixture
def probed(monkeypatch, tmp_path: Path):
    """Every address parse tries to take the write lock from another connection first."""
    db = tmp_path / "replay.db"
    seen: list[str] = []
    parse_address = contact.parse_address

    def probe(*args, **kwargs) -> ParsedAddress:
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError as error:
            seen.append(str(error))
        finally:
            other.close()
        return parse_address(*args, **kwargs)

    monkeypatch.setattr(contact, "parse_address", probe)
    return db, seen


def test_a_bulk_replay_parses_its_placements_with_no_write_lock_held(probed) -> None:
    # Given the fixture's orders (the replay's own addresses: Brazilian, as Olist's buyers)
    db, seen = probed
    # When it is replayed on the bulk path
    report = replay(FIXTURE, ReplayOptions(f"sqlite:///{db}"))
    # Then every placement was parsed while another connection could write (before: each
    # saw 'database is locked', parsed inside the window's transaction)
    assert seen == ["free"] * PLACED
    assert report.rows_replayed == PLACED and report.failures == []


def test_a_history_of_chinese_addresses_is_parsed_outside_the_lock_too(probed,
                                                                       monkeypatch) -> None:
    # Given a history whose buyers are in 杭州 (a merchant's own export; the mapping has no
    # address column, so the request the replay builds is given one here)
    db, seen = probed
    placed_as = BaseDriver.place_request

    def in_hangzhou(self: BaseDriver, ref: str) -> PlaceOrder:
        request = placed_as(self, ref).model_dump(exclude_none=True)
        number = sum(map(ord, ref)) % 200 + 1
        request["shipping_address"] = {"line": f"浙江省杭州市西湖区文三路 {number} 号",
                                       "recipient": "王芳"}
        request["phone"] = "１３８００１３８０００"
        return parse(PlaceOrder, request)

    monkeypatch.setattr(BaseDriver, "place_request", in_hangzhou)
    # When it is replayed on the bulk path
    replay(FIXTURE, ReplayOptions(f"sqlite:///{db}"))
    # Then each address was parsed (the division table loaded by the first, if this process
    # had not yet) with no write lock held, and the orders went where they were parsed to go
    assert seen == ["free"] * PLACED
    assert len(by_buyer(db)) == PLACED
    assert {r[0] for r in rows(db, "SELECT json_extract(attrs, '$.address.region_code') "
                                   "FROM orders")} == {"330106"}


def test_a_row_its_request_refuses_fails_its_place_and_the_replay_goes_on(tmp_path) -> None:
    # Given a merchant's export whose one buyer id is no id orderpilot takes (买家张三)
    history = tmp_path / "orders.csv"
    head, *body = FIXTURE.read_text().splitlines()
    history.write_text("\n".join([head, body[0].replace("c-ontime", "买家张三"), *body[1:]]))
    # When it is replayed on the bulk path
    report = replay(history, ReplayOptions(f"sqlite:///{tmp_path / 'replay.db'}"))
    # Then that row's place fails, named in the report, and every other row is replayed
    # (before: the request was built before the window's transaction, outside the guard that
    # records a place refused, and the InvalidInput ended the whole replay)
    assert [(f["ref"], f["trigger"]) for f in report.failures] == [("fx-ontime", "place")]
    assert "buyer_id" in report.failures[0]["error"]
    assert len(by_buyer(tmp_path / "replay.db")) == PLACED - 1
