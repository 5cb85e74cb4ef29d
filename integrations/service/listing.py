"""Finding orders: a filtered, paginated list (newest first), a search by any id a person has
at hand (order, buyer, payment reference, tracking number), and exports as CSV or JSON.

Pages are keyset-paginated on the order id: `next` is the id to pass as `after`, so a page is
as cheap on the millionth order as on the first and never skips or repeats a row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from pydantic import Field

from integrations.db.reports import find_orders
from integrations.service.context import Context
from integrations.service.inputs import Edge, When, parse
from integrations.service.views import View
from statemachine import ids
from statemachine.order import OrderState

COLUMNS = ("id", "buyer_id", "state", "currency", "total", "paid", "refunded", "risk",
           "created_at")


class OrderQuery(Edge):
    """What to list: every filter is optional; `after` is the previous page's `next`."""

    state: list[OrderState] | None = Field(None, max_length=20)  # a typo is refused, not
    # answered with an empty page
    buyer: str | None = Field(None, min_length=1, max_length=64)
    since: When | None = None
    until: When | None = None
    risk: Literal["approve", "review", "verify", "reject"] | None = None
    text: str | None = Field(None, min_length=1, max_length=128,
                             description="an order id, buyer id, payment ref or tracking no")
    limit: int = Field(50, ge=1, le=500)
    after: str | None = Field(None, pattern=r"^o-[0-9]{1,18}$")


class OrderLine(View):
    id: str
    buyer_id: str
    state: str
    currency: str
    total: int
    paid: int
    refunded: int
    risk: str | None
    created_at: datetime


class OrderPage(View):
    orders: list[OrderLine]
    next: str | None = Field(None, description="pass as `after` for the next page")


def list_orders(ctx: Context, **query: object) -> OrderPage:
    """One page of orders matching the filters, newest first (InvalidInput names the field)."""
    q = parse(OrderQuery, query)
    with ctx.tx(readonly=True) as tx:
        rows = find_orders(
            tx.connection, limit=q.limit + 1, buyer=q.buyer, since=q.since,
            state=[s.value for s in q.state] if q.state is not None else None,
            until=q.until, risk=q.risk, text=q.text,
            before=ids.ORDER.parse(q.after, field="after") if q.after else None)
    lines = [_line(r) for r in rows[:q.limit]]
    return OrderPage(orders=lines, next=lines[-1].id if len(rows) > q.limit else None)


def every_order(ctx: Context, **query: object) -> Iterator[OrderLine]:
    """Every matching order, page after page (for exports)."""
    after = query.pop("after", None)
    while True:
        page = list_orders(ctx, **query, after=after, limit=500)
        yield from page.orders
        if page.next is None:
            return
        after = page.next


def export(ctx: Context, fmt: Literal["csv", "json"], **query: object) -> str:
    """Every matching order as CSV (one header row) or a JSON array."""
    lines = [line.model_dump(mode="json") for line in every_order(ctx, **query)]
    if fmt == "json":
        return json.dumps(lines, ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    return out.getvalue()


def _line(r: object) -> OrderLine:
    return OrderLine(id=ids.ORDER(r.id), buyer_id=r.buyer_id, state=r.state,  # type: ignore
                     currency=r.currency, total=r.total, paid=r.paid, refunded=r.refunded,
                     risk=r.action, created_at=r.created_at)
