"""Placement with the default rule set on a real store: decisions acted on and stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from integrations.db.schema_risk import RiskDecisionRow
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock

DECISIONS = RiskDecisionRow.__table__


def stored_decisions(pilot: OrderPilot) -> list[tuple[int, str, str]]:
    with pilot.context.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(
            DECISIONS.c.order_id, DECISIONS.c.mode, DECISIONS.c.action)
            .order_by(DECISIONS.c.order_id, DECISIONS.c.mode))]


def test_a_blacklisted_buyer_is_rejected_and_the_stock_released(any_pilot, clock):
    # Given b-bad was blacklisted from an earlier order
    stock(any_pilot, quantity=10)
    first = placed_order(any_pilot, buyer="b-bad")
    any_pilot.risk.blacklist_order(first.id, by="alice", reason="stolen card")
    # When b-bad orders again
    second = placed_order(any_pilot, buyer="b-bad", quantity=3)
    # Then the order is rejected with the blacklist reason and holds no stock
    assert second.state == "rejected"
    assert [r["rule"] for r in second.risk["reasons"]] == ["blacklist"]
    assert any_pilot.inventory.level(sku="SKU-1", warehouse="WH-1").reserved == 2
    assert stored_decisions(any_pilot) == [(1, "live", "approve"), (2, "live", "reject")]


def test_the_sixth_order_in_an_hour_from_one_buyer_goes_to_verification(any_pilot, clock):
    # Given b-1 placed five orders within the hour
    stock(any_pilot, quantity=50)
    for _ in range(5):
        assert placed_order(any_pilot, buyer="b-1", quantity=1).state == "awaiting_payment"
        clock.advance(minutes=10)
    # When the sixth comes 50 minutes after the first
    sixth = placed_order(any_pilot, buyer="b-1", quantity=1)
    # Then the buyer is asked to verify (the manuals: > 5 an hour -> verification)
    assert sixth.state == "verifying"
    velocity = next(r for r in sixth.risk["reasons"] if r["rule"] == "velocity")
    assert velocity["values"]["earlier_orders"]["buyer"] == 5
    # And once only four earlier orders (the held one included) are in the hour, it clears
    clock.advance(minutes=25)
    assert placed_order(any_pilot, buyer="b-1", quantity=1).state == "awaiting_payment"


def test_an_order_seconds_after_sign_up_is_rejected_by_the_behavioural_score(pilot, clock):
    stock(pilot)
    pilot.risk.register_buyer("b-fresh", signed_up_at=clock.now() - timedelta(seconds=20))
    order = placed_order(pilot, buyer="b-fresh")
    assert order.state == "rejected"
    assert order.risk["action"] == "reject" and order.risk["score"] >= 80
    assert order.risk["reasons"][0]["rule"] == "score_reject"


def test_a_vague_address_is_reviewed(pilot):
    stock(pilot)
    order = placed_order(pilot, shipping_address={"street": "Wensan Road", "city": "Hangzhou"})
    assert order.state == "under_review"
    assert [r["rule"] for r in order.risk["reasons"]] == ["vague_address"]


def test_an_address_in_a_city_without_districts_is_not_vague(pilot):
    # Before: 东莞市 has no districts, so no district was ever found: every Dongguan order
    # went to a person as vague_address (no_district)
    stock(pilot)
    order = placed_order(pilot, shipping_address={
        "province": "广东省", "city": "东莞市", "street": "南城街道鸿福路 1 号"})
    assert order.state == "awaiting_payment", order.risk


def test_a_door_in_a_residential_compound_is_not_vague(pilot):
    # Before: building + entrance + room and no 号, the usual address of a flat, was
    # no_house_number: every such order went to a person as vague_address
    stock(pilot)
    order = placed_order(pilot, shipping_address={
        "province": "浙江省", "city": "杭州市", "district": "西湖区",
        "street": "翠苑一区 1 栋 2 单元 301 室", "recipient": "王芳"})
    assert order.state == "awaiting_payment", order.risk


def test_approve_everything_can_still_be_chosen(sqlite_url, clock):
    pilot = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    pilot.risk.blacklist_add("buyer", "b-1", by="alice", reason="test")
    assert placed_order(pilot).state == "awaiting_payment"
    assert stored_decisions(pilot) == []
    pilot.close()


def test_the_rules_file_setting_replaces_the_packaged_rules(sqlite_url, clock, tmp_path,
                                                            monkeypatch):
    # Given a rule set that reviews anything above 10.00
    rules = tmp_path / "strict.toml"
    rules.write_text('name = "strict"\namount_review_above = 1000\n')
    monkeypatch.setenv("ORDERPILOT_RISK_RULES", str(rules))
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    # When an order of 39.98 is placed
    order = placed_order(pilot)
    # Then the configured rule set decided it
    assert order.state == "under_review"
    assert [r["rule"] for r in order.risk["reasons"]] == ["amount_threshold"]
    pilot.close()
