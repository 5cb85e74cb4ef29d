"""How far a buyer is from each warehouse, from administrative codes.

Coordinates: each province-level division's capital, and the big logistics cities by their
4-digit city code (approximate city centres, public data); other cities fall back to their
province's capital. Two places in one city are 0 km apart; two cities of one province that
both fall back to its capital are taken as `SAME_PROVINCE_KM` apart. Between warehouses the
fulfilment distance table (road km, `ORDERPILOT_FULFILMENT__DISTANCES`) wins over the
estimate: a buyer in a warehouse's city is as far from another warehouse as the table says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

SAME_PROVINCE_KM = 150.0
PLACES: dict[str, tuple[float, float]] = {  # code prefix -> (latitude, longitude)
    "11": (39.90, 116.41), "12": (39.13, 117.20), "13": (38.04, 114.51), "14": (37.87, 112.55),
    "15": (40.84, 111.75), "21": (41.80, 123.43), "22": (43.82, 125.32), "23": (45.80, 126.53),
    "31": (31.23, 121.47), "32": (32.06, 118.80), "33": (30.27, 120.16), "34": (31.82, 117.23),
    "35": (26.07, 119.30), "36": (28.68, 115.86), "37": (36.65, 117.12), "41": (34.75, 113.63),
    "42": (30.59, 114.31), "43": (28.23, 112.94), "44": (23.13, 113.26), "45": (22.82, 108.32),
    "46": (20.04, 110.20), "50": (29.56, 106.55), "51": (30.57, 104.07), "52": (26.65, 106.63),
    "53": (25.04, 102.71), "54": (29.65, 91.11), "61": (34.34, 108.94), "62": (36.06, 103.83),
    "63": (36.62, 101.78), "64": (38.49, 106.23), "65": (43.83, 87.62), "71": (25.03, 121.57),
    "81": (22.32, 114.17), "82": (22.20, 113.55),
    # logistics cities that are not their province's capital
    "3205": (31.30, 120.59), "3202": (31.49, 120.31), "3302": (29.87, 121.55),
    "3303": (28.00, 120.70), "3307": (29.08, 119.65), "3502": (24.48, 118.09),
    "3702": (36.07, 120.38), "4403": (22.54, 114.06), "4406": (23.02, 113.12),
    "4419": (23.02, 113.75), "4420": (22.52, 113.39), "2102": (38.91, 121.61),
    "1302": (39.63, 118.18), "4103": (34.62, 112.45), "3403": (32.92, 117.39),
}


def where(code: str) -> tuple[float, float] | None:
    """Coordinates of a region code: its city's if known, else its province capital's."""
    return PLACES.get(code[:4]) or PLACES.get(code[:2])


def km_between(a: str, b: str) -> float:
    """Great-circle km between two regions; inf when either is unknown."""
    if a[:4] == b[:4] and not a[:4].endswith("00"):
        return 0.0
    pa, pb = where(a), where(b)
    if pa is None or pb is None:
        return math.inf
    if pa == pb:  # two cities of one province, both placed at its capital
        return 0.0 if a[:4] == b[:4] else SAME_PROVINCE_KM
    return _haversine(pa, pb)


def buyer_distances(buyer_code: str | None, warehouses: Mapping[str, str],
                    table: Callable[[str, str], float] | None = None) -> dict[str, float]:
    """km from the buyer's region to each warehouse (by its region code); {} when the buyer's
    region is unknown, so allocation falls back to the stock-based choice."""
    if not buyer_code or not warehouses:
        return {}
    km = {wh: km_between(buyer_code, code) for wh, code in warehouses.items()}
    local = [wh for wh, d in km.items() if d == 0.0]
    if table is not None and local:
        for wh in km:
            road = min(table(home, wh) for home in local)
            if not math.isinf(road):
                km[wh] = road
    return km


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))
