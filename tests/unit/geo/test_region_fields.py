"""Region fields that contradict each other (广东省 / 杭州市 / 西湖区), read against jionlp's
division table: named with where the narrower one really is; every real division, by full
or short name, agrees with itself; a name the table does not know is no evidence."""

from __future__ import annotations

import pytest

from integrations.geo import regions
from integrations.geo.addresses import parse_address
from integrations.geo.region_fields import conflicts


def said(province: str = "", city: str = "", district: str = "") -> list[str]:
    return [str(c) for c in conflicts({"province": province, "city": city, "district": district})]


@pytest.mark.parametrize(
    ("fields", "found"),
    [
        (
            ("广东省", "杭州市", "西湖区"),
            ["province contradicts city: 广东省 does not contain 杭州市 (浙江省)"],
        ),
        (
            ("浙江省", "杭州市", "南山区"),
            [
                "city contradicts district: 杭州市 does not contain 南山区 "
                "(广东省深圳市, 黑龙江省鹤岗市)"
            ],
        ),
        (
            ("广东省", "杭州市", "南山区"),
            [
                "province contradicts city: 广东省 does not contain 杭州市 (浙江省)",
                "city contradicts district: 杭州市 does not contain 南山区 "
                "(广东省深圳市, 黑龙江省鹤岗市)",
            ],
        ),
        # a municipality is its own city; another municipality's district is not in it
        (
            ("上海市", "上海市", "朝阳区"),
            ["city contradicts district: 上海市 does not contain 朝阳区 (北京市, 吉林省长春市)"],
        ),
        (
            ("上海市", "", "朝阳区"),
            [
                "province contradicts district: 上海市 does not contain 朝阳区 "
                "(北京市, 吉林省长春市)"
            ],
        ),
        (
            ("河北省", "北京市", ""),
            ["province contradicts city: 河北省 does not contain 北京市 (北京市)"],
        ),
        # a Hong Kong region still nests only Hong Kong's districts
        (
            ("香港特别行政区", "九龙", "南山区"),
            [
                "city contradicts district: 九龙 does not contain 南山区 "
                "(广东省深圳市, 黑龙江省鹤岗市)"
            ],
        ),
        # Taiwan's municipal districts (taiwan.py), traditional characters
        (
            ("台湾省", "台北市", "西屯区"),
            ["city contradicts district: 台北市 does not contain 西屯区 (台湾省台中市)"],
        ),
        (
            ("廣東省", "杭州市", "西湖區"),
            ["province contradicts city: 廣東省 does not contain 杭州市 (浙江省)"],
        ),
    ],
)
def test_fields_that_contradict_each_other_are_named_with_where_the_other_is(fields, found):
    assert said(*fields) == found


@pytest.mark.parametrize(
    "fields",
    [
        ("北京市", "北京市", "朝阳区"),
        ("北京", "", "朝阳区"),
        ("北京市", "北京", "朝阳"),
        ("吉林省", "长春市", "朝阳区"),
        ("浙江", "杭州", "西湖"),
        ("湖北省", "仙桃市", ""),  # a county-level city the province governs itself
        ("重庆市", "重庆市", "丰都县"),
        ("广西省", "柳州市", "柳南区"),  # 广西省: a common slip
        ("浙江省", "杭州市", "江干区"),  # merged into 上城区 in 2021: an old name, still written
        ("江苏省", "苏州市", "苏州工业园区"),
        ("香港特别行政区", "香港", "九龙城区"),
        ("香港", "", "九龙"),
        # Hong Kong's regions as the city field, as pickers offer them (九龙 is also 四川's
        # 九龙县 and 九龙城区's short name: before, every Kowloon district but 九龙城区 was refused)
        ("香港特别行政区", "九龙", "油尖旺区"),
        ("香港特别行政区", "九龙", "观塘区"),
        ("香港", "新界", "沙田区"),
        ("香港特别行政区", "香港岛", "中西区"),
        ("台湾省", "台北市", "大安区"),
        ("台湾", "台中市", "大安区"),  # 大安区: also 自贡's
        # names the table does not know: no evidence either way
        ("澳门", "", "氹仔"),
        ("北京市", "市辖区", "朝阳区"),
        ("重庆市", "县", "丰都县"),
        ("Zhejiang", "杭州市", "西湖区"),
        ("浙江省", "杭州市", "高新区"),
        ("浙江省", "杭州市", "经开区"),
        ("浙江省", "杭州市", "城区"),
        ("广东省", "东莞市", "市直辖行政区划"),
        # a city without districts: 东城区 is what people call 东城街道 (before: 北京市's)
        ("广东省", "东莞市", "东城区"),
    ],
)
def test_fields_that_agree_or_are_unknown_contradict_nothing(fields):
    assert said(*fields) == []


def test_every_division_of_the_table_agrees_with_itself_by_full_and_by_short_name():
    disagree = []
    for province, city, county in regions.divisions():
        own_city = city[0] and regions.PSEUDO_CITY not in city[0]
        for i in (0, 1):
            fields = (province[i] or "", city[i] if own_city else "", county[i] or "")
            if said(*fields):
                disagree.append(fields)
    assert disagree == []


def test_the_parsed_address_carries_the_contradiction_and_keeps_its_key():
    # Given the fields of a buyer who picked 广东省 but lives in Hangzhou
    fields = {"province": "广东省", "city": "杭州市", "district": "西湖区", "street": "文三路18号"}
    # When it is parsed
    parsed = parse_address(fields)
    # Then the region is the one the city and district agree on (as before: the key does not
    # change), and the contradiction travels with it (before: nothing said so)
    assert (parsed.region_code, parsed.key) == ("330106", "CN|330106|文三路|18|")
    assert [str(c) for c in parsed.conflicts] == [
        "province contradicts city: 广东省 does not contain 杭州市 (浙江省)"
    ]
    assert parsed.as_dict()["conflicts"] == [str(parsed.conflicts[0])]
    assert "conflicts" not in parse_address({**fields, "province": "浙江省"}).as_dict()
