"""Batch sizes of a group-commit server, for bench/ingest_http.py --batch-sizes: measurement only.

Python imports `sitecustomize` at start-up from the first folder of its path that has one; the
benchmark puts this folder first on the PYTHONPATH of its group-commit servers and names a file
in ORDERPILOT_BENCH_BATCH_LOG. Each committed batch then appends one line to it, before its
callers are answered: its members, how long it was open before its COMMIT began (ms), how long
the COMMIT took (ms; the fsync at FULL) and 1 if it committed. One line-buffered write per batch
(a few µs) is all it adds to the server.
"""

import os
import time

if os.environ.get("ORDERPILOT_BENCH_BATCH_LOG"):
    from integrations.service import group_commit

    _log = open(os.environ["ORDERPILOT_BENCH_BATCH_LOG"], "a", buffering=1)  # noqa: SIM115
    _init, _commit = group_commit._Batch.__init__, group_commit._Batch.commit

    def _opened(self, *args, **kwargs):
        _init(self, *args, **kwargs)
        self.bench_opened = time.perf_counter()

    def _committed(self):
        started = time.perf_counter()
        done = _commit(self)
        ended = time.perf_counter()
        _log.write(f"{self.members} {(started - self.bench_opened) * 1e3:.3f} "
                   f"{(ended - started) * 1e3:.3f} {int(done)}\n")
        return done

    group_commit._Batch.__init__, group_commit._Batch.commit = _opened, _committed
