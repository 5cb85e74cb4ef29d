"""Signals from the database, read on the placement transaction's connection.

Every count looks only at orders placed before the one being decided (its facts row is written
after the decision), so an order never sees itself.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from integrations.db.schema import BuyerRow, OrderLineRow, OrderRow
from integrations.db.schema_risk import (
    BlacklistEntryRow,
    BuyerProfileRow,
    CreditEventRow,
    RiskOrderFactsRow,
)
from statemachine.risk.blacklist import Blacklist, blacklist_hits, normalise_phone, parse_networks
from statemachine.risk.ruleset import RuleSet
from statemachine.risk.signals import ADDRESS, BUYER, DEVICE, IP, PHONE, RiskSignals
from statemachine.risk_port import PlacementFacts

FACTS, ORDERS, LINES = RiskOrderFactsRow.__table__, OrderRow.__table__, OrderLineRow.__table__
BLACKLIST, CREDIT = BlacklistEntryRow.__table__, CreditEventRow.__table__
BUYERS, PROFILES = BuyerRow.__table__, BuyerProfileRow.__table__
NOT_BOUGHT = ("cancelled", "rejected", "expired")
DISPUTE_KINDS = ("chargeback", "malicious_refund")
ADDRESS_WINDOW = timedelta(days=30)


def dimension_keys(facts: PlacementFacts, address_norm: str | None) -> dict[str, str]:
    """The velocity dimensions this order has a value for."""
    keys = {BUYER: facts.buyer_id, DEVICE: facts.device_id, IP: facts.ip, ADDRESS: address_norm}
    return {k: v for k, v in keys.items() if v}


def gather(conn: Connection, facts: PlacementFacts, address_norm: str | None,
           ruleset: RuleSet) -> RiskSignals:
    """Every `RiskSignals` field for this order, from earlier rows."""
    totals = _order_counts(conn, facts)
    return RiskSignals(
        account_created_at=conn.execute(select(PROFILES.c.signed_up_at).where(
            PROFILES.c.buyer_id == facts.buyer_id)).scalar_one_or_none(),
        velocity=velocity(conn, facts, address_norm, ruleset.velocity.window_seconds),
        blacklist_hits=blacklist_hits(facts, load_blacklist(conn, facts, address_norm)),
        sku_bought_today=sku_bought_today(conn, facts),
        address_changes=address_changes(conn, facts, address_norm),
        orders_total=totals[0], orders_cancelled=totals[1], orders_completed=totals[2],
        disputes=conn.execute(select(func.count()).where(
            CREDIT.c.buyer_id == facts.buyer_id, CREDIT.c.kind.in_(DISPUTE_KINDS))).scalar_one(),
        credit_score=conn.execute(select(BUYERS.c.credit_score).where(
            BUYERS.c.id == facts.buyer_id)).scalar_one_or_none(),
        device_other_buyers=_other_buyers(conn, FACTS.c.device_id, facts.device_id,
                                          facts.buyer_id),
        ip_other_buyers=_other_buyers(conn, FACTS.c.ip, facts.ip, facts.buyer_id),
        buyer_mean_amount=_mean_amount(conn, facts),
    )


def _mean_amount(conn: Connection, facts: PlacementFacts) -> float | None:
    mean = conn.execute(select(func.avg(FACTS.c.amount)).where(
        FACTS.c.buyer_id == facts.buyer_id, FACTS.c.currency == facts.currency)).scalar()
    return None if mean is None else float(mean)  # PostgreSQL hands back a Decimal


def velocity(conn: Connection, facts: PlacementFacts, address_norm: str | None,
             window_seconds: int) -> dict[str, int]:
    """Earlier orders in the window sharing each dimension's value (one indexed query)."""
    columns = {BUYER: FACTS.c.buyer_id, DEVICE: FACTS.c.device_id, IP: FACTS.c.ip,
               ADDRESS: FACTS.c.address_norm}
    keys = dimension_keys(facts, address_norm)
    start = facts.placed_at - timedelta(seconds=window_seconds)
    sums = [func.coalesce(func.sum(case((columns[d] == v, 1), else_=0)), 0).label(d)
            for d, v in keys.items()]
    row = conn.execute(select(*sums).where(
        FACTS.c.placed_at > start, FACTS.c.placed_at <= facts.placed_at,
        or_(*(columns[d] == v for d, v in keys.items())))).one()
    return {d: int(row._mapping[d]) for d in keys}


