"""bench/bulk.py runs on a small store: one round of fewer orders than a batch."""

from __future__ import annotations

from bench.bulk import bench


def test_fewer_orders_than_a_batch_make_one_round(tmp_path):
    """Before, a round was a batch at least (1000 orders) and 500 orders ran no round:
    IndexError in `_medians`."""
    result = bench(tmp_path, orders=500, batch=1000, rounds=1)
    assert result["orders_per_round"] == 500
    assert len(result["rounds"]) == 1 and result["ratio_median"] > 0
