"""One contract per port, run against the in-memory fake and the simulated / real adapter
(the payment gateway's contract runs in tests/integration/payments: its real adapters need
the local provider servers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from integrations.carriers.simulated import Knobs, SimulatedCarrier
from integrations.notifications.apprise_notifier import AppriseNotifier
from statemachine.clock import ManualClock
from statemachine.ports import (
    CarrierProfile,
    Message,
    UnknownParcel,
    WaybillRequest,
)
from statemachine.tracking import CarrierStatus
from tests.unit.integ.fakes import FakeCarrier, RecordingNotifier

START = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
PROFILE = CarrierProfile("sim-express", promised_days=3, insured_value_threshold=10_000)


def waybill_request(value: int = 5_000, parcel_no: int = 1) -> WaybillRequest:
    return WaybillRequest("o-1", parcel_no, "WH-1", {"city": "Hangzhou"}, value)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=["fake", "simulated"])
def carrier(request, clock):
    if request.param == "fake":
        return FakeCarrier(PROFILE, clock)
    return SimulatedCarrier(PROFILE, clock, Knobs(seed=3))


# --- carriers ----------------------------------------------------------------------------------

def test_a_waybill_promises_delivery_by_the_carrier_terms_and_insures_by_value(carrier, clock):
    cheap, dear = carrier.create_waybill(waybill_request(9_999)), \
        carrier.create_waybill(waybill_request(10_000, 2))
    assert cheap.promised_by == clock.now() + timedelta(days=3)
    assert (cheap.insured, dear.insured) == (False, True)
    assert cheap.tracking_no != dear.tracking_no and cheap.carrier == "sim-express"


def test_a_requests_flag_is_printed_in_the_labels_remark_never_dropped(carrier):
    # the port: an adapter prints WaybillRequest.flag or refuses the label (before: the
    # simulated carrier, the default, dropped it — the waybill had no remark at all)
    flag = "地址省市区矛盾，请核对 / address contradicts itself, check it: …"
    flagged = carrier.create_waybill(replace(waybill_request(), flag=flag))
    plain = carrier.create_waybill(waybill_request(parcel_no=2))
    assert (flagged.remark, plain.remark) == (flag, None)


def test_a_new_parcel_shows_its_label_and_nothing_from_the_future(carrier, clock):
    waybill = carrier.create_waybill(waybill_request())
    events = carrier.tracking(waybill.tracking_no)
    assert [e.status for e in events] == [CarrierStatus.LABEL_CREATED]
    clock.advance(days=30)
    later = carrier.tracking(waybill.tracking_no)
    assert all(e.at <= clock.now() for e in later)
    assert [e.at for e in later] == sorted(e.at for e in later)
    assert len({e.event_id for e in later}) == len(later)


def test_unknown_tracking_numbers_are_refused(carrier):
    with pytest.raises(UnknownParcel):
        carrier.tracking("NOPE-1")
    with pytest.raises(UnknownParcel):
        carrier.chase("NOPE-1", "stalled")


def test_a_chase_returns_a_ticket_for_the_parcel(carrier, clock):
    waybill = carrier.create_waybill(waybill_request())
    ticket = carrier.chase(waybill.tracking_no, "no scan for 24 h")
    assert (ticket.tracking_no, ticket.reason, ticket.at) == (
        waybill.tracking_no, "no scan for 24 h", clock.now())


# --- notifications -----------------------------------------------------------------------------

DELIVERED: list[tuple[str, str, str]] = []


@pytest.fixture(params=["recording", "apprise"])
def notifier(request):
    if request.param == "recording":
        fake = RecordingNotifier()
        return fake, lambda: [(m.title, m.body) for m in fake.sent]
    from apprise.decorators import notify

    @notify(on="opcontract")
    def _capture(body, title, notify_type, *args, **kwargs):
        DELIVERED.append((kwargs["meta"]["host"], title, body))
        return True

    DELIVERED.clear()
    real = AppriseNotifier({"ops": ["opcontract://ops"], "buyer": ["opcontract://buyer"]})
    return real, lambda: [(t, b) for _, t, b in DELIVERED]


def test_a_sent_message_reaches_its_channel_once(notifier):
    port, delivered = notifier
    message = Message("orderpilot.case.sla_breached", "ops", "Escalation", "case c-1 late",
                      "o-1")
    assert port.send(message) is True
    assert delivered() == [("Escalation", "case c-1 late")]
