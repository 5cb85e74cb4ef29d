"""Signal gathering from real rows: velocity, device/IP sharing, blacklist hits, history."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from integrations.geo.addresses import parse_address
from integrations.risk.config import default_ruleset
from integrations.risk.sql_store import SqlRiskStore
from statemachine.risk_port import PlacedLine, PlacementFacts
from tests.factories import ADDRESS, order_request, paid_order, placed_order, stock


def next_order_facts(pilot, clock, buyer="b-1", device="d-b-1", ip="198.51.100.9",
                     sku="SKU-1", quantity=1, phone=None):
    """Facts of an order about to be placed now (id beyond any existing order)."""
    return PlacementFacts(
        order_id="o-999999", buyer_id=buyer, amount=1999 * quantity, currency="CNY",
        lines=(PlacedLine(sku, quantity, 1999),),
        shipping_address=ADDRESS, address=parse_address(ADDRESS),
        placed_at=clock.now(), device_id=device, ip=ip, phone=phone)


def signals_for(pilot, facts):
    with pilot.context.tx(readonly=True) as tx:
        return SqlRiskStore(tx.connection).signals(facts, default_ruleset())


def test_velocity_counts_only_orders_inside_the_window_per_dimension(pilot, clock):
    # Given b-1 ordered twice 2 hours ago and three times in the last hour, b-2 once on b-1's IP
    stock(pilot, quantity=100)
    for _ in range(2):
        placed_order(pilot, buyer="b-1")
    clock.advance(hours=2)
    for _ in range(3):
        placed_order(pilot, buyer="b-1")
        clock.advance(minutes=5)
    placed_order(pilot, buyer="b-2", ip="198.51.100.9", device_id="d-b-2")
    # When the signals for b-1's next order are gathered
    facts = next_order_facts(pilot, clock, ip="198.51.100.9")
    signals = signals_for(pilot, facts)
    # Then only the last hour counts, per buyer / device / ip / address
    assert signals.velocity == {"buyer": 3, "device": 3, "ip": 1, "address": 4}
    assert signals.orders_total == 5


def test_device_and_ip_sharing_counts_other_buyers_seen_before(pilot, clock):
    # Given the device d-shared used by b-2 and b-3 (b-3 twice), and the buyer himself
    stock(pilot, quantity=100)
    for buyer in ("b-2", "b-3", "b-3", "b-1"):
        placed_order(pilot, buyer=buyer, device_id="d-shared")
    # When b-1 orders again on that device from an IP nobody used
    signals = signals_for(pilot, next_order_facts(pilot, clock, device="d-shared",
                                                  ip="192.0.2.200"))
    # Then two other buyers are on the device, none on the IP
    assert (signals.device_other_buyers, signals.ip_other_buyers) == (2, 0)


def test_an_ipv4_mapped_address_counts_as_the_ipv4_address_it_maps(pilot, clock):
    # Given b-2 ordering from ::ffff:198.51.100.9 (a dual-stack front end's form of the IPv4
    # address) and b-3 from 198.51.100.9
    stock(pilot, quantity=100)
    placed_order(pilot, buyer="b-2", ip="::ffff:198.51.100.9", device_id="d-b-2")
    placed_order(pilot, buyer="b-3", ip="198.51.100.9", device_id="d-b-3")
    # When b-1 orders from 198.51.100.9
    signals = signals_for(pilot, next_order_facts(pilot, clock, ip="198.51.100.9"))
    # Then both orders came from that one IP
    assert (signals.velocity["ip"], signals.ip_other_buyers) == (2, 2)


def test_blacklist_hits_match_buyer_device_phone_address_and_ip_ranges(pilot, clock):
    # Given entries for a device, a phone (other formatting), the address and an IP range
    for kind, value in (("device", "d-bad"), ("phone", "+86 138-0000-0000"),
                        ("address", "18 Wensan Road, Hangzhou, CN"), ("ip", "192.0.2.0/24")):
        pilot.risk.blacklist_add(kind, value, by="alice", reason="fraud ring")
    # When an order with all of them (but an unlisted buyer) is checked
    facts = next_order_facts(pilot, clock, device="d-bad", ip="192.0.2.77",
                             phone="+8613800000000")
    # Then every kind hits except the buyer
    assert signals_for(pilot, facts).blacklist_hits == ("device", "phone", "address", "ip")
    # And after removing the range the IP no longer hits
    entry = next(e for e in pilot.risk.blacklist() if e.kind == "ip")
    pilot.risk.blacklist_remove(entry.id, by="bob")
    assert "ip" not in signals_for(pilot, facts).blacklist_hits


def test_history_signals_come_from_the_buyers_earlier_orders(pilot, clock):
    # Given b-1 paid 2 units of SKU-1 today, cancelled another order, and one more is unpaid
    stock(pilot, quantity=100)
    paid_order(pilot, buyer="b-1", quantity=2)
    cancelled = placed_order(pilot, buyer="b-1", quantity=5)
    pilot.orders.fire(cancelled.id, "cancel", actor="b-1")
    placed_order(pilot, **order_request(buyer="b-1", quantity=1) | {
        "shipping_address": {"street": "9 Other Street", "city": "Hangzhou"}})
    pilot.risk.register_buyer("b-1", signed_up_at=clock.now() - timedelta(days=3))
    # When signals for the next order are gathered
    signals = signals_for(pilot, next_order_facts(pilot, clock))
    # Then cancelled units do not count towards today's sku total, and history is right
    assert signals.sku_bought_today == {"SKU-1": 3}
    assert (signals.orders_total, signals.orders_cancelled, signals.orders_completed) == (3, 1, 0)
    assert signals.credit_score == 95  # cancelled after the hold: -5
    assert signals.address_changes == 1
    assert signals.account_created_at == clock.now() - timedelta(days=3)
    assert signals.buyer_mean_amount == (2 * 1999 + 5 * 1999 + 1999) / 3


def test_a_first_time_buyer_has_no_history_and_unknown_account_age(pilot, clock):
    signals = signals_for(pilot, replace(next_order_facts(pilot, clock), buyer_id="b-new"))
    assert signals.account_created_at is None
    assert (signals.orders_total, signals.disputes, signals.credit_score) == (0, 0, None)
    assert signals.velocity == {"buyer": 0, "device": 0, "ip": 0, "address": 0}
