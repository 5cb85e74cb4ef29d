"""The ops routes that write without being an inbound event of `once` by default — an order's
notes, webhook subscriptions — raced over HTTP: each worker process posts to its own real
server on the store (separate API servers), on SQLite and PostgreSQL. Every answer is a clean
one (no 500, no driver error), a note sent twice under its id is written once, and a
subscription removed twice at once is removed once."""

from __future__ import annotations

import pytest

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
