"""Kuaidi100 pushes and AfterShip webhooks over a real HTTP server: signatures checked the
providers' way, every status mapped, forged / replayed / out-of-order deliveries harmless."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integrations.carriers import aftership, kuaidi100
from integrations.config import Settings
from integrations.connect_config import TrackingPolicy
from orderpilot import OrderPilot
from statemachine.risk_port import approve_everything
from tests.factories import paid_order, stock
from tests.fakes.http import patient_client
from tests.integration.connect.providers import (
    AFTERSHIP_SECRET,
    KUAIDI100_SALT,
    aftership_body,
    aftership_signature,
    kuaidi100_form,
    kuaidi100_param,
)
from tests.integration.integ.server import row_counts, running_server

TRACKING = TrackingPolicy(carrier_codes={"yto": "yuantong", "sf": "sf-express"},
                          kuaidi100_salt=KUAIDI100_SALT, aftership_webhook_secret=AFTERSHIP_SECRET)
FORM = {"content-type": "application/x-www-form-urlencoded"}
DOCS = Path(__file__).resolve().parents[3] / "docs" / "connect.md"


@pytest.fixture
def tracked(any_url: str, clock) -> Iterator[tuple[OrderPilot, httpx.Client]]:
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       settings=Settings(tracking=TRACKING))
    stock(pilot, quantity=50)
    with running_server(pilot) as base_url, patient_client(base_url) as http:
        yield pilot, http
    pilot.close()


def shipped_with(pilot: OrderPilot, carrier: str, tracking_no: str, buyer: str = "b-1") -> str:
    order = paid_order(pilot, buyer=buyer)
    for trigger in ("start_picking", "pack"):
        pilot.orders.fire(order.id, trigger)
    pilot.orders.fire(order.id, "ship", parcels=[{"carrier": carrier, "tracking_no": tracking_no}])
    return order.id


def push(http: httpx.Client, number: str, state: str, **kw) -> httpx.Response:
    return http.post("/hooks/kuaidi100", content=kuaidi100_form(kuaidi100_param(number, state,
                                                                                  **kw)),
                     headers=FORM)


def test_kuaidi100_pushes_move_the_parcel_to_delivered_and_deliver_the_order(tracked):
    # Given a parcel shipped with YTO, which Kuaidi100 calls yuantong
    pilot, http = tracked
    order_id = shipped_with(pilot, "yto", "YT7516890123456")
    # When Kuaidi100 pushes 揽收, 在途, 派件, 签收
    answers = [push(http, "YT7516890123456", state, when=f"2026-11-1{n} 10:00:00")
               for n, state in enumerate(("1", "0", "5", "3"), start=1)]
    # Then each push is acknowledged the way Kuaidi100 expects, and the parcel moved
    assert [a.status_code for a in answers] == [200] * 4
    assert all(a.json()["result"] is True and a.json()["returnCode"] == "200" for a in answers)
    assert [a.json()["applied"] for a in answers] == [True] * 4
    parcel = pilot.shipments.of_order(order_id)[0]
    assert parcel.state == "delivered" and pilot.orders.get(order_id).state == "delivered"
    scans = [h for h in pilot.orders.history(order_id) if h.entity_id == parcel.id]
    assert [h.trigger for h in scans] == ["create", "pick_up", "scan", "out_for_delivery",
                                          "deliver"]
    assert scans[2].actor == "carrier:yto" and "杭州" in scans[2].payload["location"]


def test_a_forged_or_unsigned_push_is_refused_and_changes_nothing(tracked):
    pilot, http = tracked
    shipped_with(pilot, "yto", "YT1")
    before = row_counts(pilot)
    forged = http.post("/hooks/kuaidi100", content=kuaidi100_form(
        kuaidi100_param("YT1", "3"), salt="guessed"), headers=FORM)
    unsigned = http.post("/hooks/kuaidi100", content=b"param=%7B%7D", headers=FORM)
    assert forged.status_code == unsigned.status_code == 401
    assert forged.json()["result"] is False and "MD5" in forged.json()["message"]
    assert row_counts(pilot) == before


def test_a_repeated_push_replays_and_an_older_one_is_recorded_only(tracked):
    pilot, http = tracked
    order_id = shipped_with(pilot, "yto", "YT2")
    first = push(http, "YT2", "5", when="2026-11-13 08:00:00")
    again = push(http, "YT2", "5", when="2026-11-13 08:00:00")
    older = push(http, "YT2", "0", when="2026-11-12 08:00:00")
    assert first.json()["applied"] is True
    assert again.json()["duplicate"] is True
    assert older.json()["applied"] is False and "older" in older.json()["note"]
    assert pilot.shipments.of_order(order_id)[0].state == "out_for_delivery"


def test_codes_that_move_nothing_are_recorded_and_unknown_waybills_are_404(tracked):
    pilot, http = tracked
    shipped_with(pilot, "yto", "YT3")
    cancelled = push(http, "YT3", "401")
    unknown_code = push(http, "YT3", "999", when="2026-11-14 08:00:00")
    not_ours = push(http, "YT-NOT-OURS", "0")
    assert cancelled.status_code == unknown_code.status_code == 200
    assert cancelled.json()["applied"] is False and "已销单" in cancelled.json()["note"]
    assert "unknown state 999" in unknown_code.json()["note"]
    assert not_ours.status_code == 404


def test_aftership_webhooks_are_verified_with_the_sdk_and_mapped_by_tag(tracked):
    # Given an SF parcel tracked by AfterShip as sf-express
    pilot, http = tracked
    order_id = shipped_with(pilot, "sf", "SF1460981234567")

    def send(tag: str, subtag: str, event_id: str, secret: str = AFTERSHIP_SECRET):
        body = aftership_body("SF1460981234567", tag, subtag, event_id)
        return http.post("/hooks/aftership", content=body, headers={
            "content-type": "application/json",
            "aftership-hmac-sha256": aftership_signature(body, secret)})

    # Then the SDK's signature is the documented one (base64 HMAC-SHA256 of the raw body)
    sample = aftership_body("X", "InTransit")
    assert aftership.signature(sample, AFTERSHIP_SECRET) == aftership_signature(sample)
    # When AfterShip reports acceptance, a failed attempt, then that it went back to the sender
    accepted = send("InTransit", "InTransit_002", "e-1")
    forged = send("Delivered", "Delivered_001", "e-x", secret="wrong")
    failed = send("AttemptFail", "AttemptFail_002", "e-2")
    assert failed.json()["applied"] is True
    replay = send("AttemptFail", "AttemptFail_002", "e-2")
    back = send("Exception", "Exception_011", "e-3")
    # Then pickup, stall, return to sender; the forged one changed nothing, the replay neither
    assert (accepted.status_code, forged.status_code) == (200, 401)
    assert replay.json()["duplicate"] is True
    assert back.json()["applied"] is True
    parcel = pilot.shipments.of_order(order_id)[0]
    assert parcel.state == "returned_to_sender"
    triggers = [h.trigger for h in pilot.orders.history(order_id) if h.entity_id == parcel.id]
    assert triggers == ["create", "pick_up", "stall", "return_to_sender"]
    stall = next(h for h in pilot.orders.history(order_id) if h.trigger == "stall")
    assert stall.payload["reason"].startswith("aftership AttemptFail/AttemptFail_002")


@pytest.mark.parametrize("code", sorted(kuaidi100.STATES))
def test_every_kuaidi100_code_has_one_documented_meaning(code):
    status, label = kuaidi100.STATES[code]
    assert label and (status is None or status.value)
    assert f"`{code}`" in DOCS.read_text()


@pytest.mark.parametrize("tag", sorted(aftership.TAGS) + sorted(aftership.SUBTAGS))
def test_every_aftership_tag_has_one_documented_meaning(tag):
    assert f"`{tag}`" in DOCS.read_text()



def test_stall_alerts_and_carrier_kpis_run_unchanged_on_provider_events(tracked):
    # Given two YTO parcels: one goes 疑难 (problem), the other is signed for on time
    from integrations.service.carriers import refresh_kpis
    from integrations.service.stalls import stall_case

    pilot, http = tracked
    stuck = shipped_with(pilot, "yto", "YT-STUCK", buyer="b-1")
    fine = shipped_with(pilot, "yto", "YT-FINE", buyer="b-2")
    push(http, "YT-STUCK", "1")
    problem = push(http, "YT-STUCK", "204", when="2026-11-13 09:00:00")
    for state in ("1", "0", "3"):
        push(http, "YT-FINE", state, when=f"2026-11-1{2 + int(state == '3')} 0{state}:00:00")
    # Then the stuck parcel is stalled with the provider's words: the stall-alert flow's input
    [parcel] = pilot.shipments.of_order(stuck)
    case = stall_case(pilot.context, int(parcel.id[2:]))
    assert problem.json()["applied"] is True and case.stalled and not case.alerted
    assert parcel.stall_reason.startswith("kuaidi100 204: 派件异常")
    # and the monthly KPI job counts both parcels for our carrier name, one on time
    kpis = refresh_kpis(pilot.context)
    assert (kpis["yto"].parcels, kpis["yto"].on_time) == (2, 1.0)
    assert pilot.orders.get(fine).state == "delivered"


def kuaidi100_with(last: dict) -> bytes:
    """A push whose lastResult is the sample's with some fields replaced."""
    param = json.loads(kuaidi100_param("YT5", "0"))
    param["lastResult"].update(last)
    return kuaidi100_form(json.dumps(param))  # ASCII: a lone surrogate goes as its \u escape


