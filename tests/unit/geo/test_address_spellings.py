"""Realistic addresses from several provinces, written two ways: the same place keys alike, two
places key apart. Each row says what it checks; rows marked "before:" failed on the parser of
before 2026-11-29 (the key it gave is quoted)."""

from __future__ import annotations

import pytest

from integrations.geo.addresses import parse_line

SAME_PLACE = [
    # units: a room with or without 室 / 房, a building as 栋, 幢 or 号楼
    # before: …501室 / …501
    ("北京市朝阳区建国路88号院3号楼2单元501室", "北京市朝阳区建国路88号院3号楼2单元501"),
    ("北京市海淀区中关村大街27号1号楼1201", "北京市海淀区中关村大街27号1号楼1201室"),  # before
    # before
    ("河南省郑州市金水区花园路38号3号楼2单元501", "河南省郑州市金水区花园路38号3号楼2单元501室"),
    ("浙江省杭州市西湖区文三路18号B座1203", "浙江省杭州市西湖区文三路18号b座1203室"),  # before
    ("广东省广州市天河区天河路208号1201房", "广东省广州市天河区天河路208号1201室"),  # before
    # before: 5栋 / 5幢
    ("江苏省南京市鼓楼区中山路100号5栋302", "江苏省南京市鼓楼区中山路100号5幢302"),
    ("江苏省南京市鼓楼区中山路100号5栋302", "江苏省南京市鼓楼区中山路100号5号楼302室"),  # before
    ("河北省石家庄市长安区中山东路1号2号楼", "河北省石家庄市长安区中山东路1号2栋"),  # before
    # before
    ("浙江省杭州市西湖区文三路18号1栋2单元301室", "浙江省杭州市西湖区文三路18号1幢2单元301室"),
    # no house number: the building and room are in the street
    # before
    ("浙江省杭州市西湖区翠苑一区1栋2单元301室", "浙江省杭州市西湖区翠苑一区一幢二单元三零一"),
    # lanes (弄), alleys (巷), village groups (组) in Chinese numerals or full-width digits
    ("上海市徐汇区漕溪北路88弄5号1201室", "上海市徐汇区漕溪北路八十八弄五号一二〇一室"),
    ("上海市浦东新区张杨路500弄3号601室", "上海 浦东新区 张杨路 500弄 3号 601室"),
    ("上海市黄浦区南京东路123弄4号", "上海市黄浦区南京东路１２３弄４号"),
    # before: 18巷 / 十八巷
    ("广东省广州市越秀区北京路18巷3号", "广东省广州市越秀区北京路十八巷3号"),
    # before
    ("四川省成都市武侯区簇桥街道七里村3组15号", "四川省成都市武侯区簇桥街道七里村三组十五号"),
    # house numbers: Chinese numerals, sub-numbers (之一), building-unit-room chains
    ("黑龙江省哈尔滨市南岗区西大直街92号", "黑龙江哈尔滨南岗区西大直街九十二号"),
    ("福建省厦门市思明区中山路1号之一", "福建省厦门市思明区中山路1-1号"),  # before: 1|之1 / 1-1|
    ("台湾台北市大安区忠孝东路四段100之1号", "臺灣臺北市大安區忠孝東路四段100號之1"),  # before
    ("辽宁省沈阳市和平区南京北街1-2-3号", "辽宁省沈阳市和平区南京北街1号2-3"),  # before: 12-3
    ("辽宁省沈阳市和平区南京北街1号3-2-1", "辽宁省沈阳市和平区南京北街1号3－2－1"),
    # before (since 1-2-3号 was read as 1号2-3): 2号3-1
    ("重庆市渝北区龙溪街道新牌坊一路1号2-3-1", "重庆市渝北区龙溪街道新牌坊一路1号2-3-1号"),
    ("上海市徐汇区漕溪北路88弄1-2-3号", "上海市徐汇区漕溪北路88弄1号2-3"),
    # spacing, punctuation, +86 and a phone number for the courier
    ("重庆市渝中区解放碑民族路1号", "重庆 渝中区 解放碑民族路 1 号"),
    ("陕西省西安市雁塔区小寨东路1号", "+86 13800138000 陕西省西安市雁塔区小寨东路1号"),
    ("陕西省西安市雁塔区小寨东路1号", "陕西省西安市雁塔区小寨东路1号 13800138000"),  # before
    # before
    ("陕西省西安市雁塔区小寨东路1号", "陕西省西安市雁塔区小寨东路1号，电话：138-0013-8000"),
    ("陕西省西安市雁塔区小寨东路1号", "陕西省西安市雁塔区小寨东路1号 +86 138 0013 8000"),  # before
    ("陕西省西安市雁塔区小寨东路1号", "陕西省西安市雁塔区小寨东路1号 029-88886666"),  # before
    # region names: short, full, autonomous regions
    ("广西南宁市青秀区民族大道100号", "广西壮族自治区南宁市青秀区民族大道100号"),
    ("新疆乌鲁木齐市天山区解放北路1号", "新疆维吾尔自治区乌鲁木齐市天山区解放北路1号"),
    ("湖南省长沙市岳麓区麓山南路932号", "湖南长沙岳麓区麓山南路932号"),
    # a road named after a district, written without a district: the road's whole name, in
    # the city (the road names no district: 西湖大道 lies in 上城区)
    ("广东省深圳市南山大道1号", "深圳市南山大道1号"),  # before: on 大道
    ("香港沙田正街1号", "香港 沙田正街 1号"),  # before: on 正街
    ("香港湾仔道1号", "香港湾仔道1号"),  # before: on 道
    ("澳门大堂巷1号", "澳门大堂巷1号"),  # before: on 巷
    ("香港九龙城道1号", "香港九龙城道一号"),
    ("浙江省杭州市西湖大道1号", "杭州西湖大道1号"),
    # Kowloon (九龙) and the New Territories (新界) are Hong Kong, written with 香港 or not
    ("香港九龙弥敦道1号", "九龙弥敦道1号"),  # before: no region
    ("香港九龙油尖旺区弥敦道1号", "九龙油尖旺区弥敦道1号"),  # before: no region
    ("香港新界青山公路1号", "新界青山公路1号"),  # before: no region
    # a development zone named after its city, with 市 between or not
    ("江苏省苏州市工业园区星湖街328号", "苏州工业园区星湖街328号"),  # before: 320500 / 320571
    ("安徽省合肥市经济技术开发区繁华大道1号", "合肥经济技术开发区繁华大道1号"),
    # a tower of a building (座) is its building (栋) when no building is named before it
    ("浙江省杭州市西湖区文三路18号B座1203", "浙江省杭州市西湖区文三路18号B栋1203室"),  # before
    ("广东省广州市天河区天河路208号3座1201", "广东省广州市天河区天河路208号3栋1201"),  # before
    ("浙江省杭州市西湖区翠苑一区A座301室", "浙江省杭州市西湖区翠苑一区A栋301"),  # before
    # a neighbourhood written before the street, after the house number, or not at all
    # before: 阳光花园张杨路 / 张杨路 …阳光花园601
    ("上海市浦东新区阳光花园张杨路500弄3号601室", "上海市浦东新区张杨路500弄3号阳光花园601室"),
    ("上海市浦东新区阳光花园张杨路500弄3号601室", "上海市浦东新区张杨路500弄3号601室"),  # before
    # before
    ("浙江省杭州市西湖区翠苑小区文三路18号3栋2单元501", "杭州市西湖区文三路18号翠苑小区3栋2单元501"
     ),
    # before
    ("四川省成都市武侯区簇桥街道锦绣苑七里路15号", "四川省成都市武侯区簇桥街道七里路15号锦绣苑"),
    # before
    ("江苏省苏州市吴中区木渎镇金山花园二期中山东路1号", "江苏省苏州市吴中区木渎镇中山东路1号"),
    ("上海市浦东新区阳光花园花园路3号", "上海市浦东新区花园路3号"),  # before
    ("浙江省杭州市西湖区翠苑一区文三路18号", "浙江省杭州市西湖区文三路18号翠苑一区"),  # before
    # Shanghai's 南京东路 written after 上海 without 市
    ("上海市南京东路1号", "上海南京东路1号"),  # before: 海南省, on 京东路
    # a tower in Chinese numerals after the house number (三座门 is a name: see below)
    ("浙江省杭州市西湖区文三路18号三座1203室", "浙江省杭州市西湖区文三路18号3座1203"),  # before
    # an office building or a 新村 named with the road and its number is that door
    # before: 华星大厦文三路 / 文三路
    ("浙江省杭州市西湖区华星大厦文三路18号1203室", "浙江省杭州市西湖区文三路18号1203室"),
    ("浙江省杭州市西湖区文三路18号华星大厦B座1203", "浙江省杭州市西湖区文三路18号B座1203"),
    # before
    ("上海市长宁区曹家渡新村武夷路100号3号楼201室", "上海市长宁区武夷路100号曹家渡新村3号楼201"),
    # a compound whose name holds 镇 after the subdistrict (before: …街道镇南海大道)
    ("广东省佛山市南海区桂城街道镇安花园南海大道1号", "广东省佛山市南海区桂城街道南海大道1号"),
    ("江苏省苏州市吴中区镇湖街道镇湖花园绣馆街1号", "江苏省苏州市吴中区镇湖街道绣馆街1号"),
    # Taipa without 澳门 (before: no region at all)
    ("氹仔花城大马路1号", "澳门氹仔花城大马路1号"),
]

