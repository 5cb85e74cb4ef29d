"""Shipping addresses in one structured, normalised form, whatever script the shop wrote.

A Chinese address is region (province / city / district with the 6-digit administrative code,
found by an address library in `integrations.geo`) + street + house number + unit (building,
entrance, room). A Latin-script address keeps its country, postcode, city and street.
Everything that compares addresses — blacklist keys, velocity by address, address changes,
"vague address" — uses `ParsedAddress.key` and the flags here, never the raw text.

Normalisation (pure, stdlib): Unicode NFKC folds full-width letters and digits (１８号 → 18号,
ＡＢ → AB); spacing and punctuation are dropped; Latin letters are lower-cased; Chinese
numerals where a number is expected are digits (cn_numerals.py: 十八号 → 18号).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from statemachine import limits
from statemachine.cn_numerals import CN_CHARS, arabic, arabic_floors, arabic_numbers
from statemachine.region_conflict import RegionConflict

# Pickup points and lockers: the parcel never reaches a door (菜鸟驿站, 丰巢 lockers, ...).
LOCKER = re.compile(r"驿站|快递柜|快递点|丰巢|自提|代收|取件|寄存|智能柜|收发室|parcel ?locker"
                    r"|pick-? ?up point|packstation", re.IGNORECASE)
# A landmark instead of an address: "万达广场附近", "学校对面", "near the park".
LANDMARK = re.compile(r"附近|旁边|对面|周边|一带|[边旁]$|\bnear\b|\bopposite\b|\bnext to\b",
                      re.IGNORECASE)
CJK = re.compile(r"[\u3400-\u9fff]")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)  # spacing and punctuation (CJK are word chars)
# The house number: 18号, 18#, 88弄5号 (lane 88, number 5), 18-20号 (a range: `_RANGE` has
# made its dash 至, which `fold` keeps).
_NUMBER = re.compile(r"(\d+(?:至\d+)?)(?:号|#|號)|(\d+)弄(?:(\d+)(?:号|#|號))?")
_LATIN_NUMBER = re.compile(r"\d+[a-z]?")
# A bracketed note for the courier: 文三路18号(放门卫), 【周末不收】, （请电话联系） (NFKC has
# made （）［］｛｝ half-width)
_BRACKETS = ("()", "[]", "{}", "【】", "〔〕", "〖〗", "「」", "『』", "《》", "〈〉")
_NOTE = re.compile("|".join(f"{re.escape(o)}([^{re.escape(o + c)}]*){re.escape(c)}"
                            for o, c in _BRACKETS))
# … unless it holds a house number or only a unit: (文三路18号), (A座1203室) are the address;
# in Latin script, a unit word or a number that is not a phone number: (Apt 5), (2nd floor),
# (Building B), (#12), (18 Wensan Road) — not (call +86 138 0013 8000)
_UNIT_ONLY = re.compile(r"(?:[0-9a-z]+(?:座|栋|幢|号楼|号|单元|室|楼|层))+")
# … or only numbers of up to 4 digits a dash joins, 6 digits at most in all: (3-502), (1203),
# (三-五〇二) are a unit, as rooms are numbered; (310012) a postcode and (138-0013-8000) a
# phone number: notes
_NUMBERS_ONLY = re.compile(r"\d{1,4}(?:-\d{1,4})*")
_LATIN_UNIT = re.compile(r"\b(?:apt|apartment|flat|unit|suite|ste|room|rm|floor|fl|level|"
                         r"building|bldg|block|blk|tower|house)\b", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]*\d|\d")
# A house-number range, 18-20号: any dash (NFKC has made －～ half-width), 至 or 到 between two
# numbers before 号 becomes 至, a word character (`fold` drops dashes: 18-20 was 1820)
_RANGE = re.compile(f"(?<=[0-9{CN_CHARS}])\\s*[-‐‑‒–—―−~〜至到]\\s*"
                    f"(?=[0-9{CN_CHARS}]+\\s*[号號#])")
# Three numbers or more a dash joins before 号 (1-2-3号: building 1, unit 2, room 3, as
# 1号2单元3室 is written in words) are no range: the first is the house number, the others
# the unit, their dashes kept (`_UNIT_DASH`) — 1号2-3
_CHAIN = re.compile(f"(?<![0-9{CN_CHARS}])([0-9{CN_CHARS}]+)\\s*[-‐‑‒–—―−~〜]\\s*"
                    f"([0-9{CN_CHARS}]+(?:\\s*[-‐‑‒–—―−~〜]\\s*[0-9{CN_CHARS}]+)+)"
                    f"\\s*[号號#]")
# … and after a house number, the chain is the unit: 1号2-3-1号 is 1号2-3-1
_HOUSE_NUMBER_BEFORE = re.compile(f"[0-9{CN_CHARS}]\\s*[号號#]")
# A sub-number, 1号之一 or 1之1号 (No. 1, its first annex, as Taiwan and Fujian write it): the
# number 1-1, as 1-1号 writes it
_SUB_NUMBER = re.compile(f"([0-9{CN_CHARS}]+)\\s*(?:[号號]\\s*之\\s*(\\d+|[{CN_CHARS}]+)|"
                         f"之\\s*(\\d+|[{CN_CHARS}]+)\\s*[号號])")
# A floor, in the key: 3楼, 3层 and 3F are one floor (not 3号楼: building 3)
_FLOOR = re.compile(r"(?<=\d)(?:楼|层|f)(?![a-z])")
# … a building is one building: 5栋, 5幢 and 5号楼 key `5栋`; a room's number is the room:
# 502室, 502房 and 502 key `502`
_BUILDING = re.compile(r"(?<=\d)(?:号楼|幢|栋)")
_ROOM = re.compile(r"(?<=\d)[室房]")
# … a tower, A座 or 3座, is a building (`a栋`, `3栋`) when no building is named with it: the
# towers of one complex share its house number, each a building of its own, and shops write
# A座 and A栋 for the same one. After a building (12栋A座: building 12, its wing A) it is a
# part of that building and stays 座.
_TOWER = re.compile(r"(?<=[0-9a-z])座")
# A residential compound named with a road and its house number (阳光花园张杨路500弄3号,
# 张杨路500弄3号阳光花园601室): the road and number say where the door is, so the compound's
# name is left out of the key wherever it was written — before the road (after a 街道 / 镇
# if one is written), or at the head of the unit. Only names ending in one of these words,
# with a phase or section after them (翠苑一区, 锦绣花园二期), and a Shanghai-style 新村 or an
# office building, 大厦, named with the road's number (华星大厦, 文三路18号: the same door); a
# road whose name only starts with one (花园路, 锦绣花园北路, 新村路) is that road.
_ESTATE_WORD = re.compile(r"(?:小区|花园|家园|苑|新村|大厦)(?:[0-9一二三四五六七八九十]+[期区])?")
_CJK_RUN = re.compile(f"{CJK.pattern}+")
_ESTATE_IN_UNIT = re.compile(f"^{_CJK_RUN.pattern}{_ESTATE_WORD.pattern}")
# up to the first one written: one subdistrict or town per address, and a compound's name may
# hold 镇 (桂城街道镇安花园, 镇湖街道镇湖花园: up to the last, the key kept 桂城街道镇)
_SUBDISTRICT = re.compile(r".+?(?:街道|镇)")
# … a road: a name of its own before 路 / 街 / 大道 … (北路, 一路 alone are not; 簇桥街道 is
# a subdistrict)
_ROAD = re.compile(r"(?<!街)(?:路|街|大道|道|巷|胡同)$")
_ROAD_NAME_ONLY = re.compile(r"[东西南北中0-9一二三四五六七八九十]*(?:路|街|大道|道|巷|胡同)$")
# A door named without a house number, as a residential compound's addresses are written
# (翠苑一区1栋2单元301室, 望京西园三区312楼5单元601, 蔚蓝海岸三期12栋a座1501): a building, or
# a 楼 with an entrance or room after it (3楼 alone is a floor of something unnamed)
_DOOR = re.compile(r"\d+(?:栋|幢|号楼|座)|[a-z]座|\d+楼\d*(?:单元|\d+室)|\d+单元\d+")
# A phone number written in the address (a mainland mobile, +86 or not, or a landline with
# its area code), with the word before it: for the courier, like a bracketed note
_PHONE = re.compile(r"(?<![\d+])(?=[+\d])(?:(?:\+|00)?86[\s-]?)?"
                    r"(?:1[3-9]\d(?:[\s-]?\d){8}|0\d{2,3}[\s-]?\d{7,8})(?!\d)")
_PHONE_WORD = re.compile(r"(?:(?:联系|收件人|收货人)?(?:电话|手机)(?:号码?)?|联系方式|tel|mobile)"
                         r"\s*[:：]?\s*$", re.IGNORECASE)
# A unit's number in Chinese numerals with no unit word after it: 三-五〇二, A座五〇二 (one
# before a word other than a dash is a name or a phase: 三期; before 单元 / 室 / 楼 the passes
# above have read it)
_CN_BARE = re.compile(f"[{CN_CHARS}]+(?=-|$)")
# … and a room's number in Chinese numerals ending an address with no house number, after a
# building or an entrance (翠苑一区1栋2单元三零一): the unit is then in the street
_CN_ROOM_LAST = re.compile(f"(?:(?<=单元)|(?<=[栋幢楼]))[{CN_CHARS}]+$")
# A dash between two numbers of the unit (3-502: building 3, room 502), kept through `fold`
# as a letter it does not drop (ǂ, in no address) and put back as "-"
_UNIT_DASH = re.compile(f"(?<=[0-9{CN_CHARS}])\\s*[-‐‑‒–—―−~〜]\\s*(?=[0-9{CN_CHARS}])")


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """An address as risk control and allocation compare it."""

    country: str  # ISO 3166-1 alpha-2
    street: str  # normalised street name ("文三路", "wensan road")
    number: str | None = None  # house number ("18", "88弄5"), None when there is none
    unit: str = ""  # building / entrance / room, normalised ("3单元502室", "a座1203室")
    region_code: str | None = None  # CN: administrative code of the most precise level found
    province: str | None = None
    city: str | None = None
    district: str | None = None
    postcode: str | None = None
    locker: bool = False  # a pickup locker or collection point
    landmark: bool = False  # "near X" instead of a street address
    script: str = "Latn"  # ISO 15924: "Hani" for Chinese characters, "Latn" for Latin
    # the region is as precise as the division table goes although its code is not a
    # district's: a city without districts (东莞市 441900), a Hong Kong district (九龙城区,
    # coded 810000 like Hong Kong itself)
    finest: bool = False
    note: str = ""  # bracketed notes for the courier ("放门卫"): kept, never in the key
    # region fields sent that contradict each other (广东省 / 杭州市): never in the key, which
    # is of the region the address library settled on (region_conflict.py)
    conflicts: tuple[RegionConflict, ...] = ()
    # `key`, once worked out: a placement asks for it a dozen times (each risk rule, the
    # counters, the order's attributes) and it costs ~10 µs of regular expressions each time
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        """One comparable string: equal for the same address however it was written.

        At most `limits.ADDRESS_KEY` characters, the width of the columns that keep it: every
        field may be within its own limit while all of them together are not, so a longer key
        keeps its start and ends in a digest of the whole (still equal exactly when equal)."""
        if self._key is None:
            object.__setattr__(self, "_key", self._worked_out_key())
        return self._key  # type: ignore[return-value]

    def _worked_out_key(self) -> str:
        place = self.region_code or "|".join(fold(p or "") for p in (
            self.postcode, self.province, self.city, self.district))
        street, unit = self.street, self.unit
        if self.script == "Hani":
            if self.number is not None:
                street, unit = _without_estate(street, unit)
            street, unit = _one_spelling(street), _FLOOR.sub("层", _one_spelling(unit))
        key = "|".join((self.country, place, street, self.number or "", unit))
        if len(key) <= limits.ADDRESS_KEY:
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{key[:limits.ADDRESS_KEY - len(digest) - 1]}#{digest}"

    @property
    def region_level(self) -> str | None:
        """'district', 'city' or 'province': how precisely the region is known (CN codes)."""
        code = self.region_code
        if not code:
            return None
        if code.endswith("0000"):
            return "province"
        return "city" if code.endswith("00") else "district"

    def vagueness(self) -> tuple[str, ...]:
        """Why this address is vague (empty: it is not): no_district, no_house_number,
        pickup_locker, landmark_only."""
        found = []
        if self.script == "Hani" and self.region_level != "district" and not self.finest:
            found.append("no_district")
        located = self.number is not None or (self.script == "Hani"
                                              and _DOOR.search(self.street) is not None)
        if not located:
            found.append("no_house_number")
        if self.locker:
            found.append("pickup_locker")
        if self.landmark and not located:
            found.append("landmark_only")
        return tuple(found)

    def as_dict(self) -> dict[str, str | bool | list[str] | None]:
        """Plain values for the order's attributes and events (`conflicts` only when there
        are: an order's stored attributes are as before otherwise)."""
        conflicts = {"conflicts": [str(c) for c in self.conflicts]} if self.conflicts else {}
        return {"country": self.country, "region_code": self.region_code,
                "province": self.province, "city": self.city, "district": self.district,
                "street": self.street, "number": self.number, "unit": self.unit,
                "postcode": self.postcode, "locker": self.locker, "landmark": self.landmark,
                "script": self.script, "finest": self.finest, "note": self.note,
                "key": self.key} | conflicts


