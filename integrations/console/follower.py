"""The console's place in the outbox: every row after a cursor that is kept in the store, so a
restarted console carries on where it stopped (at least once; the work it does is idempotent).

The cursor lives in the `inbox` table under one key. A console that has never run starts at
the newest row: older work is found by the re-drive, which reads the store's open cases — never
by replaying old events (which would, say, refund long-cancelled orders again).
"""

from __future__ import annotations

from typing import Any

from integrations.db import outbox
from integrations.service.context import Context

CURSOR_KEY = "console:cases-cursor"
MAX_GAPS = 10_000


def load_cursor(ctx: Context, key: str = CURSOR_KEY) -> int:
    """The last outbox id the console handled (the newest id on a first start)."""
    with ctx.tx(readonly=True) as tx:
        kept = outbox.kept_cursor(tx.connection, key)
        return kept if kept is not None else outbox.newest_id(tx.connection)


def save_cursor(ctx: Context, outbox_id: int, key: str = CURSOR_KEY) -> None:
    with ctx.tx() as tx:
        outbox.keep_cursor(tx.connection, key, outbox_id, ctx.clock.now())


def rows_after(ctx: Context, cursor: int, limit: int = 1000) -> list[Any]:
    """Outbox rows after `cursor`, oldest first."""
    with ctx.tx(readonly=True) as tx:
        return outbox.rows_after(tx.connection, cursor, limit)


class Follower:
    """Reads new outbox rows in id order and keeps watching id gaps for a while: on
    PostgreSQL a transaction that took a lower id may commit after a higher one was read."""

    def __init__(self, ctx: Context, gap_seconds: float = 10.0, key: str = CURSOR_KEY):
        self.ctx, self.gap_seconds, self.key = ctx, gap_seconds, key
        self.cursor = load_cursor(ctx, key)
        self.gaps: dict[int, float] = {}  # missing id → give up at (monotonic seconds)

    def poll(self, now: float, limit: int = 1000) -> list[Any]:
        """The rows to handle now: late rows that filled a gap, then new rows."""
        late = self._late_rows(now)
        rows = rows_after(self.ctx, self.cursor, limit)
        if rows:
            ids, span = {r.id for r in rows}, range(self.cursor + 1, rows[-1].id)
            if len(span) - len(ids) <= MAX_GAPS:  # a huge jump is a deletion, not a race
                for missing in set(span) - ids:
                    self.gaps[missing] = now + self.gap_seconds
            self.cursor = rows[-1].id
        return late + rows

    def commit(self) -> None:
        """Remember the cursor once the rows it covers were handled."""
        save_cursor(self.ctx, self.cursor, self.key)

    def _late_rows(self, now: float) -> list[Any]:
        self.gaps = {i: until for i, until in self.gaps.items() if until > now}
        if not self.gaps:
            return []
        with self.ctx.tx(readonly=True) as tx:
            found = outbox.rows_with_ids(tx.connection, self.gaps)
        for row in found:
            self.gaps.pop(row.id, None)
        return found

