"""Province / city / district of a Chinese address, with the administrative code, by jionlp.

Why jionlp (measured on tests/fixtures/cn_addresses.csv, `python bench/address_parsers.py`):
it is maintained and its division data is current (districts created or renamed since 2020
resolve, old names map to new ones), and it resolves "西湖区文三路18号, 杭州市" to Hangzhou
where cpca 0.5.5 picks Nanchang's 西湖区. Its parser tests each of its ~3,560 division
entries against the text (3-4 ms a first-seen address on a quiet machine); `find_region` runs
the same parser shown only the entries whose names occur in the text (`prefilter.py`: jionlp's
answers, by construction and by tests/unit/geo/test_region_finder.py): 0.19 vs 7.4 ms of CPU
per first-seen address, median of 1,646, same run, load 8 (bench/address_parsers.py). jionlp
keeps per-call state on shared objects, so calls are serialised by a lock; results are cached
by text.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from integrations.geo import taiwan

_LOCK = threading.Lock()
TAIWAN = "台湾省"
PSEUDO_CITY = "直辖"  # '省直辖县级行政区划': counties the province governs directly


@dataclass(frozen=True, slots=True)
class Region:
    """The administrative region found at the start of an address, and what follows it."""

    province: str | None
    city: str | None
    district: str | None
    code: str | None  # the most precise level found: district, else city, else province
    detail: str
    # as precise as the table goes: a district found, or a city that has no districts (东莞市,
    # 中山市, 嘉峪关市, 儋州市: their only entry below is '市直辖行政区划')
    finest: bool = False


_LOADING = threading.Lock()


def load() -> None:
    """Load the region tables now (2–11 s of CPU on our machines the first time, then cached),
    so that a server's first address is not the one that pays for it: a webhook answered after
    Shopify's 5 s is retried as if it had failed."""
    _library()


@lru_cache(maxsize=1)
def _library() -> tuple[Any, Any, dict[tuple[str | None, ...], str], dict[int, str],
                        frozenset[tuple[str, str]], dict[str, Any]]:
    """(jionlp, the prefiltered parser, the codes, the traditional → simplified table, the
    cities without districts, jionlp's location table), loaded once."""
    # jionlp greets on stdout when imported. redirect_stdout swaps a process-wide object: two
    # threads loading at once (the first placements of a busy webhook API) would each restore
    # the other's StringIO and leave stdout swallowed for good — hence one loader at a time.
    with _LOADING, contextlib.redirect_stdout(io.StringIO()):
        import jionlp

        from integrations.geo.prefilter import PrefilteredLocationParser
        parser = PrefilteredLocationParser()
        location = jionlp.china_location_loader()
        characters = jionlp.traditional_simplified_loader("tra2sim_char.txt")
    return (jionlp, parser, _codes(location), _to_simplified(characters, location),
            _undivided(location), location)


def _codes(location: dict) -> dict[tuple[str | None, ...], str]:
    """(province, city, district) → code, with None for the levels a parse may leave out."""
    codes: dict[tuple[str | None, ...], str] = {}
    for prov, cities in location.items():
        if prov.startswith("_"):
            continue
        codes[(prov, None, None)] = cities["_admin_code"]
        for city, counties in cities.items():
            if city.startswith("_"):
                continue
            parent = None if PSEUDO_CITY in city else city
            if parent:
                codes[(prov, city, None)] = counties["_admin_code"]
            for county, info in counties.items():
                if not county.startswith("_"):
                    codes[(prov, parent, county)] = info["_admin_code"]
    return codes


def simplified(text: str) -> str:
    """Traditional characters as simplified ones (西湖區文三路18號3單元 → 西湖区文三路18号3单元),
    by jionlp's character table, so that an address compares equal however a buyer in Hong
    Kong, Taiwan or with a traditional-script keyboard wrote it."""
    if _simplified_set(text):  # nothing to change: the common case, ~1 µs
        return text
    return text.translate(_library()[3])


def _undivided(location: dict) -> frozenset[tuple[str, str]]:
    """(province, city) of the cities that have no districts: the table's only entry below
    them is '市直辖行政区划'. (Not Taiwan's municipalities: the table lacks their districts,
    which `taiwan.py` lists.)"""
    return frozenset((prov, city) for prov, cities in location.items() if not prov.startswith("_")
                     for city, counties in cities.items()
                     if not city.startswith("_") and PSEUDO_CITY not in city
                     and (below := [c for c in counties if not c.startswith("_")])
                     and all(PSEUDO_CITY in county for county in below))


def _to_simplified(characters: dict[str, str], location: dict) -> dict[int, str]:
    """jionlp's character table (not its converter, whose word table costs 0.25 s and 5 MB),
    less the characters the simplified set has itself (GB 2312) or a place name uses: the table
    would turn 乾县 (Shaanxi) into 干县 and 路氹城 (Macau) into 路凼城."""
    kept = _place_characters(location)
    return {ord(old): new for old, new in characters.items()
            if len(old) == 1 and old != new and old not in kept and not _simplified_set(old)}


