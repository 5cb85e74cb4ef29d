"""The SQLite durability level of the benchmarks that compare against raw sqlite3: NORMAL.

Their targets (issue 10) and every figure in BENCHMARKS.md before 2026-11-29 were measured at
`synchronous=NORMAL`, then the only level. The product's default is now FULL (an fsync per
COMMIT, docs/operate.md#durability); run at FULL, these benchmarks would measure the disk's
fsync on both sides rather than our code, and their ratios would not compare with their
history. So they pin the level — both sides: the product reads ORDERPILOT_SQLITE_SYNCHRONOUS,
the raw paths pass `level()` to `tune_sqlite_connection` — unless the environment chose one
(`ORDERPILOT_SQLITE_SYNCHRONOUS=full python bench/lifecycle.py` measures at FULL).
What FULL costs the webhook path: `bench/ingest_http.py --sqlite-synchronous full
--one-tx-also-at normal`.
"""

from __future__ import annotations

import os

ENV = "ORDERPILOT_SQLITE_SYNCHRONOUS"


def level() -> str:
    """The level this benchmark runs at (normal unless the environment says), set in the
    environment so that every store the benchmark opens — its child processes' too — uses it."""
    return os.environ.setdefault(ENV, "normal").strip().lower()
