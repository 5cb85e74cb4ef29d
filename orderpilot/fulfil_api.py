"""The fulfilment parts of the public API: `pilot.waves`, `pilot.fulfilment`, `pilot.claims`.

Thin calls into `integrations.service` (waves, packing, shortage, stockmoves, claims), like the
rest of `OrderPilot`. Ids are strings: waves `w-3`, transfers `t-2`, claims `cl-1`.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from integrations.db.fulfil_store import FulfilStore
from integrations.service import carriers, packing, shortage, stockmoves, waves
from integrations.service.context import Context
from integrations.service.inputs import NAME, check_actor, parse_id
from integrations.service.views import OrderView
from statemachine import ids
from statemachine.errors import InvalidInput
from statemachine.fulfilment import SkuFlag


class Waves:
    def __init__(self, context: Context):
        self._ctx = context

    def create(self, *, warehouse: str, carrier: str | None = None, size: int | None = None,
               actor: str = "api") -> dict[str, Any] | None:
        """Group the most urgent paid orders of a warehouse (express, then paid earliest) into
        a wave under the carrier's next cut-off; None when no order is waiting."""
        _check_name("warehouse", warehouse)
        if carrier is not None:
            _check_name("carrier", carrier)
        if size is not None and (not isinstance(size, int) or not 0 < size <= 10_000):
            raise InvalidInput({"size": f"expected 1–10000 orders (got {size!r})"})
        number = waves.create_wave(self._ctx, warehouse, carrier, size, check_actor(actor))
        return None if number is None else self.get(ids.WAVE(number))

    def get(self, wave_id: str) -> dict[str, Any]:
        with self._ctx.tx(readonly=True) as tx:
            return _wave_view(waves.get_wave(tx, parse_id("wave_id", wave_id, "w")))

    def list(self, *, state: str | None = None) -> list[dict[str, Any]]:
        if state not in (None, "open", "released"):
            raise InvalidInput({"state": f"expected open or released (got {state!r})"})
        with self._ctx.tx(readonly=True) as tx:
            return [_wave_view(w) for w in waves.list_waves(tx, state)]

    def release(self, wave_id: str, *, actor: str = "api") -> dict[str, str]:
        """Fire start_picking on the wave's orders; returns each order's outcome."""
        number = parse_id("wave_id", wave_id, "w")
        return waves.release_wave(self._ctx, number, check_actor(actor))

    def pick_list(self, wave_id: str, *, fmt: str = "csv") -> str:
        """The wave's pick list (sku, location, quantity, orders) as CSV or Markdown."""
        if fmt not in ("csv", "markdown"):
            raise InvalidInput({"fmt": f"expected csv or markdown (got {fmt!r})"})
        with self._ctx.tx(readonly=True) as tx:
            lines = waves.pick_list(tx, parse_id("wave_id", wave_id, "w"))
        return waves.render_pick_list(lines, fmt)


