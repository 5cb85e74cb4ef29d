"""Stalled parcels: one alert per stall episode, however many times the alert is triggered.

A stall episode is identified by the parcel's last scan before the silence (unchanged while it
stays stalled, even when it is also marked late); the alert is claimed in
the inbox table, in the same transaction that records the chase in the order's event stream.
A new carrier scan moves the parcel out of `stalled`, which clears the alert.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from integrations.db.errors import is_integrity_error
from integrations.service.context import Context
from integrations.service.views import ShipmentView
from statemachine import ids
from statemachine.ports import ChaseTicket
from statemachine.shipment import ShipmentState


class StallCase(BaseModel):
    model_config = ConfigDict(frozen=True)
    shipment: ShipmentView
    buyer_id: str
    alert_key: str
    alerted: bool

    @property
    def stalled(self) -> bool:
        return self.shipment.state == ShipmentState.STALLED.value


def stall_case(ctx: Context, shipment_id: int) -> StallCase:
    """The parcel, its buyer, and whether this stall episode was already alerted."""
    with ctx.tx(readonly=True) as tx:
        shipment = tx.store.get_shipment(shipment_id)
        order = tx.store.get_order(shipment.order_id)
        since = shipment.last_scan_at or shipment.created_at
        key = f"stall-alert:{shipment.public_id}:{int(since.timestamp())}"
        return StallCase(shipment=ShipmentView.of(shipment), buyer_id=order.buyer_id,
                         alert_key=key, alerted=tx.store.inbox_get(key) is not None)


def record_alert(ctx: Context, case: StallCase, ticket: ChaseTicket) -> bool:
    """Claim the episode and record the chase; False if another run claimed it first."""
    s = case.shipment
    number, order_number = ids.SHIPMENT.parse(s.id), ids.ORDER.parse(s.order_id)
    now = ctx.clock.now()
    try:
        with ctx.tx() as tx:
            tx.store.inbox_put(case.alert_key, "stall-alert", {"ticket": ticket.ticket_id}, now)
            tx.writer.signal("chased", "shipment", number, order_number, now, {
                "shipment_id": s.id, "state": s.state, "carrier": s.carrier,
                "tracking_no": ticket.tracking_no, "ticket": ticket.ticket_id,
                "reason": ticket.reason, "chased_at": ticket.at.isoformat(),
                "stall_reason": s.stall_reason})
    except Exception as error:
        if not is_integrity_error(error):  # a unique key: the alert was sent already
            raise
        return False
    return True
