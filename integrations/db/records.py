"""Reads and writes of the integration rows (webhook event log, payment records, order notes),
on the connection of the caller's unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select

from integrations.db.repository import SHIPMENTS
from integrations.db.rows import Insert, check_row, nulls_filled, row_loader, select_sql, update_sql
from integrations.db.schema_integrations import OrderNoteRow, PaymentRecordRow, WebhookEventRow
from integrations.db.sql import Sql
from integrations.db.waybill_keys import waybill_key
from statemachine.errors import NotFound
from statemachine.waybills import waybill_key as key_of

EVENTS = WebhookEventRow.__table__
PAYMENTS = PaymentRecordRow.__table__
NOTES = OrderNoteRow.__table__


class LoggedEvent(NamedTuple):
    """What a replay needs of a logged event: its body digest, order and stored response."""

    body_sha256: str
    order_id: int | None
    status_code: int
    response: dict[str, Any]


# The event log is written and read on every webhook: on the DBAPI cursor (db/sql.py), not
# Core, whose statement building cost ~0.3 ms of a placement's three statements here. The
# statements are generated from the table (rows.py), once: a column added to WebhookEventRow
# is in EVENT_PUT, and event_put refuses values that do not name it.
EVENT = Insert(EVENTS, but=())  # the claim names every column
EVENT_PUT, EVENT_KEYS = EVENT.sql, frozenset(EVENT.columns)
FINISHED = ("order_id", "applied", "note", "status_code", "response")  # what applying decided
FINISHED_KEYS = frozenset(FINISHED)  # an UPDATE by key, checked as an INSERT's row is
EVENT_GET = select_sql(EVENTS, LoggedEvent._fields, where=("key",))
EVENT_FINISH = update_sql(EVENTS, FINISHED, where=("key",))
_load_event = row_loader(EVENTS, LoggedEvent)


def event_get(connection: Connection | Sql, key: str) -> LoggedEvent | None:
    """The logged event under `key`, or None."""
    sql = _sql(connection)
    row = sql.one(EVENT_GET, {"key": key})
    return None if row is None else _load_event(sql, row)


def event_put(connection: Connection | Sql, values: dict[str, Any]) -> None:
    """Claim the key: the log row, before the event is applied (a copy waits on its key).
    `values` names every column of the table, no more."""
    EVENT.write_row(_sql(connection), values)


def event_finish(connection: Connection | Sql, key: str, values: dict[str, Any]) -> None:
    """What applying the event did, and the response a duplicate gets."""
    check_row(EVENTS, FINISHED_KEYS, values)
    _sql(connection).run(EVENT_FINISH, {**values, "key": key})


def _sql(connection: Connection | Sql) -> Sql:
    return connection if isinstance(connection, Sql) else Sql(connection)


def events_of(connection: Connection, order_id: int, source: str | None = None) -> list[Any]:
    query = select(EVENTS).where(EVENTS.c.order_id == order_id)
    if source is not None:
        query = query.where(EVENTS.c.source == source)
    return list(connection.execute(query.order_by(EVENTS.c.received_at, EVENTS.c.key)))


PAYMENT = Insert(PAYMENTS)  # every column but the id
PAYMENT_ADD = PAYMENT.sql


def payment_add(connection: Connection | Sql, values: dict[str, Any]) -> int:
    """A money movement (every webhook payment writes one: on the DBAPI cursor); its id.
    The provider's optional fields (nullable columns) may be left out: they are written NULL."""
    row = nulls_filled(PAYMENTS, PAYMENT.columns, values)  # refused before a store is touched
    return PAYMENT.write_id(_sql(connection), row)


def payments_of(connection: Connection, order_id: int) -> list[Any]:
    return list(connection.execute(
        select(PAYMENTS).where(PAYMENTS.c.order_id == order_id).order_by(PAYMENTS.c.id)))


def note_add(connection: Connection, order_id: int, kind: str, author: str, text: str,
             at: datetime, attachments: list[str] | None = None) -> int:
    return int(connection.execute(insert(NOTES).values(
        order_id=order_id, kind=kind, author=author, text=text, at=at,
        attachments=attachments or [])).inserted_primary_key[0])


def notes_of(connection: Connection, order_id: int) -> list[Any]:
    return list(connection.execute(
        select(NOTES).where(NOTES.c.order_id == order_id).order_by(NOTES.c.id)))


# A waybill is found in any case (statemachine/waybills.py): the number and the carrier are
# compared by their keys, on the index built on them (ix_shipments_waybill_key)
number_key, carrier_key = waybill_key(SHIPMENTS.c.tracking_no), waybill_key(SHIPMENTS.c.carrier)


def shipment_by_tracking(connection: Connection, carrier: str, tracking_no: str) -> int:
    """The parcel number for a carrier's tracking number, in any case (SF's sf-0000050 is
    SF-0000050; the newest parcel if several); NotFound if we never shipped it."""
    row = connection.execute(select(SHIPMENTS.c.id).where(
        number_key == key_of(tracking_no), carrier_key == key_of(carrier))
        .order_by(SHIPMENTS.c.id.desc())).first()
    if row is None:
        raise NotFound("shipment", f"{carrier}/{tracking_no}")
    return int(row.id)


def open_parcels_on(connection: Connection, numbers: list[str], closed: frozenset[str]
                    ) -> list[Any]:
    """(id, order_id, carrier, tracking_no, state) of the parcels under these tracking numbers,
    in any case, whose state is not in `closed` (the waybill index: one range per number)."""
    return list(connection.execute(select(
        SHIPMENTS.c.id, SHIPMENTS.c.order_id, SHIPMENTS.c.carrier, SHIPMENTS.c.tracking_no,
        SHIPMENTS.c.state).where(number_key.in_(sorted({key_of(n) for n in numbers})),
                                 SHIPMENTS.c.state.not_in(sorted(closed)))
        .order_by(SHIPMENTS.c.id)))


def carrier_of_tracking(connection: Connection, carriers: list[str], tracking_no: str
                        ) -> str | None:
    """Which of these carriers shipped the parcel with this tracking number, both in any case
    (a push for sf-0000050 finds SF's SF-0000050; the newest parcel if several did), by the
    name the parcel carries; None if none of them."""
    row = connection.execute(select(SHIPMENTS.c.carrier).where(
        carrier_key.in_(sorted({key_of(c) for c in carriers})),
        number_key == key_of(tracking_no)).order_by(SHIPMENTS.c.id.desc())).first()
    return None if row is None else str(row.carrier)