@pytest.mark.parametrize(("last", "field"), [
    ({"data": "在途"}, "param"), ({"data": [1]}, "param"), ({"data": {"0": {}}}, "param"),
    ({"data": [None]}, "param"),
    ({"data": [{"context": "已到达\x00杭州", "ftime": "2026-11-12 16:33:19"}]}, "reason"),
    ({"data": [{"areaName": "杭\x00州", "ftime": "2026-11-12 16:33:19"}]}, "location"),
    ({"state": "0\x00"}, "code"), ({"nu": "YT5\x00"}, "tracking_no"),
    ({"com": "yuan\x00tong"}, "carrier"), ({"nu": "YT5" * 50}, "tracking_no"),
    ({"data": [{"context": "\ud800", "ftime": "2026-11-12 16:33:19"}]}, "reason"),
])
def test_a_signed_kuaidi100_push_that_is_malformed_is_422_naming_the_field(tracked, last, field):
    # Given a parcel, and a push signed with the right salt but with a bad checkpoint list or
    # text no store can keep (these were 500s: an AttributeError, a raw ValidationError, a
    # UnicodeEncodeError; a NUL waybill was 404 on SQLite and an unnamed refusal on PostgreSQL)
    pilot, http = tracked
    shipped_with(pilot, "yto", "YT5")
    before = row_counts(pilot)
    response = http.post("/hooks/kuaidi100", content=kuaidi100_with(last), headers=FORM)
    # Then it is refused naming what is wrong, and nothing is written
    assert response.status_code == 422, response.text
    assert field in response.json()["problems"]
    assert row_counts(pilot) == before


