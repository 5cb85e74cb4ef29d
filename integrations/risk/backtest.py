"""Replay a labelled purchase history through the engine and measure it.

Signals are built only from rows earlier in purchase-time order (`InMemorySignalStore`);
the label column is read for the metrics and never reaches the engine or the store.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

from statemachine.risk import RuleSet
from statemachine.risk.engine import Assessment, assess, settle
from statemachine.risk.score import ScoreFunction
from statemachine.risk_port import RiskAction, RiskDecision

from .budget import curve, propose
from .history import FRAUD_ECOMMERCE, ColumnMapping, HistoryRow, read_history
from .metrics import BandMetrics, auc, band_metrics
from .signal_store import InMemorySignalStore

OUTPUT_COLUMNS = ("row", "user_id", "action", "score", "reasons")


@dataclass(frozen=True, slots=True)
class BacktestReport:
    rows: int
    evaluated_rows: int
    actions: dict[str, int]
    bands: tuple[BandMetrics, ...] = ()
    auc: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    curve: tuple[dict[str, float], ...] = ()  # review band -> shares, precision, recall
    proposal: dict[str, object] | None = None  # score bands that meet the review budget

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON output."""
        return {"rows": self.rows, "evaluated_rows": self.evaluated_rows, "actions": self.actions,
                "bands": [b.as_dict() for b in self.bands], "auc": self.auc,
                "curve": list(self.curve), "proposal": self.proposal, "notes": list(self.notes)}


def replay(rows: list[HistoryRow], ruleset: RuleSet, scorer: ScoreFunction | None = None
           ) -> tuple[list[RiskDecision], list[Assessment]]:
    """Decide every row in order, each seeing only the rows before it."""
    store, decisions, assessments = InMemorySignalStore(ruleset), [], []
    for item in rows:
        signals = store.signals_for(item.facts, item.account_created_at)
        assessment = assess(item.facts, signals, ruleset, scorer)
        decisions.append(settle(assessment, item.facts, signals, ruleset, scorer))
        assessments.append(assessment)
        store.record(item.facts)
    return decisions, assessments


def write_decisions(out_path: str | Path, rows: list[HistoryRow],
                    decisions: list[RiskDecision]) -> None:
    """One CSV line per input row: row number, user id, action, score, rule ids."""
    with Path(out_path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for item, d in zip(rows, decisions, strict=True):
            reasons = ";".join(r.rule for r in d.reasons)
            writer.writerow((item.row, item.facts.buyer_id, d.action.value, f"{d.score:.2f}",
                             reasons))


def measure(rows: list[HistoryRow], decisions: list[RiskDecision]) -> tuple:
    """Band metrics (reject, review, reject+review) and score AUC over labelled rows."""
    pairs = [(r.label, d) for r, d in zip(rows, decisions, strict=True) if r.label is not None]
    if not pairs:
        return (), None
    labels = [int(y) for y, _ in pairs]
    actions = [d.action for _, d in pairs]
    bands = (
        band_metrics("reject", [a is RiskAction.REJECT for a in actions], labels),
        band_metrics("review", [a is RiskAction.REVIEW for a in actions], labels),
        band_metrics("verify", [a is RiskAction.VERIFY for a in actions], labels),
        band_metrics("reject+review", [a in (RiskAction.REJECT, RiskAction.REVIEW)
                                       for a in actions], labels),
        band_metrics("flagged", [a is not RiskAction.APPROVE for a in actions], labels),
    )
    return bands, auc([d.score for _, d in pairs], labels)


def judged_in(ruleset: RuleSet, currency: str) -> tuple[RuleSet, tuple[str, ...]]:
    """The rule set a history in `currency` is replayed under: as given when it has thresholds
    for that currency; else its own thresholds read in the file's currency (no exchange rate is
    applied, the report's notes say so) rather than every row held for having none."""
    if ruleset.amounts_for(currency) is not None:
        return ruleset, ()
    return replace(ruleset, currency=currency), (
        f"amounts in {currency} judged by the {ruleset.currency} thresholds as written "
        f"(the rule set has no band for {currency})",)


def run_backtest(input_path: str | Path, out_path: str | Path, ruleset: RuleSet,
                 model: ScoreFunction | None = None, evaluate_from: float = 0.0,
                 mapping: ColumnMapping = FRAUD_ECOMMERCE,
                 review_budget: float = 0.2) -> BacktestReport:
    """Replay the file, write decisions, and measure rows from `evaluate_from` (time fraction):
    bands, AUC, the review-budget curve and the score bands proposed for the budget."""
    rows = read_history(input_path, mapping)
    ruleset, judged = judged_in(ruleset, mapping.currency)
    decisions, assessments = replay(rows, ruleset, model)
    write_decisions(out_path, rows, decisions)
    start = int(len(rows) * evaluate_from)
    bands, score_auc = measure(rows[start:], decisions[start:])
    counts = {a.value: sum(1 for d in decisions[start:] if d.action is a) for a in RiskAction}
    notes = judged + (() if bands else ("no label column: metrics not computed",))
    labelled = [(a, r.label) for a, r in zip(assessments[start:], rows[start:], strict=True)
                if r.label is not None]
    if not labelled:
        return BacktestReport(len(rows), len(rows) - start, counts, bands, score_auc, notes)
    seen, labels = [a for a, _ in labelled], [int(y) for _, y in labelled]
    points = tuple(p.as_dict() for p in curve(seen, labels, ruleset.score.reject_at))
    return BacktestReport(len(rows), len(rows) - start, counts, bands, score_auc, notes,
                          points, propose(seen, labels, review_budget))
