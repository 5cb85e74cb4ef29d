"""Whether the province, city and district fields of a Chinese address contradict each other.

Each field's name is looked up in jionlp's division table — full and short names, old names
too (江干区, 襄樊市), and Taiwan's municipal districts (taiwan.py) — as every division it may
be: 朝阳区 is Beijing's or Changchun's, 吉林 the province or its city. The fields agree when
one division per field nests in the one of the field before: 浙江省 / 杭州市 / 西湖区, and
北京市 / 北京市 / 朝阳区 (a municipality is its own city). A name the table does not know
(氹仔, 高新区, 市辖区, a street in the district field, Latin script from Shopify) is no
evidence either way: it is passed over, and the address parses as before. Nor is a name that
only says what kind of area it is (高新区, 经开区, 新区, 城区: `GENERIC`).

This reads the fields as sent; the parse of the whole text (addresses.py) is unchanged, and so
are the keys: what a contradiction changes is whether the order is taken as it is
(`statemachine.region_conflict`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from integrations.geo import regions
from statemachine.region_conflict import FIELDS, RegionConflict

Place = tuple[str, ...]  # (province,), (province, city) or (province, city, county)
_SPACE = re.compile(r"\s+")
_SEATS_SHOWN = 4
_HK_REGIONS = ("九龙", "新界", "香港岛", "港岛")
# A name that says what kind of area, not which: 高新区, 经开区, 新区, 城区, 东区 are names of
# zones in many cities, most of which the table lacks (杭州 writes 高新区 for 滨江区): no evidence
GENERIC = re.compile(
    r"(?:[东南西北中]|市中|城|郊|新|高新|经开|经济技术开发|经济开发"
    r"|开发|示范|管理|工业园|化工园|园|试验|保税)区|.*直辖.*"
)


def conflicts(fields: Mapping[str, str | None]) -> tuple[RegionConflict, ...]:
    """Each known field that does not contain the next known one (广东省 / 杭州市: province
    contradicts city). Each pair is compared on its own: 广东省 / 杭州市 / 南山区 names both
    the province and the city; with no city known, the province is compared with the
    district. Below a city without districts (东莞市) a district's name is no evidence.
    """
    known = [
        (f, value, found)
        for f in FIELDS
        if (value := (fields.get(f) or "").strip()) and (found := where(value))
    ]
    return chain_conflicts(known)


Named = tuple[str, str, frozenset[Place]]  # (label, name as written, the divisions it may be)


def chain_conflicts(known: list[Named]) -> tuple[RegionConflict, ...]:
    """Each name of `known` (widest first) that does not contain the next one, as `conflicts`
    compares fields; a label is the field each name was written in (the same label for names
    of one text: `line contradicts itself`)."""
    found_conflicts: list[RegionConflict] = []
    for (wider, name, chains), (narrower, other, places) in itertools.pairwise(known):
        if chains <= undivided():  # 东莞市 / 东城区: its towns and subdistricts, called 区
            continue
        nested = {p for p in places if any(p[: len(c)] == c for c in chains)}
        if not nested:
            found_conflicts.append(
                RegionConflict(
                    wider, narrower, f"{name} does not contain {other} ({seats(places)})"
                )
            )
    return tuple(found_conflicts)


def where(name: str) -> frozenset[Place]:
    """Every division `name` may be (empty: not a division the table knows)."""
    name = regions.simplified(_SPACE.sub("", unicodedata.normalize("NFKC", name)))
    if GENERIC.fullmatch(name):
        return frozenset()
    places = places_table()
    found = places.get(name)
    if found is None and name[-1:] in ("省", "市"):  # 广西省, 香港市: a suffix its name lacks
        found = places.get(name[:-1])
    return found or frozenset()


def cities_or_provinces(name: str) -> frozenset[Place]:
    """The provinces and cities `name` may be, not its districts (浙江 and 浙江省 → 浙江省;
    杭州, 杭州市 and 杭州市 in traditional script → 浙江省 杭州市): what a carrier's regions and
    an address's city and province fields are compared as (service/carriers.py)."""
    return frozenset(p for p in where(name) if len(p) <= 2)


def seats(places: frozenset[Place]) -> str:
    """Where the divisions are, for people: 浙江省; 广东省深圳市, 黑龙江省鹤岗市; 北京市."""
    seats = sorted({"".join(dict.fromkeys(p[:-1])) or p[0] for p in places})
    more = ", …" if len(seats) > _SEATS_SHOWN else ""
    return ", ".join(seats[:_SEATS_SHOWN]) + more


@lru_cache(maxsize=1)
def undivided() -> frozenset[Place]:
    """The cities without districts, as places: what is written below one is a town or a
    subdistrict (东城街道, which people call 东城区), not a district the table knows."""
    return frozenset(regions.undivided_cities())


@lru_cache(maxsize=1)
def places_table() -> dict[str, frozenset[Place]]:
    """Name (full or short) → the divisions it names, built once from the tables."""
    names: dict[str, set[Place]] = {}

    def add(spellings: tuple[str | None, ...], place: Place) -> None:
        for spelling in spellings:
            if spelling:
                names.setdefault(spelling, set()).add(place)

    for province, city, county in regions.divisions():
        if not province[0]:
            continue
        place: Place = (province[0],)
        add(province, place)
        if city[0] and regions.PSEUDO_CITY not in city[0]:  # 仙桃市: the province's own
            place += (city[0],)
            add(city, place)
        if county[0]:
            add(county, (*place, county[0]))
    for city, districts in regions.taiwan_districts().items():
        for district in districts:
            add((district,), (regions.TAIWAN, city, district))
    # Hong Kong's regions are the city field of its address pickers (香港特别行政区 / 九龙 /
    # 油尖旺区); the table has no such level, and knows 九龙 only as 九龙城区 and 四川's 九龙县:
    # each region may also be Hong Kong's own city
    hong_kong = {p[:2] for p in names.get("香港", ()) if len(p) >= 2}
    for region in _HK_REGIONS:
        for place in hong_kong:
            add((region,), place)
    return {name: frozenset(places) for name, places in names.items()}