OTHER_PLACES = [
    ("北京市朝阳区建国路88号院3号楼2单元501", "北京市朝阳区建国路88号院3号楼2单元502"),
    ("北京市朝阳区建国路88号", "北京市朝阳区建国路8号"),
    ("上海市徐汇区漕溪北路88弄5号", "上海市徐汇区漕溪北路88号5号"),
    ("上海市徐汇区漕溪北路88弄5号", "上海市徐汇区漕溪北路885号"),
    ("四川省成都市武侯区七里村3组15号", "四川省成都市武侯区七里村13组5号"),
    ("浙江省杭州市西湖区翠苑一区1栋2单元301", "浙江省杭州市西湖区翠苑一区12栋301"),
    ("浙江省杭州市西湖区翠苑一区1栋2单元301", "浙江省杭州市西湖区翠苑二区1栋2单元301"),
    ("湖北省武汉市江汉区江汉路1号", "湖北省武汉市江岸区江汉路1号"),
    ("浙江省杭州市西湖区文三路1-2-3号", "浙江省杭州市西湖区文三路1-23号"),
    ("浙江省杭州市西湖区文三路1-2-3号", "浙江省杭州市西湖区文三路12-3号"),  # before: both 12-3
    ("北京市东城区东四十条1号", "北京市东城区东四十一条1号"),
    ("辽宁省沈阳市和平区南京北街1号3-2-1", "辽宁省沈阳市和平区南京北街1号3-21"),
    ("浙江省杭州市西湖区文三路18号3楼", "浙江省杭州市西湖区文三路18号3号楼"),
    ("浙江省杭州市西湖区文三路18号3单元", "浙江省杭州市西湖区文三路18号3室"),
    ("福建省厦门市思明区中山路1号之一", "福建省厦门市思明区中山路11号"),
    ("香港九龙城道1号", "香港九龙坑1号"),
    ("香港沙田区沙田正街1号", "香港大埔区沙田正街1号"),
    ("广东省广州市越秀区北京路18巷3号", "广东省广州市越秀区北京路1巷83号"),
    ("上海市黄浦区南京东路1号", "海南省海口市龙华区南京路1号"),
    ("陕西省西安市雁塔区小寨东路1号", "陕西省西安市雁塔区小寨东路13800138000号"),
    # a tower of a building (3栋A座) is not the building
    ("广东省深圳市南山区蔚蓝海岸三期12栋A座1501", "广东省深圳市南山区蔚蓝海岸三期12栋1501"),
    ("广东省深圳市南山区蔚蓝海岸三期12栋A座1501", "广东省深圳市南山区蔚蓝海岸三期12栋B座1501"),
    # a neighbourhood whose buildings are numbered is the street: its number is not the road's
    ("上海市浦东新区张杨路阳光花园3号601室", "上海市浦东新区张杨路3号601室"),
    # a road whose name starts with a neighbourhood's word is that road
    ("河南省郑州市金水区花园路38号", "河南省郑州市金水区北路38号"),
    ("河南省郑州市金水区花园北路38号", "河南省郑州市金水区北路38号"),
    # without a house number the neighbourhood says where the door is
    ("浙江省杭州市西湖区翠苑一区1栋2单元301", "浙江省杭州市西湖区文三路1栋2单元301"),
    # a road named after a district is not in that district unless it is written
    ("浙江省杭州市西湖大道1号", "浙江省杭州市西湖区西湖大道1号"),  # before: both 西湖区
    ("香港九龙弥敦道1号", "四川省甘孜藏族自治州九龙县弥敦道1号"),
    # tower 3 is not tower C, and a building of its own name is no floor of another
    ("浙江省杭州市西湖区文三路18号三座1203", "浙江省杭州市西湖区文三路18号C座1203"),
    # a landmark named after a district is not in it unless written (西湖文化广场: 拱墅区)
    ("浙江省杭州市西湖文化广场1号", "浙江省杭州市西湖区文化广场1号"),  # before: both 西湖区
    # a compound's name holding 镇 is not the town: 七宝镇 is kept
    ("上海市闵行区七宝镇新镇花园漕宝路1号", "上海市闵行区新镇花园漕宝路1号"),
]


