"""Long-lived loops of the console: each in its own thread, one step every interval, errors
logged and counted (a loop never dies of one bad step), stopped together."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("orderpilot.console")


@dataclass
class Loop:
    """Call `step(resource)` every `every` seconds until stopped; `resource` is entered once
    for the loop's life (a Prefect client) and closed when it stops. `step` may return how
    much work it did: a loop that did `busy_if_over` or more goes again at once."""

    name: str
    every: float
    step: Callable[[Any], int | None]
    on_error: Callable[[str, Exception], None] = lambda name, error: None
    busy_if_over: int | None = None
    resource: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self, stop: threading.Event) -> None:
        """Start the thread in a copy of the caller's context (Prefect settings live there)."""
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run, stop),
                                        name=self.name, daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        with self.resource() as resource:
            self._repeat(stop, resource)

    def _repeat(self, stop: threading.Event, resource: Any) -> None:
        while not stop.is_set():
            started, done = time.monotonic(), 0
            try:
                done = self.step(resource) or 0
            except Exception as error:  # logged, counted; the next round tries again
                log.warning("%s: %s: %s", self.name, type(error).__name__, error)
                self.on_error(self.name, error)
            busy = self.busy_if_over is not None and done >= self.busy_if_over
            if not busy:
                stop.wait(max(0.0, self.every - (time.monotonic() - started)))
