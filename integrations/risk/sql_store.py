"""`SqlRiskStore`: the risk signals reader and decision recorder on the placement transaction.

Reads are point lookups on maintained counters (`counters.py`) plus three bounded queries:
velocity over the window (an index range on `risk_order_facts`), units per sku bought today,
and the block / allow list candidates. Nothing here scans a buyer's whole history, so
placement costs the same for a buyer's first order and their 4,000th (`bench/risk_history.py`).

Every count looks only at orders placed before the one being decided: the order's own facts
and counters are written by `record`, after its decision. Plain SQL on the DBAPI cursor
(`Sql`), as the core's hot path does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from integrations.db.sql import Sql
from integrations.risk.counters import count_placement
from statemachine import ids
from statemachine.risk.blacklist import Blacklist, blacklist_hits, parse_networks
from statemachine.risk.ports import StoredDecision
from statemachine.risk.ruleset import RuleSet
from statemachine.risk.signals import ADDRESS, BUYER, DEVICE, IP, PHONE, RiskSignals
from statemachine.risk_port import PlacementFacts, RiskDecision

ADDRESS_WINDOW = timedelta(days=30)
COLUMNS = {BUYER: "buyer_id", DEVICE: "device_id", IP: "ip", ADDRESS: "address_norm"}

# One round trip for everything keyed by the buyer, device or IP alone: point lookups only.
PROFILE_SQL = """SELECT p.signed_up_at, b.credit_score, s.orders, s.cancelled, s.completed,
 s.disputes, m.orders, m.amount,
 (SELECT buyers FROM risk_key_stats WHERE kind = 'device' AND value = :d),
 (SELECT count(*) FROM risk_key_buyers WHERE kind = 'device' AND value = :d AND buyer_id = :b),
 (SELECT buyers FROM risk_key_stats WHERE kind = 'ip' AND value = :ip),
 (SELECT count(*) FROM risk_key_buyers WHERE kind = 'ip' AND value = :ip AND buyer_id = :b),
 (SELECT count(*) FROM risk_buyer_addresses
   WHERE buyer_id = :b AND last_seen > :since AND address_key <> :a)
