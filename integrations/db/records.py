"""Reads and writes of the integration rows (webhook event log, payment records, order notes),
on the connection of the caller's unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from integrations.db.repository import SHIPMENTS
from integrations.db.schema_integrations import OrderNoteRow, PaymentRecordRow, WebhookEventRow
from statemachine.errors import NotFound

EVENTS = WebhookEventRow.__table__
PAYMENTS = PaymentRecordRow.__table__
NOTES = OrderNoteRow.__table__


def event_get(connection: Connection, key: str) -> Any | None:
    return connection.execute(select(EVENTS).where(EVENTS.c.key == key)).first()


def event_put(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(EVENTS).values(values))


def event_finish(connection: Connection, key: str, values: dict[str, Any]) -> None:
    connection.execute(update(EVENTS).where(EVENTS.c.key == key).values(values))


def events_of(connection: Connection, order_id: int, source: str | None = None) -> list[Any]:
    query = select(EVENTS).where(EVENTS.c.order_id == order_id)
    if source is not None:
        query = query.where(EVENTS.c.source == source)
    return list(connection.execute(query.order_by(EVENTS.c.received_at, EVENTS.c.key)))


def payment_add(connection: Connection, values: dict[str, Any]) -> int:
    return int(connection.execute(insert(PAYMENTS).values(values)).inserted_primary_key[0])


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


def shipment_by_tracking(connection: Connection, carrier: str, tracking_no: str) -> int:
    """The parcel number for a carrier's tracking number; NotFound if we never shipped it."""
    row = connection.execute(select(SHIPMENTS.c.id).where(
        SHIPMENTS.c.carrier == carrier, SHIPMENTS.c.tracking_no == tracking_no)
        .order_by(SHIPMENTS.c.id.desc())).first()
    if row is None:
        raise NotFound("shipment", f"{carrier}/{tracking_no}")
    return int(row.id)


def carrier_of_tracking(connection: Connection, carriers: list[str], tracking_no: str
                        ) -> str | None:
    """Which of these carriers shipped the parcel with this tracking number (the newest parcel
    if several did); None if none of them."""
    row = connection.execute(select(SHIPMENTS.c.carrier).where(
        SHIPMENTS.c.carrier.in_(carriers), SHIPMENTS.c.tracking_no == tracking_no)
        .order_by(SHIPMENTS.c.id.desc())).first()
    return None if row is None else str(row.carrier)