class Fulfilment:
    def __init__(self, context: Context):
        self._ctx = context

    def flag_sku(self, sku: str, flag: str, *, note: str | None = None) -> None:
        """Flag a sku high_value / high_return / easily_confused (its orders get double-checked)."""
        _check_name("sku", sku)
        if flag not in set(SkuFlag):
            raise InvalidInput({"flag": f"expected one of {', '.join(SkuFlag)} (got {flag!r})"})
        packing.flag_sku(self._ctx, sku, SkuFlag(flag), note)

    def locate(self, sku: str, warehouse: str, location: str) -> None:
        """Record the bin location of a sku in a warehouse (printed on pick lists)."""
        for field, value in (("sku", sku), ("warehouse", warehouse), ("location", location)):
            _check_name(field, value)
        packing.locate_sku(self._ctx, sku, warehouse, location)

    def set_weight(self, sku: str, weight_g: int) -> None:
        """A sku's shipping weight in grams (carrier selection sums it per parcel)."""
        _check_name("sku", sku)
        if not isinstance(weight_g, int) or isinstance(weight_g, bool) or weight_g <= 0:
            raise InvalidInput({"weight_g": f"expected a positive whole number (got {weight_g!r})"})
        carriers.set_weight(self._ctx, sku, weight_g)

    def refresh_carrier_kpis(self) -> dict[str, dict[str, Any]]:
        """The KPI job: on-time, loss and complaint rates per carrier over the policy's
        window, stored for carrier selection at ship time (run it on a schedule)."""
        return {name: asdict(k) for name, k in carriers.refresh_kpis(self._ctx).items()}

    def double_check_needed(self, order_id: str) -> list[str]:
        """Why this order needs a second person before packing (empty: it does not)."""
        number = parse_id("order_id", order_id, "o")
        with self._ctx.tx(readonly=True) as tx:
            return packing.double_check_needed(self._ctx, tx, tx.store.get_order(number))

    def evidence(self, order_id: str) -> dict[str, Any]:
        """Outbound evidence kept with the order: photo urls / scan ids, the double check."""
        number = parse_id("order_id", order_id, "o")
        with self._ctx.tx(readonly=True) as tx:
            attrs = tx.store.get_order(number).attrs
        return {"outbound_evidence": attrs.get("outbound_evidence", []),
                "double_check": attrs.get("double_check")}

    def report_short(self, order_id: str, *, sku: str, warehouse: str, missing: int,
                     kind: str = "count", reason: str, actor: str = "warehouse") -> OrderView:
        """Units of a picking order are missing or damaged: write them off and refill from the
        nearest warehouse (or a split), else backorder the order and tell the buyer."""
        number = parse_id("order_id", order_id, "o")
        _check_reason(reason)
        return OrderView.of(shortage.report_short(self._ctx, number, sku, warehouse, missing,
                                                  kind, reason, check_actor(actor)))

    def retry_backorder(self, order_id: str, *, actor: str = "warehouse") -> OrderView:
        """Allocate a backordered order's missing units now; InsufficientStock if still short."""
        number = parse_id("order_id", order_id, "o")
        return OrderView.of(shortage.retry_backorder(self._ctx, number, check_actor(actor)))

    def adjust_stock(self, *, sku: str, warehouse: str, delta: int, kind: str, reason: str,
                     actor: str = "warehouse") -> int:
        """A count correction (±) or damage write-off (−), recorded with who and why."""
        return stockmoves.adjust_stock(self._ctx, sku, warehouse, delta, kind, reason,
                                       check_actor(actor))

    def adjustments(self, sku: str | None = None) -> list[dict[str, Any]]:
        keys = ("id", "sku", "warehouse", "delta", "kind", "reason", "actor", "order_id", "at")
        with self._ctx.tx(readonly=True) as tx:
            store = FulfilStore(tx.connection)
            return [{**dict(zip(keys, r, strict=True)), "at": store.sql.when(r[8])}
                    for r in store.adjustments(sku)]

    def send_transfer(self, *, sku: str, from_warehouse: str, to_warehouse: str,
                      quantity: int, reason: str, actor: str = "warehouse") -> str:
        """Send free stock to another warehouse; it is in transit until received."""
        _check_name("to_warehouse", to_warehouse)
        _check_reason(reason)
        number = stockmoves.send_transfer(self._ctx, sku, from_warehouse, to_warehouse,
                                          quantity, reason, check_actor(actor))
        return ids.TRANSFER(number)

    def receive_transfer(self, transfer_id: str, *, actor: str = "warehouse") -> dict[str, Any]:
        number = parse_id("transfer_id", transfer_id, "t")
        return stockmoves.receive_transfer(self._ctx, number, check_actor(actor))

    def transfers(self, *, status: str | None = None) -> list[dict[str, Any]]:
        with self._ctx.tx(readonly=True) as tx:
            store = FulfilStore(tx.connection)
            return [stockmoves.transfer_view(r, store.sql.when) for r in store.transfers(status)]

    def ledger(self) -> dict[str, int]:
        """Stock ledger terms: on_hand, in_transit, shipped, adjusted (Σ deltas)."""
        with self._ctx.tx(readonly=True) as tx:
            return FulfilStore(tx.connection).totals()


def _wave_view(wave: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in wave.items() if k != "order_ids"}
    return {**view, "id": ids.WAVE(wave["id"]), "orders": [ids.ORDER(n) for n in wave["order_ids"]]}


def _check_name(field: str, value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(NAME, value):
        raise InvalidInput({field: f"expected letters, digits and . _ : - (got {value!r})"})


def _check_reason(reason: Any) -> None:
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 500:
        raise InvalidInput({"reason": "say why (1–500 characters)"})
