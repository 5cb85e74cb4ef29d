"""Python's cyclic garbage collector paused while a big batch of moves runs.

A batch of many moves (a sweep's expiries, a replay's thousand orders) allocates tens of
thousands of objects — loaded aggregates, `Fired` records, changes, rows — that all live until
the batch ends and hold no cycles the collector could free. Each allocation burst still starts
collector passes over them and, every few passes, over every long-lived object of the process:
a quarter of a replay batch's time, with nothing collected (bench/bulk.py, measured with
`gc.get_stats()`: 0 objects freed during the batches; 29 % → 39 % of raw sqlite3 writing the
same rows with the collector paused). Garbage made during the pause is collected by the first
pass after it, so the pause costs at most one batch's worth of memory.

Used by the drivers of big batches around the whole batch, reads included: the sweep
(service/sweep.py) and the replay's bulk path (replay/bulk.py). The collector is process-wide:
other threads also run without it while a batch does (a big batch lasts tens of milliseconds
per thousand moves). A caller that had it disabled keeps it disabled. Small batches — and every
single API call, which never comes here — allocate too little for a pass to matter.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BIG_BATCH = 100  # moves; below this a batch allocates too little for the collector to matter


@contextmanager
def paused_for(moves: int) -> Iterator[None]:
    """Run the block with the collector off if `moves` make a big batch and it was on."""
    if moves < BIG_BATCH or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
