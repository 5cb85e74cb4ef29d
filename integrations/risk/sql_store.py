"""`SqlRiskStore`: the risk signals reader and decision recorder on the placement transaction.

Reads are point lookups on maintained counters (`counters.py`) plus bounded queries: velocity
over the window and the other buyers on the order's phone over theirs (index ranges on
`risk_order_facts`), units per sku bought today, and the block / allow list candidates.
Nothing here scans a buyer's whole history, so placement costs the same for a buyer's first
order and their 4,000th (`bench/risk_history.py`).

Every count looks only at orders placed before the one being decided: the order's own facts
and counters are written by `record`, after its decision. The statements are db/risk_signals.py
(plain SQL on the DBAPI cursor, `Sql`, as the core's hot path does); this module turns their
rows into `RiskSignals`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from integrations.db import risk_signals
from integrations.db.sql import Sql
from statemachine import ids
from statemachine.risk.blacklist import Blacklist, blacklist_hits, parse_networks
from statemachine.risk.ports import StoredDecision
from statemachine.risk.ruleset import RuleSet
from statemachine.risk.signals import (
    ADDRESS,
    BUYER,
    DEVICE,
    IP,
    PHONE,
    RiskSignals,
    phone_sharing,
)
from statemachine.risk_port import PlacementFacts, RiskDecision

ADDRESS_WINDOW = timedelta(days=30)


class SqlRiskStore:
    """`RiskSignalStore` on one transaction's connection."""

    def __init__(self, connection: Any):  # the unit of work's SQLAlchemy connection
        self.sql = Sql(connection)

    def signals(self, facts: PlacementFacts, ruleset: RuleSet) -> RiskSignals:
        """Every `RiskSignals` field for this order, from earlier orders."""
        row = self._profile(facts, ruleset.phone_velocity.window_seconds)
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
            **phone_sharing(list(zip(facts.phones, row[13:15], strict=False))),
            buyer_mean_amount=row[7] / row[6] if row[6] else None,
        )

    def record(self, facts: PlacementFacts, decisions: Sequence[StoredDecision]) -> None:
        """Keep the decisions and what placement saw; count the order for the next ones."""
        order_id = ids.ORDER.parse(facts.order_id)
        risk_signals.record_placement(self.sql, order_id, facts,
                                      [_decision_row(order_id, d, facts) for d in decisions])

    def _profile(self, facts: PlacementFacts, phone_window: int) -> tuple[Any, ...]:
        return risk_signals.profile(self.sql, facts, facts.placed_at - ADDRESS_WINDOW,
                                    facts.placed_at - timedelta(seconds=phone_window),
                                    ids.ORDER.parse(facts.order_id))

    def _velocity(self, facts: PlacementFacts, window_seconds: int) -> dict[str, int]:
        """Other orders in the window sharing each dimension's value."""
        return risk_signals.velocity(self.sql, dimension_keys(facts),
                                     facts.placed_at - timedelta(seconds=window_seconds),
                                     facts.placed_at, ids.ORDER.parse(facts.order_id))

    def _sku_bought_today(self, facts: PlacementFacts) -> dict[str, int]:
        """Units per sku (of this order's skus) this buyer bought since UTC midnight."""
        midnight = datetime.combine(facts.placed_at.date(), time(0),
                                    tzinfo=facts.placed_at.tzinfo)
        skus = sorted({ln.sku for ln in facts.lines})
        return risk_signals.sku_units(self.sql, facts.buyer_id, skus, midnight, facts.placed_at)

    def _lists(self, facts: PlacementFacts) -> dict[str, Blacklist]:
        """Active, unexpired block and allow entries that could match this order (every IP
        entry, for ranges)."""
        wanted = [(BUYER, facts.buyer_id), (DEVICE, facts.device_id),
                  (ADDRESS, facts.address_key), *((PHONE, p) for p in facts.phones)]
        wanted = [(kind, value) for kind, value in wanted if value]
        found: dict[str, dict[str, set[str]]] = {"block": {}, "allow": {}}
        candidates = risk_signals.list_candidates(self.sql, wanted, facts.placed_at)
        for list_name, kind, value in candidates:
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
