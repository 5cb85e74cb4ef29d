"""Signals come from counters maintained as things happen; they must say what the rows say."""

from __future__ import annotations

from sqlalchemy import text

from integrations.geo.addresses import parse_address
from integrations.risk.config import default_ruleset
from integrations.risk.sql_store import SqlRiskStore
from statemachine.risk_port import PlacedLine, PlacementFacts
from tests.factories import ADDRESS, delivered_order, paid_order, placed_order, stock

RECOUNT = """SELECT count(*), sum(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END),
                    sum(CASE WHEN state = 'completed' THEN 1 ELSE 0 END), avg(total)
             FROM orders WHERE buyer_id = 'b-1'"""


def next_signals(pilot, clock, device="d-b-1"):
    facts = PlacementFacts(
        order_id="o-999999", buyer_id="b-1", amount=1999, currency="CNY",
        lines=(PlacedLine("SKU-1", 1, 1999),), shipping_address=ADDRESS,
        address=parse_address(ADDRESS), placed_at=clock.now(), device_id=device)
    with pilot.context.tx(readonly=True) as tx:
        signals = SqlRiskStore(tx.connection).signals(facts, default_ruleset())
        recount = tx.connection.execute(text(RECOUNT)).one()
    return signals, recount


def test_outcome_and_dispute_counters_agree_with_a_recount_of_the_rows(any_pilot, clock):
    # Given b-1 with a cancelled, a completed, a charged-back and a still open order
    stock(any_pilot, quantity=50)
    cancelled = placed_order(any_pilot, quantity=1)
    any_pilot.orders.fire(cancelled.id, "cancel", actor="b-1")
    delivered_order(any_pilot, quantity=3)
    disputed = paid_order(any_pilot, quantity=2)
    any_pilot.risk.record_chargeback(disputed.id, by="gateway")
    placed_order(any_pilot, quantity=1)
    clock.advance(days=8)
    any_pilot.sweep()  # auto-completes the delivered order (bulk path)
    # When the next order's signals are read
    signals, (orders, n_cancelled, n_completed, mean) = next_signals(any_pilot, clock)
    # Then the counters say what a recount of the rows says
    assert (signals.orders_total, signals.orders_cancelled, signals.orders_completed) == (
        orders, n_cancelled, n_completed) == (4, 1, 1)
    assert signals.disputes == 1
    assert signals.buyer_mean_amount == float(mean)


def test_a_device_counts_each_other_buyer_once_and_never_the_buyer_himself(any_pilot, clock):
    stock(any_pilot, quantity=50)
    for buyer in ("b-2", "b-2", "b-3", "b-1", "b-1"):
        placed_order(any_pilot, buyer=buyer, quantity=1, device_id="d-shared")
    signals, _ = next_signals(any_pilot, clock, device="d-shared")
    assert signals.device_other_buyers == 2


def test_address_changes_count_other_addresses_in_the_last_30_days(any_pilot, clock):
    # Given b-1 shipped to three addresses, one of them 40 days ago
    stock(any_pilot, quantity=50)
    placed_order(any_pilot, quantity=1, shipping_address={"line": "上海市浦东新区张江路88弄5号"})
    clock.advance(days=40)
    for line in ("杭州市西湖区文三路19号", "杭州市西湖区文三路18号3单元"):
        placed_order(any_pilot, quantity=1, shipping_address={"line": line})
    # When b-1 orders to ADDRESS (Latin script) now: the two recent ones are other addresses
    signals, _ = next_signals(any_pilot, clock)
    assert signals.address_changes == 2
