"""Two ways to drive replay events into the store: per transition, or in bulk.

`ServiceDriver` calls the service functions the Python API calls, one transaction per trigger
(exactly what `OrderPilot.orders.fire` does). `BulkDriver` moves a whole stage of a time window in
one transaction through `integrations.replay.bulk`, and keeps place and ship on the service
functions. Both record every refused trigger instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from integrations.replay.events import Event, Stage
from integrations.replay.olist import Timeline
from integrations.replay.simulation import basket, carrier_for
from integrations.service.context import Context
from integrations.service.inputs import PlaceOrder, parse
from statemachine.clock import ManualClock
from statemachine.errors import GuardRejected, InvalidTransition, OrderPilotError

ACTOR = "replay"
IMPOSSIBLE = (InvalidTransition, GuardRejected)


@dataclass(frozen=True, slots=True)
class Failure:
    ref: str
    trigger: str
    error: str
    impossible: bool  # InvalidTransition / GuardRejected, as opposed to any other error
    # a payment that came after the product's own deadline had expired the order: the
    # shop's policy at work (ORDERPILOT_PAYMENT_PENDING_HOURS), not an impossible transition
    late: bool = False


def after_deadline(trigger: str, state: str) -> bool:
    return trigger == "pay" and state == "expired"


class BaseDriver:
    """What both drivers share: the ref → number maps, the request shapes, the failures."""

    def __init__(self, ctx: Context, clock: ManualClock, timelines: dict[str, Timeline]):
        self.ctx, self.clock, self.timelines = ctx, clock, timelines
        self.orders: dict[str, int] = {}
        self.parcels: dict[tuple[str, str], int] = {}
        self.failures: list[Failure] = []
        self.broken: set[str] = set()
        self._refs: dict[int, str] = {}

    def apply(self, events: Sequence[Event]) -> None:
        """Apply one time window's events, stage by stage (per order, that is time order)."""
        by_stage: dict[Stage, list[Event]] = {}
        for e in events:
            by_stage.setdefault(e.stage, []).append(e)
        with self.unit():
            for stage in sorted(by_stage):
                live = [e for e in by_stage[stage] if e.ref not in self.broken
                        and (stage is Stage.PLACE or e.ref in self.orders)]
                if live:
                    self.handlers()[stage](live)

    def unit(self) -> AbstractContextManager[Any]:
        """What wraps one window: nothing here; the bulk driver opens one transaction."""
        return nullcontext()

    def refs(self) -> dict[int, str]:
        """Order number → source reference (rebuilt only when orders were added)."""
        if len(self._refs) != len(self.orders):
            self._refs = {number: ref for ref, number in self.orders.items()}
        return self._refs

    def handlers(self) -> dict[Stage, Callable[[list[Event]], None]]:
        raise NotImplementedError

    def fail(self, ref: str, trigger: str, error: Exception) -> None:
        late = isinstance(error, InvalidTransition) and after_deadline(trigger, error.state)
        self.failures.append(Failure(ref, trigger, f"{type(error).__name__}: {error}",
                                     isinstance(error, IMPOSSIBLE) and not late, late))
        self.broken.add(ref)

    def place_request(self, ref: str) -> PlaceOrder:
        t = self.timelines[ref]
        lines = [{"sku": ln.sku, "quantity": ln.quantity, "unit_price": ln.unit_price}
                 for ln in basket(ref)]
        # the file's address as the buyer typed it, parsed as placements parse it (one that
        # placement refuses fails the order's `place`, naming the field); else a stand-in
        address = {"line": t.address} if t.address else {
            "street": f"order {ref}"[:300], "city": "replay", "country": "BR"}
        return parse(PlaceOrder, {"buyer_id": t.customer[:64], "lines": lines, "currency": "BRL",
                                  "shipping_address": address})

    def pay_params(self, ref: str) -> dict[str, Any]:
        total = sum(ln.quantity * ln.unit_price for ln in basket(ref))
        return {"amount": total, "payment_ref": f"replay:{ref}"[:128]}

    def start_payment_params(self, ref: str) -> dict[str, Any]:
        return {**self.pay_params(ref), "method": "slow"}  # boleto, in the Olist data

    def ship_params(self, ref: str) -> dict[str, Any]:
        parcels = [{"carrier": carrier_for(ref, wh).name, "warehouse": wh,
                    "tracking_no": f"{ref[:24]}-{wh}"}
                   for wh in sorted({ln.warehouse for ln in basket(ref)})]
        promised = self.timelines[ref].promised_by
        return {"parcels": parcels, **({"promised_by": promised} if promised else {})}


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def guarded(driver: BaseDriver, ref: str, trigger: str, action: Callable[[], Any]) -> bool:
    """Run one service call; a refusal or error is recorded and the order marked broken."""
    try:
        action()
        return True
    except OrderPilotError as error:
        driver.fail(ref, trigger, error)
        return False
