"""The review budget: the share of orders people may review (default 20 %, the manuals' split
of ~80 % cleared by machine and ~20 % by people), steered rather than hoped for.

Backtest side: `curve` replays score bands over the assessments of a labelled history and
`propose` picks the bands that meet the budget. Live side: `live_shares` measures the review
share of the stored decisions over the last hour and day; `budget_alert` is the message ops
get when the share is over budget (the console sends it once an hour while it lasts, and
exports the shares as Prometheus gauges for an Alertmanager rule). `review_causes` says why:
how many reviewed orders each rule sent, and the currencies with no amount band (with the
packaged rules every order in such a currency goes to a person: a shop that starts selling in
JPY learns it from the stats and the alert, not from an overflowing review queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from integrations.db.risk_reads import live_actions, review_reasons
from integrations.db.sql import Sql
from statemachine.ports import Message
from statemachine.risk.engine import Assessment, action_for
from statemachine.risk_port import RiskAction

BANDS = tuple(range(5, 101, 5))
WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """What the rule set does on labelled data with these score bands."""

    reject_at: float
    review_at: float
    review_share: float  # orders a person must look at
    flagged_share: float  # rejected + reviewed + verified
    precision: float  # of the flagged orders, the share that is fraud
    recall: float  # of the fraud, the share flagged
    reject_precision: float
    reject_recall: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in self.__slots__}


def point(assessments: Sequence[Assessment], labels: Sequence[int], reject_at: float,
          review_at: float) -> CurvePoint:
    actions = [action_for(a, reject_at, review_at) for a in assessments]
    n, fraud = len(actions), sum(labels)
    flagged = [(a is not RiskAction.APPROVE, y) for a, y in zip(actions, labels, strict=True)]
    rejects = [y for a, y in zip(actions, labels, strict=True) if a is RiskAction.REJECT]
    hits = sum(y for f, y in flagged if f)
    n_flagged = sum(f for f, _ in flagged)
    return CurvePoint(reject_at, review_at,
                      sum(a is RiskAction.REVIEW for a in actions) / n if n else 0.0,
                      n_flagged / n if n else 0.0, hits / n_flagged if n_flagged else 0.0,
                      hits / fraud if fraud else 0.0,
                      sum(rejects) / len(rejects) if rejects else 0.0,
                      sum(rejects) / fraud if fraud else 0.0)


def curve(assessments: Sequence[Assessment], labels: Sequence[int], reject_at: float
          ) -> list[CurvePoint]:
    """Precision / recall / review share for every review band below `reject_at`."""
    return [point(assessments, labels, reject_at, b) for b in BANDS if b <= reject_at]


def propose(assessments: Sequence[Assessment], labels: Sequence[int], budget: float,
            min_reject_precision: float = 0.97) -> dict[str, Any]:
    """The lowest reject band whose rejects are at least `min_reject_precision` fraud, then
    the lowest review band whose review share fits the budget (the most recall it allows)."""
    reject_at = next((float(b) for b in BANDS if point(
        assessments, labels, b, 100.0).reject_precision >= min_reject_precision), 100.0)
    fitting = [p for p in curve(assessments, labels, reject_at) if p.review_share <= budget]
    best = min(fitting, key=lambda p: p.review_at) if fitting else None
    return {"budget": budget, "reject_at": reject_at,
            "review_at": best.review_at if best else None,
            "expected": best.as_dict() if best else None,
            "note": None if best else "no review band keeps the review share within budget: "
                                      "rules other than the score already exceed it"}


def live_shares(conn: Any, now: datetime, budget: float) -> dict[str, dict[str, Any]]:
    """Live decisions per action over the last hour and day, the review share, over budget?"""
    sql, out = Sql(conn), {}
    for name, span in WINDOWS.items():
        rows = live_actions(sql, now - span, now)
        total = sum(rows.values())
        share = rows.get("review", 0) / total if total else 0.0
        out[name] = {"orders": total, **{a.value: int(rows.get(a.value, 0)) for a in RiskAction},
                     "review_share": round(share, 4), "over_budget": share > budget}
    return out


def review_causes(conn: Any, since: datetime, now: datetime) -> dict[str, dict[str, int]]:
    """Why orders went to people in (since, now]: reviewed orders per rule that fired (an
    order two rules sent counts for both), most first, and per currency the orders reviewed
    because that currency has no amount band."""
    return _causes(reasons for _, reasons in review_reasons(conn, since, now))


def window_causes(conn: Any, now: datetime) -> dict[str, dict[str, dict[str, int]]]:
    """`review_causes` for every window, from one read of the longest (the hour is inside the
    day: reading each window would read the hour's reasons twice)."""
    rows = review_reasons(conn, now - max(WINDOWS.values()), now)
    return {name: _causes(reasons for at, reasons in rows if at > now - span)
            for name, span in WINDOWS.items()}


def _causes(stored_reasons: Iterable[list[Any]]) -> dict[str, dict[str, int]]:
    rules: dict[str, int] = {}
    unbanded: dict[str, int] = {}
    for stored in stored_reasons:
        reasons = [r for r in stored if isinstance(r, dict)]
        for rule in {r["rule"] for r in reasons if r.get("rule")}:
            rules[rule] = rules.get(rule, 0) + 1
        for r in reasons:
            values = r.get("values") or {}
            if r.get("rule") == "amount_threshold" and values.get("currency") \
                    and "threshold" in values and values["threshold"] is None:
                unbanded[values["currency"]] = unbanded.get(values["currency"], 0) + 1
    by_count = sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"rules": dict(by_count),
            "unbanded_currencies": dict(sorted(unbanded.items(), key=lambda kv: -kv[1]))}


