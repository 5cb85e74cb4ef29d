"""The webhook event log is written from its table's definition (issue 10: a column is declared
once): every column of `webhook_events` is written with what `once` gave it, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from integrations.db import records
from integrations.db.records import EVENTS
from integrations.ingest.events import Inbound
from integrations.ingest.once import Applied, once
from integrations.service.context import Tx

OCCURRED = datetime(2026, 11, 10, 8, 30, tzinfo=UTC)


def test_an_applied_event_writes_every_column_of_the_event_log(any_pilot, monkeypatch):
    # Given the event log's writes observed on their way to the store
    written: dict = {}
    real_put, real_finish = records.event_put, records.event_finish
    monkeypatch.setattr(records, "event_put",
                        lambda sql, values: (written.update(values), real_put(sql, values))[1])
    monkeypatch.setattr(records, "event_finish", lambda sql, key, values: (
        written.update(values), real_finish(sql, key, values))[1])

    def apply(tx: Tx, prepared: object, now: datetime) -> Applied:
        return Applied(order_id=None, applied=True, body={"said": "数量 ✓"}, note="noted")

    # When one event is applied once
    outcome = once(any_pilot.context, "shop", "test.columns", Inbound(
        event_id="evt-c", occurred_at=OCCURRED), apply, status=202)
    # Then the claim named every column of the table (a column added to WebhookEventRow and not
    # given here fails in event_put), and the row holds what was given
    assert written.keys() == set(EVENTS.c.keys())
    with any_pilot.context.engine.connect() as connection:
        row = connection.execute(select(EVENTS)).mappings().one()
    assert dict(row) == written and row["occurred_at"] == OCCURRED
    assert row["response"] == outcome.body and row["status_code"] == 202
    # and a replay reads the logged outcome back through the generated SELECT
    with any_pilot.context.engine.connect() as connection:
        logged = records.event_get(connection, "shop:evt-c")
    assert logged is not None
    assert (logged.status_code, logged.response, logged.order_id) == (202, outcome.body, None)


def test_a_claim_that_leaves_out_a_column_is_refused_naming_it(any_pilot):
    values = dict.fromkeys(records.EVENT_KEYS - {"received_at"})
    with any_pilot.context.engine.begin() as connection, pytest.raises(
            ValueError, match=r"no value for \['received_at'\]"):
        records.event_put(connection, {**values, "key": "shop:evt-x"})
    with any_pilot.context.engine.begin() as connection, pytest.raises(
            ValueError, match=r"no column \['extra'\]"):
        records.event_finish(connection, "shop:evt-x", {
            **{c: None for c in records.FINISHED}, "extra": 1})
