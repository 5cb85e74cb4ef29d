"""Carrier KPIs, defined once: the KPI job that carrier selection reads and the monthly
scorecard ops read are the same figures (integrations/db/carrier_store.kpi_counts counts them).

Which parcels: those handed over to the carrier (label created) in the period; a buyer's return
parcel is left out of every rate (it has no promised date, and the buyer chose how to send it).

- on-time rate = parcels delivered on or before their promised date / parcels whose promise has
  come due: delivered, lost, or still not delivered past the promised date (overdue counts as
  late before it arrives). A parcel still on its way before its promise is not judged yet; a
  parcel sent back to us (returned to sender) or without a promised date is never judged.
- loss rate = lost / parcels whose journey ended (delivered, lost, returned to sender).
- complaint rate = delivered parcels the buyer reported damaged (a damage claim against the
  carrier) / delivered parcels. An after-sales case about the goods (wrong size, changed mind)
  is not the carrier's, and lateness is already the on-time rate's.
- stall rate (scorecard only) = parcels that ever stalled / parcels handed over.

A rate with nothing to count is None (no data), not 0: a carrier with no delivery yet has
neither a perfect nor a zero on-time rate.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass


@dataclass(frozen=True, slots=True)
class KpiCounts:
    parcels: int = 0  # handed over in the period, returns left out
    due: int = 0  # promise come due: delivered, lost or overdue (with a promised date)
    on_time: int = 0  # delivered on or before the promised date
    ended: int = 0  # delivered, lost or returned to sender
    lost: int = 0
    delivered: int = 0
    damaged: int = 0  # delivered and reported damaged (a damage claim)
    stalled: int = 0  # ever stalled

    def __add__(self, other: KpiCounts) -> KpiCounts:
        return KpiCounts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def on_time_rate(self) -> float | None:
        return _share(self.on_time, self.due)

    @property
    def loss_rate(self) -> float | None:
        return _share(self.lost, self.ended)

    @property
    def complaint_rate(self) -> float | None:
        return _share(self.damaged, self.delivered)

    @property
    def stall_rate(self) -> float | None:
        return _share(self.stalled, self.parcels)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
