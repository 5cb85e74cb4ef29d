"""Migration 0033 gives every dispute its kind from the reason's prefix (`inquiry: …`, the only
place a Shopify dispute's type was kept), cuts the prefix off, and a downgrade puts it back."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, text

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config
from integrations.db.schema import BuyerRow, OrderRow

AT = datetime(2026, 11, 20, tzinfo=UTC)
DISPUTES = [  # (provider, reason as 0032 stored it)
    ("shopify", "inquiry: fraudulent, network code 4837"),
    ("shopify", "chargeback: product_not_received, network code 13.1"),
    ("stripe", "fraudulent"),  # a gateway's: no prefix, taken for a chargeback
    ("stripe", None),
    ("shopify", "inquiry_x: 商品与描述不符"),  # not the prefix: a chargeback, reason kept
]


def _store_at_0032(url: str):
    engine, config = make_engine(url), alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0032_waybills_any_carrier_case")
        conn.execute(insert(BuyerRow.__table__).values(id="b-wang", created_at=AT))
        conn.execute(insert(OrderRow.__table__).values(
            id=1, buyer_id="b-wang", state="paid", version=1, currency="CNY", total=7_980,
            paid=7_980, refunded=0, created_at=AT, updated_at=AT,
            attrs={"shipping_address": {"city": "上海市", "street": "南京西路1266号"}}))
        conn.execute(text(
            "INSERT INTO disputes (id, order_id, provider, provider_ref, payment_ref, state, "
            "version, amount, currency, reason, booked, unbooked, created_at, updated_at) "
            "VALUES (:id, 1, :p, :ref, 'pi_1', 'opened', 1, 7980, 'CNY', :reason, 0, 0, "
            ":at, :at)"),
            [{"id": n, "p": p, "ref": f"dp_{n}", "reason": reason, "at": AT}
             for n, (p, reason) in enumerate(DISPUTES, start=1)])
    return engine, config


def _rows(engine, columns: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            f"SELECT {columns} FROM disputes ORDER BY id"))]


def test_each_dispute_gets_its_kind_from_the_reason_prefix_and_a_downgrade_restores_it(
        empty_url):
    # Given a store at 0032 holding disputes with each prefix, and without one
    engine, config = _store_at_0032(empty_url)
    # When it is upgraded to 0033
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0033_dispute_kind")
    # Then the kind is the prefix's (a chargeback without one), the reason the bank's only
    assert _rows(engine, "kind, reason") == [
        ("inquiry", "fraudulent, network code 4837"),
        ("chargeback", "product_not_received, network code 13.1"),
        ("chargeback", "fraudulent"), ("chargeback", None),
        ("chargeback", "inquiry_x: 商品与描述不符")]
    # And a downgrade writes the prefix back on Shopify's reasons
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0032_waybills_any_carrier_case")
    assert _rows(engine, "reason") == [
        ("inquiry: fraudulent, network code 4837",),
        ("chargeback: product_not_received, network code 13.1",),
        ("fraudulent",), (None,), ("chargeback: inquiry_x: 商品与描述不符",)]
    engine.dispose()
