"""A carrier scan's parcel lookup against the number of parcels ever shipped.

    python bench/tracking_lookup.py [--sizes 10000 100000 1000000] [--lookups 2000]
                                    [--out bench/results/tracking_lookup.json]

Every Kuaidi100 push and AfterShip webhook finds its parcel by waybill
(`records.shipment_by_tracking`: carrier + tracking number). For each size, a fresh SQLite file
with the product's schema gets that many parcels (raw rows: only the lookup is timed), then
the same random waybills are looked up through the product's function, taking turns: with the
waybill index (`ix_shipments_waybill_key`, on the number's and carrier's keys: migration 0032;
0013's on the columns before) and without it (dropped, then made again), in one process.
Reported: median µs per lookup each way and their ratio.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as `python bench/tracking_lookup.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sizes import by_size  # noqa: E402
from integrations.bootstrap import build_context  # noqa: E402
from integrations.db import records  # noqa: E402

CARRIERS = ("sf", "zto", "yto", "sto", "yunda", "jd")
INDEX = "CREATE INDEX ix_shipments_waybill_key ON shipments (upper(tracking_no), upper(carrier))"


def _fill(path: Path, parcels: int) -> list[tuple[str, str]]:
    """`parcels` raw shipments rows (SF-style 12-digit waybills); the waybills written."""
    waybills = [(CARRIERS[n % len(CARRIERS)], f"SF{7_000_000_000_00 + n * 7919:012d}")
                for n in range(parcels)]
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = OFF")  # parcels of orders we do not need here
    db.executemany(
        "INSERT INTO shipments (order_id, state, version, warehouse, carrier, tracking_no, "
        "created_at, purpose) VALUES (?, 'in_transit', 1, 'WH-1', ?, ?, "
        "'2026-11-11 00:00:00.000000', 'order')",
        ((n + 1, carrier, number) for n, (carrier, number) in enumerate(waybills)))
    db.commit()
    db.close()
    return waybills


def _time(ctx, wanted: list[tuple[str, str]]) -> float:
    """Median µs of one lookup through the product's function."""
    times = []
    with ctx.tx(readonly=True) as tx:
        for carrier, number in wanted:
            start = time.perf_counter()
            records.shipment_by_tracking(tx.connection, carrier, number)
            times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def measure(parcels: int, lookups: int, rounds: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shop.db"
        ctx = build_context(f"sqlite:///{path}")
        waybills = _fill(path, parcels)
        wanted = random.Random(parcels).sample(waybills, min(lookups, parcels))
        scans = max(1, min(len(wanted), 20_000_000 // parcels))  # a full scan each: keep it short
        indexed, scanned = [], []
        for _ in range(rounds):  # taking turns: the machine's drift hits both
            indexed.append(_time(ctx, wanted))
            db = sqlite3.connect(path)
            db.execute("DROP INDEX ix_shipments_waybill_key")
            db.close()
            scanned.append(_time(ctx, wanted[:scans]))
            db = sqlite3.connect(path)
            db.execute(INDEX)
            db.close()
        ctx.close()
    with_index, without = statistics.median(indexed), statistics.median(scanned)
    return {"parcels": parcels, "indexed_us": round(with_index, 1),
            "full_scan_us": round(without, 1), "speedup": round(without / with_index, 1)}


def main(argv: list[str] | None = None) -> list[dict]:
    return by_size("tracking_lookup", __doc__, measure, [10_000, 100_000, 1_000_000], 2000, argv)

if __name__ == "__main__":
    main()
