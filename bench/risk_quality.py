"""Honest quality figures: choose the review band on one part of the data, measure on another.

    python bench/risk_quality.py [INPUT.csv.gz] [--model]

Two splits are reported. `time`: tune on the first 50% in purchase-time order, measure on the
last 50% (the strict one: the future is unseen). `interleaved`: tune on odd rows, measure on
even rows of the same period. Signals are always built from earlier rows only; labels are used
for choosing `review_at` on the tuning part and for measuring, never by the engine.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

if not __package__:  # run as `python bench/risk_quality.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import dataset  # noqa: E402
from integrations.risk.backtest import judged_in, measure, replay  # noqa: E402
from integrations.risk.config import default_ruleset  # noqa: E402
from integrations.risk.history import FRAUD_ECOMMERCE, read_history  # noqa: E402
from statemachine.risk import RuleSet  # noqa: E402

DEFAULT_INPUT = str(dataset("fraud_ecommerce.csv.gz"))
GRID = tuple(range(5, 80, 5))
MAX_FLAGGED = 0.20


def _split(rows, how: str) -> tuple[list[int], list[int]]:
    idx = list(range(len(rows)))
    if how == "time":
        return idx[: len(idx) // 2], idx[len(idx) // 2:]
    return idx[1::2], idx[0::2]


def _evaluate(rows, decisions, picked):
    bands, score_auc = measure([rows[i] for i in picked], [decisions[i] for i in picked])
    return {"auc": score_auc, **{b.band: b.as_dict() for b in bands}}


def _tune(rows, tune, ruleset: RuleSet, scorer) -> RuleSet:
    """The review_at giving the best reject+review recall at <= 20% flagged on `tune`."""
    best, best_recall = ruleset, -1.0
    for review_at in GRID:
        if review_at > ruleset.score.reject_at:
            continue
        candidate = replace(ruleset, score=replace(ruleset.score, review_at=float(review_at)))
        both = _evaluate(rows, replay(rows, candidate, scorer)[0], tune)["reject+review"]
        if both["flagged_rate"] <= MAX_FLAGGED and both["recall"] > best_recall:
            best, best_recall = candidate, both["recall"]
    return best


def run(path: str, use_model: bool) -> dict[str, object]:
    """Tune and measure on both splits; returns plain numbers."""
    rows, results = read_history(path), {}
    for how in ("time", "interleaved"):
        tune, test = _split(rows, how)
        scorer = _train_on(path, rows, tune) if use_model else None
        ruleset, _ = judged_in(default_ruleset(), FRAUD_ECOMMERCE.currency)  # as the CLI
        chosen = _tune(rows, tune, ruleset, scorer)
        decisions, _ = replay(rows, chosen, scorer)
        results[how] = {"review_at": chosen.score.review_at, "reject_at": chosen.score.reject_at,
                        "tune": _evaluate(rows, decisions, tune),
                        "test": _evaluate(rows, decisions, test)}
    return results


def _train_on(path, rows, tune):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from integrations.risk.model import LearnedScorer, training_matrix

    x, y = training_matrix(path, RuleSet())
    keep = set(tune)
    xs = [v for i, v in enumerate(x) if i in keep]
    ys = [v for i, v in enumerate(y) if i in keep]
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05,
                                           random_state=0)
    return _Memo(LearnedScorer(model.fit(xs, ys)))


class _Memo:
    """Caches a slow scorer per order id: the tuning grid replays the same orders many times."""

    def __init__(self, scorer) -> None:
        self._scorer, self._seen = scorer, {}

    def __call__(self, facts, signals, ruleset) -> float:
        if facts.order_id not in self._seen:
            self._seen[facts.order_id] = self._scorer(facts, signals, ruleset)
        return self._seen[facts.order_id]


def main(argv: list[str]) -> None:
    """Print the figures as a short table and as JSON."""
    args = [a for a in argv if not a.startswith("--")]
    path = args[0] if args else DEFAULT_INPUT
    if not Path(path).exists():
        sys.exit(f"input {path} not found")
    results = run(path, "--model" in argv)
    for how, r in results.items():
        t = r["test"]
        rej, both = t["reject"], t["reject+review"]
        print(f"{how:12} review_at={r['review_at']:>4} | test: reject P={rej['precision']:.3f}"
              f" R={rej['recall']:.3f} | reject+review R={both['recall']:.3f}"
              f" flagged={both['flagged_rate']:.3f} | AUC={t['auc']:.3f}")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