def _one_spelling(text: str) -> str:
    """A building and a room as the key writes them (5幢 → 5栋, A座 → a栋, 502室 → 502): also
    in the street, where they are when no house number came before (翠苑一区1幢2单元301室)."""
    text = _BUILDING.sub("栋", text)
    if "座" in text and "栋" not in text:
        text = _TOWER.sub("栋", text)
    return _ROOM.sub("", text)


def _without_estate(street: str, unit: str) -> tuple[str, str]:
    """(street, unit) without the name of the compound a road's house number is in
    (`_ESTATE_WORD`): 阳光花园张杨路 → 张杨路, 阳光花园601室 → 601室 after 张杨路."""
    if not _is_road(street):
        return street, unit  # 张杨路阳光花园3号: the compound's house number, not the road's
    words = [w for w in _ESTATE_WORD.finditer(street) if _is_road(street[w.end():])]
    if words:  # the last word a road follows: 翠苑小区文三路 is 翠苑小区 + 文三路
        head = street[:words[-1].start()]
        subdistrict = _SUBDISTRICT.match(head)
        keep = subdistrict.group(0) if subdistrict else ""
        if _CJK_RUN.fullmatch(head[len(keep):]):  # a name before the word: not 花园路
            street = keep + street[words[-1].end():]
    return street, _ESTATE_IN_UNIT.sub("", unit)


