"""Block and allow lists with a reason, an author and an expiry, from every entry point."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from integrations.db.schema import OrderRow
from integrations.db.schema_risk import RiskOrderFactsRow
from orderpilot import InvalidInput, OrderPilot
from orderpilot.cli import app
from tests.factories import paid_order, placed_order, stock

ORDERS, FACTS = OrderRow.__table__, RiskOrderFactsRow.__table__


def test_an_allow_listed_buyer_is_approved_at_once_over_the_review_rules(any_pilot, clock):
    # Given b-vip is allowed, and an address that would send anyone else to review
    stock(any_pilot)
    vague = {"line": "杭州市西湖区万达广场附近"}
    any_pilot.risk.allow_add("buyer", "b-vip", by="mei", reason="corporate account")
    # When both order to it
    vip = placed_order(any_pilot, buyer="b-vip", quantity=1, shipping_address=vague)
    other = placed_order(any_pilot, buyer="b-other", quantity=1, shipping_address=vague)
    # Then the allowed buyer is approved with the allow-list reason, the other is reviewed
    assert vip.state == "awaiting_payment" and vip.risk["reasons"][0]["rule"] == "allow_list"
    assert other.state == "under_review"


def test_a_block_list_entry_beats_an_allow_list_entry(any_pilot, clock):
    stock(any_pilot)
    any_pilot.risk.allow_add("buyer", "b-1", by="mei", reason="regular")
    any_pilot.risk.blacklist_add("device", "d-b-1", by="lee", reason="stolen phone")
    assert placed_order(any_pilot, quantity=1).state == "rejected"


def test_an_entry_stops_matching_when_it_expires(any_pilot, clock):
    stock(any_pilot)
    entry = any_pilot.risk.blacklist_add("phone", "+86 170 1234 5678", by="mei",
                                         reason="order farming",
                                         expires_at=clock.now() + timedelta(days=1))
    assert (entry.value, entry.shown, entry.created_by) == (
        "+8617012345678", "+86 170 1234 5678", "mei")
    assert placed_order(any_pilot, quantity=1, phone="17012345678").state == "rejected"
    clock.advance(days=1, seconds=1)
    assert placed_order(any_pilot, quantity=1, phone="17012345678").state != "rejected"


def test_a_blocked_address_matches_the_same_address_in_traditional_characters(any_pilot):
    # Before: 浙江省杭州市西湖區文三路18號3單元 was keyed CN|330106|區文三路|18|3單元 and the order
    # passed the block entry for 西湖区文三路18号3单元
    stock(any_pilot)
    any_pilot.risk.blacklist_add("address", "浙江省杭州市西湖区文三路18号3单元", by="mei",
                                 reason="refund fraud ring")
    order = placed_order(any_pilot, quantity=1, shipping_address={
        "province": "浙江省", "city": "杭州市", "district": "西湖區", "street": "文三路18號3單元"})
    assert order.state == "rejected"
    assert [r["rule"] for r in order.risk["reasons"]] == ["blacklist"]


def test_blocking_an_order_lists_both_its_phones_the_buyers_and_the_recipients(any_pilot):
    # Given an order whose buyer gave their own number and shipped to a collecting phone
    stock(any_pilot)
    collecting = "+86 138 0013 8000"
    address = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
               "street": "文三路18号", "recipient": "张三", "phone": collecting}
    ring = placed_order(any_pilot, buyer="b-ring", quantity=1, phone="+86 170 1234 5678",
                        shipping_address=address)
    # When a reviewer blocks the order's buyer and phone
    entries = any_pilot.risk.blacklist_order(ring.id, by="mei", reason="同一团伙刷单",
                                             kinds=("buyer", "phone"))
    # Then both numbers are listed with the order as evidence (before: the buyer's alone)
    assert sorted((e.kind, e.value) for e in entries) == [
        ("buyer", "b-ring"), ("phone", "+8613800138000"), ("phone", "+8617012345678")]
    assert all(e.evidence_order_ids == [ring.id] for e in entries)
    # And another buyer giving the collecting phone as their own is rejected by the list
    other = placed_order(any_pilot, buyer="b-other", quantity=1, phone="13800138000")
    assert other.state == "rejected"
    assert [r["rule"] for r in other.risk["reasons"]] == ["blacklist"]


def _as_before_0034(pilot: OrderPilot, order_id: str, facts_number: bool) -> None:
    """The order as code before 471f8d6 kept it: no `attrs.recipient_phone` (the address's
    number only in its shipping_address); the facts' recipient number as 0038's backfill left
    it (`facts_number`), or none (no facts row gave it)."""
    number = int(order_id[2:])
    with pilot.context.engine.begin() as conn:
        attrs = conn.execute(select(ORDERS.c.attrs).where(ORDERS.c.id == number)).scalar_one()
        attrs.pop("recipient_phone")
        conn.execute(update(ORDERS).where(ORDERS.c.id == number).values(attrs=attrs))
        if not facts_number:
            conn.execute(update(FACTS).where(FACTS.c.order_id == number).values(
                recipient_phone_norm=None))


@pytest.mark.parametrize("facts_number", [True, False], ids=["backfilled", "address-only"])
def test_blocking_an_order_placed_before_0034_lists_both_its_phones(any_pilot, facts_number):
    # Given an order placed before the order kept the recipient's number: the buyer's own
    # number, and the collecting phone (written 0086 …) only on the shipping address and, after
    # 0038's backfill, in the risk facts
    stock(any_pilot)
    address = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
               "street": "文三路18号", "recipient": "张三", "phone": "0086 138-0013-8000"}
    ring = placed_order(any_pilot, buyer="b-ring", quantity=1, phone="+86 170 1234 5678",
                        shipping_address=address)
    _as_before_0034(any_pilot, ring.id, facts_number)
    # When a reviewer blocks the order's buyer and phone
    entries = any_pilot.risk.blacklist_order(ring.id, by="mei", reason="同一团伙刷单",
                                             kinds=("buyer", "phone"))
    # Then both numbers are listed, as for an order placed today (before: the buyer's alone)
    assert sorted((e.kind, e.value) for e in entries) == [
        ("buyer", "b-ring"), ("phone", "+8613800138000"), ("phone", "+8617012345678")]
    # And another buyer giving the collecting phone as their own is rejected by the list
    other = placed_order(any_pilot, buyer="b-other", quantity=1, phone="13800138000")
    assert [r["rule"] for r in other.risk["reasons"]] == ["blacklist"]


def test_blocking_an_order_with_one_number_in_both_fields_lists_it_once(any_pilot):
    stock(any_pilot)
    order = placed_order(any_pilot, buyer="b-ring", quantity=1, phone="+86 138 0013 8000",
                         shipping_address={"line": "浙江省杭州市西湖区文三路18号",
                                           "phone": "13800138000"})
    entries = any_pilot.risk.blacklist_order(order.id, by="mei", reason="ring",
                                             kinds=("buyer", "phone"))
    assert [(e.kind, e.value) for e in entries] == [("buyer", "b-ring"),
                                                   ("phone", "+8613800138000")]


def test_a_bad_entry_names_the_field_and_writes_nothing(pilot, clock):
    with pytest.raises(InvalidInput) as error:
        pilot.risk.blacklist_add("phone", "12", by="mei", reason="x")
    assert "value" in error.value.problems
    with pytest.raises(InvalidInput) as error:
        pilot.risk.list_add("allow", "buyer", "b-1", by="mei", reason="x",
                            expires_at=clock.now() - timedelta(hours=1))
    assert "expires_at" in error.value.problems
    with pytest.raises(InvalidInput) as error:
        pilot.risk.list_add("grey", "buyer", "b-1", by="mei", reason="x")
    assert "list" in error.value.problems
    assert pilot.risk.lists() == []


@pytest.mark.parametrize(("change", "field"), [
    ({"value": 13800138000}, "value"),  # a phone from a spreadsheet: AttributeError before
    ({"value": "d-1\x00"}, "value"),    # PostgreSQL: 'the store refused a value' naming 'input'
    ({"value": "b-1\udc00"}, "value"),  # UnicodeEncodeError before
    ({"value": "\u200b"}, "value"),     # an entry nobody can see, stored before
    ({"reason": "骗" * 501}, "reason"),  # SQLite kept 100,000 characters in a varchar(500)
    ({"reason": "a\x00b"}, "reason"),
    ({"reason": "\ud800"}, "reason"),
    ({"by": "mei\x00"}, "by"),
    ({"expires_at": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12)))},
     "expires_at"),  # a raw StatementError (OverflowError) before
    ({"evidence": [f"o-{n}" for n in range(1, 102)]}, "evidence"),
])
def test_an_entry_the_store_cannot_keep_is_refused_naming_the_field(any_pilot, change, field):
    # Given the block-list entry of the Python API and CLI, with one bad field: it is refused
    # naming that field (as POST /v1/ops/lists does), and nothing is written
    entry = {"kind": "device", "value": "d-1", "by": "mei", "reason": "ring", **change}
    with pytest.raises(InvalidInput) as refused:
        any_pilot.risk.blacklist_add(entry.pop("kind"), entry.pop("value"), **entry)
    assert field in refused.value.problems, refused.value.problems
    assert any_pilot.risk.lists() == []


@pytest.mark.parametrize("entry_id", ["1", 2**64, True, 0])
def test_removing_an_entry_by_a_bad_id_names_the_entry_id(any_pilot, entry_id):
    kept = any_pilot.risk.blacklist_add("device", "d-1", by="mei", reason="ring")
    with pytest.raises(InvalidInput) as refused:  # ProgrammingError / OverflowError before
        any_pilot.risk.list_remove(entry_id, by="lee")
    assert "entry_id" in refused.value.problems
    assert [e.id for e in any_pilot.risk.lists()] == [kept.id]


def test_the_cli_manages_both_lists_and_sign_up_times_and_chargebacks(sqlite_url, clock):
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    order = paid_order(pilot, quantity=1)
    pilot.close()

    def cli(*args: str):
        result = CliRunner().invoke(app, [*args, "--db", sqlite_url])
        assert result.exit_code == 0, result.output
        return result.output

    assert "allow buyer b-9" in cli("allowlist", "add", "--kind", "buyer", "--value", "b-9",
                                    "--by", "mei", "--reason", "staff")
    cli("blacklist", "add", "--kind", "address", "--value", "西湖区文三路18号3单元, 杭州市",
        "--by", "lee", "--reason", "drop house", "--expires", "2030-01-01T00:00")
    blocked = json.loads(cli("blacklist", "list", "--json"))
    assert [(e["kind"], e["shown"], e["created_by"]) for e in blocked] == [
        ("address", "西湖区文三路18号3单元, 杭州市", "lee")]
    assert [e["value"] for e in json.loads(cli("allowlist", "list", "--json"))] == ["b-9"]
    cli("risk", "signup", "b-9", "--at", "2026-11-01T08:00")
    assert "credit 100 -> 70" in cli("risk", "chargeback", order.id, "--by", "gateway")
    pilot = OrderPilot(sqlite_url, clock=clock)
    entries = pilot.risk.lists("block")
    assert entries[0].value == "CN|330106|文三路|18|3单元"
    assert entries[0].expires_at.year == 2030
    pilot.close()
