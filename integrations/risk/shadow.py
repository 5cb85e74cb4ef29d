"""Shadow report: the candidate rule set's stored decisions against the live ones."""

from __future__ import annotations

from collections import Counter
from typing import Any

from integrations.db.risk_reads import decisions, orders_with_credit_events

ACTIONS = ("approve", "review", "reject")
BAD_OUTCOMES = ("chargeback", "malicious_refund")


def shadow_report(conn: Any) -> dict[str, Any]:
    """Agreement matrix (live x shadow), per-rule fire counts, and flags on known bad orders."""
    live = decisions(conn, "live")
    shadow = decisions(conn, "shadow")
    both = sorted(set(live) & set(shadow))
    matrix = Counter((live[o]["action"], shadow[o]["action"]) for o in both)
    bad = orders_with_credit_events(conn, BAD_OUTCOMES) & set(both)
    return {
        "orders": len(both),
        "live_ruleset": _names(live, both), "shadow_ruleset": _names(shadow, both),
        "agreement": (sum(matrix[(a, a)] for a in ACTIONS) / len(both)) if both else None,
        "matrix": {a: {b: matrix[(a, b)] for b in ACTIONS} for a in ACTIONS},
        "rules": {"live": _fires(live, both), "shadow": _fires(shadow, both)},
        "bad_outcomes": {"orders": len(bad),
                         "flagged_live": sum(live[o]["action"] != "approve" for o in bad),
                         "flagged_shadow": sum(shadow[o]["action"] != "approve" for o in bad)},
    }


def _names(decisions: dict[int, dict[str, Any]], orders: list[int]) -> list[str]:
    return sorted({decisions[o]["ruleset"] for o in orders})


def _fires(decisions: dict[int, dict[str, Any]], orders: list[int]) -> dict[str, int]:
    counts = Counter(r["rule"] for o in orders for r in decisions[o]["reasons"])
    return dict(counts.most_common())
