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
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_LOCK = threading.Lock()
PSEUDO_CITY = "直辖"  # '省直辖县级行政区划': counties the province governs directly


@dataclass(frozen=True, slots=True)
class Region:
    """The administrative region found at the start of an address, and what follows it."""

    province: str | None
    city: str | None
    district: str | None
    code: str | None  # the most precise level found: district, else city, else province
    detail: str


_LOADING = threading.Lock()


@lru_cache(maxsize=1)
def _library() -> tuple[Any, Any, dict[tuple[str | None, ...], str]]:
    """(jionlp, the prefiltered parser, the codes), loaded once."""
    # jionlp greets on stdout when imported. redirect_stdout swaps a process-wide object: two
    # threads loading at once (the first placements of a busy webhook API) would each restore
    # the other's StringIO and leave stdout swallowed for good — hence one loader at a time.
    with _LOADING, contextlib.redirect_stdout(io.StringIO()):
        import jionlp

        from integrations.geo.prefilter import PrefilteredLocationParser
        parser = PrefilteredLocationParser()
    return jionlp, parser, _codes(jionlp.china_location_loader())


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


@lru_cache(maxsize=65_536)
def find_region(text: str) -> Region:
    """The region an address starts with (cached: repeat buyers' addresses cost nothing)."""
    _, parser, codes = _library()
    with _LOCK:
        found = parser(text)
    return _region(found, codes)


def region_by_jionlp(text: str) -> Region:
    """`find_region`'s answer by jionlp's own parser, scanning every name: the reference."""
    jionlp, _, codes = _library()
    with _LOCK:
        found = jionlp.parse_location(text)
    return _region(found, codes)


def _region(found: dict[str, Any], codes: dict[tuple[str | None, ...], str]) -> Region:
    prov, city, county = found["province"], found["city"], found["county"]
    code = (codes.get((prov, city, county)) if county else None) \
        or codes.get((prov, city, None)) or codes.get((prov, None, None))
    if county and not prov:  # a district name alone is ambiguous (朝阳区: Beijing or Changchun)
        code = None
    return Region(prov, city, county, code, found["detail"])
