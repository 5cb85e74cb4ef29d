"""Lost, damaged and returned parcels: the buyer is compensated first, the carrier claim is
tracked to its end, stock and the order end consistent."""

from __future__ import annotations

import pytest

from statemachine.errors import GuardRejected, InvalidInput, InvalidTransition
from tests.factories import delivered_order, paid_order, shipped_order, stock

from .conftest import make_pilot


def moving_parcel(shop, **kw):
    order = shipped_order(shop, **kw)
    [parcel] = shop.shipments.of_order(order.id)
    shop.shipments.fire(parcel.id, "pick_up", location="hub")
    return order, parcel


def test_a_lost_parcel_is_refunded_first_and_the_order_closes_refunded(shop):
    # Given a parcel of 2 × 1999 in transit
    stock(shop, "SKU-1", "WH-A", 5)
    order, parcel = moving_parcel(shop, quantity=2, unit_price=1999)
    # When the carrier confirms the loss
    claim = shop.claims.report_lost(parcel.id, reason="carrier: lost at sorting centre")
    # Then the buyer is refunded at once, the claim is filed for the goods' value
    after = shop.orders.get(order.id)
    assert (after.state, after.refunded, after.payment_status) == ("completed", 3998, "refunded")
    assert (claim["kind"], claim["state"], claim["compensation"]) == ("lost", "filed", "refund")
    assert (claim["compensated"], claim["claimed"]) == (3998, 3998)
    assert shop.shipments.get(parcel.id).state == "lost"
    # When the carrier pays out, the claim ends paid
    paid = shop.claims.fire(claim["id"], "carrier_pay", amount=3500, carrier_ref="SF-889")
    assert (paid["state"], paid["recovered"]) == ("paid", 3500)
    claim_steps = [h.trigger for h in shop.orders.history(order.id) if h.entity == "claim"]
    assert claim_steps == ["open", "file", "carrier_pay"]
    assert shop.inventory.reconcile() == []


def test_a_lost_parcel_can_be_reshipped_and_the_order_delivers_with_the_new_parcel(
        sqlite_url, clock):
    # Given a shop that reships lost parcels
    shop = make_pilot(sqlite_url, clock, lost_parcel="reship")
    stock(shop, "SKU-1", "WH-A", 5)
    order, parcel = moving_parcel(shop, quantity=2)
    # When the parcel is lost
    claim = shop.claims.report_lost(parcel.id, reason="no scan")
    # Then a replacement parcel leaves with 2 more units sold, nothing refunded
    assert (claim["compensation"], claim["compensated"]) == ("reship", 0)
    [replacement] = claim["details"]["replacement"]
    assert {lv.warehouse: lv.on_hand for lv in shop.inventory.levels()} == {"WH-A": 1}
    assert shop.orders.get(order.id).state == "shipped"
    # When the replacement is delivered, the order is delivered
    for trigger in ("pick_up", "deliver"):
        shop.shipments.fire(replacement, trigger)
    assert shop.orders.get(order.id).state == "delivered"
    shop.close()


def test_a_stalled_parcel_silent_past_the_policy_is_declared_lost(shop, clock):
    stock(shop, "SKU-1", "WH-A", 5)
    order, parcel = moving_parcel(shop)
    shop.shipments.fire(parcel.id, "stall", reason="no scan")
    clock.advance(hours=71)
    assert shop.claims.lose_silent_parcels() == []
    clock.advance(hours=2)
    [claim_id] = shop.claims.lose_silent_parcels()
    assert shop.claims.get(claim_id)["shipment_id"] == parcel.id
    assert shop.orders.get(order.id).state == "completed"


