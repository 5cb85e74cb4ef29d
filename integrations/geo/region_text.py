"""Regions written at the head of an address's text — a whole address on one line
(`广东省杭州市西湖区文三路18号`, as imports send it, in `line` or in the street field with the
region fields empty), or the street field repeating the region — held to the rule the region
fields are held to (region_fields.py): each must contain the next, and the street's must
agree with the province and city fields (浙江省 / 杭州市 with the street `广东省深圳市南山区…`
is a contradiction; with `杭州市西湖区文三路18号`, the fields again, it is not). The district
field is not compared with the street's district: districts are merged, split and renamed
(江干区 into 上城区, 临平区 out of 余杭区) and pickers and buyers lag behind, while the city
is not in doubt.

Only the head of the text is read, name after name, each looked up in the division table by
its full or short name: the first text that is no division's name ends it. A place name is no
region where it starts a road's or a place's name — a road, a direction or a number and a road
word, a compound, a school, a market follow it (`_NOT_A_REGION`): 北京路 in 广州, 南京东路 in
上海, 中山五路, 香港中路 in 青岛, 北京大学杭州研究院. A short name (深圳, 长春) counts only
when another region follows it (广东深圳南山区): the last name of the head, written short, may
be a place named after a city (杭州市西湖区长春小区, 西湖文化广场) and is left out. `X市场`
is X's market, not the city X市. Below a city without districts (东莞市) a district's name is
no evidence, as for the fields. The parse of the address (addresses.py) and its key are
unchanged: what a contradiction changes is whether the order is taken as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from integrations.geo import regions
from integrations.geo.region_fields import (
    FIELDS,
    GENERIC,
    Named,
    Place,
    chain_conflicts,
    conflicts,
    places_table,
    seats,
    undivided,
    where,
)
from statemachine.region_conflict import RegionConflict

_SEPARATORS = " ,，、;；\u3000\t"
# what follows a place name that starts a road's or a place's name, not a region
_NOT_A_REGION = re.compile(
    r"(?:[东西南北中]|[0-9一二三四五六七八九十]+)?"
    r"(?:路|街|大道|大街|道|巷|弄|胡同|桥|环|广场|公园|大厦|大楼|花园|小区|新村|村|站|机场"
    r"|医院|大学|学院|中学|小学|市场|商场|商城|饭店|酒店|宾馆|中心)")
_FULL = re.compile(r"(?:省|市|区|县|旗|州|盟|特别行政区)$")  # a name written in full


def head_regions(text: str) -> list[tuple[str, frozenset[Place]]]:
    """The division names `text` starts with, in order, each with the divisions it may be."""
    text = regions.simplified(unicodedata.normalize("NFKC", text))
    found: list[tuple[str, frozenset[Place]]] = []
    at = 0
    while (at := _skip(text, at)) < len(text) and (named := _name_at(text, at)):
        found.append(named)
        at += len(named[0])
    if found and not _FULL.search(found[-1][0]):  # 长春小区, 西湖文化广场: a place's name
        found.pop()
    return found


def text_conflicts(text: str, label: str) -> tuple[RegionConflict, ...]:
    """The regions at the head of `text` (a `line`, a street holding the whole address) that
    contradict each other: `line contradicts itself: 广东省 does not contain 杭州市 (浙江省)`."""
    return chain_conflicts([(label, name, places) for name, places in head_regions(text)])


def street_conflicts(fields: Mapping[str, str | None]) -> tuple[RegionConflict, ...]:
    """The street's own regions that contradict each other, else the first region field that
    does not contain them: `street contradicts province: 浙江省 does not contain 深圳市南山区
    (广东省深圳市)` — compared only with fields that agree among themselves. With no region
    field sent, the street is read as a whole address."""
    street = (fields.get("street") or "").strip()
    if not street:
        return ()
    known = [(f, value, found) for f in FIELDS
             if (value := (fields.get(f) or "").strip()) and (found := where(value))]
    if not any((fields.get(f) or "").strip() for f in FIELDS):
        return text_conflicts(street, "street")
    written = head_regions(street)
    own = chain_conflicts([("street", name, places) for name, places in written])
    if own or not written or not known or conflicts(fields):
        return own  # fields that contradict each other say it already: 广东省 / 杭州市
    return _against_fields(known, written)


def sent_conflicts(address: Mapping[str, str | None]) -> tuple[RegionConflict, ...]:
    """Every contradiction an address as sent holds: its `line`'s, or its region fields' and
    its street's (what placement and a label check; region_fields.conflicts for the fields)."""
    if line := (address.get("line") or "").strip():
        return text_conflicts(line, "line")
    return conflicts(address) + street_conflicts(address)


def _against_fields(known: list[Named], written: list[tuple[str, frozenset[Place]]]
                    ) -> tuple[RegionConflict, ...]:
    """The widest field, province or city, that does not contain the street's regions (they
    agree among themselves: their narrowest is read inside the wider ones)."""
    narrowest = written[-1][1]
    for _, places in reversed(written[:-1]):
        narrowest = frozenset(p for p in narrowest if any(p[:len(c)] == c for c in places))
    text = "".join(name for name, _ in written)
    if any(places <= undivided() for _, _, places in known):
        # 东莞市: its 东城区 is a subdistrict, no evidence of a district elsewhere
        narrowest = frozenset(p for p in narrowest if len(p) < 3)
    for field, name, places in known:
        if field == "district":
            # 上城区 with the street's 江干区 (merged into it in 2021), 余杭区 with 临平区 (split
            # from it): an old picker or an old name, the city is not in doubt
            continue
        if narrowest and not any(p[:len(c)] == c or c[:len(p)] == p
                                 for p in narrowest for c in places):
            where_it_is = seats(narrowest)
            shown = "" if text.startswith(where_it_is) else f" ({where_it_is})"
            return (RegionConflict("street", field,
                                   f"{name} does not contain {text}{shown}"),)
    return ()


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SEPARATORS:
        at += 1
    return at


def _name_at(text: str, at: int) -> tuple[str, frozenset[Place]] | None:
    """The longest division name at `at` that is not the start of a road's or a place's name."""
    table = places_table()
    for length in _lengths().get(text[at], ()):  # longest first, only lengths names have
        if (end := at + length) > len(text):
            continue
        name = text[at:end]
        places = table.get(name)
        if not places or GENERIC.fullmatch(name) or _NOT_A_REGION.match(text, end):
            continue
        if name.endswith("市") and text.startswith("场", end):  # 深圳市场: a market
            continue
        return name, places
    return None


@lru_cache(maxsize=1)
def _lengths() -> dict[str, tuple[int, ...]]:
    """First character → the lengths (2 or more, longest first) of the names starting with
    it: a name is looked up at those lengths only, not at every length up to the longest
    name's (~20 look-ups at each place of an address's head)."""
    lengths: dict[str, set[int]] = {}
    for name in places_table():
        if len(name) >= 2:
            lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}
