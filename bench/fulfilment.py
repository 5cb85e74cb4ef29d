"""Fulfilment costs on a SQLite file: wave create + release, pick list, short pick with refill,
ship with and without carrier selection, a lost-parcel claim.

    python bench/fulfilment.py [ORDERS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/fulfilment.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.config import Settings  # noqa: E402
from integrations.fulfil_config import CarrierSpec, FulfilmentPolicy  # noqa: E402
from orderpilot import ManualClock, OrderPilot  # noqa: E402
from statemachine.risk_port import approve_everything  # noqa: E402

CARRIERS = {"swift": CarrierSpec(transit_days=1, insured_up_to=10**7, cost=2500),
            "thrift": CarrierSpec(transit_days=3, cost=700)}


def pilot(folder: str, name: str, **policy) -> OrderPilot:
    url = f"sqlite:///{folder}/{name}.db"
    settings = Settings(database_url=url, fulfilment=FulfilmentPolicy(
        distances={"WH-A": {"WH-B": 100}}, **policy))
    return OrderPilot(url, clock=ManualClock(datetime(2026, 11, 11, 8, tzinfo=UTC)),
                      risk_check=approve_everything, settings=settings)


def paid(p: OrderPilot, n: int) -> list[str]:
    for sku in ("SKU-1", "SKU-2", "SKU-3"):
        p.inventory.receive(sku=sku, warehouse="WH-A", quantity=n * 3)
        p.inventory.receive(sku=sku, warehouse="WH-B", quantity=n)
    ids = []
    for i in range(n):
        o = p.orders.place(buyer_id=f"b-{i}", lines=[{"sku": f"SKU-{1 + i % 3}", "quantity": 1,
                                                      "unit_price": 1999}],
                           shipping_address={"street": "1 Road", "city": "Hangzhou"})
        ids.append(p.orders.fire(o.id, "pay", amount=o.total, payment_ref=f"p{i}").id)
    return ids


def timed(label: str, fn, per: int = 1) -> float:
    start = time.perf_counter()
    fn()
    ms = (time.perf_counter() - start) * 1000
    print(f"{label:<48} {ms:9.1f} ms" + (f"   ({ms / per:.2f} ms each)" if per > 1 else ""))
    return ms


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        p = pilot(folder, "plain")
        ids = paid(p, n)
        wave: dict = {}
        timed(f"wave create ({n} orders)", lambda: wave.update(
            p.waves.create(warehouse="WH-A", size=n)))
        timed("pick list (markdown)", lambda: p.waves.pick_list(wave["id"], fmt="markdown"))
        timed(f"wave release ({n} × start_picking)", lambda: p.waves.release(wave["id"]), n)
        short = ids[: n // 10]
        timed(f"short pick + neighbour refill ({len(short)})", lambda: [
            p.fulfilment.report_short(o, sku=p.orders.get(o).lines[0].sku, warehouse="WH-A",
                                      missing=1, reason="bench") for o in short], len(short))
        for o in ids:
            p.orders.fire(o, "pack")
        timed(f"ship, default carrier ({n})", lambda: [p.orders.fire(o, "ship") for o in ids], n)
        parcels = [p.shipments.of_order(o)[0].id for o in ids[:50]]
        for s in parcels:
            p.shipments.fire(s, "pick_up")
        timed("lost parcel: refund + claim filed (50)", lambda: [
            p.claims.report_lost(s, reason="bench") for s in parcels], 50)
        p.close()
        with_carriers(folder, n)


def with_carriers(folder: str, n: int) -> None:
    q = pilot(folder, "carriers", carriers=CARRIERS)
    ids = paid(q, n)
    for o in ids:
        q.orders.fire(o, "start_picking")
        q.orders.fire(o, "pack")
    timed("carrier KPI job (refresh)", q.fulfilment.refresh_carrier_kpis)
    timed(f"ship, carrier selection + KPIs ({n})",
          lambda: [q.orders.fire(o, "ship") for o in ids], n)
    q.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
