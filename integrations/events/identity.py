"""The store's identity, made once and kept in the store: event ids and console runs of two
stores (or of a store rebuilt from scratch) that meet on one Prefect server never collide.

A store restored from a copy of another store's database carries that store's identity, and
would take its runs for its own: `new_store_id` gives the copy one of its own
(`orderpilot db new-identity`)."""

from __future__ import annotations

import uuid

from integrations.service.context import Context

STORE_KEY = "console:store-id"


def _fresh() -> dict[str, str]:
    return {"id": uuid.uuid4().hex[:10]}


def store_id(ctx: Context) -> str:
    """Ten hex digits naming this store (created on first use; processes starting on a new
    store at once all get the first one kept)."""
    with ctx.tx() as tx:
        kept = tx.store.inbox_get(STORE_KEY)
        if kept is None:
            kept = tx.store.inbox_keep(STORE_KEY, "console", _fresh(), ctx.clock.now())
        return str(kept["id"])


def new_store_id(ctx: Context) -> tuple[str | None, str]:
    """Give the store a new identity; returns (the old one or None, the new one). Processes
    that run on the store (console, relay, workers) keep the id they read at start: restart
    them. Runs and events made under the old id stay the old store's."""
    with ctx.tx() as tx:
        old = tx.store.inbox_get(STORE_KEY)
        new = _fresh()
        tx.store.inbox_replace(STORE_KEY, "console", new, ctx.clock.now())
    return (None if old is None else str(old["id"])), new["id"]
