"""Pure fulfilment policy: wave order, cut-offs, double-check reasons, refill sources, claims,
which parcel carries which sold units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.fulfil_config import FulfilmentPolicy
from statemachine.claim import CLAIM_LIFECYCLE, Claim, ClaimKind, ClaimState
from statemachine.errors import GuardRejected, InvalidTransition
from statemachine.fulfilment import (
    Load,
    Source,
    WaveCandidate,
    contents_problems,
    double_check_reasons,
    next_cutoff,
    parcel_loads,
    plan_refill,
    plan_wave,
)
from statemachine.order import ORDER_LIFECYCLE
from statemachine.order_aggregate import Order, OrderLine, OrderState

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
POLICY = FulfilmentPolicy(distances={"A": {"B": 100, "C": 500}, "B": {"C": 50}})


def test_a_wave_puts_express_first_then_the_earliest_paid_and_stops_at_its_size():
    cands = [WaveCandidate(1, T0, False), WaveCandidate(2, T0 + timedelta(minutes=9), True),
             WaveCandidate(3, T0 - timedelta(minutes=5), False)]
    assert plan_wave(cands, 10) == [2, 3, 1]
    assert plan_wave(cands, 2) == [2, 3]
    assert plan_wave([], 5) == []


def test_the_next_cutoff_is_today_until_it_passes_then_tomorrow():
    assert next_cutoff(T0, "17:00") == T0.replace(hour=17)
    assert next_cutoff(T0.replace(hour=18), "17:00") == T0.replace(hour=17) + timedelta(days=1)


def test_double_check_reasons_name_the_value_and_every_flagged_sku():
    assert double_check_reasons(100, 1000, {}) == []
    assert double_check_reasons(1001, 1000, {"X": ["high_value"]}) == [
        "order value ¥10.01 is above ¥10.00", "X is flagged high_value"]
    assert double_check_reasons(1001, 1000, {}, "JPY") == ["order value JPY 1,001 is above "
                                                            "JPY 1,000"]


def test_a_refill_comes_from_the_nearest_warehouse_that_has_it_all():
    assert plan_refill(3, "A", {"A": 9, "B": 3, "C": 50}, POLICY.distance) == [Source("B", 3)]
    assert plan_refill(3, "A", {"B": 2, "C": 50}, POLICY.distance) == [Source("C", 3)]


def test_otherwise_a_refill_is_split_over_the_nearest_and_empty_when_impossible():
    assert plan_refill(4, "A", {"B": 2, "C": 3}, POLICY.distance) == [Source("B", 2),
                                                                       Source("C", 2)]
    assert plan_refill(9, "A", {"B": 2, "C": 3}, POLICY.distance) == []
    assert plan_refill(2, "A", {"A": 5}, POLICY.distance) == []
    assert plan_refill(2, "A", {"A": 5}, POLICY.distance, include_origin=True) == [
        Source("A", 2)]


def test_distances_read_both_ways_and_unknown_pairs_are_far():
    assert POLICY.distance("C", "B") == 50 and POLICY.distance("B", "B") == 0
    assert POLICY.distance("A", "Z") == float("inf")


def picking(**attrs) -> Order:
    return Order(1, "b-1", OrderState.PICKING, 1, "CNY", 100, [OrderLine(1, "S", 1, 100)], T0,
                 paid=100, attrs=attrs)


@pytest.mark.parametrize(("units", "parcels", "loads"), [
    # one parcel per warehouse: each carries its warehouse's units
    ([(1, 1, "A", 2), (2, 1, "C", 1)], [(10, "A"), (11, "C")], [(1, 2, 10), (2, 1, 11)]),
    # two parcels from one warehouse: dealt in hold order, the first taking one more
    ([(1, 1, "A", 3)], [(10, "A"), (11, "A")], [(1, 2, 10), (1, 1, 11)]),
    ([(1, 1, "A", 1), (2, 1, "A", 1), (3, 1, "B", 2)], [(10, "A"), (11, "A"), (12, "B")],
     [(1, 1, 10), (2, 1, 11), (3, 2, 12)]),
    # a warehouse no parcel names: its units are in the step's parcels
    ([(1, 1, "A", 2), (2, 1, "B", 1)], [(10, "A")], [(1, 2, 10), (2, 1, 10)]),
    # more parcels than units: the last ones carry nothing; no parcel: nothing tagged
    ([(1, 1, "A", 1)], [(10, "A"), (11, "A"), (12, "A")], [(1, 1, 10)]),
    ([(1, 1, "A", 1)], [], []),
])
def test_every_sold_unit_travels_in_exactly_one_parcel(units, parcels, loads):
    assert parcel_loads(units, parcels) == [Load(*load) for load in loads]


@pytest.mark.parametrize(("units", "contents", "loads"), [
    # two boxes from one warehouse, each declaring its own line
    ([(1, 1, "A", 2), (2, 2, "A", 1)], {10: [(2, "A", 1)], 11: [(1, "A", 2)]},
     [(1, 2, 11), (2, 1, 10)]),
    # one row split over boxes as declared (not evenly): 1 and 3
    ([(1, 1, "A", 4)], {10: [(1, "A", 1)], 11: [(1, "A", 3)]}, [(1, 1, 10), (1, 3, 11)]),
    # a consolidated box: WH-C's unit travels in WH-A's box; the other box is empty
    ([(1, 1, "A", 1), (2, 1, "C", 1)], {10: [(1, "A", 1), (1, "C", 1)], 11: []},
     [(1, 1, 10), (2, 1, 10)]),
])
def test_declared_contents_put_each_unit_in_the_box_that_says_it_holds_it(units, contents,
                                                                          loads):
    parcels = [(10, "A"), (11, "A")]
    assert parcel_loads(units, parcels, contents) == [Load(*load) for load in loads]


SOLD = [(1, "A", 2), (2, "A", 1), (1, "C", 1)]


@pytest.mark.parametrize(("declared", "problems"), [
    ([[(1, "A", 2), (2, "A", 1)], [(1, "C", 1)]], {}),
    ([None, None], {}),
    ([[(1, "A", 2), (2, "A", 1), (1, "C", 1)], []], {}),
    ([[(1, "A", 2), (2, "A", 1)], None],
     {"parcels[1].lines": "declare what every box holds or none does (parcels[0] declares "
                          "its lines)"}),
    ([[(1, "A", 1), (2, "A", 1)], [(1, "A", 2), (1, "C", 1)]],
     {"parcels[1].lines[0].quantity": "2 is more than the 1 of line 1's 2 unit(s) sold from A "
                                      "that no earlier box holds"}),
    ([[(1, "A", 1), (2, "A", 1)], [(1, "C", 1)]],
     {"parcels[0].lines[0].quantity": "1 of line 1's 2 unit(s) sold from A in no box: every "
                                      "sold unit travels in exactly one box"}),
    ([[(1, "A", 2)], [(1, "C", 1), (3, "C", 1)]],
     {"parcels[1].lines[1].line_no": "no unit of line 3 was sold from C",
      "parcels": "1 of line 2's 1 unit(s) sold from A in no box: every sold unit travels in "
                 "exactly one box"}),
])
def test_declared_contents_must_hold_every_sold_unit_exactly_once(declared, problems):
    assert contents_problems(SOLD, declared) == problems


def test_pack_is_refused_until_someone_other_than_the_packer_confirmed():
    needs = {"double_check_needed": ["order value 100 is above 50"]}
    with pytest.raises(GuardRejected, match="none recorded yet"):
        ORDER_LIFECYCLE.fire(picking(), "pack", at=T0, actor="p1", **needs)
    checked = picking(double_check={"by": "p1", "at": T0.isoformat()})
    with pytest.raises(GuardRejected, match="done by p1, who is also packing"):
        ORDER_LIFECYCLE.fire(checked, "pack", at=T0, actor="p1", **needs)
    fired = ORDER_LIFECYCLE.fire(checked, "pack", at=T0, actor="p2", evidence=["img"], **needs)
    assert fired.payload == {"packed_by": "p2", "checked_by": "p1", "evidence": ["img"],
                             "double_check": ["order value 100 is above 50"]}


CLAIM_TABLE = {
    "buyer_compensated": {"file": "filed", "close": "closed"},
    "filed": {"carrier_pay": "paid", "carrier_reject": "rejected"},
    "paid": {}, "rejected": {}, "closed": {},
}


@pytest.mark.parametrize("state", list(CLAIM_TABLE))
@pytest.mark.parametrize("trigger", CLAIM_LIFECYCLE.triggers)
def test_every_claim_trigger_from_every_state_does_what_the_table_says(state, trigger):
    claim = Claim(1, 1, 1, ClaimKind.LOST, ClaimState(state), 1, goods_value=500, claimed=500)
    expected = CLAIM_TABLE[state].get(trigger)
    if expected is None:
        with pytest.raises(InvalidTransition):
            CLAIM_LIFECYCLE.fire(claim, trigger, at=T0, actor="t")
    else:
        assert CLAIM_LIFECYCLE.fire(claim, trigger, at=T0, actor="t").to_state == expected


def test_a_claim_never_asks_or_recovers_more_than_the_goods_are_worth():
    claim = Claim(1, 1, 1, ClaimKind.LOST, ClaimState.BUYER_COMPENSATED, 1, goods_value=500)
    with pytest.raises(GuardRejected, match="between 1 and the goods value 500"):
        CLAIM_LIFECYCLE.fire(claim, "file", at=T0, actor="t", amount=501)
    CLAIM_LIFECYCLE.fire(claim, "file", at=T0, actor="t", amount=400)
    with pytest.raises(GuardRejected, match="between 1 and the claimed 400"):
        CLAIM_LIFECYCLE.fire(claim, "carrier_pay", at=T0, actor="t", amount=401)
