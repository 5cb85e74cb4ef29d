"""A clock for catching a call that reads the time more than once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from statemachine.clock import ManualClock


class TickingClock(ManualClock):
    """A ManualClock that, inside `ticking()`, moves on by a millisecond every time it is read:
    two writes of one call that each read the clock get two different times."""

    def __init__(self, start: datetime):
        super().__init__(start)
        self.ticks = False

    def now(self) -> datetime:
        read = super().now()
        if self.ticks:
            self.advance(milliseconds=1)  # well above the stores' precision (microseconds)
        return read

    @contextmanager
    def ticking(self) -> Iterator[None]:
        self.ticks = True
        try:
            yield
        finally:
            self.ticks = False