@pytest.mark.parametrize(("one", "other"), SAME_PLACE)
def test_two_spellings_of_one_place_key_alike(one, other):
    assert parse_line(one).key == parse_line(other).key


@pytest.mark.parametrize(("one", "other"), OTHER_PLACES)
def test_two_places_key_apart(one, other):
    assert parse_line(one).key != parse_line(other).key


def test_the_table_spans_provinces_and_forms():
    provinces = {parse_line(one).region_code[:2] for one, _ in SAME_PLACE + OTHER_PLACES}
    assert len(provinces) >= 15


@pytest.mark.parametrize(("line", "note"), [
    ("陕西省西安市雁塔区小寨东路1号 13800138000", "13800138000"),
    ("陕西省西安市雁塔区小寨东路1号，电话：138-0013-8000", "电话:138-0013-8000"),
    ("陕西省西安市雁塔区小寨东路1号 029-88886666", "029-88886666"),
])
def test_a_phone_number_in_the_address_is_kept_as_a_note(line, note):
    # Before: it was the unit (CN|610113|小寨东路|1|13800138000): a blocked address passed
    # with a phone number added, and each number made another address
    assert parse_line(line).note == note


@pytest.mark.parametrize(("line", "street", "district", "code"), [
    # before: district 西湖区, 330106 (the road lies in 上城区)
    ("杭州市西湖大道1号", "西湖大道", None, "330100"),
    ("浙江省 杭州市 西湖 大道 1号", "西湖大道", None, "330100"),  # before: 西湖区
    ("上海市浦东大道1号", "浦东大道", None, "310000"),  # before: 浦东新区
    ("香港大埔道1号", "大埔道", None, "810000"),  # before: 大埔区 (the road starts in 深水埗区)
    ("香港九龙城道1号", "九龙城道", None, "810000"),  # before: 九龙城区
    ("杭州市上城区西湖大道1号", "西湖大道", "上城区", "330102"),  # written: as written
    ("杭州市西湖区西湖大道1号", "西湖大道", "西湖区", "330106"),
    ("杭州西湖文三路18号", "文三路", "西湖区", "330106"),  # a short name before another road
    ("香港九龙城太子道西188号", "九龙城区太子道西", "九龙城区", "810000"),
])
def test_a_road_named_after_a_district_names_no_district(line, street, district, code):
    parsed = parse_line(line)
    assert (parsed.street, parsed.district, parsed.region_code) == (street, district, code)


