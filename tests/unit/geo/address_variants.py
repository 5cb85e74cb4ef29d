"""Addresses written from jionlp's own division table, in the forms shops and buyers send.

For the equivalence of `find_region` with jionlp's own parser (test_region_finder.py) and for
its bench (bench/address_parsers.py). Every county and city of jionlp's table, every old name
of its change table, and hand-picked traps: names inside street names (北京路, 太原路), a
district alone and ambiguous (朝阳区), landmarks, trailing city names, Latin text, empty text.
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Iterator

STREETS = ("人民路", "中山路", "解放路", "建设路", "北京路", "上海路", "南京路", "重庆路",
           "太原路", "长沙路", "朝阳路", "西湖路", "黄河路", "府前街", "西大街", "科技大道",
           "文三路", "天河路", "金融街", "花园路")
UNITS = ("", "3单元502室", "5栋2单元301室", "A座1203室", "12号楼3层", "B座8楼")
PLACES = ("人民医院", "万达广场", "火车站", "大学", "第一中学", "菜鸟驿站")
FULLWIDTH = str.maketrans("0123456789AB", "０１２３４５６７８９ＡＢ")
TRAPS = (
    "", " ", "，", "中国", "221B Baker Street, London", "Room 5, 18 Wensan Rd, Hangzhou",
    "西湖区文三路18号, 杭州市", "西湖区文三路18号", "朝阳区建国路88号", "朝阳区建国路88号, 北京",
    "长春市朝阳区人民大街5号", "鼓楼区中山路1号", "鼓楼区中山路1号, 南京市", "高新区科技大道9号",
    "海南大学", "西安交通大学", "成都和西安是西部大开发先锋城市。", "青海西宁城西区五四大街1号",
    "北海市重庆路其仓11号", "上海市嘉定区太原路99号", "湖南省长沙市", "湖南省长沙市长沙县",
    "喀左旗覃家岗街道梨树湾村芭蕉沟村民小组临.222号", "海南藏族自治州共和县1号",
    "科尔沁左翼后旗甘旗卡镇", "秦皇岛市经济技术开发区泰山路1号", "伊春市美溪区1号",
    "广东省广州市天河区天河路1号 寄 北京市朝阳区", "北京北京市朝阳区", "重庆重庆市渝中区解放碑",
    "香港特别行政区中西区皇后大道中1号", "澳门氹仔", "台湾省台北市", "吉林省通辽市西安区",
    "内蒙古自治区通辽市科尔沁区五一路115号B座8楼", "新疆库尔勒市人民路1号", "巴州库尔勒市人民路1号",
    "浙江杭州西湖区文三路18号", "浙江省杭州市西湖区文三路18号西湖路3号", "上海浦东新区世纪大道1号",
)


def _jionlp_tables() -> tuple[dict, list]:
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    return jionlp.china_location_loader(), jionlp.china_location_change_loader()


def regions() -> Iterator[tuple[str, str, tuple[str, ...], str, str]]:
    """(province, city or '', city short names, county, county short name) in jionlp's table."""
    location, _ = _jionlp_tables()
    for prov, cities in location.items():
        if prov.startswith("_"):
            continue
        for city, counties in cities.items():
            if city.startswith("_"):
                continue
            shown = "" if "直辖" in city else city
            for county, info in counties.items():
                if not county.startswith("_"):
                    yield prov, shown, tuple(counties["_alias"]), county, info["_alias"] or county


def _tail(rng: random.Random) -> str:
    return f"{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.choice(UNITS)}"


def forms(rng: random.Random, prov: str, city: str, aliases: tuple[str, ...], county: str,
          county_alias: str) -> list[str]:
    """One address in each form, with fresh street numbers."""
    alias = rng.choice(aliases) if aliases else city
    return [
        f"{prov}{city}{county}{_tail(rng)}",
        f"{city or prov}{county}{_tail(rng)}",
        f"{alias}{county}{_tail(rng)}",
        f"{alias}{county_alias}{_tail(rng)}",
        f"{county}{_tail(rng)}, {city or prov}",
        f"{county}{_tail(rng)}",
        " ".join(p for p in (prov, city, county, _tail(rng)) if p).translate(FULLWIDTH),
        f"{city or prov}{county}{rng.choice(PLACES)}旁{_tail(rng)}",
        f"{prov}{city}{rng.choice(PLACES)}",
    ]


def old_names(rng: random.Random) -> Iterator[str]:
    """Addresses under the names jionlp maps to new ones (its change table)."""
    _, changes = _jionlp_tables()
    for change in changes:
        prov, city, county = ((level[0] or "") for level in change["old_loc"])
        yield f"{prov}{city}{county}{_tail(rng)}"
        yield f"{county}{_tail(rng)}, {city}"


def corpus(seed: int = 10, every: int = 1) -> list[str]:
    """Every form of every `every`-th county, the old names and the traps; the same per seed."""
    rng = random.Random(seed)
    texts = list(TRAPS)
    for n, region in enumerate(regions()):
        if n % every == 0:
            texts.extend(forms(rng, *region))
    texts.extend(name for n, name in enumerate(old_names(rng)) if n % every == 0)
    return texts
