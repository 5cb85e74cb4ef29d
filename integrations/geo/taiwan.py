"""The districts (區) of Taiwan's six special municipalities, which jionlp's table lacks.

jionlp 1.5.31 lists 台北 新北 桃园 台中 台南 高雄 as cities with no entry below them, so an
address there never had a district and was held as vague (`no_district`). Taiwan's other
cities and counties (基隆市, 新竹县, 屏东县 …) are entries of their own in jionlp's table and
are known to their finest level already. No installed library carries these districts
(pycountry's ISO 3166-2:TW stops at the 22 cities and counties), so the 158 names are kept
here as Taiwan writes them: the Ministry of the Interior's list of township-level divisions,
the same as Chunghwa Post's three-digit postal areas 100–116, 207–253, 320–338, 400–439,
700–745 and 800–852 (unchanged since Taoyuan's towns became districts on 25 December 2014).
A table rather than "any X區 after the city": 科学园区路 or 幸福小区 would pass for districts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

DISTRICTS = {  # municipality → its districts, without 區, in Taiwan's own spelling
    "臺北市": "中正 大同 中山 松山 大安 萬華 信義 士林 北投 內湖 南港 文山",
    "新北市": "板橋 三重 中和 永和 新莊 新店 樹林 鶯歌 三峽 淡水 汐止 瑞芳 土城 蘆洲 五股 泰山 "
              "林口 深坑 石碇 坪林 三芝 石門 八里 平溪 雙溪 貢寮 金山 萬里 烏來",
    "桃園市": "桃園 中壢 大溪 楊梅 蘆竹 大園 龜山 八德 龍潭 平鎮 新屋 觀音 復興",
    "臺中市": "中 東 南 西 北 北屯 西屯 南屯 太平 大里 霧峰 烏日 豐原 后里 石岡 東勢 和平 新社 "
              "潭子 大雅 神岡 大肚 沙鹿 龍井 梧棲 清水 大甲 外埔 大安",
    "臺南市": "中西 東 南 北 安平 安南 永康 歸仁 新化 左鎮 玉井 楠西 南化 仁德 關廟 龍崎 官田 "
              "麻豆 佳里 西港 七股 將軍 學甲 北門 新營 後壁 白河 東山 六甲 下營 柳營 鹽水 善化 "
              "大內 山上 新市 安定",
    "高雄市": "新興 前金 苓雅 鹽埕 鼓山 旗津 前鎮 三民 楠梓 小港 左營 仁武 大社 岡山 路竹 阿蓮 "
              "田寮 燕巢 橋頭 梓官 彌陀 永安 湖內 鳳山 大寮 林園 鳥松 大樹 旗山 美濃 六龜 內門 "
              "杉林 甲仙 桃源 那瑪夏 茂林 茄萣",
}


def table(simplify: Callable[[str], str]) -> dict[str, frozenset[str]]:
    """city as jionlp names it → its districts with 区, both written as `simplify` writes the
    address before it is parsed (regions.simplified)."""
    return {simplify(city): frozenset(simplify(d) + "区" for d in names.split())
            for city, names in DISTRICTS.items()}


def district_at(districts: Mapping[str, frozenset[str]], city: str | None,
                detail: str) -> str | None:
    """The district written at the start of `detail` (what follows the city), if it is one of
    the city's: '大安区忠孝东路四段100号' in 台北市 → '大安区'."""
    names = districts.get(city or "")
    if not names:
        return None
    head = detail.lstrip(" ,，、\u3000")
    return next((n for n in names if head.startswith(n)), None)