def test_damage_on_delivery_opens_a_case_of_the_right_kind(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    stock(shop, "SKU-TV", "WH-A", 5)
    cheap = delivered_order(shop, buyer="b-1", quantity=1, unit_price=1999)
    dear = delivered_order(shop, buyer="b-2", sku="SKU-TV", quantity=1, unit_price=40_000)
    [cheap_parcel] = shop.shipments.of_order(cheap.id)
    [dear_parcel] = shop.shipments.of_order(dear.id)
    photos = ["https://img.example/dent.jpg"]
    small = shop.claims.report_damaged(cheap_parcel.id, lines=[{"line_no": 1, "quantity": 1}],
                                       photos=photos, reason="dented box")
    big = shop.claims.report_damaged(dear_parcel.id, lines=[{"line_no": 1, "quantity": 1}],
                                     photos=photos, reason="cracked screen")
    assert shop.cases.get(small["case"]).kind == "refund_only"
    assert shop.cases.get(big["case"]).kind == "return_refund"
    claim = shop.claims.get(big["claim"])
    assert (claim["kind"], claim["state"], claim["claimed"]) == ("damaged", "filed", 40_000)
    assert claim["details"]["photos"] == photos
    with pytest.raises(InvalidInput, match="photos"):
        shop.claims.report_damaged(cheap_parcel.id, lines=[{"line_no": 1, "quantity": 1}],
                                   photos=[], reason="x")


def test_a_parcel_returned_intact_goes_back_on_the_shelf_and_the_buyer_is_refunded(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order, parcel = moving_parcel(shop, quantity=2, unit_price=1000)
    shop.shipments.fire(parcel.id, "return_to_sender", reason="address unknown")
    claim = shop.claims.receive_return(parcel.id, result="ok", notes="seal intact")
    assert (claim["state"], claim["compensated"]) == ("closed", 2000)
    assert shop.inventory.levels()[0].on_hand == 5
    after = shop.orders.get(order.id)
    assert (after.state, after.payment_status) == ("completed", "refunded")
    assert shop.inventory.reconcile() == []


def test_a_parcel_returned_damaged_is_written_off_and_claimed(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order, parcel = moving_parcel(shop, quantity=2, unit_price=1000)
    shop.shipments.fire(parcel.id, "return_to_sender", reason="refused by buyer")
    claim = shop.claims.receive_return(parcel.id, result="damaged", notes="soaked",
                                       actor="inspector-3")
    assert (claim["state"], claim["claimed"]) == ("filed", 2000)
    assert shop.inventory.levels()[0].on_hand == 3
    [adj] = shop.fulfilment.adjustments()
    assert (adj["delta"], adj["kind"], adj["actor"]) == (-2, "return_write_off", "inspector-3")


def test_a_return_can_be_reshipped_instead(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order, parcel = moving_parcel(shop, quantity=1)
    shop.shipments.fire(parcel.id, "return_to_sender", reason="address unknown")
    claim = shop.claims.receive_return(parcel.id, result="ok", settle="reship")
    assert claim["compensation"] == "reship" and shop.orders.get(order.id).state == "shipped"
    assert len(shop.shipments.of_order(order.id)) == 2


def test_claims_refuse_what_does_not_fit(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order, parcel = moving_parcel(shop)
    with pytest.raises(GuardRejected, match="has not returned this parcel"):
        shop.claims.receive_return(parcel.id, result="ok")
    with pytest.raises(InvalidInput, match="settle"):
        shop.claims.report_lost(parcel.id, reason="x", settle="pray")
    claim = shop.claims.report_lost(parcel.id, reason="lost")
    with pytest.raises(GuardRejected, match="already settled|already open"):
        shop.claims.report_lost(parcel.id, reason="lost again")
    with pytest.raises(GuardRejected, match="payout must be between 1 and the claimed"):
        shop.claims.fire(claim["id"], "carrier_pay", amount=10**9)
    rejected = shop.claims.fire(claim["id"], "carrier_reject", reason="not insured")
    assert rejected["state"] == "rejected"
    with pytest.raises(InvalidTransition, match="cannot carrier_pay from rejected"):
        shop.claims.fire(claim["id"], "carrier_pay")


def test_the_evidence_pack_carries_outbound_evidence_the_double_check_and_claims(shop,
                                                                                 tmp_path):
    from orderpilot.api_integrations import evidence_pack

    stock(shop, "SKU-1", "WH-A", 5)
    order = shop.orders.fire(paid_order(shop, quantity=1, unit_price=60_000).id,
                             "start_picking")
    shop.orders.fire(order.id, "double_check", actor="checker-2")
    shop.orders.fire(order.id, "pack", actor="packer-1", evidence=["scan:PK-77"])
    shop.orders.fire(order.id, "ship")
    [parcel] = shop.shipments.of_order(order.id)
    shop.shipments.fire(parcel.id, "pick_up")
    shop.claims.report_lost(parcel.id, reason="lost")
    files = evidence_pack(shop, order.id, tmp_path)
    section = files.pack["fulfilment"]
    assert section["outbound_evidence"] == ["scan:PK-77"]
    assert section["double_check"]["by"] == "checker-2"
    assert section["claims"][0]["compensated"] == 60_000
    markdown = files.markdown_path.read_text()
    assert "- outbound evidence: scan:PK-77" in markdown
    assert "buyer got refund 60000; carrier claim filed" in markdown


def test_a_second_damage_report_for_the_same_parcel_opens_nothing(shop):
    stock(shop, "SKU-1", "WH-A", 5)
    order = delivered_order(shop, quantity=2, unit_price=1000)
    [parcel] = shop.shipments.of_order(order.id)
    report = dict(lines=[{"line_no": 1, "quantity": 1}], photos=["p.jpg"], reason="dent")
    shop.claims.report_damaged(parcel.id, **report)
    with pytest.raises(GuardRejected, match="a claim for this parcel is already open"):
        shop.claims.report_damaged(parcel.id, **report)
    with shop.context.tx(readonly=True) as tx:  # the case of the refused report rolled back
        assert len(tx.store.cases_of(int(order.id[2:]))) == 1


def _stall_answer(shop, parcel_id: str) -> str:
    from integrations.console.decisions import act_on_stall
    from integrations.console.jobs import Ports

    ports = Ports(shop.context.gateway, carrier=None, notify=lambda message: None)
    return act_on_stall(shop.context, ports, parcel_id, {
        "action": "declare_lost", "operator": "lee", "note": "no scan for 6 days"})


def test_a_stall_form_declaring_lost_a_parcel_moving_again_is_refused_one_lost_meanwhile_is_settled(
        shop):
    # Given two stalled parcels: a scan then sets the first moving, the carrier reports the
    # second lost (without compensating anyone)
    stock(shop, "SKU-1", "WH-A", 5)
    (moving_order, moving), (lost_order, lost) = moving_parcel(shop), moving_parcel(shop)
    for parcel in (moving, lost):
        shop.shipments.fire(parcel.id, "stall", reason="no scan")
    shop.shipments.fire(moving.id, "scan", location="hub")
    shop.shipments.fire(lost.id, "lose", reason="carrier: lost")
    # When an operator answers each stall form with "declare lost"
    with pytest.raises(InvalidTransition, match="in_transit"):
        _stall_answer(shop, moving.id)
    assert _stall_answer(shop, lost.id).startswith("declared lost by ops:lee")
    # Then the moving parcel is untouched; the lost one's buyer is compensated
    assert shop.shipments.get(moving.id).state == "in_transit"
    assert (shop.orders.get(moving_order.id).refunded, shop.claims.list(
        order_id=moving_order.id)) == (0, [])
    assert shop.orders.get(lost_order.id).refunded == lost_order.total
