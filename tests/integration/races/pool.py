"""A pool of worker processes that race each other on one store, trial after trial.

Processes, not threads: each worker has its own interpreter and its own connections, exactly
like separate API servers or sweepers. The pool is started once per test session (importing
orderpilot costs ~1.5 s per process) and pointed at each test's fresh store. A trial hands one
action to every worker; all of them wait on a barrier and start at the same moment.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

BARRIER_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one racing call did: its result, or the error it raised to its caller."""

    action: str
    result: Any = None
    error: str | None = None  # the exception's class, e.g. "InvalidTransition"
    message: str = ""
    domain: bool = True  # the error is an OrderPilotError (a raw driver error is a bug)

    @property
    def ok(self) -> bool:
        return self.error is None


class SharedClock:
    """A clock every process reads from shared memory: the test moves time for all of them."""

    def __init__(self, value: Any):
        self._value = value

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._value.value, UTC)

    def set(self, when: datetime) -> None:
        self._value.value = when.timestamp()


class RacePool:
    def __init__(self, size: int):
        ctx = mp.get_context("spawn")
        self.size = size
        self.clock = SharedClock(ctx.Value("d", 0.0, lock=False))
        self.barrier = ctx.Barrier(size)
        self._pipes, self._procs, self._seq = [], [], 0
        for _ in range(size):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, self.barrier, self.clock._value),
                               daemon=True)
            proc.start()
            self._pipes.append(parent)
            self._procs.append(proc)

    def open(self, url: str, risk: str = "approve_everything") -> None:
        """Point every worker at the store `url` (each builds its own OrderPilot)."""
        self._seq += 1
        for pipe in self._pipes:
            pipe.send((self._seq, "open", url, risk))
        for reply in self._replies():
            if reply != "ready":
                raise RuntimeError(f"a worker failed to open the store: {reply}")

    def release(self) -> None:
        """Every worker closes its store (before the test drops the database)."""
        self._seq += 1
        for pipe in self._pipes:
            pipe.send((self._seq, "release"))
        self._replies()

    def race(self, actions: Sequence[tuple[str, dict[str, Any]]]) -> list[Outcome]:
        """Run these actions at the same moment, one per worker (the rest wait idle)."""
        if len(actions) > self.size:
            raise ValueError(f"{len(actions)} actions for {self.size} workers")
        padded = list(actions) + [("idle", {})] * (self.size - len(actions))
        self._seq += 1
        for pipe, (name, kwargs) in zip(self._pipes, padded, strict=True):
            pipe.send((self._seq, "run", name, kwargs))
        return self._replies()[:len(actions)]

    def _replies(self) -> list[Any]:
        """One reply per worker to the latest message (a reply left over from a trial that
        failed half-way is skipped)."""
        replies = []
        for pipe in self._pipes:
            seq, reply = pipe.recv()
            while seq != self._seq:
                seq, reply = pipe.recv()
            replies.append(reply)
        return replies

    def close(self) -> None:
        for pipe in self._pipes:
            pipe.send((0, "stop"))
        for proc in self._procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


def _serve(pipe: Any, barrier: Any, clock_value: Any) -> None:
    """Worker loop: open a store, then run one action per trial after the barrier."""
    from orderpilot import OrderPilot, OrderPilotError
    from tests.integration.races import actions

    actions.warm_up()
    pilot = None
    while True:
        seq, command, *args = pipe.recv()
        if command == "stop":
            break
        if command in ("open", "release") and pilot is not None:
            pilot.close()
            pilot = None
        if command == "release":
            pipe.send((seq, "released"))
            continue
        if command == "open":
            try:
                pilot = OrderPilot(args[0], clock=SharedClock(clock_value),
                                   risk_check=getattr(actions, args[1]))
                pipe.send((seq, "ready"))
            except Exception:  # reported to the test, which fails with it
                pipe.send((seq, traceback.format_exc()))
            continue
        name, kwargs = args
        barrier.wait(BARRIER_SECONDS)
        try:
            pipe.send((seq, Outcome(name, getattr(actions, name)(pilot, **kwargs))))
        except Exception as error:
            pipe.send((seq, Outcome(name, None, type(error).__name__, str(error)[:500],
                                    isinstance(error, OrderPilotError))))
    if pilot is not None:
        pilot.close()
