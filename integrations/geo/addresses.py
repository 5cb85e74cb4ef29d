"""A shipping address as the shop has it (one line or fields) → `ParsedAddress`.

Chinese-script text is written in simplified characters (jionlp's table), then goes through
the region finder (jionlp) and the pure detail split in `statemachine.address`; Latin-script
text is parsed by country (words in order, postcode, city). Raises `InvalidInput` naming the
field when nothing usable is left. Region fields that contradict each other (广东省 /
杭州市), and regions written in a line or the street that do (region_text.py), are not refused
here — stored orders are parsed again by migrations — but carried in
`ParsedAddress.conflicts` (region_fields.py); the placement decides (geo/contact.py).

A change to what key an address gets strands the block / allow entries listed under the old
one: ship it with a migration that parses the listed addresses again, as
migrations/versions/0016_address_keys_simplified.py does (it runs the parser of its day).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

from integrations.geo import region_fields, region_text
from integrations.geo.regions import Region, find_region, simplified, zone_spelled
from statemachine.address import (
    ParsedAddress,
    chinese_address,
    has_cjk,
    latin_address,
    split_notes,
)
from statemachine.errors import InvalidInput

CHINESE_ORDER = ("province", "city", "district", "street")
_COUNTRY_TAIL = re.compile(r"[,\s]+([A-Za-z]{2})\s*$")


# What a parse reads of an address; the rest (recipient, phone) does not change its answer
_READ = ("country", "line", "postal_code", *CHINESE_ORDER)
# Parses kept, by what they read: a returning buyer's saved address, re-sent as it was, is not
# parsed again (~1.4 M instructions a parse; a kept one ~0.7 KB). Bounded, least recently used
# first out; errors are not kept.
PARSES_KEPT = 16_384


def parse_address(address: Mapping[str, Any], field: str = "shipping_address"
                  ) -> ParsedAddress:
    """The structured form of an address given as `line` or as fields."""
    # each value as text, as the parse reads it (`or ""`: None and a missing key alike)
    return _parsed(field, *(str(address.get(k) or "") for k in _READ))


@lru_cache(maxsize=PARSES_KEPT)
def _parsed(field: str, country: str, line: str, postal_code: str, *fields: str
            ) -> ParsedAddress:
    """`parse_address` of the address with these texts (`_READ`); the answer is immutable
    (a frozen `ParsedAddress`), so one object serves every caller."""
    country = (country or "CN").upper()
    line = line.strip()
    if line:
        return parse_line(line, country, postal_code, field=f"{field}.line")
    parts = {k: v.strip() for k, v in zip((*CHINESE_ORDER, "postal_code"),
                                           (*fields, postal_code), strict=True)}
    if has_cjk(split_notes(" ".join(parts.values()))[0]):
        if not parts["street"]:
            raise InvalidInput({f"{field}.street": "expected a street address (or a line)"})
        text = "".join(parts[k] for k in CHINESE_ORDER)
        parsed = _chinese(text, parts["postal_code"] or None)
        # 广东省 / 杭州市, or a street that names another region: said, not settled by the parse
        found = region_fields.conflicts(parts) + region_text.street_conflicts(parts)
        return replace(parsed, conflicts=found) if found else parsed
    street, street_note = split_notes(parts["street"], latin=True)
    district, district_note = split_notes(parts["district"], latin=True)
    if not street.strip():
        raise InvalidInput({f"{field}.street": "expected a street address (or a line)"})
    if not parts["city"]:
        raise InvalidInput({f"{field}.city": "expected the city (or the whole address as a line)"})
    return latin_address(street, parts["city"], country, extra=district,
                         postcode=parts["postal_code"] or None,
                         note="; ".join(n for n in (street_note, district_note) if n))


def parse_line(line: str, country: str = "CN", postcode: Any = None,
               field: str = "line") -> ParsedAddress:
    """One line as a buyer typed it: Chinese ('杭州市西湖区文三路18号') or Latin script."""
    if not line.strip():
        raise InvalidInput({field: "expected an address"})
    if has_cjk(split_notes(line)[0]):  # a Latin address may carry a note in Chinese
        parsed = _chinese(line, str(postcode) if postcode else None)
        found = region_text.text_conflicts(split_notes(line)[0], field.rpartition(".")[2])
        return replace(parsed, conflicts=found) if found else parsed
    line, note = split_notes(line, latin=True)
    tail = _COUNTRY_TAIL.search(line)
    if tail:
        country, line = tail.group(1).upper(), line[:tail.start()]
    street, _, city = line.rpartition(",")
    street, city = (street, city) if street else (city, "")
    return latin_address(street, city, country, postcode=str(postcode) if postcode else None,
                         note=note)


def _chinese(text: str, postcode: str | None) -> ParsedAddress:
    text = simplified(text)
    address, note = split_notes(text)  # a note naming a place must not move the region
    address = zone_spelled(address)
    region = find_region(address)
    if (in_hong_kong := _hong_kong_area(region, address)) != address:
        address, region = in_hong_kong, find_region(in_hong_kong)
    elif (in_macau := _macau_area(region, address)) != address:
        address, region = in_macau, find_region(in_macau)
    region = _road_named_after(_kowloon(_shanghai(region, address), address), address)
    return chinese_address(_after_region(region), code=region.code, province=region.province,
                           city=region.city, district=region.district, postcode=postcode,
                           raw=text, finest=region.finest, note=note)


SAR = "特别行政区"
KOWLOON_CITY = "九龙城区"
_KOWLOON_CITY_SHORT = re.compile("九龙城(?!区)")
NEW_TERRITORIES = "新界"
_HONG_KONG_AREAS = ("九龙", NEW_TERRITORIES)
_MACAU_AREAS = ("氹仔", "凼仔", "路环", "路氹", "路凼")  # Taipa, Coloane, Cotai
# Places whose names start with 九龙 and are neither Kowloon (the area) nor 九龙城区: a
# village of 大埔区 (九龙坑, 九龙坑山), neighbourhoods and sites (九龙塘, 九龙湾, 九龙仔, 九龙站,
# 九龙公园, 九龙寨城), a road (九龙城道). jionlp reads their 九龙 as 九龙城区's short name;
# they are hidden from it behind `_MASK` (private-use characters, in no name).
_KOWLOON_NAMES = re.compile("九龙(?=坑|塘|湾|仔|站|公园|寨城|城道)")
_MASK = "\ue000\ue001"


# What a road's name goes on with after the name it took from a district: 西湖大道, 沙田正街
_ROAD_WORDS = ("大道", "大街", "大马路", "马路", "公路", "正街", "路", "道", "街", "巷")
# … and a landmark's whose name, without the district's, is only words of a kind: 西湖文化广场
# (in 拱墅区), 南山公园, 西湖体育中心, followed by its number. One with a name of its own is in
# the district as written: 杭州市西湖华星大厦, 杭州西湖翠苑小区 (西湖 as 西湖区's short name).
_LANDMARK_NAMED = re.compile(
    r"(?:文化|体育|人民|国际|会展|科技|金融|商务|市民|音乐|艺术|时代|世纪|中央|购物|博览|展览"
    r"|工人|青少年|儿童|妇女|第一|中心)*(?:广场|中心|公园|医院|大学|学院|大厦|大楼|商场|商城"
    r"|市场|剧院|体育场|体育馆|图书馆|博物馆|美术馆)"
    # … then its number or nothing: 福田中心区益田路 is 福田区's CBD and a road in it
    r"(?=$|[\s,，、0-9零〇一二三四五六七八九十])")
_SEPARATORS = " ,，、\u3000"
_ROAD_MASK = "\ue002"  # a private-use character, in no name


def _named_after(detail: str) -> bool:
    """Whether what jionlp left after a district goes on with a road's name (大道 of 西湖大道)
    or a landmark's (文化广场 of 西湖文化广场; not 华星大厦, a name of its own)."""
    return detail.startswith(_ROAD_WORDS) or _LANDMARK_NAMED.match(detail) is not None