def _is_road(name: str) -> bool:
    """Whether `name` ends in a road with a name of its own: 张杨路, 中山二路; not 北路."""
    return _ROAD.search(name) is not None and _ROAD_NAME_ONLY.fullmatch(name) is None


def fold(text: str) -> str:
    """NFKC (full-width → half-width), lower case, spacing and punctuation removed."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


def split_detail(detail: str) -> tuple[str, str | None, str]:
    """The part of a Chinese address after the region → (street, house number, unit)."""
    ranged = ranges(detail)
    text = arabic_numbers(fold(ranged))
    match = _NUMBER.search(text)
    if match is None:  # 翠苑一区1栋2单元三零一: the room read as in a unit
        return _CN_ROOM_LAST.sub(arabic, text), None, ""
    if match.group(1) is not None:
        number = match.group(1).replace("至", "-")  # one spelling of a range: 18-20
    else:
        number = match.group(2) + ("弄" + match.group(3) if match.group(3) else "弄")
    unit = arabic_floors(_unit_dashed(ranged, text, match.end()))
    return text[:match.start()], number, _CN_BARE.sub(arabic, unit)


def _unit_dashed(ranged: str, text: str, start: int) -> str:
    """The unit, `text[start:]`, with the dashes between its numbers kept: 3-502 (building 3,
    room 502) is not 35-02, and `fold` drops punctuation. The text is folded again with those
    dashes, and the unit is its tail; when that fold differs in more than the dashes (a
    numeral next to a dash), the unit goes without them, as before."""
    if not _UNIT_DASH.search(ranged):  # most addresses: no second fold
        return text[start:]
    dashed = arabic_numbers(fold(_UNIT_DASH.sub("\u01c2", ranged))).replace("\u01c2", "-")
    if dashed.replace("-", "") != text:
        return text[start:]
    left, cut = len(text) - start, len(dashed)
    while left:
        cut -= 1
        left -= dashed[cut] != "-"
    return dashed[cut:].lstrip("-")


def ranges(text: str) -> str:
    """A house-number range with 至 between its numbers, whatever joined them (18-20号,
    18－20号, 18～20号, 18到20号, 十八至二十号 → 18至20号), so that all spell one range and
    none the number its digits make (1820号). Three numbers or more are no range (`_CHAIN`):
    1-2-3号 → 1号2-3, house number 1 and unit 2-3 (before: 12-3, a range from 12). A
    sub-number is one too (1号之一, 1之1号 → 1至1号, as 1-1号)."""
    text = unicodedata.normalize("NFKC", text)
    text = _CHAIN.sub(lambda m: _chain(m, _HOUSE_NUMBER_BEFORE.search(text, 0, m.start())), text)
    text = _SUB_NUMBER.sub(lambda m: f"{m.group(1)}-{m.group(2) or m.group(3)}号", text)
    return _RANGE.sub("至", text)


def _chain(match: re.Match[str], after_a_number: re.Match[str] | None) -> str:
    if after_a_number:
        return match.group(0)[:-1]
    return f"{match.group(1)}号{match.group(2)}"


def split_notes(text: str, latin: bool = False) -> tuple[str, str]:
    """(the address without its bracketed notes, the notes as written, '; ' between them).
    A note is for the courier, not part of where the parcel goes: it stays out of the key
    (the same address with and without 放门卫 / leave at gate is one address) and is kept on
    the side, and so is a phone number written in Chinese-script text (`_PHONE`). `latin`:
    the address is in Latin script (its units are Apt 5, 2nd floor …)."""
    text = unicodedata.normalize("NFKC", text)
    notes: list[str] = []

    def one(match: re.Match[str]) -> str:
        inside = next(g for g in match.groups() if g is not None)
        if _is_address(inside, latin):
            return inside  # a unit or a house number: where the parcel goes
        if inside.strip():
            notes.append(inside.strip())
        return " "

    text = _NOTE.sub(one, text)
    if not latin:  # 文三路18号 电话13800138000: the number is for the courier
        text = _without_phones(text, notes)
    return text, "; ".join(notes)


def _without_phones(text: str, notes: list[str]) -> str:
    """`text` less its phone numbers (with the word before one: 电话, 手机, tel …), each added
    to `notes` as written."""
    kept, end = [], 0
    for match in _PHONE.finditer(text):
        word = _PHONE_WORD.search(text, end, match.start())
        start = word.start() if word else match.start()
        kept.append(text[end:start])
        notes.append(text[start:match.end()].strip())
        end = match.end()
    return " ".join([*kept, text[end:]])


def _is_address(inside: str, latin: bool) -> bool:
    """Whether a bracket holds a house number or a unit rather than a note."""
    if latin:
        return _LATIN_UNIT.search(inside) is not None or any(
            sum(c.isdigit() for c in run) < 7 for run in _DIGIT_RUN.findall(inside))
    folded = arabic_floors(arabic_numbers(fold(inside)))
    if _UNIT_ONLY.fullmatch(folded) is not None or _NUMBER.search(folded) is not None:
        return True
    numbers = _CN_BARE.sub(arabic, _UNIT_DASH.sub("-", inside.strip()))
    return _NUMBERS_ONLY.fullmatch(numbers) is not None and sum(map(str.isdigit, numbers)) <= 6


def chinese_address(detail: str, *, code: str | None, province: str | None,
                    city: str | None, district: str | None, postcode: str | None = None,
                    raw: str = "", finest: bool = False, note: str = "") -> ParsedAddress:
    """A Chinese address from the region an address library found and the rest of the text
    (notes already split off: `split_notes`; `raw` has them, for the locker / landmark words)."""
    street, number, unit = split_detail(_without_region(detail, (province, city, district)))
    text = raw or detail
    return ParsedAddress("CN", street, number, unit, code, province, city, district,
                         fold(postcode) if postcode else None,
                         LOCKER.search(text) is not None, LANDMARK.search(text) is not None,
                         "Hani", finest, note)


def _without_region(detail: str, names: tuple[str | None, ...]) -> str:
    """Drop comma-separated parts that only repeat the region ('文三路18号, 杭州市')."""
    known = {_bare(n) for n in names if n}
    parts = re.split(r"[,，、;；]", detail)
    return "".join(p for p in parts if _bare(p) not in known)


def _bare(name: str) -> str:
    return re.sub(r"(省|市|区|县)$", "", fold(name))


def latin_address(street: str, city: str, country: str, *, extra: str = "",
                  postcode: str | None = None, note: str = "") -> ParsedAddress:
    """A Latin-script address: words kept in order, so '18 Wensan Road' ≠ '81 Wensan Road'
    (notes already split off: `split_notes`; `note` has them, for the locker / landmark
    words)."""
    words = " ".join(w for w in re.split(r"[\s\W_]+", unicodedata.normalize(
        "NFKC", f"{street} {extra}").lower()) if w)
    number = _LATIN_NUMBER.search(words)
    text = f"{street} {extra} {note}"
    return ParsedAddress(country.upper(), words, number.group(0) if number else None, "",
                         None, None, fold(city) or None, None,
                         fold(postcode) if postcode else None,
                         LOCKER.search(text) is not None, LANDMARK.search(text) is not None,
                         note=note)