FROM (SELECT 1 AS one) AS x
LEFT JOIN risk_buyer_profiles p ON p.buyer_id = :b
LEFT JOIN buyers b ON b.id = :b
LEFT JOIN risk_buyer_stats s ON s.buyer_id = :b
LEFT JOIN risk_buyer_spend m ON m.buyer_id = :b AND m.currency = :c"""

SKU_SQL = ("SELECT l.sku, sum(l.quantity) FROM order_lines l "
           "JOIN risk_order_facts f ON f.order_id = l.order_id "
           "JOIN orders o ON o.id = l.order_id "
           "WHERE f.buyer_id = :b AND f.placed_at >= :midnight AND f.placed_at <= :now "
           "AND o.state NOT IN ('cancelled', 'rejected', 'expired') AND l.sku IN ({skus}) "
           "GROUP BY l.sku")
DECISION_SQL = ("INSERT INTO risk_decisions (order_id, mode, ruleset, action, score, reasons, "
                "decided_at) VALUES (:order_id, :mode, :ruleset, :action, :score, :reasons, "
                ":decided_at)")
FACTS_SQL = ("INSERT INTO risk_order_facts (order_id, buyer_id, device_id, ip, address_norm, "
             "phone_norm, amount, currency, placed_at) VALUES (:order_id, :buyer_id, :device_id, "
             ":ip, :address_norm, :phone_norm, :amount, :currency, :placed_at)")


class SqlRiskStore:
    """`RiskSignalStore` on one transaction's connection."""

    def __init__(self, connection: Connection):
        self.sql = Sql(connection)

    def signals(self, facts: PlacementFacts, ruleset: RuleSet) -> RiskSignals:
        """Every `RiskSignals` field for this order, from earlier orders."""
        row = self._profile(facts)
        address = facts.address_key
        lists = self._lists(facts)
        return RiskSignals(
            account_created_at=self.sql.when(row[0]),
            velocity=self._velocity(facts, ruleset.velocity.window_seconds),
            blacklist_hits=blacklist_hits(facts, lists["block"]),
            allow_hits=blacklist_hits(facts, lists["allow"]),
            sku_bought_today=self._sku_bought_today(facts),
            address_changes=row[12] if address else None,
            orders_total=row[2] or 0, orders_cancelled=row[3] or 0,
            orders_completed=row[4] or 0, disputes=row[5] or 0, credit_score=row[1],
            device_other_buyers=(row[8] or 0) - row[9] if facts.device_id else None,
            ip_other_buyers=(row[10] or 0) - row[11] if facts.ip else None,
            buyer_mean_amount=row[7] / row[6] if row[6] else None,
        )

    def record(self, facts: PlacementFacts, decisions: Sequence[StoredDecision]) -> None:
        """Keep the decisions and what placement saw; count the order for the next ones."""
        order_id = ids.ORDER.parse(facts.order_id)
        self.sql.many(DECISION_SQL, [_decision_row(order_id, d, facts) for d in decisions])
        self.sql.run(FACTS_SQL, {
            "order_id": order_id, "buyer_id": facts.buyer_id, "device_id": facts.device_id,
            "ip": facts.ip, "address_norm": facts.address_key,
            "phone_norm": facts.phone,
            "amount": facts.amount, "currency": facts.currency, "placed_at": facts.placed_at})
        count_placement(self.sql, facts, facts.address_key)

    def _profile(self, facts: PlacementFacts) -> tuple[Any, ...]:
        return self.sql.one(PROFILE_SQL, {
            "b": facts.buyer_id, "d": facts.device_id, "ip": facts.ip, "c": facts.currency,
            "a": facts.address_key or "", "since": facts.placed_at - ADDRESS_WINDOW})

    def _velocity(self, facts: PlacementFacts, window_seconds: int) -> dict[str, int]:
        """Earlier orders in the window sharing each dimension's value (one index-range query)."""
        keys = dimension_keys(facts)
        sums = ", ".join(f"coalesce(sum(CASE WHEN {COLUMNS[d]} = :{d} THEN 1 ELSE 0 END), 0)"
                         for d in keys)
        match = " OR ".join(f"{COLUMNS[d]} = :{d}" for d in keys)
        row = self.sql.one(f"SELECT {sums} FROM risk_order_facts WHERE placed_at > :start "
                           f"AND placed_at <= :now AND ({match})",
                           {**keys, "now": facts.placed_at,
                            "start": facts.placed_at - timedelta(seconds=window_seconds)})
        return {d: int(n) for d, n in zip(keys, row, strict=True)}

    def _sku_bought_today(self, facts: PlacementFacts) -> dict[str, int]:
        """Units per sku (of this order's skus) this buyer bought since UTC midnight."""
        skus = sorted({ln.sku for ln in facts.lines})
        params: dict[str, Any] = {f"s{i}": sku for i, sku in enumerate(skus)}
        midnight = datetime.combine(facts.placed_at.date(), time(0),
                                    tzinfo=facts.placed_at.tzinfo)
        rows = self.sql.all(SKU_SQL.format(skus=", ".join(f":{k}" for k in params)),
                            {**params, "b": facts.buyer_id, "midnight": midnight,
                             "now": facts.placed_at})
        return {sku: int(n) for sku, n in rows}

    def _lists(self, facts: PlacementFacts) -> dict[str, Blacklist]:
        """Active, unexpired block and allow entries that could match this order (every IP
        entry, for ranges)."""
        wanted = {BUYER: facts.buyer_id, DEVICE: facts.device_id, ADDRESS: facts.address_key,
                  PHONE: facts.phone}
        wanted = {k: v for k, v in wanted.items() if v}
        match = "".join(f" OR (kind = '{k}' AND value = :{k})" for k in wanted)
        rows = self.sql.all(f"SELECT list_name, kind, value FROM risk_blacklist_entries "
                            f"WHERE removed_at IS NULL AND (expires_at IS NULL OR expires_at "
                            f"> :now) AND (kind = 'ip'{match})",
                            {**wanted, "now": facts.placed_at})
        found: dict[str, dict[str, set[str]]] = {"block": {}, "allow": {}}
        for list_name, kind, value in rows:
            found[list_name].setdefault(kind, set()).add(value)
        return {name: Blacklist(buyers=frozenset(by_kind.get(BUYER, ())),
                                devices=frozenset(by_kind.get(DEVICE, ())),
                                phones=frozenset(by_kind.get(PHONE, ())),
                                addresses=frozenset(by_kind.get(ADDRESS, ())),
                                networks=parse_networks(by_kind.get(IP, ())))
                for name, by_kind in found.items()}


def dimension_keys(facts: PlacementFacts) -> dict[str, str]:
    """The velocity dimensions this order has a value for."""
    keys = {BUYER: facts.buyer_id, DEVICE: facts.device_id, IP: facts.ip,
            ADDRESS: facts.address_key}
    return {k: v for k, v in keys.items() if v}


def reasons_json(decision: RiskDecision) -> list[dict[str, Any]]:
    """Reasons as plain JSON (tuples become lists)."""
    return json.loads(json.dumps([{"rule": r.rule, "text": r.text, "values": dict(r.values)}
                                  for r in decision.reasons], default=list))


def _decision_row(order_id: int, stored: StoredDecision, facts: PlacementFacts
                  ) -> dict[str, Any]:
    d = stored.decision
    return {"order_id": order_id, "mode": stored.mode, "ruleset": stored.ruleset,
            "action": d.action.value, "score": d.score, "reasons": reasons_json(d),
            "decided_at": facts.placed_at}