def _road_named_after(region: Region, address: str) -> Region:
    """jionlp finds a district by its short name even where it starts a road's name, and cuts
    the road's name there: 杭州市西湖大道1号 was on 大道 in 西湖区, 香港沙田正街1号 on 正街.
    When what jionlp left starts with a road word and the text before it ends with the start of
    the district's name, that start is the road's, and it names no district: a road named
    after a district need not lie in it (西湖大道 is in 上城区, 大埔道 starts in 深水埗区). The
    text is read again with that start hidden (`_ROAD_MASK`): the region is then what else is
    written (the city: 杭州市 330100; a district written elsewhere), the road keeps its name.
    So does a landmark named after a district (`_named_after`): 杭州市西湖文化广场1号 was in
    西湖区 on 文化广场; the square is in 拱墅区."""
    name, detail = region.district, region.detail.lstrip(_SEPARATORS)
    if not name or not _named_after(detail) or (at := address.rfind(detail)) < 0:
        return region
    head = address[:at].rstrip(_SEPARATORS)
    short = next((name[:k] for k in range(len(name) - 1, 1, -1) if head.endswith(name[:k])),
                 None)
    if short is None:
        return region
    found = find_region(address[:len(head) - len(short)] + _ROAD_MASK + address[len(head):])
    return replace(found, detail=found.detail.replace(_ROAD_MASK, short))


