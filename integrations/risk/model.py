"""Optional learned behavioural scorer (scikit-learn, the `[ml]` extra).

The model sees exactly the signals the engine sees, built in purchase-time order from earlier
rows only, so a score in a backtest and a score at placement mean the same thing.
Model files are pickles: load only files you produced yourself.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statemachine.risk import RuleSet
from statemachine.risk.signals import RiskSignals, account_age_seconds
from statemachine.risk_port import PlacementFacts

from .history import FRAUD_ECOMMERCE, ColumnMapping, read_history
from .signal_store import InMemorySignalStore

FEATURES = ("log_account_age", "account_age_missing", "device_other_buyers", "ip_other_buyers",
            "max_velocity", "log_amount", "amount_vs_history", "orders_total")
FORMAT_VERSION = 1


class ModelError(RuntimeError):
    """The model cannot be trained or loaded (missing extra, bad file, wrong version)."""


def features(facts: PlacementFacts, signals: RiskSignals) -> list[float]:
    """The model's feature vector for one order, in `FEATURES` order."""
    age = account_age_seconds(signals, facts.placed_at)
    mean = signals.buyer_mean_amount
    return [
        math.log1p(max(age, 0.0)) if age is not None else 0.0,
        1.0 if age is None else 0.0,
        float(signals.device_other_buyers or 0),
        float(signals.ip_other_buyers or 0),
        float(max(signals.velocity.values(), default=0)),
        math.log1p(max(facts.amount, 0)),
        facts.amount / mean if mean else 0.0,
        float(signals.orders_total or 0),
    ]


@dataclass(frozen=True, slots=True)
class LearnedScorer:
    """A fitted classifier used as the engine's behavioural score: 100 * P(fraud)."""

    estimator: Any

    def __call__(self, facts: PlacementFacts, signals: RiskSignals, ruleset: RuleSet) -> float:
        row = [features(facts, signals)]
        return round(100.0 * float(self.estimator.predict_proba(row)[0][1]), 2)


def training_matrix(input_csv: str | Path, ruleset: RuleSet, fraction: float = 1.0,
                    mapping: ColumnMapping = FRAUD_ECOMMERCE) -> tuple[list, list]:
    """Features and labels of the first `fraction` of labelled rows in time order."""
    rows = read_history(input_csv, mapping)
    rows = rows[: int(len(rows) * fraction)]
    store, x, y = InMemorySignalStore(ruleset), [], []
    for item in rows:
        signals = store.signals_for(item.facts, item.account_created_at)
        store.record(item.facts)
        if item.label is not None:
            x.append(features(item.facts, signals))
            y.append(item.label)
    return x, y


def train(input_csv: str | Path, model_path: str | Path, ruleset: RuleSet | None = None,
          fraction: float = 1.0) -> LearnedScorer:
    """Fit a small gradient-boosted model on labelled history and save it to `model_path`."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError as exc:
        raise ModelError("training needs scikit-learn: pip install 'orderpilot[ml]'") from exc
    x, y = training_matrix(input_csv, ruleset or RuleSet(), fraction)
    if len(set(y)) < 2:
        raise ModelError("training needs labelled rows of both classes")
    estimator = HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05,
                                               random_state=0).fit(x, y)
    with Path(model_path).open("wb") as handle:
        pickle.dump({"version": FORMAT_VERSION, "features": FEATURES, "model": estimator}, handle)
    return LearnedScorer(estimator)


def load_scorer(model_path: str | Path) -> LearnedScorer:
    """Load a model saved by `train` (a trusted pickle) as a score function."""
    try:
        with Path(model_path).open("rb") as handle:
            saved = pickle.load(handle)  # noqa: S301 - only files written by `train`
    except (OSError, pickle.UnpicklingError, ImportError) as exc:
        raise ModelError(f"cannot load model {model_path}: {exc}") from exc
    if saved.get("version") != FORMAT_VERSION or tuple(saved.get("features", ())) != FEATURES:
        raise ModelError(f"model {model_path} was trained with a different feature set")
    return LearnedScorer(saved["model"])
