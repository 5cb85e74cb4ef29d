"""Replay through the bulk path: one transaction per stage of a time window.

Pay, picking, packing, cancel and every carrier scan go through `integrations.replay.bulk`;
place and ship (stock allocation, parcels) call the service layer's in-transaction functions,
so the rules are the same ones the API runs. A window's placements are parsed (address and
phone, `orders.contact_of`) before its transaction, as the API's and the webhooks' are: a
Chinese address loads the division table once per process (seconds) and takes a fraction of a
millisecond each time after, and inside the transaction both held SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from integrations.db.replay_store import ReplayStore
from integrations.geo.contact import Contact
from integrations.replay import bulk
from integrations.replay.bulk import Move
from integrations.replay.drivers import ACTOR, BaseDriver, Failure, after_deadline, chunks
from integrations.replay.events import Event, Stage
from integrations.replay.simulation import carrier_for
from integrations.service import orders
from integrations.service.context import Tx
from integrations.service.inputs import PlaceOrder, Ship, parse
from integrations.service.waybills import take_turns
from statemachine.errors import OrderPilotError

BATCH = 2000


class BulkDriver(BaseDriver):
    """Moves a whole stage of a time window per transaction (batches of up to BATCH)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.parcel_refs: dict[int, str] = {}
        self.tx: Tx | None = None
        self.contacts: dict[str, tuple[PlaceOrder, Contact]] = {}  # the window's placements

    def apply(self, events: Sequence[Event]) -> None:
        """Parse the window's placements, then apply it in one transaction."""
        self.contacts = self._parsed([e for e in events
                                      if e.stage is Stage.PLACE and e.ref not in self.broken])
        try:
            super().apply(events)
        finally:
            self.contacts = {}

    def _parsed(self, events: Sequence[Event]) -> dict[str, tuple[PlaceOrder, Contact]]:
        """Each placement's request and parsed contact; one that does not parse is recorded
        as its `place` failing (the order is not placed), as inside the transaction before."""
        parsed = {}
        for e in events:
            try:  # a row the request refuses (a buyer id that is no id) fails its place too
                request = self.place_request(e.ref)
                parsed[e.ref] = (request, orders.contact_of(request))
            except OrderPilotError as error:
                self.fail(e.ref, "place", error)
        return parsed

    def handlers(self) -> dict[Stage, Callable[[list[Event]], None]]:
        return {Stage.PLACE: self._batched(self._place),
                Stage.START_PAYMENT: self._batched(self._start_payment),
                Stage.PAY: self._batched(self._pay),
                Stage.HAND_OVER: self._batched(self._hand_over),
                Stage.SCAN: self._batched(lambda tx, es: self._parcels(tx, es, "scan")),
                Stage.DELIVER: self._batched(lambda tx, es: self._parcels(tx, es, "deliver")),
                Stage.CANCEL: self._batched(self._cancel)}

    @contextmanager
    def unit(self) -> Iterator[Tx]:
        with self.ctx.tx() as tx:
            self.tx = tx
            try:
                yield tx
            finally:
                self.tx = None

    def _batched(self, handle: Callable[[Tx, Sequence[Event]], None]
                 ) -> Callable[[list[Event]], None]:
        def run(events: list[Event]) -> None:
            assert self.tx is not None, "bulk stages run inside unit()"
            for chunk in chunks(events, BATCH):
                handle(self.tx, chunk)
        return run

    def _place(self, tx: Tx, events: Sequence[Event]) -> None:
        for e in events:
            self.clock.set(e.at)
            request, contact = self.contacts[e.ref]  # parsed before the transaction (`apply`)
            try:
                with tx.connection.begin_nested():  # a refused order leaves no partial rows
                    self.orders[e.ref] = orders._place(self.ctx, tx, request, ACTOR, e.at,
                                                       contact)
            except OrderPilotError as error:
                self.fail(e.ref, "place", error)

    def _start_payment(self, tx: Tx, events: Sequence[Event]) -> None:
        self._orders(tx, [(e, "start_payment", self.start_payment_params(e.ref))
                          for e in events])

    def _pay(self, tx: Tx, events: Sequence[Event]) -> None:
        self._orders(tx, [(e, "pay", self.pay_params(e.ref)) for e in events])

    def _cancel(self, tx: Tx, events: Sequence[Event]) -> None:
        self._orders(tx, [(e, "cancel", {"reason": f"{self.timelines[e.ref].status} in the "
                                                   "source"}) for e in events])

    def _hand_over(self, tx: Tx, events: Sequence[Event]) -> None:
        live = self._orders(tx, [(e, "start_picking", {}) for e in events])
        live = self._orders(tx, [(e, "pack", {}) for e in live])
        # every ship's waybills' turns at once, sorted, before the first ship: ship by ship,
        # two batches naming the same numbers in opposite order could wait on each other
        params = {e.ref: parse(Ship, self.ship_params(e.ref)).model_dump(exclude_none=True)
                  for e in live}
        take_turns(tx, [label for e in live for label in params[e.ref]["parcels"]])
        shipped = [e for e in live if self._ship(tx, e, params[e.ref])]
        numbers = {self.orders[e.ref]: e for e in shipped}
        moves = []
        for number, order_id, warehouse, carrier in ReplayStore(tx.connection).parcels_of(
                list(numbers)):
            event = numbers[order_id]
            self.parcels[(event.ref, warehouse)] = number
            self.parcel_refs[number] = event.ref
            moves.append(Move(number, "pick_up", event.at, carrier))
        self._refusals(bulk.fire_shipments(self.ctx, tx, moves), self.parcel_refs)

    def _ship(self, tx: Tx, e: Event, params: dict[str, Any]) -> bool:
        self.clock.set(e.at)
        try:
            orders.fire(self.ctx, tx, tx.store.get_order(self.orders[e.ref]), "ship", ACTOR,
                        params, now=e.at)
            return True
        except OrderPilotError as error:
            self.fail(e.ref, "ship", error)
            return False

    def _parcels(self, tx: Tx, events: Sequence[Event], trigger: str) -> None:
        moves = [Move(self.parcels[(e.ref, e.warehouse or "")], trigger, e.at,
                      carrier_for(e.ref, e.warehouse or "").name) for e in events
                 if (e.ref, e.warehouse or "") in self.parcels]
        self._refusals(bulk.fire_shipments(self.ctx, tx, moves), self.parcel_refs)

    def _orders(self, tx: Tx, wanted: list[tuple[Event, str, dict]]) -> list[Event]:
        """Fire order triggers in bulk; returns the events whose trigger went through."""
        moves = [Move(self.orders[e.ref], trigger, e.at, ACTOR, params)
                 for e, trigger, params in wanted]
        by_number = {self.orders[e.ref]: e.ref for e, _, _ in wanted}
        self._refusals(bulk.fire_orders(self.ctx, tx, moves), by_number)
        return [e for e, _, _ in wanted if e.ref not in self.broken]

    def _refusals(self, refused: list[bulk.Refused], refs: dict[int, str]) -> None:
        for item in refused:
            late = after_deadline(item.move.trigger, item.state)
            self.failures.append(Failure(refs.get(item.move.id, "?"), item.move.trigger,
                                         item.error, not late, late))
            self.broken.add(refs.get(item.move.id, "?"))