def _simplified_set(text: str) -> bool:
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _place_characters(location: dict) -> frozenset[str]:
    """Every character of jionlp's division names (full names and aliases)."""
    chars: set[str] = set()

    def walk(level: dict) -> None:
        for name, sub in level.items():
            if name.startswith("_") or not isinstance(sub, dict):
                continue
            alias = sub.get("_alias") or []
            chars.update(name, sub.get("_full_name") or "",
                         *([alias] if isinstance(alias, str) else alias))
            walk(sub)

    walk(location)
    return frozenset(chars)


def zone_spelled(text: str) -> str:
    """A zone named after its city spelled as jionlp's table names it, with or without 市
    between the city's name and the rest: 苏州市工业园区 → 苏州工业园区, 宣城经济开发区 →
    宣城市经济开发区. jionlp finds a county only by its name or alias written whole, and no
    alias covers the other spelling (苏州工业园区's is 苏州工业园): 苏州市工业园区星湖街328号
    was in 苏州市 (320500), on 工业园区星湖街, as a vague address."""
    pattern, names = _zones()
    return pattern.sub(lambda m: names[m.group(0)], text)


@lru_cache(maxsize=1)
def _zones() -> tuple[re.Pattern[str], dict[str, str]]:
    """(a pattern of the other spellings, other spelling → jionlp's name) for the counties
    whose name starts with their city's short name and goes on with 3 characters or more
    (the development zones, 本溪满族自治县); shorter rests are left out: 岳阳楼区 is not
    岳阳市楼区, nor 阿拉善右旗 阿拉善市右旗."""
    names: dict[str, str] = {}
    for cities in _without_meta(_library()[5]):  # the table loaded once, read only
        for counties in _without_meta(cities):
            for short in counties.get("_alias") or ():
                for county in (c for c in counties if not c.startswith("_")):
                    rest = county[len(short):] if county.startswith(short) else ""
                    bare = rest.removeprefix("市")
                    if len(bare) >= 3:
                        other = short + (bare if rest != bare else "市" + bare)
                        names[other] = county
    alternatives = sorted(names, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives))), names


def _without_meta(level: dict) -> Iterator[dict]:
    """The entries below one level of jionlp's table (its keys starting with _ are data)."""
    return (sub for name, sub in level.items() if not name.startswith("_")
            and isinstance(sub, dict) and PSEUDO_CITY not in name)


@lru_cache(maxsize=1)
def _taiwan() -> dict[str, frozenset[str]]:
    return taiwan.table(simplified)


def divisions() -> list[tuple[tuple[str | None, ...], ...]]:
    """jionlp's division entries as ((province, alias), (city, alias), (county, alias)), old
    names included (江干区 in 杭州市), copied under the lock: each parse writes its counts into
    the parser's entries."""
    parser = _library()[1]
    with _LOCK:
        return [(tuple(e[1]), tuple(e[2]), tuple(e[3])) for e in parser.administrative_map_list]


def undivided_cities() -> frozenset[tuple[str, str]]:
    """(province, city) of the cities without districts: 东莞, 中山, 儋州, 嘉峪关."""
    return _library()[4]


def taiwan_districts() -> dict[str, frozenset[str]]:
    """Taiwan's municipalities (as jionlp names them) → their districts (taiwan.py)."""
    return _taiwan()


@lru_cache(maxsize=65_536)
def find_region(text: str) -> Region:
    """The region an address starts with (cached: repeat buyers' addresses cost nothing)."""
    _, parser, codes, _, undivided, _ = _library()
    with _LOCK:
        found = parser(text)
    return _region(found, codes, undivided)


def region_by_jionlp(text: str) -> Region:
    """`find_region`'s answer by jionlp's own parser, scanning every name: the reference."""
    jionlp, _, codes, _, undivided, _ = _library()
    with _LOCK:
        found = jionlp.parse_location(text)
    return _region(found, codes, undivided)


def _region(found: dict[str, Any], codes: dict[tuple[str | None, ...], str],
            undivided: frozenset[tuple[str, str]]) -> Region:
    prov, city, county = found["province"], found["city"], found["county"]
    county_code = codes.get((prov, city, county)) if county else None
    code = county_code or codes.get((prov, city, None)) or codes.get((prov, None, None))
    if county and not prov:  # a district name alone is ambiguous (朝阳区: Beijing or Changchun)
        code = None
    finest = code is not None and (county_code is not None if county
                                    else (prov, city) in undivided)
    if code and prov == TAIWAN and not county:
        # a district of a Taiwan municipality has no code in the table: it stays at the head
        # of the detail, so the key still tells 大安区 from 信义区 (and is the one it had)
        county = taiwan.district_at(_taiwan(), city, found["detail"])
        finest = county is not None
    return Region(prov, city, county, code, found["detail"], finest)
