"""The optional learned scorer: trains on labelled history and plugs into the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.risk.backtest import run_backtest
from integrations.risk.config import default_ruleset
from integrations.risk.model import FEATURES, ModelError, features, load_scorer, train

from .factories import an_order, quiet_signals

pytest.importorskip("sklearn", reason="scikit-learn (the [ml] extra) is not installed")
FIXTURE = Path(__file__).parents[2] / "fixtures" / "risk_small.csv"


def test_features_follow_the_declared_order():
    assert len(features(an_order(), quiet_signals())) == len(FEATURES)


def test_a_trained_model_is_saved_loaded_and_used_by_the_backtest(tmp_path):
    # Given a model trained on the fixture
    train(FIXTURE, tmp_path / "m.pkl")
    # When it is loaded and used as the behavioural score
    scorer = load_scorer(tmp_path / "m.pkl")
    report = run_backtest(FIXTURE, tmp_path / "out.csv", default_ruleset(), model=scorer)
    # Then the scores come from the model (0..100) and the backtest still measures them
    assert report.auc is not None and 0.0 <= report.auc <= 1.0
    assert 0.0 <= scorer(an_order(), quiet_signals(), default_ruleset()) <= 100.0


def test_loading_a_file_that_is_not_a_model_fails_clearly(tmp_path):
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(ModelError, match="cannot load model"):
        load_scorer(junk)
