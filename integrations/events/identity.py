"""The store's identity, made once and kept in the store: event ids and console runs of two
stores (or of a store rebuilt from scratch) that meet on one Prefect server never collide."""

from __future__ import annotations

import uuid

from integrations.service.context import Context

STORE_KEY = "console:store-id"


def store_id(ctx: Context) -> str:
    """Ten hex digits naming this store (created on first use; processes starting on a new
    store at once all get the first one kept)."""
    with ctx.tx() as tx:
        kept = tx.store.inbox_get(STORE_KEY)
        if kept is None:
            kept = tx.store.inbox_keep(STORE_KEY, "console", {"id": uuid.uuid4().hex[:10]},
                                       ctx.clock.now())
        return str(kept["id"])