def _shanghai(region: Region, address: str) -> Region:
    """上海南京东路1号: jionlp finds 海南 (the province) across 上海 and 南京 (海南省, street
    京东路). Where every 海南 written is the middle of 上海南, 上海 is the city."""
    if region.province != "海南省" or address.count("海南") != address.count("上海南"):
        return region
    return find_region(address.replace("上海南", "上海市南"))


def _after_region(region: Region) -> str:
    """The detail of a special administrative region's address: without what jionlp leaves of
    the region's name when no district follows it (澳门特别行政区新马路12号 → '特别行政区新马路
    12号'; with the city repeated, as shops send fields: '特别行政区澳门新马路12号'), and with
    its district (九龙城区, 花地玛堂区) at the head; 新界, the New Territories (an area of nine
    districts), is dropped like the region's name, as 九龙 is (`_kowloon`). jionlp codes every
    Hong Kong district 810000 and every Macau parish 820000: the district tells
    九龙城区太子道西188号 from 中西区太子道西188号, so it stays in the street, as a Taiwan
    district does (regions.py)."""
    detail = region.detail
    if not (region.province or "").endswith(SAR):
        return detail
    repeats = [n for n in (SAR, region.province, region.city, region.district, NEW_TERRITORIES)
               if n]
    while (rest := detail.lstrip(" ,，、")) and (
            name := next((n for n in repeats if rest.startswith(n)), None)):
        detail = rest[len(name):]
    return (region.district or "") + detail


def _kowloon(region: Region, address: str) -> Region:
    """jionlp takes 九龙 (Kowloon: one of Hong Kong's three areas, five districts) for the short
    name of 九龙城区, and reads 九龙城 as 九龙 + 城: 香港九龙弥敦道1号 (in 油尖旺区) was in
    九龙城区, 香港九龙油尖旺区弥敦道1号 in both, 香港九龙城太子道西188号 on 城太子道西. Without
    九龙城 written, 九龙 is the area: dropped, the rest read again (a district after it is
    found; none: no district, as 香港弥敦道1号). 九龙城 is the district's short name: read in
    full. A place named 九龙… (`_KOWLOON_NAMES`) is neither: it stays whole in the street, and
    names no district (香港九龙坑1号, in 大埔区, was on 坑); so does 九龙城道, a road named after
    the district, as any road named after a district does (`_road_named_after`; 香港九龙城道1号
    was on 城道)."""
    if region.district != KOWLOON_CITY:
        return region
    masked = _KOWLOON_NAMES.sub(_MASK, address)
    if "九龙城" not in masked:
        found = find_region(masked.replace("九龙", "", 1))
    elif KOWLOON_CITY not in masked:
        found = find_region(_KOWLOON_CITY_SHORT.sub(KOWLOON_CITY, masked, count=1))
    elif masked != address:
        found = find_region(masked)
    else:
        return region
    return replace(found, detail=found.detail.replace(_MASK, "九龙"))


def _macau_area(region: Region, address: str) -> str:
    """The address with 澳门 before it when it starts with Taipa or Coloane (氹仔, 凼仔, 路环,
    路氹) and names no province: 氹仔花城大马路1号 had no region at all, as Kowloon without
    香港 had (`_hong_kong_area`)."""
    head = address.lstrip(_SEPARATORS)
    if region.province or not head.startswith(_MACAU_AREAS):
        return address
    return "澳门" + head


def _hong_kong_area(region: Region, address: str) -> str:
    """The address as read: with 香港 before it when it starts with Kowloon (九龙) or the New
    Territories (新界), Hong Kong's areas, and names no province (九龙弥敦道1号 had no region:
    jionlp took 九龙 for the county 九龙县 of Sichuan, written without its province).
    九龙县… and 九龙坡区… name their county and are left alone."""
    head = address.lstrip(_SEPARATORS)
    if region.province or not head.startswith(_HONG_KONG_AREAS) \
            or head.startswith(("九龙县", "九龙坡")):
        return address
    return "香港" + head
