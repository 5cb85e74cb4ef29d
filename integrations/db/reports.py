"""Cold reads for reports: the order search (filters, keyset pages)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from integrations.db.repository import ORDERS, SHIPMENTS
from integrations.db.waybill_keys import waybill_key
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.waybills import waybill_key as key_of


def find_orders(connection: Connection, *, limit: int, state: Sequence[str] | None = None,
                buyer: str | None = None, since: datetime | None = None,
                until: datetime | None = None, risk: str | None = None,
                text: str | None = None, before: int | None = None) -> list[Any]:
    """Orders matching every filter given, newest first, at most `limit` rows (id, buyer_id,
    state, currency, total, paid, refunded, action = the risk decision placement acted on,
    created_at). `before` is the keyset: only orders with a smaller id; `text` matches an
    order id (`o-42`), a buyer id, a payment reference or a parcel's tracking number."""
    action = ORDERS.c.attrs["risk"]["action"].as_string()
    query = (select(ORDERS.c.id, ORDERS.c.buyer_id, ORDERS.c.state, ORDERS.c.currency,
                    ORDERS.c.total, ORDERS.c.paid, ORDERS.c.refunded, action.label("action"),
                    ORDERS.c.created_at).order_by(ORDERS.c.id.desc()))
    filters = {"state": lambda: ORDERS.c.state.in_(state),
               "buyer": lambda: ORDERS.c.buyer_id == buyer,
               "since": lambda: ORDERS.c.created_at >= since,
               "until": lambda: ORDERS.c.created_at < until,
               "risk": lambda: action == risk,
               "before": lambda: ORDERS.c.id < before,
               "text": lambda: _text(str(text))}
    given = {"state": state, "buyer": buyer, "since": since, "until": until, "risk": risk,
             "before": before, "text": text}
    for name, condition in filters.items():
        if given[name]:
            query = query.where(condition())
    return list(connection.execute(query.limit(limit)))


def _text(text: str) -> object:
    """An order id, a buyer id, a payment reference or a parcel's tracking number."""
    parcels = select(SHIPMENTS.c.order_id).where(  # a waybill in any case, as scans find it
        waybill_key(SHIPMENTS.c.tracking_no) == key_of(text))
    matches = [ORDERS.c.buyer_id == text, ORDERS.c.payment_ref == text,
               ORDERS.c.id.in_(parcels)]
    with suppress(InvalidInput):  # an order id too, when it reads as one
        matches.append(ORDERS.c.id == ids.ORDER.parse(text))
    return or_(*matches)
