"""The ops routes that write without being an inbound event of `once` by default — an order's
notes, webhook subscriptions — raced over HTTP: each worker process posts to its own real
server on the store (separate API servers), on SQLite and PostgreSQL. Every answer is a clean
one (no 500, no driver error), a note sent twice under its id is written once, and a
subscription removed twice at once is removed once."""

from __future__ import annotations

import pytest

from integrations.service import webhooks
from orderpilot.api_integrations import notes
from tests.integration.races.conftest import TRIALS
from tests.integration.races.shop import paid, start_trial

MESSAGE = {"text": "买家留言：周末不在家，请放丰巢快递柜", "author": "cs-li", "kind": "message"}


def clean(outcome, *statuses: int) -> dict:
    """The racing request's answer, checked to be one of `statuses` (never a 500)."""
    assert outcome.ok, outcome
    answer = outcome.result
    assert answer["status"] in statuses, answer
    return answer


@pytest.mark.parametrize("trials", TRIALS)
def test_a_note_sent_twice_at_once_is_written_once_beside_other_writes_to_its_order(
        race, trials):
    pilot = race.open()
    race.run(*[("serve_http", {})] * 3)  # each poster's server is up before the first trial
    for trial in range(trials):
        # Given a paid order
        start_trial(race, trial)
        order = paid(pilot, trial)
        path = f"/v1/ops/orders/{order.id}/notes"
        # When the message relay's two deliveries of one message, a staff note without an id
        # and the warehouse starting to pick the order all reach the store at once
        first, second, plain, picking = race.run(
            ("ops_over_http", {"method": "POST", "path": path,
                               "body": {"event_id": f"msg-{trial}", **MESSAGE}}),
            ("ops_over_http", {"method": "POST", "path": path,
                               "body": {"event_id": f"msg-{trial}", **MESSAGE}}),
            ("ops_over_http", {"method": "POST", "path": path,
                               "body": {"text": "已致电买家确认", "author": "cs-wang"}}),
            ("fire", {"order_id": order.id, "trigger": "start_picking"}))
        # Then every note is answered 201, the message once and replayed once
        copies = [clean(first, 201), clean(second, 201)]
        clean(plain, 201)
        assert sorted(c["replay"] for c in copies) == [False, True], (trial, copies)
        assert copies[0]["body"] == copies[1]["body"], (trial, copies)
        # and the order holds the two notes, and moved on as well
        assert sorted(n.text for n in notes(pilot, order.id)) == sorted(
            [MESSAGE["text"], "已致电买家确认"]), trial
        assert picking.ok and pilot.orders.get(order.id).state == "picking", (trial, picking)
        race.check([order.id])


@pytest.mark.parametrize("trials", TRIALS)
def test_subscriptions_changed_at_once_from_two_servers_answer_cleanly(race, trials):
    pilot = race.open()
    race.run(*[("serve_http", {})] * 4)
    for trial in range(trials):
        # Given a subscription, and a paid order whose events wait for the relay
        start_trial(race, trial)
        erp, wms = f"https://erp.example.cn/hooks/{trial}", f"https://wms.example.cn/hooks/{trial}"
        sub = webhooks.subscribe(pilot.context, {"url": erp}, "ops:mei").id
        order = paid(pilot, trial)
        # When two servers remove it at once, a third pauses it and a fourth adds another
        # while the order moves
        removed, again, paused, added = race.run(
            ("ops_over_http", {"method": "DELETE", "path": f"/v1/ops/webhooks/{sub}"}),
            ("ops_over_http", {"method": "DELETE", "path": f"/v1/ops/webhooks/{sub}"}),
            ("ops_over_http", {"method": "POST", "path": f"/v1/ops/webhooks/{sub}/pause",
                               "body": {}}),
            ("ops_over_http", {"method": "POST", "path": "/v1/ops/webhooks",
                               "body": {"url": wms, "by": "ops-li"}}))
        pilot.orders.fire(order.id, "start_picking")
        # Then it is removed once (204, and 404 for the other), the pause finds it or not,
        # the new one is added; no answer is a 500
        assert sorted([clean(removed, 204, 404)["status"],
                       clean(again, 204, 404)["status"]]) == [204, 404], (trial, removed, again)
        clean(paused, 200, 404)
        new = clean(added, 201)["body"]["id"]
        # (by URL: SQLite gives a removed subscription's number to the next one)
        left = {s.url: s.id for s in webhooks.subscriptions(pilot.context)}
        assert erp not in left and left.get(wms) == new, (trial, left)
        webhooks.remove(pilot.context, new)
        race.check([order.id])
