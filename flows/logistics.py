"""Stall alerts: one flow run per stalled parcel, a carrier chase and a word to the buyer."""

from __future__ import annotations

from prefect import flow, task

from flows.runs import mark_run, report, transient_only
from flows.wiring import carrier, context, notify
from integrations.service.inputs import parse_id
from integrations.service.stalls import StallCase, record_alert, stall_case
from statemachine.ports import ChaseTicket, Message

KIND = "stall-alert"


@task(retries=3, retry_delay_seconds=[1, 5, 30], retry_condition_fn=transient_only)
def chase_carrier(case: StallCase, database_url: str | None = None) -> ChaseTicket:
    s = case.shipment
    return carrier(s.carrier, context(database_url).clock).chase(
        s.tracking_no, s.stall_reason or "stalled")


@task(retries=3, retry_delay_seconds=[1, 5, 30], retry_condition_fn=transient_only)
def appease_buyer(case: StallCase, ticket: ChaseTicket) -> None:
    s = case.shipment
    notify(Message("orderpilot.shipment.stalled", "buyer",
                   f"Your parcel {s.tracking_no} is delayed",
                   f"Sorry: your parcel for order {s.order_id} is delayed ({s.stall_reason}). "
                   f"We asked {s.carrier} to look for it (ticket {ticket.ticket_id}) and will "
                   "update you within 24 hours.", s.order_id))


@flow(name=KIND, flow_run_name="stall-alert-{order_id}-{shipment_id}")
def stall_alert(order_id: str, shipment_id: str, database_url: str | None = None) -> str:
    """Alert once per stall episode; a parcel scanned again meanwhile needs no alert."""
    ctx, number = context(database_url), parse_id("shipment_id", shipment_id, "s")
    mark_run(order_id, KIND, f"shipment:{shipment_id}")
    case = stall_case(ctx, number)
    if not case.stalled:
        return report(order_id, "cleared", f"{shipment_id} is {case.shipment.state} again")
    if case.alerted:
        return report(order_id, "already alerted", f"{shipment_id}: {case.alert_key}")
    ticket = chase_carrier(case, database_url)
    appease_buyer(case, ticket)
    if not record_alert(ctx, case, ticket):
        return report(order_id, "already alerted", f"{shipment_id}: a parallel run won")
    return report(order_id, "alerted", f"{shipment_id} ({case.shipment.stall_reason}): "
                                       f"{case.shipment.carrier} ticket {ticket.ticket_id}")
