"""Precision / recall / flagged rate per band, and a rank-based AUC. Pure Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BandMetrics:
    band: str
    flagged: int
    true_positives: int
    positives: int
    total: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 0.0

    @property
    def flagged_rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        """Plain numbers for JSON and tables."""
        return {"band": self.band, "flagged": self.flagged, "flagged_rate": self.flagged_rate,
                "precision": self.precision, "recall": self.recall,
                "true_positives": self.true_positives, "positives": self.positives,
                "total": self.total}


def band_metrics(band: str, flagged: Sequence[bool], labels: Sequence[int]) -> BandMetrics:
    """Counts for one band: how many flagged, how many of those are labelled fraud."""
    tp = sum(1 for f, y in zip(flagged, labels, strict=True) if f and y)
    return BandMetrics(band, sum(flagged), tp, sum(labels), len(labels))


def auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None without both classes."""
    pairs = sorted(zip(scores, labels, strict=True))
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2.0
        rank_sum += mean_rank * sum(y for _, y in pairs[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)
