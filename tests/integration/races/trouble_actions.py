"""More racing callers (re-exported by actions.py, where the workers look them up): parcels
that go wrong, labels bought at the dispatch desk, payments reported through the Python API,
sweeps told the time, and the provider's dispute notices."""

from __future__ import annotations

import os
from typing import Any

from orderpilot import OrderPilot


def report_lost(pilot: OrderPilot, shipment_id: str, settle: str | None = None,
                provider: str = "") -> str:
    """Logistics declares a parcel lost, settling the buyer by refund or reship; `provider`:
    the compensation is paid through the shared provider's books (races/provider.py)."""
    if provider:
        from dataclasses import replace

        from integrations.service import parcel_trouble
        from tests.integration.races.provider import SharedProvider

        ctx = replace(pilot.context, gateway=SharedProvider(provider))
        claim = parcel_trouble.report_lost(ctx, int(shipment_id[2:]), "承运商确认丢件",
                                           "logistics", settle)
        return f"{claim.state.value}:{claim.compensation}"
    found = pilot.claims.report_lost(shipment_id, reason="承运商确认丢件", settle=settle)
    return f"{found['state']}:{found['compensation']}"


def receive_return(pilot: OrderPilot, shipment_id: str, result: str = "ok",
                   settle: str = "refund") -> str:
    """The warehouse inspects a parcel the carrier brought back (ok: back on the shelf)."""
    return pilot.claims.receive_return(shipment_id, result=result, settle=settle)["state"]


def ship_with_labels(pilot: OrderPilot, order_id: str) -> str:
    """A dispatcher ships a packed order with a waybill bought from the simulated carrier."""
    return pilot.orders.ship_with_labels(order_id, {"sim-express": _Carrier(pilot.clock)},
                                         actor="dispatch").state


def report_payment(pilot: OrderPilot, order_id: str, amount: int, payment_ref: str
                   ) -> tuple[str, bool]:
    """Money a provider with no webhook here took, reported by the shop's own code
    (pilot.orders.pay): what it did, and whether it was the answer to an earlier report."""
    outcome = pilot.orders.pay(order_id, amount=amount, payment_ref=payment_ref)
    return outcome.outcome, outcome.duplicate


def sweep_at(pilot: OrderPilot, now: str) -> dict[str, int]:
    """A sweep told the time (a scheduler's run for its slot, or a catch-up run)."""
    from datetime import datetime

    return pilot.sweep(datetime.fromisoformat(now))


def dispute_opened(pilot: OrderPilot, order_id: str, payment_ref: str, amount: int,
                   at: str, dispute_ref: str) -> str:
    """The provider reports the buyer's bank opened a dispute (Stripe charge.dispute.created)."""
    from datetime import datetime, timedelta

    from integrations.ingest.money_events import apply_money_event
    from statemachine.ports import MoneyEvent

    when = datetime.fromisoformat(at)
    event = MoneyEvent("simulated", f"evt-{dispute_ref}", "dispute_opened", payment_ref,
                       amount, "CNY", when, order_id=order_id, dispute_ref=dispute_ref,
                       reason="fraudulent", due_by=when + timedelta(days=7))
    outcome, _ = apply_money_event(pilot.context, event)
    return str(outcome.body.get("note") or outcome.status)


class _Carrier:
    """The simulated carrier, its tracking numbers unique across the racing processes (each
    process's own simulated carrier would number its first waybill 1)."""

    def __init__(self, clock: Any):
        from integrations.carriers.simulated import SimulatedCarrier
        from statemachine.ports import CarrierProfile

        self._inner = SimulatedCarrier(CarrierProfile("sim-express", 3), clock)

    def create_waybill(self, request: Any) -> Any:
        from dataclasses import replace

        waybill = self._inner.create_waybill(request)
        return replace(waybill, tracking_no=f"SIM-{request.order_id}-{request.parcel_no}-"
                                            f"{os.getpid()}")


def lose_silent_parcels(pilot: OrderPilot) -> list[str]:
    """The logistics watch: stalled parcels silent past the policy declared lost."""
    return pilot.claims.lose_silent_parcels()


def declare_stalled_lost(pilot: OrderPilot, shipment_id: str) -> str:
    """An operator answers a stalled parcel's form (console, `orderpilot stalls act`):
    declare it lost."""
    from integrations.console.decisions import act_on_stall
    from integrations.console.jobs import Ports

    ports = Ports(pilot.context.gateway, carrier=_no_carrier, notify=lambda message: None)
    return act_on_stall(pilot.context, ports, shipment_id, {
        "action": "declare_lost", "operator": "amy", "note": "停滞三天，按丢件处理"})


def _no_carrier(name: str, clock: Any) -> Any:
    raise AssertionError("declaring a parcel lost does not chase the carrier")


def approve_case(pilot: OrderPilot, case_id: str, provider: str) -> str:
    """A person approves a request from the Python API, which pays it through the shared
    provider's books at once (refund-only): the case's state and what the answer says of the
    refund."""
    from dataclasses import replace

    from orderpilot.api import Cases
    from tests.integration.races.provider import SharedProvider

    ctx = replace(pilot.context, gateway=SharedProvider(provider))
    approved = Cases(ctx).approve(case_id, by="mei", reason="照片显示破损")
    return f"{approved.state}, refund {approved.refund.status if approved.refund else None}"


def pay_recorded_refund(pilot: OrderPilot, key: str, provider: str) -> str:
    """The approval's own provider call of the refund it recorded (what `approve` does right
    after its commit), through the shared provider's books."""
    from dataclasses import replace

    from integrations.service import refunds
    from tests.integration.races.provider import SharedProvider

    ctx = replace(pilot.context, gateway=SharedProvider(provider))
    return refunds.pay(ctx, key, pilot.clock.now()).status.value
