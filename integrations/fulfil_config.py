"""Fulfilment policy: double-check threshold, warehouse distances, loss/return settlement.

Nested in `Settings` as `fulfilment`; from the environment use the `__` delimiter, e.g.
`ORDERPILOT_FULFILMENT__DOUBLE_CHECK_OVER=50000` or
`ORDERPILOT_FULFILMENT__DISTANCES='{"WH-A": {"WH-B": 180}}'`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from integrations.geo.region_fields import cities_or_provinces
from statemachine.address import has_cjk

Settle = Literal["refund", "reship"]
Refill = Literal["ship_from_neighbour", "transfer"]


class CarrierSpec(BaseModel):
    regions: list[str] = Field(default_factory=lambda: ["*"],
                               description="cities / provinces served; * = everywhere")
    max_weight_g: int = Field(30_000, gt=0)
    transit_days: float = Field(2, gt=0)
    insured_up_to: int = Field(0, ge=0, description="minor units; 0 = no insurance")
    cost: int = Field(1000, ge=0)


class FulfilmentPolicy(BaseModel):
    double_check_over: int = Field(100_000, ge=0, description="order value (minor units) above "
                                   "which packing needs a second person's confirmation")
    distances: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="km between warehouses; read both ways")
    warehouse_regions: dict[str, str] = Field(
        default_factory=dict, description="warehouse → administrative code of its city or "
        "province (e.g. 330100 Hangzhou): placement picks the nearest warehouse to the buyer")
    km_per_day: float = Field(800, gt=0, description="a warehouse this much farther than the "
                              "buyer's nearest adds a day to the promised delivery")
    refill: Refill = Field(
        "ship_from_neighbour", description="a short pick's units ship from the neighbour "
        "(split parcel) or are transferred to the allocated warehouse first")
    lost_parcel: Settle = Field("refund", description="how a buyer is compensated first")
    lost_after_stalled_hours: float = Field(
        72, gt=0, description="a stalled parcel with no scan for this long is declared lost")
    returned_parcel: Settle = Field("refund", description="how a returned parcel is settled")
    damage_refund_only_under: int = Field(
        20_000, ge=0, description="damaged goods worth less than this are refunded without "
        "a return; above it the buyer sends them back")
    carriers: dict[str, CarrierSpec] = Field(
        default_factory=dict, description="carrier catalogue for selection at ship time; "
        "empty: every parcel goes with the default carrier")
    insure_over: int = Field(100_000, ge=0, description="parcels worth more are insured")
    kpi_days: float = Field(30, gt=0, description="window of the carrier KPIs")
    wave_size: int = Field(50, ge=1, le=10_000, description="orders per pick wave at most")
    cutoffs: dict[str, str] = Field(
        default_factory=lambda: {"sim-express": "17:00"},
        description="carrier → daily pick-up cut-off (HH:MM, UTC)")

    @field_validator("carriers")
    @classmethod
    def _named_regions(cls, carriers: dict[str, CarrierSpec]) -> dict[str, CarrierSpec]:
        """A blank region is refused here; whether a Chinese one names a division is asked at
        the first carrier selection (`unknown_region`): the table takes seconds to load, and
        loading settings is every command's start (`orderpilot order show` too)."""
        for name, spec in carriers.items():
            for region in spec.regions:
                if not region.strip():
                    raise ValueError(_unknown(name, region))
        return carriers

    def unknown_region(self) -> str | None:
        """Why the carrier catalogue cannot be used, if it cannot: a region in Chinese must
        name a province or city of the division table (杭州 or 杭州市, 浙江 or 浙江省); one
        that names none — a typo (杭洲), a district (西湖区) — would silently serve no parcel.
        A Latin-script name (Hangzhou) is matched as written: the table has no such names.
        Loads the table (seconds, once per process); the answer is kept per catalogue."""
        return _first_unknown(tuple((name, tuple(spec.regions))
                                    for name, spec in sorted(self.carriers.items())))

    def distance(self, a: str, b: str) -> float:
        """Distance from a to b (either direction in the table); unknown pairs are far."""
        if a == b:
            return 0.0
        known = self.distances.get(a, {}).get(b, self.distances.get(b, {}).get(a))
        return float("inf") if known is None else known


@lru_cache(maxsize=16)
def _first_unknown(catalogue: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    for name, regions in catalogue:
        for region in regions:
            if has_cjk(region) and not cities_or_provinces(region):
                return _unknown(name, region)
    return None


def _unknown(name: str, region: str) -> str:
    return (f"carrier {name!r}: region {region!r} names no province or city of the division "
            "table (e.g. 杭州, 浙江省, or * for everywhere)")
