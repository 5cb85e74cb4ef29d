"""The store's identity, made once and kept in the store: event ids and console runs of two
stores (or of a store rebuilt from scratch) that meet on one Prefect server never collide."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select

from integrations.db.schema import InboxRow
from integrations.service.context import Context

INBOX = InboxRow.__table__
STORE_KEY = "console:store-id"


def store_id(ctx: Context) -> str:
    """Ten hex digits naming this store (created on first use)."""
    with ctx.tx() as tx:
        kept = tx.connection.execute(select(INBOX.c.result).where(
            INBOX.c.key == STORE_KEY)).scalar_one_or_none()
        if kept is not None:
            return str(kept["id"])
        made = uuid.uuid4().hex[:10]
        tx.connection.execute(insert(INBOX).values(key=STORE_KEY, kind="console",
                                                   result={"id": made},
                                                   created_at=ctx.clock.now()))
        return made
