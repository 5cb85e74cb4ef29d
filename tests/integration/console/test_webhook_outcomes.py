"""The metric of inbound webhook outcomes (refused / applied / recorded per source) counts what
the plain CASE query counted, now that it groups by the columns of ix_webhook_events_outcome and
folds in Python (bench/hot_scans.py: 1.37 s → 183 ms at 1 M events). Both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, insert, select

from integrations.db.health_counts import inbound_webhook_outcomes
from integrations.db.schema_integrations import WebhookEventRow
from tests.conftest import START

EVENTS = WebhookEventRow.__table__
# (source, status_code, applied, how many): every outcome, the 400 boundary, applied and
# refused at once (refused wins), Chinese providers' sources among them
MIX = [("alipay", 200, True, 5), ("alipay", 200, False, 2), ("alipay", 409, False, 3),
       ("wechat", 201, True, 4), ("wechat", 399, False, 1), ("wechat", 400, True, 2),
       ("kuaidi100", 422, False, 6), ("kuaidi100", 200, True, 7), ("shopify", 500, True, 1)]


def the_case_query(connection) -> set[tuple[str, str, int]]:
    """The query it replaced, as it was."""
    outcome = case((EVENTS.c.status_code >= 400, "refused"),
                   (EVENTS.c.applied.is_(True), "applied"), else_="recorded")
    return {(str(s), str(o), int(n)) for s, o, n in connection.execute(
        select(EVENTS.c.source, outcome, func.count()).group_by(EVENTS.c.source, outcome))}


def test_the_folded_counts_equal_the_case_query(any_pilot):
    rows = [{"key": f"{source}:{code}:{applied}:{n}", "source": source, "kind": "test",
             "order_id": None, "body_sha256": "0" * 64, "applied": applied, "note": None,
             "status_code": code, "response": {}, "occurred_at": None,
             "received_at": START + timedelta(seconds=n)}
            for source, code, applied, count in MIX for n in range(count)]
    with any_pilot.context.engine.begin() as connection:
        connection.execute(insert(EVENTS), rows)
    with any_pilot.context.engine.connect() as connection:
        found = inbound_webhook_outcomes(connection)
        expected = the_case_query(connection)
    assert len(found) == len(set(found))  # one line per (source, outcome)
    assert set(found) == expected
    assert ("wechat", "refused", 2) in expected and ("shopify", "refused", 1) in expected
