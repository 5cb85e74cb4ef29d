"""A waybill number typed by a person (a label bought at an SF counter, entered on `ship`) or
given by a replay is stored with its parcel; the default (simulated) carrier adapter numbers
from the store's counter per prefix (SF-0000001, …). The counter moves past such a number in
the parcel's transaction, so the adapter never hands it out again: two parcels under one
waybill would share every Kuaidi100 push (records.carrier_of_tracking finds the newer)."""

from __future__ import annotations

import pytest

from integrations.db.carrier_store import simulated_count
from integrations.replay import bulk
from integrations.service.carrier_adapters import carrier_adapter
from statemachine.errors import InvalidInput
from statemachine.ports import WaybillRefused, WaybillRequest
from tests.factories import ADDRESS, paid_order, stock


def packed(pilot, buyer: str) -> str:
    order = paid_order(pilot, buyer=buyer, quantity=1)
    for trigger in ("start_picking", "pack"):
        pilot.orders.fire(order.id, trigger, actor="packer:李雷")
    return order.id


def bought(pilot, carrier: str, count: int) -> list[str]:
    """`count` waybills bought from the default adapter of `carrier` (the CLI's, console's)."""
    adapter = carrier_adapter(pilot.context, carrier)
    return [adapter.create_waybill(WaybillRequest(f"o-{n}", 1, "WH-1", ADDRESS, 12_900))
            .tracking_no for n in range(1, count + 1)]


def test_a_typed_sf_number_is_never_handed_out_by_the_adapter(any_pilot):
    # Given the SF counter at SF-0000003, and a packed order
    stock(any_pilot, quantity=10)
    assert bought(any_pilot, "SF", 3) == ["SF-0000001", "SF-0000002", "SF-0000003"]
    order = packed(any_pilot, "b-1")
    # When a person ships it under SF-0000050, typed, with another carrier's name (zto)
    any_pilot.orders.fire(order, "ship", actor="lead:陈静",
                          parcels=[{"carrier": "zto", "tracking_no": "SF-0000050"}])
    # Then the number is kept as typed, and the SF adapter ("SF" or "sf": one count) goes on
    # after it, never repeating it
    assert [p.tracking_no for p in any_pilot.shipments.of_order(order)] == ["SF-0000050"]
    assert bought(any_pilot, "sf", 2) == ["SF-0000051", "SF-0000052"]
    # and a typed number below the counter leaves it where it is (max, never back)
    later = packed(any_pilot, "b-2")
    any_pilot.orders.fire(later, "ship", parcels=[{"carrier": "sf", "tracking_no": "SF-0000010"}])
    assert bought(any_pilot, "SF", 1) == ["SF-0000053"]


def test_a_typed_number_of_a_prefix_never_counted_starts_its_counter(any_pilot):
    # Given a parcel typed under JD-0000007, a prefix the adapter never numbered for yet, and
    # one whose number is no adapter's (a real SF waybill): the counters pass only the first
    stock(any_pilot, quantity=10)
    first, second = packed(any_pilot, "b-1"), packed(any_pilot, "b-2")
    any_pilot.orders.fire(first, "ship", parcels=[{"carrier": "jd", "tracking_no": "JD-0000007"}])
    any_pilot.orders.fire(second, "ship",
                          parcels=[{"carrier": "sf", "tracking_no": "SF1460981234567"}])
    # When the adapter of carrier "jd" numbers its first waybills, then it starts after it
    assert bought(any_pilot, "jd", 1) == ["JD-0000008"]
    assert bought(any_pilot, "SF", 1) == ["SF-0000001"]


def test_a_replay_batch_moves_the_counter_past_its_highest_number(any_pilot, clock):
    # Given three packed orders
    stock(any_pilot, quantity=10)
    orders = [packed(any_pilot, f"b-{n}") for n in range(1, 4)]
    # When one replay batch ships them under SF numbers given by the source, out of order
    given = ["SIM-EXPRESS-0000070", "SF-0000120", "SF-0000090"]
    with any_pilot.context.tx() as tx:
        refused = bulk.fire_orders(any_pilot.context, tx, [
            bulk.Move(int(o[2:]), "ship", clock.now(), "replay",
                      {"parcels": [{"carrier": "sf", "tracking_no": number}]})
            for o, number in zip(orders, given, strict=True)])
    assert refused == []
    # Then each prefix's adapter counts on from the highest of that prefix in the batch
    assert bought(any_pilot, "SF", 1) == ["SF-0000121"]
    assert bought(any_pilot, "sim-express", 1) == ["SIM-EXPRESS-0000071"]


