"""Replay through the per-transition path: one service call, one transaction, per trigger."""

from __future__ import annotations

from collections.abc import Callable

from integrations.replay.drivers import ACTOR, BaseDriver, guarded
from integrations.replay.events import Event, Stage
from integrations.replay.simulation import carrier_for
from integrations.service import orders, shipments


class ServiceDriver(BaseDriver):
    """Exactly what `OrderPilot.orders.place/fire` and `.shipments.fire` do, trigger by trigger."""

    def handlers(self) -> dict[Stage, Callable[[list[Event]], None]]:
        return {Stage.PLACE: self._each(self._place), Stage.PAY: self._each(self._pay),
                Stage.START_PAYMENT: self._each(lambda e: self._fire(
                    e.ref, "start_payment", self.start_payment_params(e.ref))),
                Stage.HAND_OVER: self._each(self._hand_over),
                Stage.SCAN: self._each(lambda e: self._parcel(e, "scan")),
                Stage.DELIVER: self._each(lambda e: self._parcel(e, "deliver")),
                Stage.CANCEL: self._each(self._cancel)}

    def _each(self, handle: Callable[[Event], None]) -> Callable[[list[Event]], None]:
        def run(events: list[Event]) -> None:
            for event in events:
                if event.ref not in self.broken:
                    self.clock.set(event.at)
                    handle(event)
        return run

    def _place(self, e: Event) -> None:
        def place() -> None:
            self.orders[e.ref] = orders.place_order(self.ctx, self.place_request(e.ref), ACTOR)
        guarded(self, e.ref, "place", place)

    def _pay(self, e: Event) -> None:
        self._fire(e.ref, "pay", self.pay_params(e.ref))

    def _hand_over(self, e: Event) -> None:
        for trigger, params in (("start_picking", {}), ("pack", {}),
                                ("ship", self.ship_params(e.ref))):
            if not self._fire(e.ref, trigger, params):
                return
        with self.ctx.tx(readonly=True) as tx:
            parcels = tx.store.shipments_of(self.orders[e.ref])
        for parcel in parcels:
            self.parcels[(e.ref, parcel.warehouse)] = parcel.id
            if not guarded(self, e.ref, "pick_up", lambda p=parcel: shipments.fire_shipment(
                    self.ctx, p.id, "pick_up", p.carrier, {})):
                return

    def _parcel(self, e: Event, trigger: str) -> None:
        number = self.parcels[(e.ref, e.warehouse or "")]
        carrier = carrier_for(e.ref, e.warehouse or "").name
        guarded(self, e.ref, trigger, lambda: shipments.fire_shipment(
            self.ctx, number, trigger, carrier, {}))

    def _cancel(self, e: Event) -> None:
        self._fire(e.ref, "cancel", {"reason": f"{self.timelines[e.ref].status} in the source"})

    def _fire(self, ref: str, trigger: str, params: dict) -> bool:
        return guarded(self, ref, trigger, lambda: orders.fire_order(
            self.ctx, self.orders[ref], trigger, ACTOR, params))
