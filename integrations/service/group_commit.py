"""Group commit for bursts: concurrent independent commands share one transaction.

Opt-in (`ORDERPILOT_HTTP_GROUP_COMMIT=true` for the webhook API; `GroupCommit(ctx)` in code).
A command is any service call written against a `Context` (`lambda c: orders.place(c, …)`).
Callers hand their command to `run` and wait; one committer thread takes up to `max_batch`
commands, or what arrived within `max_wait` seconds of the first, opens one transaction and
runs each command in a SAVEPOINT of it. A command that fails its guard, loses a race or raises
anything is rolled back to its savepoint alone: the others stand. Then the batch commits, and
only then is each caller answered, with its own result or its own error.

When it is safe — why no acknowledged write is ever lost: a caller's answer is given after the
COMMIT that made its write durable (as durable as the store is: SQLite WAL with
`synchronous=NORMAL` survives a killed process, not a power cut before the next checkpoint;
PostgreSQL as configured). If the process dies mid-batch, nobody of that batch was answered.
If the COMMIT itself fails, every command of the batch is run again alone, in its own
transaction, so each caller still gets its own answer. Commands must therefore be safe to run
again after a failed attempt: every service call is (its transaction rolled back entirely).

What it costs: commands of a batch run one after the other on one connection, so a slow
command delays its batch-mates; a caller waits at most `max_wait` for company. It pays when
many callers write at once (the webhook API under a burst): one COMMIT instead of one per
command. A single caller gains nothing and waits up to `max_wait` more.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from integrations.db.units import Savepoints
from integrations.service.context import Context

T = TypeVar("T")
Command = Callable[[Context], T]


class GroupCommit:
    """Applies concurrent commands in shared transactions; see the module docstring."""

    def __init__(self, ctx: Context, max_batch: int = 64, max_wait: float = 0.002):
        if max_batch < 1 or max_wait < 0:
            raise ValueError("max_batch must be ≥ 1 and max_wait ≥ 0")
        self.ctx, self.max_batch, self.max_wait = ctx, max_batch, max_wait
        self._queue: queue.SimpleQueue[tuple[Command[Any], Future[Any]] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="orderpilot-group-commit",
                                        daemon=True)
        self._thread.start()
        self.batches = 0  # how many transactions were committed (for the benchmark)

    def run(self, command: Command[T]) -> T:
        """Run `command` in the next batch; returns (or raises) once that batch committed."""
        return self.submit(command).result()

    def submit(self, command: Command[T]) -> Future[T]:
        """Queue `command` without waiting; the future settles when its batch committed."""
        future: Future[T] = Future()
        self._queue.put((command, future))
        return future

    def close(self) -> None:
        """Finish what was queued, then stop the committer."""
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._collect(first)
            self._apply(batch)
            if stop:
                return

    def _collect(self, first: tuple[Command[Any], Future[Any]]
                 ) -> tuple[list[tuple[Command[Any], Future[Any]]], bool]:
        batch, deadline = [first], time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _apply(self, batch: list[tuple[Command[Any], Future[Any]]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.ctx.units.begin() as connection:
                joined = self.ctx.joined(Savepoints(connection))
                for command, _ in batch:
                    outcomes.append(_attempt(command, joined))
        except Exception:  # BEGIN or COMMIT failed: nothing of the batch stands
            outcomes = [_attempt(command, self.ctx) for command, _ in batch]
        else:
            self.batches += 1
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


def _attempt(command: Command[Any], ctx: Context) -> tuple[bool, Any]:
    try:
        return True, command(ctx)
    except Exception as error:
        return False, error

