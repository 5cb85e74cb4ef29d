"""The store reads behind the console's open cases (integrations/console/casework.py): held
orders, after-sales requests under review, return cases whose parcel the carrier sent back to
the buyer, stalled parcels, and what an order shares with others (device, IP, normalised
address)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from integrations.db.schema import CaseRow, OrderRow, ShipmentRow
from integrations.db.schema_risk import ReviewTaskRow, RiskOrderFactsRow

ORDERS, CASES, SHIPMENTS = OrderRow.__table__, CaseRow.__table__, ShipmentRow.__table__
TASKS, FACTS = ReviewTaskRow.__table__, RiskOrderFactsRow.__table__
SHARED = (("device_id", "device"), ("ip", "IP"), ("address_norm", "address"))


def held_orders(conn: Connection, order_number: int | None) -> list[Any]:
    """Undecided review tasks of orders under review, with buyer, total and currency."""
    query = (select(TASKS, ORDERS.c.buyer_id, ORDERS.c.total, ORDERS.c.currency)
             .join(ORDERS, ORDERS.c.id == TASKS.c.order_id)
             .where(TASKS.c.decided_at.is_(None), ORDERS.c.state == "under_review"))
    if order_number is not None:
        query = query.where(TASKS.c.order_id == order_number)
    return list(conn.execute(query))


def cases_under_review(conn: Connection, case_number: int | None) -> list[Any]:
    """After-sales cases a person must decide, with buyer and currency."""
    return cases_in(conn, "under_review", case_number)


def cases_in(conn: Connection, state: str, case_number: int | None) -> list[Any]:
    """After-sales cases in `state` (under_review, return_bounced: a person answers), with
    buyer and currency. Their SLA's due time is not read from its timer row: the sweep deletes
    that row when the SLA fires, and an overdue case would lose its deadline
    (integrations/console/casework.py computes it from the case's own times)."""
    query = (select(CASES, ORDERS.c.buyer_id, ORDERS.c.currency)
             .join(ORDERS, ORDERS.c.id == CASES.c.order_id)
             .where(CASES.c.state == state))
    if case_number is not None:
        query = query.where(CASES.c.id == case_number)
    return list(conn.execute(query))


def stalled_parcels(conn: Connection, shipment_number: int | None) -> list[Any]:
    query = (select(SHIPMENTS, ORDERS.c.buyer_id, ORDERS.c.total, ORDERS.c.currency)
             .join(ORDERS, ORDERS.c.id == SHIPMENTS.c.order_id)
             .where(SHIPMENTS.c.state == "stalled"))
    if shipment_number is not None:
        query = query.where(SHIPMENTS.c.id == shipment_number)
    return list(conn.execute(query))


def placement_facts(conn: Connection, order_number: int) -> Any:
    """What the risk engine kept of the order's placement (device, IP, address…), or None."""
    return conn.execute(select(FACTS).where(FACTS.c.order_id == order_number)).first()


def orders_sharing(conn: Connection, order_number: int, column: str, value: Any,
                   limit: int) -> list[Any]:
    """Other orders whose placement had the same `column` (device_id, ip, address_norm)."""
    return list(conn.execute(
        select(ORDERS.c.id, ORDERS.c.buyer_id, ORDERS.c.state, ORDERS.c.total,
               ORDERS.c.currency, ORDERS.c.created_at)
        .join(FACTS, FACTS.c.order_id == ORDERS.c.id)
        .where(FACTS.c[column] == value, ORDERS.c.id != order_number)
        .order_by(ORDERS.c.id.desc()).limit(limit)))
