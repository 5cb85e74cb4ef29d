"""`orderpilot demo --fulfilment`: one warehouse morning with every fulfilment path once —
a pick wave, a double check, a short pick refilled from the nearest warehouse, a backorder
served by a transfer, a lost parcel and a returned one — then the stock ledger is checked."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from integrations.config import Settings
from integrations.fulfil_config import FulfilmentPolicy
from orderpilot.api import OrderPilot
from orderpilot.demo_store import claim_demo_store
from statemachine.clock import ManualClock
from statemachine.errors import GuardRejected

HZ, SZ, CD = "WH-HANGZHOU", "WH-SHENZHEN", "WH-CHENGDU"
DISTANCES = {HZ: {SZ: 1200, CD: 1700}, SZ: {CD: 1300}}
STOCK = {("FUL-KETTLE", HZ): 20, ("FUL-KETTLE", SZ): 5, ("FUL-KETTLE", CD): 10,
         ("FUL-CAMERA", HZ): 3, ("FUL-LENS", HZ): 1}
PRICES = {"FUL-KETTLE": 8900, "FUL-CAMERA": 129_900, "FUL-LENS": 45_000}


def run_fulfilment_demo(database_url: str | None, console: Console) -> dict:
    """Play the scenario, narrating each step; returns the figures it printed."""
    clock = ManualClock(datetime(2026, 11, 11, 8, 0, tzinfo=UTC))
    settings = Settings(fulfilment=FulfilmentPolicy(distances=DISTANCES))
    pilot = OrderPilot(database_url, clock=clock, settings=settings)
    claim_demo_store(pilot, database_url or "the default store")
    before = pilot.fulfilment.ledger()
    for (sku, wh), qty in STOCK.items():
        pilot.inventory.receive(sku=sku, warehouse=wh, quantity=qty)
        pilot.fulfilment.locate(sku, wh, f"{sku[4]}-{len(sku):02d}-1")
    pilot.fulfilment.flag_sku("FUL-LENS", "easily_confused", note="two mounts look alike")
    orders = _orders(pilot, clock)
    wave = _wave(pilot, console)
    _double_check(pilot, console, orders["camera"])
    _short_pick(pilot, console, orders["kettles"])
    _backorder_and_transfer(pilot, console, orders["lens"])
    figures = _parcels(pilot, console, wave["orders"])
    figures.update(_ledger(pilot, console, before, sum(STOCK.values())))
    pilot.close()
    return figures


def _orders(pilot: OrderPilot, clock: ManualClock) -> dict[str, str]:
    made = {}
    for name, sku, qty, service in (("kettles", "FUL-KETTLE", 4, "standard"),
                                    ("camera", "FUL-CAMERA", 1, "express"),
                                    ("lens", "FUL-LENS", 1, "standard"),
                                    ("kettle", "FUL-KETTLE", 1, "standard")):
        clock.advance(minutes=7)
        order = pilot.orders.place(
            buyer_id=f"demo-{name}", lines=[{"sku": sku, "quantity": qty,
                                             "unit_price": PRICES[sku]}],
            shipping_address={"street": "18 Wensan Rd", "city": "Hangzhou"}, service=service)
        pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"pay-{order.id}")
        made[name] = order.id
    return made


def _wave(pilot: OrderPilot, console: Console) -> dict:
    wave = pilot.waves.create(warehouse=HZ, size=10, actor="lead-wang")
    console.rule(f"wave {wave['id']}: {HZ}, cut-off {wave['cutoff_at']:%H:%M} "
                 f"({wave['carrier']}), express first")
    console.print(pilot.waves.pick_list(wave["id"], fmt="markdown"))
    console.print(pilot.waves.release(wave["id"], actor="lead-wang"))
    return wave


def _double_check(pilot: OrderPilot, console: Console, order_id: str) -> None:
    console.rule(f"double check: {order_id} (camera, 1299.00)")
    try:
        pilot.orders.fire(order_id, "pack", actor="packer-li")
    except GuardRejected as refused:
        console.print(f"[yellow]refused:[/] {refused.reason}")
    pilot.orders.fire(order_id, "double_check", actor="checker-zhao", notes="serial matches")
    pilot.orders.fire(order_id, "pack", actor="packer-li",
                      evidence=["https://img.example/o-camera-box.jpg", "scan:CAM-5521"])
    pack = [h for h in pilot.orders.history(order_id) if h.trigger == "pack"][-1]
    console.print(f"packed by {pack.payload['packed_by']}, checked by "
                  f"{pack.payload['checked_by']}, evidence {pack.payload['evidence']}")


def _short_pick(pilot: OrderPilot, console: Console, order_id: str) -> None:
    console.rule(f"short pick: {order_id} (4 kettles, 2 missing in {HZ})")
    pilot.fulfilment.adjust_stock(sku="FUL-KETTLE", warehouse=HZ, delta=-14, kind="count",
                                  reason="cycle count: shelf holds 2", actor="counter-liu")
    pilot.fulfilment.report_short(order_id, sku="FUL-KETTLE", warehouse=HZ, missing=2,
                                  kind="count", reason="2 of the 4 not on the shelf",
                                  actor="picker-chen")
    step = pilot.orders.history(order_id)[-1]
    console.print(f"{step.trigger}: {step.payload['allocation']} (nearest with stock: {SZ}, "
                  f"1200 km; {CD} has more but is 1700 km away)")


def _backorder_and_transfer(pilot: OrderPilot, console: Console, order_id: str) -> None:
    console.rule(f"backorder and transfer: {order_id} (the only lens in {HZ} is damaged)")
    view = pilot.fulfilment.report_short(order_id, sku="FUL-LENS", warehouse=HZ, missing=1,
                                         kind="damage", reason="cracked", actor="picker-chen")
    console.print(f"{order_id} is {view.state}; buyer notified (wait or cancel)")
    pilot.inventory.receive(sku="FUL-LENS", warehouse=CD, quantity=3)
    transfer = pilot.fulfilment.send_transfer(sku="FUL-LENS", from_warehouse=CD,
                                              to_warehouse=HZ, quantity=2, reason="restock HZ")
    console.print(f"transfer {transfer}: 2 lenses {CD} → {HZ}, in transit "
                  f"{pilot.fulfilment.ledger()['in_transit']}")
    pilot.fulfilment.receive_transfer(transfer, actor="dock-he")
    view = pilot.fulfilment.retry_backorder(order_id, actor="lead-wang")
    console.print(f"{order_id} is {view.state} again, from "
                  f"{pilot.orders.history(order_id)[-1].payload['allocation']}")


def _parcels(pilot: OrderPilot, console: Console, order_ids: list[str]) -> dict:
    console.rule("ship; one parcel lost, one returned")
    parcels = []
    for order_id in order_ids:
        if pilot.orders.get(order_id).state == "picking":
            if pilot.fulfilment.double_check_needed(order_id):
                pilot.orders.fire(order_id, "double_check", actor="checker-zhao")
            pilot.orders.fire(order_id, "pack", actor="packer-li")
        pilot.orders.fire(order_id, "ship", actor="dispatch")
        for parcel in pilot.shipments.of_order(order_id):
            pilot.shipments.fire(parcel.id, "pick_up", location="Hangzhou hub")
            parcels.append(parcel.id)
    lost = pilot.claims.report_lost(parcels[0], reason="carrier: lost at sorting")
    paid = pilot.claims.fire(lost["id"], "carrier_pay", amount=lost["claimed"])
    pilot.shipments.fire(parcels[-1], "return_to_sender", reason="address unknown")
    back = pilot.claims.receive_return(parcels[-1], result="ok", notes="seal intact")
    console.print(f"lost {parcels[0]}: buyer got {lost['compensation']} {lost['compensated']} "
                  f"at once; claim {paid['id']} {paid['state']} {paid['recovered']}")
    console.print(f"returned {parcels[-1]}: restocked, buyer got {back['compensation']} "
                  f"{back['compensated']}")
    return {"parcels": len(parcels), "lost_claim": paid["state"],
            "order_states": {o: pilot.orders.get(o).state for o in order_ids}}


def _ledger(pilot: OrderPilot, console: Console, before: dict, received: int) -> dict:
    after = pilot.fulfilment.ledger()
    delta = {k: after[k] - before[k] for k in after}
    received += 3  # the lenses that arrived in Chengdu mid-scenario
    balanced = received + delta["adjusted"] == (delta["on_hand"] + delta["in_transit"]
                                                + delta["shipped"])
    drift = len(pilot.inventory.reconcile())
    console.rule("stock ledger")
    console.print(f"received {received} + adjusted {delta['adjusted']} = on hand "
                  f"{delta['on_hand']} + in transit {delta['in_transit']} + shipped "
                  f"{delta['shipped']}: {'balanced' if balanced else 'NOT BALANCED'}; "
                  f"reconcile drift {drift}")
    return {"ledger_balanced": balanced, "drift": drift}