def test_only_numbers_the_simulated_carrier_could_hand_out_are_counted():
    assert simulated_count("SF-0000050") == ("SF", 50)
    assert simulated_count("SIM-EXPRESS-12345678") == ("SIM-EXPRESS", 12_345_678)
    assert simulated_count("顺丰-0000050") == ("顺丰", 50)
    # in any case: a person's sf-0000050 is SF's SF-0000050 (statemachine/waybills.py)
    assert simulated_count("sf-0000050") == simulated_count("Sf-0000050") == ("SF", 50)
    # not the adapter's: our own o-7-1, too few digits, other characters after the dash, a
    # count past a BIGINT, a prefix longer than the counter's column, a lower-case letter
    # only Unicode capitalises (the adapter writes СФ-…, the key of сф- keeps it)
    for number in ("сф-0000050", "o-7-1", "SF-000050", "SF-0000050A", "SF1460981234567",
                   "SF-" + "9" * 19, "X" * 65 + "-0000001", "SF-０００００５０"):
        assert simulated_count(number) is None, number


def test_the_adapter_refuses_clearly_when_a_prefix_has_no_number_left(any_pilot):
    # Given a lead typed SF-9223372036854775806 (2**63 - 2) on a box: the SF counter is there
    stock(any_pilot, quantity=10)
    order = packed(any_pilot, "b-1")
    any_pilot.orders.fire(order, "ship",
                          parcels=[{"carrier": "sf", "tracking_no": f"SF-{2**63 - 2}"}])
    # When the SF adapter numbers waybills past the counter's last (a BIGINT's)
    assert bought(any_pilot, "SF", 1) == [f"SF-{2**63 - 1}"]
    # Then the next is refused as the carrier refuses a label (nothing bought), naming why —
    # not handed out as 2**63 again and again (SQLite's REAL) nor a store's "bigint out of
    # range" — and the counter stays at its last number
    for _ in range(2):
        with pytest.raises(WaybillRefused, match=r"numbers are used up \(SF-9223372036854775807"):
            bought(any_pilot, "sf", 1)
    with any_pilot.context.tx(readonly=True) as tx:
        assert tx.store.sql.all("SELECT prefix, last_no FROM waybill_counters") == [
            ("SF", 2**63 - 1)]


def test_a_number_typed_in_lower_case_is_the_carriers_number_in_capitals(any_pilot):
    # Given a packed order shipped under sf-0000050, typed in lower case under carrier "SF"
    stock(any_pilot, quantity=10)
    first, second, third = (packed(any_pilot, f"b-{n}") for n in range(1, 4))
    any_pilot.orders.fire(first, "ship", parcels=[{"carrier": "SF", "tracking_no": "sf-0000050"}])
    # Then the SF adapter never hands out SF-0000050 (it goes on after it)
    assert bought(any_pilot, "SF", 1) == ["SF-0000051"]
    # And the same waybill as printed, under "sf", is refused while that parcel is on its way
    with pytest.raises(InvalidInput, match=r"sf SF-0000050 is the waybill of s-1"):
        any_pilot.orders.fire(second, "ship",
                              parcels=[{"carrier": "sf", "tracking_no": "SF-0000050"}])
    # And one ship naming it twice, in two cases, is refused as a repeated waybill
    with pytest.raises(InvalidInput, match="repeats the carrier and tracking_no"):
        any_pilot.orders.fire(third, "ship", parcels=[
            {"carrier": "sf", "tracking_no": "SF-0000060", "warehouse": "WH-1"},
            {"carrier": "SF", "tracking_no": "sf-0000060", "warehouse": "WH-1"}])
    assert any_pilot.orders.get(second).state == any_pilot.orders.get(third).state == "packed"
    # And a search by the number as printed finds the order
    assert [o.id for o in any_pilot.orders.search("SF-0000050").orders] == [first]