@pytest.mark.parametrize("when", ["0001-01-01 00:00:00", "not a time"])
def test_a_kuaidi100_checkpoint_time_that_cannot_be_read_is_no_time(tracked, when):
    # Beijing time of year 1 is before year 1 in UTC: it overflowed when stored (a 500)
    pilot, http = tracked
    order_id = shipped_with(pilot, "yto", "YT6")
    response = http.post("/hooks/kuaidi100", headers=FORM, content=kuaidi100_with(
        {"nu": "YT6", "data": [{"context": "在途", "ftime": when}]}))
    assert response.status_code == 200, response.text
    assert pilot.shipments.of_order(order_id)[0].state == "in_transit"


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b.update(event_id="e\x00"), "event_id"),
    (lambda b: b["msg"]["checkpoints"][0].update(message="已到达\x00"), "reason"),
    (lambda b: b["msg"]["checkpoints"][0].update(location="杭\x00州"), "location"),
])
def test_a_signed_aftership_webhook_with_unstorable_text_is_422_naming_the_field(
        tracked, change, field):
    pilot, http = tracked
    shipped_with(pilot, "sf", "SF7")
    body = json.loads(aftership_body("SF7", "InTransit", event_id="e-7"))
    change(body)
    raw = json.dumps(body).encode()
    before = row_counts(pilot)
    response = http.post("/hooks/aftership", content=raw, headers={
        "content-type": "application/json", "aftership-hmac-sha256": aftership_signature(raw)})
    assert response.status_code == 422, response.text
    assert field in response.json()["problems"]
    assert row_counts(pilot) == before


def test_an_aftership_checkpoint_time_outside_the_utc_range_is_no_time(tracked):
    pilot, http = tracked
    order_id = shipped_with(pilot, "sf", "SF8")
    body = json.loads(aftership_body("SF8", "InTransit", event_id="e-8"))
    body["msg"]["checkpoints"][0]["checkpoint_time"] = "9999-12-31T23:59:59-12:00"
    raw = json.dumps(body).encode()
    response = http.post("/hooks/aftership", content=raw, headers={
        "content-type": "application/json", "aftership-hmac-sha256": aftership_signature(raw)})
    assert response.status_code == 200, response.text
    assert pilot.shipments.of_order(order_id)[0].state == "in_transit"


def test_a_waybill_typed_in_lower_case_under_a_capitalised_carrier_is_found_by_pushes(tracked):
    # Given a lead shipped under carrier "SF" (the config maps "sf" → sf-express) and typed the
    # label's number in lower case; and a YTO parcel typed as printed
    pilot, http = tracked
    sf_order = shipped_with(pilot, "SF", "sf1460981234567", buyer="b-1")
    yto_order = shipped_with(pilot, "yto", "YT7516890123456", buyer="b-2")
    # When AfterShip reports the SF parcel as the carrier prints it, and Kuaidi100 pushes the
    # YTO one in lower case
    body = aftership_body("SF1460981234567", "InTransit", "InTransit_002", "e-1")
    aftership_answer = http.post("/hooks/aftership", content=body, headers={
        "content-type": "application/json",
        "aftership-hmac-sha256": aftership_signature(body)})
    kuaidi100_answer = push(http, "yt7516890123456", "1")
    # Then both find their parcel (a waybill is one in any case, the carrier's name too) and
    # move it; the numbers stay as they were typed
    assert (aftership_answer.status_code, kuaidi100_answer.status_code) == (200, 200)
    assert aftership_answer.json()["applied"] and kuaidi100_answer.json()["applied"]
    assert [(p.carrier, p.tracking_no, p.state) for p in pilot.shipments.of_order(sf_order)] \
        == [("SF", "sf1460981234567", "picked_up")]
    assert pilot.shipments.of_order(yto_order)[0].state == "picked_up"