def test_an_address_whose_only_district_is_in_its_road_name_is_vague():
    # Before: 杭州市西湖大道1号 was placed as an address in 西湖区, not held
    assert parse_line("杭州市西湖大道1号").vagueness() == ("no_district",)


@pytest.mark.parametrize(("line", "code", "district"), [
    ("九龙弥敦道1号", "810000", None),  # before: no region at all
    ("九龙油尖旺区弥敦道1号", "810000", "油尖旺区"),  # before: no region, 九龙 the district
    ("新界屯门青山公路1号", "810000", "屯门区"),
    ("新界青山公路1号", "810000", None),  # before: no region, 青山 the district
    ("九龙县呷尔镇1号", "513324", "九龙县"),  # 九龙县, Sichuan: as before
    ("重庆市九龙坡区杨家坪1号", "500107", "九龙坡区"),
])
def test_kowloon_and_the_new_territories_are_hong_kong_without_its_name(line, code, district):
    parsed = parse_line(line)
    assert (parsed.region_code, parsed.district) == (code, district)


@pytest.mark.parametrize(("line", "code"), [
    ("江苏省苏州市工业园区星湖街328号", "320571"),  # before: 320500, on 工业园区星湖街
    ("苏州市工业园区星湖街328号", "320571"),  # before: 320500
    ("苏州工业园区星湖街328号", "320571"),
    ("安徽省宣城经济开发区宝城路1号", "341871"),  # jionlp's name has 市: 宣城市经济开发区
    ("江苏省苏州市姑苏区人民路1号", "320508"),
])
def test_a_development_zone_named_after_its_city_is_found_with_or_without_shi(line, code):
    assert parse_line(line).region_code == code


