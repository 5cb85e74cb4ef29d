"""Parcels going wrong at the same moment: two lost together, one lost as its sibling is
delivered, the carrier's word racing the logistics desk's (and two desks racing each other, or
the logistics watch), a case refund paid out as the parcel is lost, and a returned or
reshipped unit taken from the shelf as a buyer asks for the last of the stock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.races.conftest import TRIALS
from tests.integration.races.provider import SharedProvider
from tests.integration.races.shop import (
    PRICE,
    approved_refund_case,
    booked,
    in_transit,
    line,
    start_trial,
)

REFUSED = {"InvalidTransition", "GuardRejected"}  # the parcel moved on first


def scan(parcel, trial: int, status: str) -> tuple[str, dict]:
    return ("carrier_webhook", {"event_id": f"kd100-{trial}-{status}", "carrier": "sim-express",
                                "tracking_no": parcel.tracking_no, "status": status,
                                "location": "上海浦东分拨中心"})


@pytest.mark.parametrize("trials", TRIALS)
def test_both_parcels_of_an_order_reported_lost_at_once_refund_it_all_and_close_it(race,
                                                                                  trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order of two lines shipped in two parcels, both on their way
        start_trial(race, trial)
        order, parcels = in_transit(pilot, trial, parcels=2)
        # When two logistics desks report each parcel lost at the same moment
        outcomes = race.run(*[("report_lost", {"shipment_id": s, "settle": "refund"})
                              for s in parcels])
        # Then both claims are filed, the buyer is refunded everything once, the order ends
        assert [o.result for o in outcomes] == ["filed:refund"] * 2, (trial, outcomes)
        final = pilot.orders.get(order.id)
        ledger, pending = booked(pilot, order.id)
        assert (final.state, final.refunded, ledger, pending) == \
            ("completed", order.total, order.total, []), (trial, final, ledger, pending)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_one_parcel_delivered_as_its_sibling_is_reported_lost_ends_the_order(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order shipped in two parcels, both on their way
        start_trial(race, trial)
        order, (first, second) = in_transit(pilot, trial, parcels=2)
        # When the carrier delivers the first as logistics reports the second lost
        delivered, lost = race.run(scan(pilot.shipments.get(first), trial, "delivered"),
                                   ("report_lost", {"shipment_id": second}))
        # Then both apply; the order is delivered (or closed) with the lost line refunded
        assert delivered.ok and delivered.result is True, (trial, delivered)
        assert lost.ok, (trial, lost)
        final = pilot.orders.get(order.id)
        assert final.state in ("delivered", "completed"), (trial, final.state)
        assert final.refunded == PRICE, (trial, final.refunded)
        race.check([order.id])


@pytest.mark.parametrize("status", ["delivered", "returned_to_sender", "lost"])
@pytest.mark.parametrize("trials", TRIALS)
def test_the_carriers_word_vs_the_logistics_desk_declaring_the_parcel_lost(race, trials,
                                                                         status):
    pilot = race.open()
    for trial in range(trials):
        # Given an order shipped in one parcel, on its way
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        # When the carrier's scan (`status`) arrives as logistics declares the parcel lost
        word, lost = race.run(scan(pilot.shipments.get(parcel), trial, status),
                              ("report_lost", {"shipment_id": parcel, "settle": "refund"}))
        # Then the carrier's webhook is always accepted; the desk's loss stands unless the
        # parcel was delivered or returned first; the buyer is refunded at most once
        assert word.ok, (trial, word)
        assert lost.ok or lost.error in REFUSED, (trial, lost)
        final, state = pilot.orders.get(order.id), pilot.shipments.get(parcel).state
        if lost.ok:
            assert (state, final.state, final.refunded) == ("lost", "completed", order.total), \
                (trial, state, final, word)
        else:
            assert state == status, (trial, state, lost)
            assert final.refunded == 0, (trial, final)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_returned_unit_restocked_as_a_buyer_asks_for_the_whole_shelf(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given 5 units of a sku, one sold and shipped, its parcel back with the carrier's
        # return (4 left on the shelf)
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        pilot.shipments.fire(parcel, "return_to_sender", reason="收件人拒收")
        sku = order.lines[0].sku
        # When the warehouse puts the returned unit back as another buyer asks for all 5
        back, rival = race.run(
            ("receive_return", {"shipment_id": parcel}),
            ("place", {"buyer": f"b-rival-{trial}", "lines": [line(sku, 5)]}))
        # Then the unit is back; the rival holds all 5 only if it was back first, else is told
        # the sku sold out; nothing is held twice or goes negative
        assert back.ok, (trial, back)
        assert rival.ok or rival.error == "InsufficientStock", (trial, rival)
        level = pilot.inventory.level(sku=sku, warehouse="WH-0")
        assert (level.on_hand, level.reserved) == (5, 5 if rival.ok else 0), (trial, level)
        race.check([order.id] + ([rival.result] if rival.ok else []))


@pytest.mark.parametrize("trials", TRIALS)
def test_two_desks_reporting_one_parcel_lost_at_once_compensate_once(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given an order shipped in one parcel, on its way
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        # When two desks report it lost at the same moment (one refunds, one reships)
        outcomes = race.run(("report_lost", {"shipment_id": parcel, "settle": "refund"}),
                            ("report_lost", {"shipment_id": parcel, "settle": "reship"}))
        # Then one claim is filed and the buyer compensated once; the other desk is told the
        # parcel was settled already
        assert sorted(o.ok for o in outcomes) == [False, True], (trial, outcomes)
        assert [o.error for o in outcomes if not o.ok] == ["GuardRejected"], (trial, outcomes)
        final = pilot.orders.get(order.id)
        parcels = pilot.shipments.of_order(order.id)
        if outcomes[0].ok:  # refunded
            assert (final.refunded, len(parcels)) == (order.total, 1), (trial, final)
        else:  # reshipped in a new parcel
            assert (final.refunded, len(parcels)) == (0, 2), (trial, final, parcels)
        assert len(pilot.claims.list(order_id=order.id)) == 1, trial
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_a_lost_parcel_reshipped_as_a_buyer_asks_for_the_rest_of_the_shelf(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given 5 units of a sku, one sold and on its way (4 on the shelf)
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        sku = order.lines[0].sku
        # When logistics reships the lost unit as another buyer asks for the other 4
        lost, rival = race.run(("report_lost", {"shipment_id": parcel, "settle": "reship"}),
                               ("place", {"buyer": f"b-rival-{trial}", "lines": [line(sku, 4)]}))
        # Then the shelf serves one of them: the reship (the rival told it sold out), or the
        # rival (the buyer refunded instead); never both
        assert lost.ok, (trial, lost)
        assert rival.ok == (lost.result == "filed:refund"), (trial, lost, rival)
        assert rival.ok or rival.error == "InsufficientStock", (trial, rival)
        level = pilot.inventory.level(sku=sku, warehouse="WH-0")
        assert (level.on_hand, level.reserved) == ((4, 4) if rival.ok else (3, 0)), \
            (trial, level, lost, rival)
        race.check([order.id] + ([rival.result] if rival.ok else []))


@pytest.mark.parametrize("trials", TRIALS)
def test_a_case_refund_paid_out_as_the_parcel_is_reported_lost_pays_the_goods_once(
        race, trials, tmp_path):
    pilot = race.open()
    provider = SharedProvider(str(tmp_path / "provider.pickle"))
    for trial in range(trials):
        # Given an order of one unit on its way, and the buyer's approved refund-only case
        # for it (it has not arrived)
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        ref = f"alipay-{trial}"
        provider.paid(ref, order.total)
        case_id = approved_refund_case(pilot, order)
        # When the console pays the case out as logistics reports the parcel lost
        refund, lost = race.run(
            ("console_job", {"job": "settle-refund", "entity": case_id,
                             "provider": str(provider.path)}),
            ("report_lost", {"shipment_id": parcel, "settle": "refund",
                             "provider": str(provider.path)}))
        # Then the goods are paid back once, by one of them, and the store booked it
        assert lost.ok, (trial, lost)
        assert refund.ok or refund.error in REFUSED, (trial, refund)
        out = provider.refunded(ref)
        ledger, pending = booked(pilot, order.id)
        final = pilot.orders.get(order.id)
        assert (out, ledger, final.refunded, pending) == (order.total, order.total,
                                                          order.total, []), \
            (trial, out, ledger, final.refunded, pending, provider.asked(ref), refund, lost)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_the_logistics_watch_vs_the_scan_that_ends_a_parcels_silence(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a parcel stalled (no scan for 25 h) and silent since for the 72 h policy
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        race.at(race.now() + timedelta(hours=25))
        pilot.sweep(race.now())
        assert pilot.shipments.get(parcel).state == "stalled", trial
        race.at(race.now() + timedelta(hours=73))
        # When the logistics watch runs as the carrier's next scan arrives
        watch, word = race.run(("lose_silent_parcels", {}),
                               scan(pilot.shipments.get(parcel), trial, "in_transit"))
        # Then the parcel is declared lost only if the watch came first (the scan is then
        # recorded only); a parcel the scan set moving again is not lost nor refunded
        assert watch.ok and word.ok, (trial, watch, word)
        final, state = pilot.orders.get(order.id), pilot.shipments.get(parcel).state
        claims = [c["id"] for c in pilot.claims.list(order_id=order.id)]
        assert set(claims) <= set(watch.result), (trial, claims, watch)  # (older ones too)
        if claims:
            assert (state, word.result, final.refunded) == ("lost", False, order.total), \
                (trial, state, word, final)
        else:
            assert (state, word.result, final.refunded) == ("in_transit", True, 0), \
                (trial, state, word, final)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_an_operator_declaring_a_stalled_parcel_lost_vs_the_scan_that_ends_its_stall(race,
                                                                                     trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a parcel stalled (no scan for 25 h), its form waiting for an operator
        start_trial(race, trial)
        order, (parcel,) = in_transit(pilot, trial)
        race.at(race.now() + timedelta(hours=25))
        pilot.sweep(race.now())
        assert pilot.shipments.get(parcel).state == "stalled", trial
        # When the operator declares it lost as the carrier's next scan arrives
        lost, word = race.run(("declare_stalled_lost", {"shipment_id": parcel}),
                              scan(pilot.shipments.get(parcel), trial, "in_transit"))
        # Then the parcel is lost only if the operator came first; after the scan the stall
        # the form was about is over, and the operator is told so (as a chase would be)
        assert word.ok, (trial, word)
        assert lost.ok or lost.error == "InvalidTransition", (trial, lost)
        final, state = pilot.orders.get(order.id), pilot.shipments.get(parcel).state
        if lost.ok:
            assert (state, word.result, final.refunded) == ("lost", False, order.total), \
                (trial, state, word, final)
        else:
            assert (state, word.result, final.refunded) == ("in_transit", True, 0), \
                (trial, state, word, final)
        race.check([order.id])
