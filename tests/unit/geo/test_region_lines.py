"""Regions written in the text of an address — a whole address on one line, or the street field
repeating the region — are held to the same rule as the region fields: each must contain the
next, and the street's must agree with the fields. A place name that starts a road's or a
place's name (北京路 in 广州, 南京东路 in 上海, 中山路 everywhere, 香港中路 in 青岛) is no
region: no real address is flagged for it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from integrations.geo import regions
from integrations.geo.addresses import parse_address, parse_line

CORPUS = Path(__file__).parents[2] / "fixtures" / "cn_addresses.csv"


def said(address: dict[str, str]) -> list[str]:
    return [str(c) for c in parse_address(address).conflicts]


@pytest.mark.parametrize(("address", "found"), [
    # a whole address on one line, as imports send it
    ({"line": "广东省杭州市西湖区文三路18号"},
     ["line contradicts itself: 广东省 does not contain 杭州市 (浙江省)"]),
    ({"line": "浙江省杭州市南山区科技南十二路2号"},
     ["line contradicts itself: 杭州市 does not contain 南山区 (广东省深圳市, 黑龙江省鹤岗市)"]),
    ({"line": "广东 杭州 西湖区 文三路18号"},  # short names, spaced, as typed
     ["line contradicts itself: 广东 does not contain 杭州 (浙江省)"]),
    ({"line": "上海市朝阳区建国路88号"},
     ["line contradicts itself: 上海市 does not contain 朝阳区 (北京市, 吉林省长春市)"]),
    # … or in the street field, the region fields left empty
    ({"street": "广东省杭州市西湖区文三路18号"},
     ["street contradicts itself: 广东省 does not contain 杭州市 (浙江省)"]),
    # the street repeating a region the fields contradict
    ({"province": "浙江省", "city": "杭州市", "street": "广东省深圳市南山区科技南十二路2号"},
     ["street contradicts province: 浙江省 does not contain 广东省深圳市南山区"]),
    ({"province": "浙江省", "city": "杭州市", "district": "西湖区",
      "street": "深圳市南山区科技南十二路2号"},
     ["street contradicts province: 浙江省 does not contain 深圳市南山区 (广东省深圳市)"]),
    ({"city": "杭州市", "street": "南京市鼓楼区湖南路1号"},
     ["street contradicts city: 杭州市 does not contain 南京市鼓楼区 (江苏省南京市)"]),
    # … a district of another city, the fields' district aside
    ({"province": "浙江省", "city": "杭州市", "district": "西湖区",
      "street": "南山区科技南十二路2号"},
     ["street contradicts province: 浙江省 does not contain 南山区 "
      "(广东省深圳市, 黑龙江省鹤岗市)"]),
])
def test_regions_written_in_the_text_that_contradict_are_named(address, found):
    assert said(address) == found


@pytest.mark.parametrize("line", [
    "广东省广州市越秀区北京路188号",       # 北京路, Guangzhou's shopping street
    "上海市黄浦区南京东路100号",
    "上海南京东路1号",                    # 上海 then 南京东路: no 南京 region
    "天津市和平区南京路189号",
    "江苏省南京市鼓楼区湖南路1号",
    "上海市黄浦区西藏中路18号",
    "上海市虹口区四川北路1666号",
    "山东省青岛市市南区香港中路8号",
    "广东省广州市越秀区中山五路219号",
    "福建省厦门市思明区中山路8号",
    "浙江省杭州市上城区中山中路18号",
    "广东省中山市石岐区中山路1号",
    "广东省深圳市福田区深南大道6008号",
    "北京市朝阳区建国路88号",
    "浙江杭州西湖区文三路18号",
    "浙江省杭州市西湖文化广场1号",
    "广东省东莞市东城区东纵大道1号",     # 东城 of Dongguan, not Beijing's 东城区
    "香港九龙弥敦道1号",
    "台湾省台北市大安区忠孝东路四段1号",
    "杭州市西湖区长春小区3幢",
    "江苏省南京市鼓楼区北京西路1号",
])
def test_place_names_in_roads_and_places_contradict_nothing(line):
    assert parse_line(line).conflicts == ()
    assert said({"street": line}) == []


@pytest.mark.parametrize(("fields", "street"), [
    (("上海市", "上海市", "黄浦区"), "南京东路100号"),
    (("广东省", "广州市", "越秀区"), "北京路188号"),
    (("广东省", "广州市", "越秀区"), "广州市越秀区北京路188号"),
    (("浙江省", "杭州市", "西湖区"), "浙江省杭州市西湖区文三路18号"),  # the fields again
    (("浙江省", "杭州市", "西湖区"), "杭州西湖区文三路18号"),
    (("浙江省", "杭州市", ""), "西湖区文三路18号"),
    (("山东省", "青岛市", "市南区"), "香港中路8号"),
    (("北京市", "北京市", "朝阳区"), "朝阳区建国路88号"),
    (("广东省", "东莞市", "东城区"), "东城区东纵大道1号"),
    (("香港特别行政区", "九龙", "油尖旺区"), "九龙弥敦道1号"),
    (("浙江省", "杭州市", "西湖区"), "北京大学杭州研究院"),
    # districts merged, split or renamed: an old name or an old picker, the city not in doubt
    (("浙江省", "杭州市", "上城区"), "江干区笕桥街道1号"),
    (("浙江省", "杭州市", "余杭区"), "临平区南苑街道人民大道1号"),
])
def test_a_street_that_agrees_with_the_fields_contradicts_nothing(fields, street):
    province, city, district = fields
    assert said({"province": province, "city": city, "district": district,
                 "street": street}) == []


def test_every_division_of_the_table_on_one_line_agrees_with_itself():
    disagree = []
    for province, city, county in regions.divisions():
        own_city = city[0] and regions.PSEUDO_CITY not in city[0]
        line = (province[0] or "") + (city[0] if own_city else "") + (county[0] or "")
        if line and parse_line(line + "人民路1号").conflicts:
            disagree.append(line)
    assert disagree == []


def test_no_address_of_the_corpus_is_flagged():
    with CORPUS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    flagged = []
    for row in rows:
        fields = {k: row[f"{k}_in"] for k in ("province", "city", "district", "street")}
        address = {k: v for k, v in fields.items() if v} or {"line": row["text"]}
        if parse_address(address).conflicts:
            flagged.append(row["text"])
    assert len(rows) > 200 and flagged == []


def test_fields_that_contradict_each_other_are_not_compared_with_the_street_again():
    # 广东省 / 杭州市 says it already; the street's 西湖区 (in 杭州市) adds nothing
    assert said({"province": "广东省", "city": "杭州市", "street": "西湖区文三路18号"}) == [
        "province contradicts city: 广东省 does not contain 杭州市 (浙江省)"]
