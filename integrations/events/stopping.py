"""How our long-running processes (the two relays, the console, `orderpilot up`) stop: on a
signal, by setting an event their loops watch, so the round in flight finishes and the store is
closed, rather than by an exception thrown into the middle of a write."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def stopped_by(*signals: signal.Signals, stop: threading.Event | None = None
               ) -> Iterator[threading.Event]:
    """`stop` (a new event if None), set when one of `signals` arrives while the block runs;
    the handlers found are put back when it ends, so a command run inside another program (a
    test, a notebook) does not leave that program deaf to SIGTERM."""
    stop = stop or threading.Event()
    before = {s: signal.signal(s, lambda *_: stop.set()) for s in signals}
    try:
        yield stop
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
