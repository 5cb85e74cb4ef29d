"""Migration 0036 rebuilds SQLite's webhook_subscriptions with AUTOINCREMENT (a removed
subscription's number is never given again) and keeps every subscription and delivery."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config

AT = datetime(2026, 11, 20, tzinfo=UTC)


def test_subscriptions_and_deliveries_are_kept_and_a_removed_number_stays_used(
        empty_sqlite_url):
    # Given a store at 0035 with two subscriptions, deliveries for the second, and a third
    # that was removed (its number the highest so far)
    engine, config = make_engine(empty_sqlite_url), alembic_config(empty_sqlite_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0035_keyed_tables_without_rowid")
        conn.execute(text("DELETE FROM webhook_subscriptions"))
        for number in (11, 12, 13):
            conn.execute(text(
                "INSERT INTO webhook_subscriptions (id, kind, url, secret, events, active, "
                "after_outbox_id, created_by, created_at, updated_at) VALUES (:n, 'webhook', "
                ":url, 'whsec_x', '[\"orderpilot.*\"]', 1, 0, 'ops', :at, :at)"),
                {"n": number, "url": f"https://erp.example.cn/{number}", "at": AT})
        conn.execute(text("INSERT INTO webhook_deliveries (subscription_id, outbox_id, order_id, "
                          "event, status, attempts, next_attempt_at, created_at) VALUES "
                          "(12, :o, 1, 'orderpilot.order.paid', 'dead', 8, :at, :at)"),
                     [{"o": o, "at": AT} for o in (1, 2)])
        conn.execute(text("DELETE FROM webhook_subscriptions WHERE id = 13"))
    # When it is upgraded to 0036 (foreign keys on, as every connection has them)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0036_subscription_ids_not_reused")
    # Then the rows are all there, the table says AUTOINCREMENT, and the next number is new
    with engine.begin() as conn:
        subs = conn.execute(text("SELECT id, url FROM webhook_subscriptions ORDER BY id")).all()
        log = conn.execute(text("SELECT subscription_id, outbox_id FROM webhook_deliveries "
                                "ORDER BY outbox_id")).all()
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = "
                                "'webhook_subscriptions'")).scalar()
        conn.execute(text("INSERT INTO webhook_subscriptions (kind, url, secret, events, "
                          "active, after_outbox_id, created_by, created_at, updated_at) VALUES "
                          "('webhook', 'https://tms.example.cn', 'whsec_y', '[]', 1, 0, 'ops', "
                          ":at, :at)"), {"at": AT})
        conn.execute(text("DELETE FROM webhook_subscriptions WHERE url = 'https://tms.example.cn'"))
        conn.execute(text("INSERT INTO webhook_subscriptions (kind, url, secret, events, "
                          "active, after_outbox_id, created_by, created_at, updated_at) VALUES "
                          "('webhook', 'https://oms.example.cn', 'whsec_z', '[]', 1, 0, 'ops', "
                          ":at, :at)"), {"at": AT})
        newest = conn.execute(text("SELECT id FROM webhook_subscriptions WHERE url = "
                                   "'https://oms.example.cn'")).scalar()
        checked = conn.execute(text("PRAGMA foreign_key_check")).all()
    engine.dispose()
    assert [tuple(s) for s in subs] == [(11, "https://erp.example.cn/11"),
                                        (12, "https://erp.example.cn/12")]
    assert [tuple(r) for r in log] == [(12, 1), (12, 2)]
    assert "AUTOINCREMENT" in ddl and checked == []
    assert newest == 14  # 13, given and removed after the upgrade, is not given again