@pytest.mark.parametrize(("line", "code", "street"), [
    ("浙江省杭州市西湖文化广场1号", "330100", "西湖文化广场"),  # before: 330106, 文化广场
    ("深圳市南山公园1号", "440300", "南山公园"),  # before: 440305, 公园
    # with the district written, or a name of its own after 西湖 (西湖区's short name)
    ("浙江省杭州市拱墅区西湖文化广场19号", "330105", "西湖文化广场"),
    ("杭州市西湖区文化广场1号", "330106", "文化广场"),
    ("杭州市西湖华星大厦1203室", "330106", "华星大厦1203室"),
    ("杭州市西湖翠苑小区1栋2单元301", "330106", "翠苑小区1栋2单元301"),
    ("广东省深圳市福田中心区益田路1号", "440304", "中心区益田路"),  # 福田区's CBD, a road in it
])
def test_a_landmark_named_after_a_district_names_no_district(line, code, street):
    parsed = parse_line(line)
    assert (parsed.region_code, parsed.street) == (code, street)


def test_taipa_and_coloane_without_macau_are_in_macau():
    assert parse_line("氹仔花城大马路1号").region_code == "820000"  # before: None
    assert parse_line("路环市区街1号").region_code == "820000"  # before: None
    assert parse_line("三座门1号").region_code is None  # no province: not Macau


def test_a_tower_in_chinese_numerals_keeps_its_word_in_what_is_shown_and_a_name_stays():
    parsed = parse_line("浙江省杭州市西湖区文三路18号三座1203室")
    assert parsed.unit == "3座1203室" and parsed.key == "CN|330106|文三路|18|3栋1203"
    assert parse_line("北京市西城区三座桥胡同1号").street == "三座桥胡同"


def test_a_tower_keeps_its_word_in_what_is_shown():
    parsed = parse_line("浙江省杭州市西湖区文三路18号B座1203")
    assert parsed.unit == "b座1203" and parsed.key == "CN|330106|文三路|18|b栋1203"


def test_a_neighbourhood_stays_in_what_is_shown():
    parsed = parse_line("上海市浦东新区阳光花园张杨路500弄3号601室")
    assert parsed.street == "阳光花园张杨路"
    assert parsed.key == "CN|310115|张杨路|500弄3|601"


def test_the_unit_shown_keeps_the_words_it_was_written_with():
    parsed = parse_line("江苏省南京市鼓楼区中山路100号5幢302室")
    assert parsed.unit == "5幢302室" and parsed.key == "CN|320106|中山路|100|5栋302"
