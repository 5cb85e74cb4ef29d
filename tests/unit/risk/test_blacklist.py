"""Blacklist matching: exact ids, normalised phones and addresses, IP ranges."""

from __future__ import annotations

from statemachine.address import latin_address
from statemachine.risk import Blacklist, blacklist_hits, parse_networks

from .factories import an_order


def test_nothing_matches_an_empty_blacklist():
    assert blacklist_hits(an_order(), Blacklist()) == ()


def test_buyer_and_device_match_exactly():
    listed = Blacklist(buyers=frozenset({"b-1"}), devices=frozenset({"dev-1"}))
    assert blacklist_hits(an_order(), listed) == ("buyer", "device")


def test_address_matches_after_normalisation():
    # Given an address listed with different case and punctuation
    entry = latin_address("12, BAKER street", "london", "gb", postcode="nw1-6xe").key
    # Then the order's address matches it
    assert blacklist_hits(an_order(), Blacklist(addresses=frozenset({entry}))) == ("address",)


def test_phone_matches_in_e164():
    listed = Blacklist(phones=frozenset({"+442079460000"}))
    assert blacklist_hits(an_order(), listed) == ("phone",)


def test_an_order_without_a_parsed_address_never_matches_an_address_entry():
    listed = Blacklist(addresses=frozenset({an_order().address_key}))
    assert blacklist_hits(an_order(address=None), listed) == ()


def test_ip_inside_a_listed_range_matches_and_outside_does_not():
    ranges = parse_networks(["203.0.113.0/24", "2001:db8::/32"])
    assert blacklist_hits(an_order(), Blacklist(networks=ranges)) == ("ip",)
    assert blacklist_hits(an_order(ip="198.51.100.1"), Blacklist(networks=ranges)) == ()
    assert blacklist_hits(an_order(ip="2001:db8::1"), Blacklist(networks=ranges)) == ("ip",)


def test_missing_or_garbled_ip_never_matches():
    ranges = parse_networks(["0.0.0.0/0"])
    assert blacklist_hits(an_order(ip=None), Blacklist(networks=ranges)) == ()
    assert blacklist_hits(an_order(ip="not-an-ip"), Blacklist(networks=ranges)) == ()


def test_an_ipv4_mapped_address_is_the_ipv4_address_it_maps():
    # a dual-stack front end reports 1.2.3.4 as ::ffff:1.2.3.4: either form matches the other
    by_v4 = Blacklist(networks=parse_networks(["1.2.3.0/24"]))
    by_mapped = Blacklist(networks=parse_networks(["::ffff:5.6.7.8"]))
    assert blacklist_hits(an_order(ip="::ffff:1.2.3.4"), by_v4) == ("ip",)
    assert blacklist_hits(an_order(ip="5.6.7.8"), by_mapped) == ("ip",)
    assert [str(n) for n in parse_networks(["::ffff:5.6.7.0/120"])] == ["5.6.7.0/24"]


def test_a_listed_phone_matches_as_the_recipients_number_too():
    listed = Blacklist(phones=frozenset({"+8613800138000"}))
    order = an_order(phone="+8618600001111", recipient_phone="+8613800138000")
    assert blacklist_hits(order, listed) == ("phone",)
    assert blacklist_hits(an_order(phone="+8618600001111"), listed) == ()
