"""Reads about a buyer across their orders: the buyer row, how many orders, what they came to.

Used where a person or a rule looks at the buyer (the review dossier, the refund rules, the
evidence pack); the risk signals read their own counters (db/risk_signals.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, case, func, select

from integrations.db.repository import ORDERS
from integrations.db.schema import BuyerRow

BUYERS = BuyerRow.__table__
TOTALS = ("orders", "cancelled", "rejected", "expired", "completed", "orders_refunded",
          "paid_total", "refunded_total")


def buyer(connection: Connection, buyer_id: str) -> Row | None:
    """The buyer row (credit score, since when), None if unknown."""
    return connection.execute(select(BUYERS).where(BUYERS.c.id == buyer_id)).first()


def buyer_of_order(connection: Connection, order_id: int) -> str:
    """Who placed the order (NoResultFound: no such order)."""
    return connection.execute(select(ORDERS.c.buyer_id).where(
        ORDERS.c.id == order_id)).scalar_one()


def paid_orders_before(connection: Connection, buyer_id: str, placed_at: datetime) -> int:
    """How many orders the buyer placed before `placed_at` (by time: ids from imports and
    replays need not follow it) and paid, not refunded in full (money all given back is no
    purchase the buyer kept)."""
    return int(connection.execute(select(func.count()).select_from(ORDERS).where(
        ORDERS.c.buyer_id == buyer_id, ORDERS.c.created_at < placed_at,
        ORDERS.c.paid > ORDERS.c.refunded)).scalar_one())


def order_totals(connection: Connection, buyer_id: str) -> dict[str, int]:
    """Counts over all the buyer's orders (`TOTALS`: orders, cancelled, rejected, expired,
    completed, orders refunded, paid and refunded totals in minor units)."""
    c = ORDERS.c
    row = connection.execute(select(
        func.count(), func.sum(case((c.state == "cancelled", 1), else_=0)),
        func.sum(case((c.state == "rejected", 1), else_=0)),
        func.sum(case((c.state == "expired", 1), else_=0)),
        func.sum(case((c.state == "completed", 1), else_=0)),
        func.sum(case((c.refunded > 0, 1), else_=0)),
        func.coalesce(func.sum(c.paid), 0), func.coalesce(func.sum(c.refunded), 0),
    ).where(c.buyer_id == buyer_id)).one()
    return {k: int(v or 0) for k, v in zip(TOTALS, row, strict=True)}