def sku_bought_today(conn: Connection, facts: PlacementFacts) -> dict[str, int]:
    """Units per sku (of this order's skus) this buyer bought since UTC midnight."""
    midnight = datetime.combine(facts.placed_at.date(), time(0), tzinfo=facts.placed_at.tzinfo)
    rows = conn.execute(
        select(LINES.c.sku, func.sum(LINES.c.quantity))
        .join(FACTS, FACTS.c.order_id == LINES.c.order_id)
        .join(ORDERS, ORDERS.c.id == LINES.c.order_id)
        .where(FACTS.c.buyer_id == facts.buyer_id, FACTS.c.placed_at >= midnight,
               FACTS.c.placed_at <= facts.placed_at, ORDERS.c.state.not_in(NOT_BOUGHT),
               LINES.c.sku.in_({ln.sku for ln in facts.lines}))
        .group_by(LINES.c.sku))
    return {sku: int(n) for sku, n in rows}


def address_changes(conn: Connection, facts: PlacementFacts, address_norm: str | None) -> int:
    """Distinct shipping addresses used in the last 30 days (this order's included), minus one."""
    start = facts.placed_at - ADDRESS_WINDOW
    earlier = set(conn.execute(select(FACTS.c.address_norm).distinct().where(
        FACTS.c.buyer_id == facts.buyer_id, FACTS.c.placed_at > start,
        FACTS.c.address_norm.is_not(None))).scalars())
    if address_norm:
        earlier.add(address_norm)
    return max(0, len(earlier) - 1)


def _order_counts(conn: Connection, facts: PlacementFacts) -> tuple[int, int, int]:
    this = int(facts.order_id.removeprefix("o-"))
    row = conn.execute(select(
        func.count(),
        func.coalesce(func.sum(case((ORDERS.c.state == "cancelled", 1), else_=0)), 0),
        func.coalesce(func.sum(case((ORDERS.c.state == "completed", 1), else_=0)), 0),
    ).where(ORDERS.c.buyer_id == facts.buyer_id, ORDERS.c.id != this)).one()
    return int(row[0]), int(row[1]), int(row[2])


def _other_buyers(conn: Connection, column: Any, value: str | None, buyer: str) -> int | None:
    if not value:
        return None
    return conn.execute(select(func.count(FACTS.c.buyer_id.distinct())).where(
        column == value, FACTS.c.buyer_id != buyer)).scalar_one()


def load_blacklist(conn: Connection, facts: PlacementFacts,
                   address_norm: str | None) -> Blacklist:
    """The active entries that could match this order (every IP entry, for ranges)."""
    wanted = [(BUYER, facts.buyer_id), (DEVICE, facts.device_id), (ADDRESS, address_norm),
              (PHONE, normalise_phone(facts.phone) if facts.phone else None)]
    match = or_(BLACKLIST.c.kind == IP, *(and_(BLACKLIST.c.kind == k, BLACKLIST.c.value == v)
                                          for k, v in wanted if v))
    rows = conn.execute(select(BLACKLIST.c.kind, BLACKLIST.c.value).where(
        BLACKLIST.c.removed_at.is_(None), match)).all()
    by_kind: dict[str, set[str]] = {}
    for kind, value in rows:
        by_kind.setdefault(kind, set()).add(value)
    return Blacklist(buyers=frozenset(by_kind.get(BUYER, ())),
                     devices=frozenset(by_kind.get(DEVICE, ())),
                     phones=frozenset(by_kind.get(PHONE, ())),
                     addresses=frozenset(by_kind.get(ADDRESS, ())),
                     networks=parse_networks(by_kind.get(IP, ())))
