"""Signals from the database, read on the placement transaction's own connection.

Every count looks only at orders placed before the one being decided (its facts row is written
after the decision), so an order never sees itself. Plain SQL on the DBAPI cursor (`Sql`, as the
core's hot path does): five round trips per placement instead of a dozen Core statements.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from integrations.db.sql import Sql
from statemachine.risk.blacklist import Blacklist, blacklist_hits, normalise_phone, parse_networks
from statemachine.risk.ruleset import RuleSet
from statemachine.risk.signals import ADDRESS, BUYER, DEVICE, IP, PHONE, RiskSignals
from statemachine.risk_port import PlacementFacts

ADDRESS_WINDOW = timedelta(days=30)
COLUMNS = {BUYER: "buyer_id", DEVICE: "device_id", IP: "ip", ADDRESS: "address_norm"}

# One round trip for everything keyed by the buyer, device or IP alone.
PROFILE_SQL = """SELECT
 (SELECT signed_up_at FROM risk_buyer_profiles WHERE buyer_id = :b),
 (SELECT credit_score FROM buyers WHERE id = :b),
 (SELECT count(*) FROM risk_credit_events
   WHERE buyer_id = :b AND kind IN ('chargeback', 'malicious_refund')),
 h.n, h.cancelled, h.completed,
 (SELECT count(DISTINCT buyer_id) FROM risk_order_facts WHERE device_id = :d AND buyer_id <> :b),
 (SELECT count(DISTINCT buyer_id) FROM risk_order_facts WHERE ip = :ip AND buyer_id <> :b),
 (SELECT avg(amount) FROM risk_order_facts WHERE buyer_id = :b AND currency = :c)
FROM (SELECT count(*) AS n,
             coalesce(sum(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), 0) AS cancelled,
             coalesce(sum(CASE WHEN state = 'completed' THEN 1 ELSE 0 END), 0) AS completed
      FROM orders WHERE buyer_id = :b AND id <> :o) AS h"""

ADDRESSES_SQL = ("SELECT DISTINCT address_norm FROM risk_order_facts WHERE buyer_id = :b "
                 "AND placed_at > :since AND address_norm IS NOT NULL")

SKU_SQL = ("SELECT l.sku, sum(l.quantity) FROM order_lines l "
           "JOIN risk_order_facts f ON f.order_id = l.order_id "
           "JOIN orders o ON o.id = l.order_id "
           "WHERE f.buyer_id = :b AND f.placed_at >= :midnight AND f.placed_at <= :now "
           "AND o.state NOT IN ('cancelled', 'rejected', 'expired') AND l.sku IN ({skus}) "
           "GROUP BY l.sku")


def dimension_keys(facts: PlacementFacts, address_norm: str | None) -> dict[str, str]:
    """The velocity dimensions this order has a value for."""
    keys = {BUYER: facts.buyer_id, DEVICE: facts.device_id, IP: facts.ip, ADDRESS: address_norm}
    return {k: v for k, v in keys.items() if v}


def gather(sql: Sql, facts: PlacementFacts, address_norm: str | None,
           ruleset: RuleSet) -> RiskSignals:
    """Every `RiskSignals` field for this order, from earlier rows."""
    row = sql.one(PROFILE_SQL, {"b": facts.buyer_id, "o": int(facts.order_id[2:]),
                                "d": facts.device_id, "ip": facts.ip, "c": facts.currency})
    return RiskSignals(
        account_created_at=sql.when(row[0]),
        velocity=velocity(sql, facts, address_norm, ruleset.velocity.window_seconds),
        blacklist_hits=blacklist_hits(facts, load_blacklist(sql, facts, address_norm)),
        sku_bought_today=sku_bought_today(sql, facts),
        address_changes=address_changes(sql, facts, address_norm),
        orders_total=row[3], orders_cancelled=row[4], orders_completed=row[5], disputes=row[2],
        credit_score=row[1],
        device_other_buyers=row[6] if facts.device_id else None,
        ip_other_buyers=row[7] if facts.ip else None,
        buyer_mean_amount=None if row[8] is None else float(row[8]),  # PostgreSQL: Decimal
    )


def velocity(sql: Sql, facts: PlacementFacts, address_norm: str | None,
             window_seconds: int) -> dict[str, int]:
    """Earlier orders in the window sharing each dimension's value (one query)."""
    keys = dimension_keys(facts, address_norm)
    sums = ", ".join(f"coalesce(sum(CASE WHEN {COLUMNS[d]} = :{d} THEN 1 ELSE 0 END), 0)"
                     for d in keys)
    match = " OR ".join(f"{COLUMNS[d]} = :{d}" for d in keys)
    row = sql.one(f"SELECT {sums} FROM risk_order_facts WHERE placed_at > :start "
                  f"AND placed_at <= :now AND ({match})",
                  {**keys, "now": facts.placed_at,
                   "start": facts.placed_at - timedelta(seconds=window_seconds)})
    return {d: int(n) for d, n in zip(keys, row, strict=True)}


def sku_bought_today(sql: Sql, facts: PlacementFacts) -> dict[str, int]:
    """Units per sku (of this order's skus) this buyer bought since UTC midnight."""
    skus = sorted({ln.sku for ln in facts.lines})
    params: dict[str, Any] = {f"s{i}": sku for i, sku in enumerate(skus)}
    midnight = datetime.combine(facts.placed_at.date(), time(0), tzinfo=facts.placed_at.tzinfo)
    rows = sql.all(SKU_SQL.format(skus=", ".join(f":{k}" for k in params)),
                   {**params, "b": facts.buyer_id, "midnight": midnight, "now": facts.placed_at})
    return {sku: int(n) for sku, n in rows}


def address_changes(sql: Sql, facts: PlacementFacts, address_norm: str | None) -> int:
    """Distinct shipping addresses used in the last 30 days (this order's included), minus one."""
    seen = {r[0] for r in sql.all(ADDRESSES_SQL, {"b": facts.buyer_id,
                                                  "since": facts.placed_at - ADDRESS_WINDOW})}
    if address_norm:
        seen.add(address_norm)
    return max(0, len(seen) - 1)


def load_blacklist(sql: Sql, facts: PlacementFacts, address_norm: str | None) -> Blacklist:
    """The active entries that could match this order (every IP entry, for ranges)."""
    wanted = {BUYER: facts.buyer_id, DEVICE: facts.device_id, ADDRESS: address_norm,
              PHONE: normalise_phone(facts.phone) if facts.phone else None}
    wanted = {k: v for k, v in wanted.items() if v}
    match = "".join(f" OR (kind = '{k}' AND value = :{k})" for k in wanted)
    rows = sql.all(f"SELECT kind, value FROM risk_blacklist_entries WHERE removed_at IS NULL "
                   f"AND (kind = 'ip'{match})", wanted)
    by_kind: dict[str, set[str]] = {}
    for kind, value in rows:
        by_kind.setdefault(kind, set()).add(value)
    return Blacklist(buyers=frozenset(by_kind.get(BUYER, ())),
                     devices=frozenset(by_kind.get(DEVICE, ())),
                     phones=frozenset(by_kind.get(PHONE, ())),
                     addresses=frozenset(by_kind.get(ADDRESS, ())),
                     networks=parse_networks(by_kind.get(IP, ())))
