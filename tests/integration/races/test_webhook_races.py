"""Reproduction 5: one webhook event id delivered twice at once, with different bodies."""

from __future__ import annotations

import pytest

from integrations.db import records
from integrations.ingest import handlers
from integrations.ingest.events import OrderPlaced
from integrations.ingest.once import IdempotencyConflict, digest, event_key
from integrations.service import orders
from tests.integration.races.actions import ADDRESS
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import line, start_trial

LATIN_ADDRESS = {"street": "18 Wensan Road", "city": "Hangzhou", "phone": "+86 138 0013 8000"}


@pytest.mark.parametrize("trials", TRIALS)
def test_the_first_claim_of_an_event_id_decides_and_each_sender_hears_what_was_stored(
        race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given stock for two different orders
        start_trial(race, trial)
        skus = [f"SKU-{trial}-A", f"SKU-{trial}-B"]
        for sku in skus:
            pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=10)
        bodies = [{"buyer": f"b-{trial}", "lines": [line(sku, n + 1)]}
                  for n, sku in enumerate(skus)]
        # When two API processes receive the same event id with bodies A and B at once
        outcomes = race.run(*[("place_webhook", {"event_id": f"shop-{trial}", **body})
                              for body in bodies])
        # Then one is placed (201) and the other refused as a conflicting duplicate (409)
        assert sorted(str(o.error) for o in outcomes) == ["IdempotencyConflict", "None"], (
            trial, outcomes)
        n, winner = next((n, o) for n, o in enumerate(outcomes) if o.ok)
        # and the winner's answer is the order built from its own body, as stored
        assert winner.result["lines"] == [(ln["sku"], ln["quantity"])
                                          for ln in bodies[n]["lines"]], (trial, winner)
        with pilot.context.engine.connect() as connection:
            logged = records.event_get(connection, f"shop:shop-{trial}")
        sent = OrderPlaced(event_id=f"shop-{trial}", order={
            "buyer_id": bodies[n]["buyer"], "lines": bodies[n]["lines"],
            "shipping_address": ADDRESS})
        assert logged.body_sha256 == digest(sent), trial
        assert f"o-{logged.order_id}" == winner.result["order"], trial
        race.check([winner.result["order"]])


@pytest.mark.parametrize("trials", TRIALS)
def test_one_event_id_with_the_same_body_twice_at_once_places_one_order(race, trials):
    pilot = race.open()
    for trial in range(trials):
        start_trial(race, trial)
        pilot.inventory.receive(sku=f"SKU-{trial}", warehouse="WH-HZ", quantity=10)
        body = {"buyer": f"b-{trial}", "lines": [line(f"SKU-{trial}", 2)]}
        outcomes = race.run(*[("place_webhook", {"event_id": f"shop-{trial}", **body})] * 2)
        assert all(o.ok for o in outcomes), (trial, outcomes)
        assert len({o.result["order"] for o in outcomes}) == 1, (trial, outcomes)
        assert sorted(o.result["duplicate"] for o in outcomes) == [False, True], trial
        race.check([outcomes[0].result["order"]])


def test_the_losing_interleaving_of_two_bodies_is_refused_deterministically(any_pilot):
    """The interleaving behind reproduction 5, step by step (the race above meets it only
    now and then): sender A's order is placed under the event's key, and before A logs the
    event, sender B arrives with the same event id and another body."""
    for sku in ("SKU-A", "SKU-B"):
        any_pilot.inventory.receive(sku=sku, warehouse="WH-HZ", quantity=10)
    a, b = (OrderPlaced(event_id="shop-1", order={
        "buyer_id": "b-1", "lines": [line(sku, n)], "shipping_address": LATIN_ADDRESS})
        for n, sku in ((1, "SKU-A"), (2, "SKU-B")))
    # Given A's placement committed under the event's key, its log row not yet written
    placed = orders.place(any_pilot.context, a.order.model_copy(
        update={"idempotency_key": event_key("shop", a)}), "shop")
    # When B is applied, then it is refused as a conflicting duplicate and places nothing
    with pytest.raises(IdempotencyConflict):
        handlers.order_placed(any_pilot.context, b)
    # and when A goes on, it is answered 201 with its own order, logged with its own digest
    outcome = handlers.order_placed(any_pilot.context, a)
    assert (outcome.status, outcome.body["order"]["id"]) == (201, placed.public_id)
    assert outcome.body["order"]["lines"][0]["sku"] == "SKU-A"
    with any_pilot.context.engine.connect() as connection:
        assert records.event_get(connection, "shop:shop-1").body_sha256 == digest(a)
    assert any_pilot.inventory.level(sku="SKU-B", warehouse="WH-HZ").reserved == 0