def shares_report(conn: Any, now: datetime) -> dict[str, Any]:
    """The live shares against ORDERPILOT_RISK_REVIEW_BUDGET, read on `conn` (so a caller
    can read the causes in the same transaction)."""
    from integrations.risk.settings import RiskSettings

    budget = RiskSettings().review_budget
    return {"budget": budget, "windows": live_shares(conn, now, budget)}


def review_shares(ctx: Any, now: datetime) -> dict[str, Any]:
    """`shares_report` in a read transaction of its own (what the metrics scrape reads: two
    counts, no reasons)."""
    with ctx.tx(readonly=True) as tx:
        return shares_report(tx.connection, now)


def check_review_budget(ctx: Any, now: datetime) -> Message | None:
    """The ops message when the last hour's review share is over budget, with its causes
    (None otherwise: the reasons are read only then)."""
    report = review_shares(ctx, now)
    if not report["windows"]["hour"]["over_budget"]:
        return None
    with ctx.tx(readonly=True) as tx:
        causes = review_causes(tx.connection, now - WINDOWS["hour"], now)
    return budget_alert(report["windows"], report["budget"], now, causes)


def budget_alert(shares: dict[str, dict[str, Any]], budget: float, now: datetime,
                 causes: dict[str, dict[str, int]] | None = None) -> Message | None:
    """The ops message when the last hour's review share is over budget (None otherwise),
    naming the rules that sent the most orders and the currencies without an amount band."""
    hour = shares["hour"]
    if not hour["over_budget"]:
        return None
    body = (f"In the hour to {now:%H:%M} UTC, {hour['review']} of {hour['orders']} "
            f"orders went to review (budget {budget:.0%}).")
    if causes and causes["rules"]:
        top = ", ".join(f"{rule} {n}" for rule, n in list(causes["rules"].items())[:3])
        body += f" Most reviews came from: {top}."
    if causes and causes["unbanded_currencies"]:
        listed = ", ".join(f"{c} {n}" for c, n in causes["unbanded_currencies"].items())
        codes = ", ".join(f"other_currencies.{c}" for c in causes["unbanded_currencies"])
        body += (f" Orders in currencies without an amount band went to a person ({listed}):"
                 f" set {codes} in the rule file (ORDERPILOT_RISK_RULES).")
    body += (" Check `orderpilot risk stats` and the backtest's proposed thresholds; a rule "
             "may be misfiring.")
    return Message("orderpilot.risk.review_budget_exceeded", "ops",
                   f"Risk review share {hour['review_share']:.0%} is over the "
                   f"{budget:.0%} budget", body)
