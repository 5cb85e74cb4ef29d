"""Shadow mode: a candidate rule set decides beside the live one, stored, never acted on."""

from __future__ import annotations

from sqlalchemy import select

from integrations.db.schema_risk import RiskDecisionRow
from orderpilot import OrderPilot
from tests.factories import placed_order, stock

DECISIONS = RiskDecisionRow.__table__
CANDIDATE = 'name = "candidate"\namount_review_above = 5000\n'  # reviews above 50.00


def shadow_pilot(sqlite_url, clock, tmp_path, monkeypatch) -> OrderPilot:
    path = tmp_path / "candidate.toml"
    path.write_text(CANDIDATE)
    monkeypatch.setenv("ORDERPILOT_RISK_SHADOW_RULES", str(path))
    return OrderPilot(sqlite_url, clock=clock)


def test_shadow_decisions_are_stored_but_never_acted_on(sqlite_url, clock, tmp_path,
                                                        monkeypatch):
    pilot = shadow_pilot(sqlite_url, clock, tmp_path, monkeypatch)
    stock(pilot, quantity=20)
    # When a 59.97 order is placed (the candidate would review it, the live set approves)
    order = placed_order(pilot, quantity=3)
    # Then the order follows the live decision and both decisions are stored
    assert order.state == "awaiting_payment"
    with pilot.context.engine.connect() as conn:
        rows = {r.mode: (r.ruleset, r.action) for r in conn.execute(select(DECISIONS))}
    assert rows == {"live": ("default", "approve"), "shadow": ("candidate", "review")}
    assert pilot.reviews.list() == []
    pilot.close()


def test_the_shadow_report_shows_agreement_and_rule_fire_counts(sqlite_url, clock, tmp_path,
                                                                 monkeypatch):
    pilot = shadow_pilot(sqlite_url, clock, tmp_path, monkeypatch)
    stock(pilot, quantity=20)
    placed_order(pilot, buyer="b-1", quantity=1)  # 19.99: both approve
    placed_order(pilot, buyer="b-2", quantity=3)  # 59.97: live approve, shadow review
    placed_order(pilot, buyer="b-3", quantity=1,  # vague: both review
                 shipping_address={"street": "Wensan Road", "city": "Hangzhou"})
    report = pilot.risk.shadow_report()
    assert report["orders"] == 3
    assert report["matrix"]["approve"] == {"approve": 1, "review": 1, "reject": 0}
    assert report["matrix"]["review"] == {"approve": 0, "review": 1, "reject": 0}
    assert report["agreement"] == 2 / 3
    assert report["rules"] == {"live": {"vague_address": 1},
                               "shadow": {"amount_threshold": 1, "vague_address": 1}}
    assert (report["live_ruleset"], report["shadow_ruleset"]) == (["default"], ["candidate"])
    pilot.close()
