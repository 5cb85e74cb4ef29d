"""The real `RiskCheck`: gather signals with SQL on the placement connection, call the pure
`decide`, store the decision (and a shadow candidate's, never acted on) with the order."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from integrations.db.sql import Sql
from integrations.risk.sql_signals import gather
from statemachine.risk.blacklist import normalise_address, normalise_phone
from statemachine.risk.engine import decide
from statemachine.risk.ruleset import RuleSet
from statemachine.risk.score import ScoreFunction
from statemachine.risk_port import PlacementFacts, RiskDecision

DECISION_SQL = ("INSERT INTO risk_decisions (order_id, mode, ruleset, action, score, reasons, "
                "decided_at) VALUES (:order_id, :mode, :ruleset, :action, :score, :reasons, "
                ":decided_at)")
FACTS_SQL = ("INSERT INTO risk_order_facts (order_id, buyer_id, device_id, ip, address_norm, "
             "phone_norm, amount, currency, placed_at) VALUES (:order_id, :buyer_id, :device_id, "
             ":ip, :address_norm, :phone_norm, :amount, :currency, :placed_at)")
LIVE, SHADOW = "live", "shadow"
# the order API's address fields -> the engine's (see statemachine.risk.blacklist)
ADDRESS_FIELDS = {"street": "line1", "district": "line2", "postal_code": "postcode",
                  "city": "city", "country": "country"}


def engine_address(address: Mapping[str, str]) -> dict[str, str]:
    """The shipping address in the engine's shape (line1, line2, postcode, city, country)."""
    if "line1" in address:
        return dict(address)
    return {ADDRESS_FIELDS[k]: str(v) for k, v in address.items() if k in ADDRESS_FIELDS and v}


@dataclass(frozen=True)
class RuleSetRiskCheck:
    """`RiskCheck` backed by a rule set (and optionally a learned scorer and a shadow set)."""

    ruleset: RuleSet
    scorer: ScoreFunction | None = None
    shadow: RuleSet | None = None

    def __call__(self, facts: PlacementFacts, connection: Connection) -> RiskDecision:
        facts = replace(facts, shipping_address=engine_address(facts.shipping_address))
        address = normalise_address(facts.shipping_address) if facts.shipping_address else None
        decision = self.evaluate(facts, connection, address, self.ruleset)
        order_id = int(facts.order_id.removeprefix("o-"))
        rows = [_decision_row(order_id, LIVE, self.ruleset.name, decision, facts)]
        if self.shadow is not None:
            candidate = self.evaluate(facts, connection, address, self.shadow)
            rows.append(_decision_row(order_id, SHADOW, self.shadow.name, candidate, facts))
        sql = Sql(connection)
        sql.many(DECISION_SQL, rows)
        sql.run(FACTS_SQL, _facts_row(order_id, facts, address))
        return decision

    def evaluate(self, facts: PlacementFacts, connection: Connection, address: str | None,
                 ruleset: RuleSet) -> RiskDecision:
        """Decide under `ruleset` with signals read now (nothing stored)."""
        signals = gather(Sql(connection), facts, address, ruleset)
        return decide(facts, signals, ruleset, self.scorer)


def reasons_json(decision: RiskDecision) -> list[dict[str, Any]]:
    """Reasons as plain JSON (tuples become lists)."""
    return json.loads(json.dumps([{"rule": r.rule, "text": r.text, "values": dict(r.values)}
                                  for r in decision.reasons], default=list))


def _decision_row(order_id: int, mode: str, name: str, decision: RiskDecision,
                  facts: PlacementFacts) -> dict[str, Any]:
    return {"order_id": order_id, "mode": mode, "ruleset": name,
            "action": decision.action.value, "score": decision.score,
            "reasons": reasons_json(decision), "decided_at": facts.placed_at}


def _facts_row(order_id: int, facts: PlacementFacts, address: str | None) -> dict[str, Any]:
    return {"order_id": order_id, "buyer_id": facts.buyer_id, "device_id": facts.device_id,
            "ip": facts.ip, "address_norm": address,
            "phone_norm": normalise_phone(facts.phone) if facts.phone else None,
            "amount": facts.amount, "currency": facts.currency, "placed_at": facts.placed_at}
