"""Group commit for bursts: concurrent independent commands share one transaction.

Opt-in (`ORDERPILOT_HTTP_GROUP_COMMIT=true` for the webhook API; `GroupCommit(ctx)` in code).
A command is any service call written against a `Context` (`lambda c: orders.place(c, …)`).
Each caller runs its own command, in its own thread: the work a command does outside its units
of work (parsing an address, validating, building the answer) runs in parallel with the
others'. Its units of work (`ctx.tx()`) join the batch that is open — the first one to arrive
opens it (BEGIN) — and run one at a time on the batch's connection, each in a SAVEPOINT. A
committer thread closes the batch once none of its commands is still running (and at least
`max_wait` seconds after it opened; 0 by default) or when `max_batch` commands have joined, and
commits. Leader and followers: the batch is whoever was waiting when it opened — the callers
that arrived during the previous COMMIT — and whoever arrives while its commands run; none
waits on a clock for company, and none that could still join waits for the COMMIT to open
the next batch. A command
that fails its guard, loses a race or raises anything is rolled back to its savepoint alone:
the others stand. Only after the COMMIT is each caller answered, with its own result or error.

When it is safe — why no acknowledged write is ever lost: a caller's answer is given after the
COMMIT that made its write durable — as durable as the store makes a COMMIT: SQLite at
ORDERPILOT_SQLITE_SYNCHRONOUS=full (the default) and PostgreSQL with synchronous_commit=on
fsync it, so it survives a power loss; SQLite at `normal` survives a killed process only
(docs/operate.md#durability). If the process dies mid-batch, nobody of that batch was answered.
All units of work of one command land in one batch (a batch waits for its running commands).
If BEGIN or COMMIT fails, every command of the batch is run again alone, in its own
transactions, so each caller still gets its own answer. Commands must therefore be safe to run
again after a failed attempt: every service call is (its transaction rolled back entirely).

What it costs: units of work of a batch run one after the other on one connection, so a long
one delays its batch-mates; a caller waits for the commands that joined its batch after it
(at most `max_batch` in all) and for the slowest of them. It pays when many callers write at
once and a COMMIT costs real time (a flush to disk): one COMMIT instead of one per command.
Measured (BENCHMARKS.md, "Group commit at FULL", 2026-11-29): on SQLite at `full`, 1.95× /
2.03× / 3.22× one transaction per request at 4 / 16 / 32 clients (batches of 2 / 12 / 19); on
PostgreSQL 0.7–1.15× (measured with the earlier 2 ms window), as each command's units are
round trips made one after another here.
While a batch commits, the next one waits: two open batches of one process could wait on each
other where the database cannot see it (a member of the first blocked on a row the second
holds, whose COMMIT waits for the first).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from integrations.db.units import Savepoints
from integrations.service.context import Context

T = TypeVar("T")
Command = Callable[[Context], T]


class GroupCommit:
    """Applies concurrent commands in shared transactions; see the module docstring."""

    def __init__(self, ctx: Context, max_batch: int = 64, max_wait: float = 0.0):
        if max_batch < 1 or max_wait < 0:
            raise ValueError("max_batch must be ≥ 1 and max_wait ≥ 0")
        self.ctx, self.max_batch, self.max_wait = ctx, max_batch, max_wait
        self._joined = ctx.joined(_SharedUnits(self))
        self._state = threading.Condition()
        self._open: _Batch | None = None  # the batch new units of work join
        self._closing: _Batch | None = None  # the batch being committed
        self._stopping = False
        self._local = threading.local()  # the batch the calling thread's command joined
        self._pool: ThreadPoolExecutor | None = None
        self._thread = threading.Thread(target=self._loop, name="orderpilot-group-commit",
                                        daemon=True)
        self._thread.start()
        self.batches = 0  # how many transactions were committed (for the benchmark)

    def run(self, command: Command[T]) -> T:
        """Run `command` in this thread, its units of work in the open batch; returns (or
        raises) once that batch committed."""
        self._local.batch = None
        try:
            outcome: tuple[bool, Any] = (True, command(self._joined))
        except _Alone:
            outcome = (False, None)
        except Exception as error:
            outcome = (True, error)
        batch, self._local.batch = self._local.batch, None
        if batch is not None and not self._left(batch):
            outcome = (False, None)  # BEGIN or COMMIT failed: nothing of the batch stands
        if not outcome[0]:
            return command(self.ctx)  # on its own, in its own transactions
        if isinstance(outcome[1], Exception):
            raise outcome[1]
        return outcome[1]

    def submit(self, command: Command[T]) -> Future[T]:
        """Run `command` on a thread of the group's pool; the future settles when its batch
        committed."""
        with self._state:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_batch, "orderpilot-group-caller")
        return self._pool.submit(self.run, command)

    def close(self) -> None:
        """Finish the commands submitted and the open batch, then stop the committer."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        with self._state:
            self._stopping = True
            self._state.notify_all()
        self._thread.join()

    # --- callers ----------------------------------------------------------------------------

    def _join(self) -> _Batch:
        """The open batch, counting this caller's command in it (opened here if none is)."""
        with self._state:
            while self._closing is not None or \
                    (self._open is not None and self._open.members >= self.max_batch):
                # one batch at a time: the next begins after this COMMIT (see the module
                # docstring); a full batch is about to be closed by the committer
                self._state.wait()
            batch = self._open
            if batch is None:
                try:
                    batch = self._open = _Batch(self.ctx, time.monotonic() + self.max_wait)
                except Exception:
                    raise _Alone() from None  # BEGIN failed: run alone
                self._state.notify_all()
            batch.running += 1
            batch.members += 1
            if batch.members >= self.max_batch:
                self._state.notify_all()
            return batch

    def _left(self, batch: _Batch) -> bool:
        """This caller's command returned: wait for its batch's COMMIT; False if it failed."""
        with self._state:
            batch.running -= 1
            self._state.notify_all()
            while not batch.done:
                self._state.wait()
            return batch.committed

    # --- the committer ----------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._state:
                while self._open is None and not self._stopping:
                    self._state.wait()
                batch = self._open
                if batch is None:
                    return
                self._gather(batch)
                self._open, self._closing = None, batch  # later units of work: the next one
                while batch.running:
                    self._state.wait()
            committed = batch.commit()
            with self._state:
                batch.done, batch.committed, self._closing = True, committed, None
                self.batches += committed
                self._state.notify_all()

    def _gather(self, batch: _Batch) -> None:
        """Keep `batch` open while any of its commands runs (whoever arrives meanwhile joins
        it rather than wait for its COMMIT and open the next), until it is full, or none runs
        and `max_wait` has passed since it opened. Called holding `_state`."""
        while batch.members < self.max_batch and not self._stopping:
            if batch.running:
                self._state.wait()  # woken when one of them returns
                continue
            left = batch.deadline - time.monotonic()
            if left <= 0:
                return
            self._state.wait(left)


