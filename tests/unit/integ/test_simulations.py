"""The simulated carrier and gateway: deterministic, with the failures they are configured for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from integrations.carriers.simulated import Knobs, SimulatedCarrier
from integrations.payments.simulated import AdoptingGateway, SimulatedGateway
from statemachine.clock import ManualClock
from statemachine.ports import PermanentPaymentError, TransientPaymentError
from statemachine.tracking import CarrierStatus as St
from tests.unit.integ.test_port_contracts import PROFILE, START, waybill_request


def journey(knobs: Knobs, parcels: int = 5) -> list[list[tuple]]:
    clock = ManualClock(START)
    carrier = SimulatedCarrier(PROFILE, clock, knobs)
    numbers = [carrier.create_waybill(waybill_request(parcel_no=n)).tracking_no
               for n in range(parcels)]
    clock.advance(days=60)
    return [[(e.status, e.at) for e in carrier.tracking(n)] for n in numbers]


def test_the_same_seed_gives_the_same_journeys_and_another_seed_does_not():
    assert journey(Knobs(seed=7)) == journey(Knobs(seed=7))
    assert journey(Knobs(seed=7)) != journey(Knobs(seed=8))


def test_without_losses_every_parcel_is_delivered_in_scan_order():
    for events in journey(Knobs(seed=1), parcels=20):
        statuses = [s for s, _ in events]
        assert statuses[:2] == [St.LABEL_CREATED, St.PICKED_UP]
        assert statuses[-2:] == [St.OUT_FOR_DELIVERY, St.DELIVERED]


def test_with_loss_rate_one_every_parcel_ends_lost():
    assert {events[-1][0] for events in journey(Knobs(seed=1, loss_rate=1.0))} == {St.LOST}


def test_a_stalled_parcel_goes_quiet_and_a_chase_makes_it_scan_again_soon():
    clock = ManualClock(START)
    knobs = Knobs(seed=2, stall_rate=1.0, stall_hours=200, hop_hours=(1, 2), hops=(1, 1),
                  pickup_hours=(1, 1))
    carrier = SimulatedCarrier(PROFILE, clock, knobs)
    number = carrier.create_waybill(waybill_request()).tracking_no
    clock.advance(hours=48)
    assert carrier.tracking(number)[-1].status is St.PICKED_UP  # quiet for days
    carrier.chase(number, "no scan for 24 h")
    clock.advance(hours=knobs.chase_answer_hours)
    assert carrier.tracking(number)[-1].status is St.IN_TRANSIT


def test_a_transient_failure_leaves_nothing_behind_and_a_retry_applies_once():
    gateway = SimulatedGateway(seed=4, transient_rate=0.0)
    checkout = gateway.checkout("o-1", 5000, "CNY", idempotency_key="checkout:o-1")
    gateway.transient_rate = 0.5
    failures, result = 0, None
    while result is None:
        try:
            result = gateway.capture(checkout.payment_ref, 5000, "CNY",
                                     idempotency_key="capture:o-1")
        except TransientPaymentError:
            failures += 1
    assert failures >= 1  # seed 4 fails the capture first: the retry path was exercised
    assert [r.kind for r in gateway.books] == ["charge"]  # no half-made capture before it
    gateway.transient_rate = 0.0
    assert gateway.capture(checkout.payment_ref, 5000, "CNY",
                           idempotency_key="capture:o-1") == result
    assert [r.kind for r in gateway.books] == ["charge"]


def test_amounts_over_the_decline_limit_are_permanent_failures():
    gateway = SimulatedGateway(decline_above=10_000)
    checkout = gateway.checkout("o-1", 10_001, "CNY", idempotency_key="k0")
    with pytest.raises(PermanentPaymentError, match="declined"):
        gateway.capture(checkout.payment_ref, 10_001, "CNY", idempotency_key="k")


def test_promised_days_come_from_the_profile():
    clock = ManualClock(START)
    waybill = SimulatedCarrier(PROFILE, clock).create_waybill(waybill_request())
    assert waybill.promised_by - waybill.created_at == timedelta(days=PROFILE.promised_days)


def test_a_payment_charged_back_is_not_refunded_while_disputed_nor_once_lost():
    gateway = SimulatedGateway()
    checkout = gateway.checkout("o-1", 5000, "CNY", idempotency_key="checkout:o-1")
    gateway.capture(checkout.payment_ref, 5000, "CNY", idempotency_key="capture:o-1")
    dispute = gateway.open_dispute(checkout.payment_ref, 5000)
    with pytest.raises(PermanentPaymentError, match="charge_disputed"):
        gateway.refund(checkout.payment_ref, 100, idempotency_key="refund:1")
    gateway.accept(dispute, idempotency_key="accept:1")  # conceded: the buyer has the money
    with pytest.raises(PermanentPaymentError, match="charge_disputed"):
        gateway.refund(checkout.payment_ref, 100, idempotency_key="refund:2")
    assert [r.kind for r in gateway.books] == ["charge", "dispute"]


def test_a_refund_beyond_what_is_left_names_the_providers_refusal():
    gateway = SimulatedGateway()
    checkout = gateway.checkout("o-1", 5000, "CNY", idempotency_key="checkout:o-1")
    gateway.capture(checkout.payment_ref, 5000, "CNY", idempotency_key="capture:o-1")
    with pytest.raises(PermanentPaymentError, match=r"\(amount_too_large\)"):
        gateway.refund(checkout.payment_ref, 5001, idempotency_key="refund:1")
    gateway.refund(checkout.payment_ref, 5000, idempotency_key="refund:2")
    with pytest.raises(PermanentPaymentError, match=r"\(charge_already_refunded\)"):
        gateway.refund(checkout.payment_ref, 1, idempotency_key="refund:3")


@dataclass
class Book:
    """The store's record of one payment, as the service context hands it to the gateway."""

    captured: int = 5000
    currency: str = "CNY"
    refunds: dict[str, int] = field(default_factory=dict)
    charged_back: bool = False
    authorised: int = 0


