"""One contract for the PaymentGateway port, run against the in-memory fake, the simulated
gateway, and the real Stripe and Alipay adapters (official SDKs → local provider servers)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from integrations.payments.simulated import SimulatedGateway
from statemachine.ports import PermanentPaymentError, RefundLine
from tests.integration.payments.conftest import alipay_gateway_for, stripe_gateway_for
from tests.unit.integ.fakes import FakeGateway


@dataclass
class Provider:
    gateway: Any
    buyer_pays: Callable[[str], None]  # the buyer completes the checkout (authorises / pays)
    scans: Callable[[str], None] = lambda ref: None  # the buyer opens the payment, no more


@pytest.fixture(params=["fake", "simulated", "stripe", "alipay"])
def provider(request) -> Provider:
    if request.param == "fake":
        fake = FakeGateway()
        return Provider(fake, fake.authorise)
    if request.param == "simulated":
        simulated = SimulatedGateway(buyer_pays=False)
        return Provider(simulated, simulated.authorise)
    if request.param == "stripe":
        fake_stripe = request.getfixturevalue("fake_stripe")
        return Provider(stripe_gateway_for(fake_stripe), fake_stripe.authorise)
    fake_alipay = request.getfixturevalue("fake_alipay")
    return Provider(alipay_gateway_for(fake_alipay), fake_alipay.pay, fake_alipay.scan)


def paid(provider: Provider, order: str = "o-1", amount: int = 5000) -> str:
    checkout = provider.gateway.checkout(order, amount, "CNY",
                                         idempotency_key=f"checkout:{order}")
    provider.buyer_pays(checkout.payment_ref)
    provider.gateway.capture(checkout.payment_ref, amount, "CNY",
                             idempotency_key=f"capture:{order}")
    return checkout.payment_ref


def test_a_checkout_repeated_with_its_key_opens_one_payment(provider):
    first = provider.gateway.checkout("o-1", 5000, "CNY", idempotency_key="checkout:o-1")
    again = provider.gateway.checkout("o-1", 5000, "CNY", idempotency_key="checkout:o-1")
    assert first.payment_ref == again.payment_ref and first.amount == 5000


def test_a_capture_repeated_with_its_key_returns_the_first_result(provider):
    checkout = provider.gateway.checkout("o-1", 5000, "CNY", idempotency_key="checkout:o-1")
    provider.buyer_pays(checkout.payment_ref)
    first = provider.gateway.capture(checkout.payment_ref, 5000, "CNY", idempotency_key="c1")
    again = provider.gateway.capture(checkout.payment_ref, 5000, "CNY", idempotency_key="c1")
    assert (first.kind, first.amount, first.payment_ref) == ("capture", 5000,
                                                             checkout.payment_ref)
    assert again.ref == first.ref


def test_partial_and_line_level_refunds_never_exceed_the_capture(provider):
    ref = paid(provider)
    gateway = provider.gateway
    gateway.refund(ref, 1000, idempotency_key="refund:c-1")
    lines = (RefundLine(1, 1, 1500), RefundLine(2, 1, 500))
    assert gateway.refund(ref, 2000, idempotency_key="refund:c-2", lines=lines).lines == lines
    assert gateway.refund(ref, 1000, idempotency_key="refund:c-1").amount == 1000  # replay
    with pytest.raises(PermanentPaymentError):
        gateway.refund(ref, 2001, idempotency_key="refund:c-3")
    with pytest.raises(PermanentPaymentError):
        gateway.refund(ref, 100, idempotency_key="refund:c-4", lines=(RefundLine(1, 1, 99),))
    assert gateway.refund(ref, 2000, idempotency_key="refund:c-5").amount == 2000


def test_a_refund_key_reused_for_another_amount_is_a_permanent_failure(provider):
    ref = paid(provider)
    provider.gateway.refund(ref, 1000, idempotency_key="refund:c-1")
    with pytest.raises(PermanentPaymentError):
        provider.gateway.refund(ref, 1200, idempotency_key="refund:c-1")


def test_void_releases_a_payment_that_was_never_paid_and_nothing_is_captured_after(provider):
    checkout = provider.gateway.checkout("o-1", 5000, "CNY", idempotency_key="checkout:o-1")
    provider.scans(checkout.payment_ref)
    assert provider.gateway.void(checkout.payment_ref, idempotency_key="void:o-1").kind == "void"
    with contextlib.suppress(ValueError, PermanentPaymentError):  # the buyer is refused too
        provider.buyer_pays(checkout.payment_ref)
    with pytest.raises(PermanentPaymentError):
        provider.gateway.capture(checkout.payment_ref, 5000, "CNY", idempotency_key="c1")


def test_a_captured_payment_cannot_be_voided_only_refunded(provider):
    ref = paid(provider)
    with pytest.raises(PermanentPaymentError):
        provider.gateway.void(ref, idempotency_key="void:o-1")
    assert provider.gateway.refund(ref, 5000, idempotency_key="refund:o-1").amount == 5000


def test_refunding_an_unknown_payment_is_permanent(provider):
    with pytest.raises(PermanentPaymentError):
        provider.gateway.refund("o-404", 100, idempotency_key="refund:c-404")


@pytest.fixture(params=["simulated", "stripe"])  # Alipay has no dispute API (docs/payments.md)
def disputable(request) -> tuple[Provider, Callable[[str, int], None]]:
    if request.param == "simulated":
        simulated = SimulatedGateway(buyer_pays=False)
        return Provider(simulated, simulated.authorise), simulated.open_dispute
    fake_stripe = request.getfixturevalue("fake_stripe")
    return (Provider(stripe_gateway_for(fake_stripe), fake_stripe.authorise),
            lambda ref, amount: fake_stripe.open_dispute(ref, amount))


def test_a_payment_under_dispute_is_not_refunded_even_in_part(disputable):
    # Given a ¥50 payment whose buyer's bank disputes ¥20 of it
    provider, open_dispute = disputable
    ref = paid(provider)
    open_dispute(ref, 2000)
    # When ¥10 of the undisputed rest is refunded, Then the provider refuses: Stripe refunds
    # no charge the bank is taking back (before, the simulated gateway paid it)
    with pytest.raises(PermanentPaymentError, match="charge_disputed"):
        provider.gateway.refund(ref, 1000, idempotency_key="refund:c-1")