class _Alone(BaseException):  # noqa: N818 - a signal inside `run`, never seen by callers
    """The batch could not begin: the command is run again on its own (a BaseException, so
    that no `except Exception` of the command on its way up takes it for its own error)."""


class _Batch:
    """One shared transaction: its connection, the savepoints, who is in it."""

    def __init__(self, ctx: Context, deadline: float):
        self._stack = contextlib.ExitStack()
        self.connection = self._stack.enter_context(ctx.units.begin())
        self.savepoints = Savepoints(self.connection)
        self.turn = threading.RLock()  # one unit of work at a time on the connection
        self.deadline = deadline
        self.members = self.running = 0
        self.done = self.committed = False

    def commit(self) -> bool:
        try:
            self._stack.close()
            return True
        except Exception:  # the unit of work rolled back (or discarded the connection)
            return False


class _SharedUnits:
    """Stands in for `Units` in the commands of a group: units of work are savepoints of the
    batch the calling thread's command joined (it joins at its first)."""

    def __init__(self, group: GroupCommit):
        self.group = group

    @contextlib.contextmanager
    def begin(self, readonly: bool = False) -> Iterator[Any]:
        local = self.group._local
        batch = getattr(local, "batch", None)
        if batch is None:
            batch = local.batch = self.group._join()
        with batch.turn, batch.savepoints.begin(readonly) as connection:
            yield connection

    def tools(self, unit: Any, connection: Any, build: Callable[[Any], Any]) -> Any:
        """A savepoint's unit of work builds its own tools (Units.tools keeps them)."""
        return build(connection)