def test_an_adopted_payment_is_refunded_within_what_the_store_and_the_gateway_paid_back():
    # Given a ¥50 payment made elsewhere, ¥30 of it refunded by another process (booked)
    book = Book(refunds={"op:refund:c-1": 3000})
    gateway = AdoptingGateway(book=lambda ref: book if ref == "pay-1" else None)
    # When ¥25 is asked for, Then it is refused; ¥20 is paid
    with pytest.raises(PermanentPaymentError, match=r"left on pay-1 \(2000\)"):
        gateway.refund("pay-1", 2500, idempotency_key="refund:c-2")
    gateway.refund("pay-1", 2000, idempotency_key="refund:c-3")
    # And once the store books that refund too, it is not counted twice: nothing is left
    book.refunds["op:refund:c-3"] = 2000
    with pytest.raises(PermanentPaymentError, match=r"\(charge_already_refunded\)"):
        gateway.refund("pay-1", 1, idempotency_key="refund:c-4")
    book.refunds.clear()  # (a store that lost its rows still leaves the gateway's own)
    with pytest.raises(PermanentPaymentError, match=r"left on pay-1 \(3000\)"):
        gateway.refund("pay-1", 3001, idempotency_key="refund:c-5")


def test_an_adopted_payment_charged_back_or_unknown_is_not_refunded():
    gateway = AdoptingGateway(book=lambda ref: Book(charged_back=True) if ref == "pay-1"
                              else None)
    with pytest.raises(PermanentPaymentError, match="charge_disputed"):
        gateway.refund("pay-1", 100, idempotency_key="refund:c-1")
    with pytest.raises(PermanentPaymentError, match="no payment pay-2"):
        gateway.refund("pay-2", 100, idempotency_key="refund:c-2")
    with pytest.raises(PermanentPaymentError, match="no payment pay-3"):
        AdoptingGateway().refund("pay-3", 100, idempotency_key="refund:c-3")  # no store


def test_an_adopted_authorisation_is_captured_within_what_the_store_asked_and_once():
    # Given a ¥50 authorisation the store recorded a capture of (nothing captured yet)
    gateway = AdoptingGateway(book=lambda ref: Book(captured=0, authorised=5000)
                              if ref == "pay-1" else None)
    # When more is asked, Then it is refused; the ¥50 is captured, in the booked currency
    with pytest.raises(PermanentPaymentError, match="exceeds the authorised 5000"):
        gateway.capture("pay-1", 5001, "CNY", idempotency_key="capture:o-1")
    result = gateway.capture("pay-1", 5000, "CNY", idempotency_key="capture:o-1:2")
    assert (result.amount, result.currency) == (5000, "CNY")
    # And a captured payment is not released
    with pytest.raises(PermanentPaymentError, match="was captured: refund it instead"):
        gateway.void("pay-1", idempotency_key="void:o-1")


def test_an_authorisation_unknown_to_the_store_is_neither_captured_nor_released():
    gateway = AdoptingGateway(book=lambda ref: Book(captured=0) if ref == "pay-1" else None)
    for ref in ("pay-1", "pay-2"):  # booked with no capture or release asked; not booked
        with pytest.raises(PermanentPaymentError, match=rf"no payment {ref} authorised"):
            gateway.capture(ref, 100, "CNY", idempotency_key=f"capture:{ref}")
        with pytest.raises(PermanentPaymentError, match=r"\(resource_missing\)"):
            gateway.void(ref, idempotency_key=f"void:{ref}")
    with pytest.raises(PermanentPaymentError, match="no payment pay-3 authorised"):
        AdoptingGateway().void("pay-3", idempotency_key="void:pay-3")  # no store
