"""Migration 0037 corrects the one kind of Stripe inquiry the store can tell after 0033
backfilled them all as chargebacks: a Stripe dispute `closed` (only `warning_closed` closes
one). Nothing else moves — an open Stripe dispute (nothing says what it is), Shopify's (its
type was kept), a gateway's chargeback closed — and the history says who corrected it. A
downgrade puts back exactly what it changed. Both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, text

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config
from integrations.db.schema import BuyerRow, OrderRow

BEFORE, AFTER = "0038_buyer_key_recipient_phones", "0037_stripe_closed_inquiries"
AT = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
DISPUTES = [  # (provider, state, kind as the store holds them before 0037)
    ("stripe", "closed", "chargeback"),  # warning_closed before 0033: an inquiry
    ("stripe", "opened", "chargeback"),  # maybe an inquiry, maybe not: nothing tells
    ("stripe", "won", "chargeback"),  # won: a chargeback (or a warning_closed before 7f491ad)
    ("stripe", "closed", "inquiry"),  # recorded after 0033: right already
    ("shopify", "closed", "inquiry"),
    ("simulated", "closed", "chargeback"),  # a gateway without statuses closes chargebacks
]


def _store_before(url: str):
    engine, config = make_engine(url), alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, BEFORE)
        conn.execute(insert(BuyerRow.__table__).values(id="b-li", created_at=AT))
        conn.execute(insert(OrderRow.__table__).values(
            id=1, buyer_id="b-li", state="paid", version=1, currency="CNY", total=9_998,
            paid=9_998, refunded=0, created_at=AT, updated_at=AT,
            attrs={"shipping_address": {"city": "杭州市", "street": "文三路18号"}}))
        conn.execute(text(
            "INSERT INTO disputes (id, order_id, provider, provider_ref, payment_ref, state, "
            "version, amount, currency, kind, reason, booked, unbooked, created_at, "
            "updated_at) VALUES (:id, 1, :p, :ref, 'pi_1', :state, 2, 9998, 'CNY', :kind, "
            "'fraudulent', 0, 0, :at, :at)"),
            [{"id": n, "p": p, "ref": f"dp_{n}", "state": state, "kind": kind, "at": AT}
             for n, (p, state, kind) in enumerate(DISPUTES, start=1)])
    return engine, config


def _migrate(engine, config, how, revision: str) -> None:
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        how(config, revision)


def _kinds(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT kind FROM disputes ORDER BY id"))]


def _corrections(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [(r[0], r[1], r[2], r[3], r[4],
                 r[5] if isinstance(r[5], dict) else json.loads(r[5]))
                for r in conn.execute(text(
                    "SELECT entity_id, trigger, from_state, to_state, actor, payload FROM "
                    "transition_history WHERE entity = 'dispute' ORDER BY id"))]


def test_a_closed_stripe_dispute_is_the_inquiry_it_was_and_a_downgrade_puts_it_back(
        empty_url):
    # Given a store before 0037 holding Stripe, Shopify and gateway disputes of each sort
    engine, config = _store_before(empty_url)
    # When it is upgraded
    _migrate(engine, config, command.upgrade, AFTER)
    # Then only the Stripe dispute closed as a chargeback is an inquiry now
    assert _kinds(engine) == ["inquiry", "chargeback", "chargeback", "inquiry", "inquiry",
                              "chargeback"]
    # And its history says so, as a person's correction would, at its last change
    [(entity_id, trigger, before, after, actor, payload)] = _corrections(engine)
    assert (entity_id, trigger, before, after, actor) == (
        1, "correct_kind", "closed", "closed", "system:migration-0037")
    assert (payload["kind"], payload["kind_before"]) == ("inquiry", "chargeback")
    assert "warning_closed" in payload["reason"]
    # When it is downgraded, the dispute is what 0033 left and the correction is gone
    _migrate(engine, config, command.downgrade, BEFORE)
    assert _kinds(engine) == [kind for _, _, kind in DISPUTES]
    assert _corrections(engine) == []
    engine.dispose()
