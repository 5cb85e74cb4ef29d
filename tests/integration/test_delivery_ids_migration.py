"""Migration 0039 rebuilds SQLite's webhook_deliveries with AUTOINCREMENT (a removed delivery's
number is never given again) and keeps every delivery; PostgreSQL's numbers keep growing
through it, and a downgrade and upgrade again keep them all."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, head_revision

AT = datetime(2026, 11, 20, tzinfo=UTC)
BEFORE = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(
    "0039_delivery_ids_not_reused").down_revision
SUBSCRIBE = text("INSERT INTO webhook_subscriptions (id, kind, url, secret, events, active, "
                 "after_outbox_id, created_by, created_at, updated_at) VALUES (:n, 'webhook', "
                 ":url, 'whsec_x', '[\"orderpilot.*\"]', :on, 0, 'ops', :at, :at)")
DELIVER = text("INSERT INTO webhook_deliveries (subscription_id, outbox_id, order_id, event, "
               "status, attempts, next_attempt_at, created_at) VALUES (:sub, :o, 1, "
               "'orderpilot.order.paid', 'dead', 8, :at, :at)")


def deliver(conn, sub: int, outbox_id: int) -> int:
    conn.execute(DELIVER, {"sub": sub, "o": outbox_id, "at": AT})
    return conn.execute(text("SELECT id FROM webhook_deliveries WHERE subscription_id = :s "
                             "AND outbox_id = :o"), {"s": sub, "o": outbox_id}).scalar()


def remove(conn, sub: int) -> None:
    """What WebhookStore.remove does: the subscription's deliveries, then the subscription."""
    conn.execute(text("DELETE FROM webhook_deliveries WHERE subscription_id = :s"), {"s": sub})
    conn.execute(text("DELETE FROM webhook_subscriptions WHERE id = :s"), {"s": sub})


def migrate(engine, config, how, revision: str) -> None:
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        how(config, revision)


def test_deliveries_are_kept_and_a_removed_delivery_number_stays_used(empty_url):
    # Given a store just before 0039 with the ERP's two dead letters, and a TMS subscription whose
    # delivery (the newest) went when it was removed
    engine, config = make_engine(empty_url), alembic_config(empty_url)
    migrate(engine, config, command.upgrade, BEFORE)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM webhook_subscriptions"))
        for number, name in ((21, "erp"), (22, "tms")):
            conn.execute(SUBSCRIBE, {"n": number, "url": f"https://{name}.example.cn",
                                     "on": True, "at": AT})
        kept = [deliver(conn, 21, o) for o in (1, 2)]
        removed = deliver(conn, 22, 2)
        remove(conn, 22)
    # When it is upgraded to the head (foreign keys on, as every connection has them)
    migrate(engine, config, command.upgrade, "head")
    # Then the deliveries are all there, under their numbers
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, subscription_id, outbox_id FROM "
                                 "webhook_deliveries ORDER BY id")).all()
        if conn.dialect.name == "sqlite":
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = "
                                    "'webhook_deliveries'")).scalar()
            assert "AUTOINCREMENT" in ddl
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            indexes = {r[1] for r in conn.execute(text("PRAGMA index_list(webhook_deliveries)"))}
            assert {"ix_webhook_deliveries_due", "ix_webhook_deliveries_chain"} <= indexes
        # and a delivery written after one that was removed with its subscription gets a new
        # number (before 0039, on SQLite: the removed one's)
        conn.execute(SUBSCRIBE, {"n": 23, "url": "https://oms.example.cn", "on": True, "at": AT})
        gone = deliver(conn, 23, 3)
        remove(conn, 23)
        after = deliver(conn, 21, 3)
    assert [tuple(r) for r in rows] == [(kept[0], 21, 1), (kept[1], 21, 2)]
    # (the number removed before the upgrade left no trace: SQLite may give it once more)
    assert after > gone >= removed > kept[1]
    # When it is downgraded to before 0039 and upgraded again, nothing changes and no number returns
    migrate(engine, config, command.downgrade, BEFORE)
    migrate(engine, config, command.upgrade, "head")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id FROM webhook_deliveries ORDER BY id")).scalars(
            ).all() == [*kept, after]
        conn.execute(text("DELETE FROM webhook_deliveries WHERE id = :n"), {"n": after})
        again = deliver(conn, 21, 4)
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert revision == head_revision()
    assert again > after
