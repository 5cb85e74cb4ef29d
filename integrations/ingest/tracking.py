"""Tracking providers' updates → parcel triggers, through the carrier-event path.

A provider names the carrier with its own code (`shunfeng`, `sf-express`); our parcel carries
our carrier name, so the parcel is looked up under every name that maps to that code. An
update whose code maps to a carrier status goes through `handlers.carrier_event` — the same
path as our own carrier webhook and polling, with its out-of-order rules — keyed by the
provider's event, so a repeated push replays. An update that moves nothing (a code mapped to
"recorded only") is logged on the parcel's order and announced as `tracking_recorded`.

Polling (`poll_parcel`) takes the same path: each event the carrier has for a parcel, keyed by
the carrier's event id, so polling again (or a webhook for the same event) changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.carriers.tracking_updates import TrackingUpdate
from integrations.db import records
from integrations.ingest import handlers
from integrations.ingest.events import CarrierEvent, Inbound
from integrations.ingest.once import Applied, Outcome, once
from integrations.service.context import Context, Tx
from integrations.service.inputs import check_text, parse
from integrations.service.views import ShipmentView
from statemachine import limits
from statemachine.errors import NotFound
from statemachine.ports import Carrier
from statemachine.tracking import CarrierStatus


class RecordedUpdate(Inbound):
    """A provider update that moves nothing, as it is logged (and replayed)."""

    provider: str
    carrier: str
    tracking_no: str
    code: str
    label: str


def apply_update(ctx: Context, update: TrackingUpdate) -> Outcome:
    """Apply one provider update to our parcel; NotFound if we never shipped that waybill."""
    carrier = _our_carrier(ctx, update)
    if update.status is None:
        return _record_only(ctx, update, carrier)
    # parsed, not constructed: a provider's text no store can keep (NUL) is an InvalidInput
    return handlers.carrier_event(ctx, parse(CarrierEvent, dict(
        event_id=update.event_id, carrier=carrier, tracking_no=update.tracking_no,
        status=update.status, location=update.location, occurred_at=update.occurred_at,
        reason=_reason(update))))


def poll_parcel(ctx: Context, carrier: Carrier, tracking_no: str) -> list[Outcome]:
    """Apply every tracking event the carrier has for the parcel (repeats are replays)."""
    return [handlers.carrier_event(ctx, CarrierEvent(
                event_id=e.event_id, carrier=carrier.profile.name, tracking_no=tracking_no,
                status=e.status, location=e.location, occurred_at=e.at))
            for e in carrier.tracking(tracking_no) if e.status is not CarrierStatus.LABEL_CREATED]


def _our_carrier(ctx: Context, update: TrackingUpdate) -> str:
    check_text("carrier", update.provider_carrier, limits.REF, what="a carrier code")
    check_text("tracking_no", update.tracking_no, limits.REF, what="a tracking number")
    names = ctx.settings.tracking.our_carriers(update.provider_carrier)
    with ctx.tx(readonly=True) as tx:
        carrier = records.carrier_of_tracking(tx.connection, names, update.tracking_no)
    if carrier is None:
        raise NotFound("shipment", f"{update.provider_carrier}/{update.tracking_no}")
    return carrier


def _reason(update: TrackingUpdate) -> str:
    text = f"{update.provider} {update.code}: {update.label}"
    return (f"{text} — {update.detail}" if update.detail else text)[:500]


def _record_only(ctx: Context, update: TrackingUpdate, carrier: str) -> Outcome:
    event = parse(RecordedUpdate, dict(event_id=update.event_id, occurred_at=update.occurred_at,
                                       provider=update.provider, carrier=carrier,
                                       tracking_no=update.tracking_no, code=update.code,
                                       label=update.label))
    note = f"{update.provider} {update.code} ({update.label}) moves nothing; recorded only"

    def apply(tx: Tx, _: Any, now: datetime) -> Applied:
        shipment = tx.store.get_shipment(records.shipment_by_tracking(
            tx.connection, carrier, update.tracking_no))
        tx.writer.signal("tracking_recorded", "shipment", shipment.id, shipment.order_id,
                         now, {"status": update.code, "note": note})
        return Applied(shipment.order_id, False,
                       {"shipment": ShipmentView.of(shipment).model_dump(mode="json")}, note)

    return once(ctx, "carriers", f"tracking.{update.provider}", event, apply)
