"""The console's place in the outbox: every row after a cursor that is kept in the store, so a
restarted console carries on where it stopped (at least once; the work it does is idempotent).

The cursor lives in the `inbox` table under one key. A console that has never run starts at
the newest row: older work is found by the re-drive, which reads the store's open cases — never
by replaying old events (which would, say, refund long-cancelled orders again).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select

from integrations.db.schema import InboxRow, OutboxRow
from integrations.service.context import Context

OUTBOX, INBOX = OutboxRow.__table__, InboxRow.__table__
CURSOR_KEY = "console:cases-cursor"
MAX_GAPS = 10_000


def load_cursor(ctx: Context, key: str = CURSOR_KEY) -> int:
    """The last outbox id the console handled (the newest id on a first start)."""
    with ctx.tx(readonly=True) as tx:
        kept = tx.connection.execute(select(INBOX.c.result).where(
            INBOX.c.key == key)).scalar_one_or_none()
        if kept is not None:
            return int(kept["outbox_id"])
        return int(tx.connection.execute(select(func.coalesce(func.max(OUTBOX.c.id), 0)))
                   .scalar_one())


def save_cursor(ctx: Context, outbox_id: int, key: str = CURSOR_KEY) -> None:
    with ctx.tx() as tx:
        tx.connection.execute(delete(INBOX).where(INBOX.c.key == key))
        tx.connection.execute(insert(INBOX).values(
            key=key, kind="console", result={"outbox_id": outbox_id},
            created_at=ctx.clock.now()))


COLUMNS = (OUTBOX.c.id, OUTBOX.c.event, OUTBOX.c.entity, OUTBOX.c.entity_id,
           OUTBOX.c.order_id, OUTBOX.c.payload, OUTBOX.c.created_at)


def rows_after(ctx: Context, cursor: int, limit: int = 1000) -> list[Any]:
    """Outbox rows after `cursor`, oldest first."""
    with ctx.tx(readonly=True) as tx:
        return list(tx.connection.execute(
            select(*COLUMNS).where(OUTBOX.c.id > cursor).order_by(OUTBOX.c.id).limit(limit)))


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
            found = list(tx.connection.execute(
                select(*COLUMNS).where(OUTBOX.c.id.in_(list(self.gaps))).order_by(OUTBOX.c.id)))
        for row in found:
            self.gaps.pop(row.id, None)
        return found

