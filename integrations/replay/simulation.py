"""What the order file does not say, synthesised deterministically: basket, stock, carriers.

Everything is a pure function of the order reference (a CRC32 of it), so two replays of the same
file produce the same baskets, parcels and scans.

Baskets follow the shape of Olist's items file (measured once; the file is not needed at run
time): 90 % of orders have one item, 7 % two, 3 % three; prices follow the item-price deciles;
about 1 % of orders need stock from two warehouses and ship in two parcels.

Carriers: the file has only a hand-off and a delivery time, and a parcel with no scan for 24 h is
stalled by the product, so the replay needs a carrier that scans. A simulated carrier scans
every `cadence` hours from the hand-off, misses a scan with probability `miss_rate` (a missed
scan leaves a longer gap), and stops scanning `tracking_days` after pickup: a parcel still not
delivered by then sits in a depot, unscanned, until its real delivery time. So stalls come from
two sources the product watches for — carrier gaps and the data's long transits — and never from
the replay reading an answer out of the file.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

PRICE_DECILES = (1499, 2399, 3490, 4696, 5950, 7498, 9700, 11990, 15182, 22900, 45000)
SKUS_PER_WAREHOUSE = 20
WAREHOUSES = ("wh-sp", "wh-rj", "wh-mg")


@dataclass(frozen=True, slots=True)
class Carrier:
    name: str
    cadence_hours: float
    miss_rate: float
    tracking_days: float
    share: float


CARRIERS = (
    Carrier("sim-express", cadence_hours=8, miss_rate=0.03, tracking_days=14, share=0.3),
    Carrier("sim-post", cadence_hours=12, miss_rate=0.05, tracking_days=12, share=0.5),
    Carrier("sim-economy", cadence_hours=12, miss_rate=0.12, tracking_days=9, share=0.2),
)


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    warehouse: str
    quantity: int
    unit_price: int


def unit(ref: str, salt: str) -> float:
    """A stable number in [0, 1) from the order reference and a salt."""
    return zlib.crc32(f"{ref}:{salt}".encode()) / 2**32


def basket(ref: str) -> list[Line]:
    """The synthetic lines of an order: which skus, where they are stocked, at what price."""
    roll = unit(ref, "lines")
    count = 1 if roll < 0.90 else 2 if roll < 0.97 else 3
    home = int(unit(ref, "warehouse") * len(WAREHOUSES))
    lines = []
    for n in range(count):
        split = n > 0 and unit(ref, f"split{n}") < 0.12
        wh = (home + n) % len(WAREHOUSES) if split else home
        sku_no = int(unit(ref, f"sku{n}") * SKUS_PER_WAREHOUSE)
        lines.append(Line(f"sku-{wh}-{sku_no:02d}", WAREHOUSES[wh], 1, price(ref, n)))
    return _merge(lines)


def price(ref: str, n: int) -> int:
    """A unit price in centavos, interpolated between the item-price deciles."""
    x = unit(ref, f"price{n}") * (len(PRICE_DECILES) - 1)
    low, high = PRICE_DECILES[int(x)], PRICE_DECILES[int(x) + 1]
    return int(low + (high - low) * (x - int(x)))


def carrier_for(ref: str, warehouse: str) -> Carrier:
    roll, total = unit(ref, f"carrier:{warehouse}"), 0.0
    for carrier in CARRIERS:
        total += carrier.share
        if roll < total:
            return carrier
    return CARRIERS[-1]


def scan_times(ref: str, carrier: Carrier, picked_up: datetime,
               delivered: datetime | None) -> list[datetime]:
    """In-transit scans after pickup: every cadence, some missed, none after the tracking window."""
    step = timedelta(hours=carrier.cadence_hours)
    window_end = picked_up + timedelta(days=carrier.tracking_days)
    end = min(delivered, window_end) if delivered else window_end
    times, n, when = [], 1, picked_up + step
    while when < end:
        if unit(ref, f"scan{n}:{carrier.name}") >= carrier.miss_rate:
            times.append(when)
        n, when = n + 1, when + step
    return times


def _merge(lines: list[Line]) -> list[Line]:
    merged: dict[str, Line] = {}
    for line in lines:
        prior = merged.get(line.sku)
        merged[line.sku] = line if prior is None else Line(
            line.sku, line.warehouse, prior.quantity + line.quantity, prior.unit_price)
    return list(merged.values())
