"""Chinese numerals in an address read as digits: 十八号 → 18号, 一百零五 → 105, 一二〇 → 120.

Only where a number is expected (before 号 / 弄 / 栋 / 单元 / 室 …, a floor or a tower in the
unit): 文三路, 中山二路, 九层塔路 and 三座门 are names. Pure and stdlib, like the rest of the
address domain (statemachine/address.py, which reads the numbers these give).
"""

from __future__ import annotations

import re

# A house number or unit in Chinese numerals: 十八号, 二十三號, 一百零五号, 一二〇号, 三单元五〇二室
_CN_DIGITS = {
    **{c: i for i, c in enumerate("零一二三四五六七八九")},
    **{c: i for i, c in enumerate("〇壹贰叁肆伍陆柒捌玖")},
    "两": 2,
}
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_CHARS = f"{''.join(_CN_DIGITS)}{''.join(_CN_UNITS)}"
_CN_NUMERAL = re.compile(f"[{CN_CHARS}]+" r"(?=[号號#弄栋幢室至组队巷]|单元)")
# … and a floor (三楼, 十二层) or a tower (三座, as 3座), read only after the house number:
# 九层塔路 and 三座门 are names
_CN_FLOOR = re.compile(f"[{CN_CHARS}]+(?=[楼层座])")


def arabic_numbers(text: str) -> str:
    """Chinese numerals before 号 / 弄 / 栋 / 单元 / 室 … in Arabic digits: 文三路十八号 →
    文三路18号, so both spellings give one house number. Only there: 文三路, 中山二路 and
    九层塔路 are names. Our own 20 lines rather than jionlp's money parser (it reads 一百一
    as 101, not 110, and 一二〇 not at all) or cn2an (not installed): the domain is stdlib."""
    return _CN_NUMERAL.sub(lambda m: chinese_numeral(m.group(0)) or m.group(0), text)


def arabic(match: re.Match[str]) -> str:
    """A `re.sub` replacement: the matched numeral in digits (kept when it is none)."""
    return chinese_numeral(match.group(0)) or match.group(0)


def arabic_floors(unit: str) -> str:
    """A floor or a tower in Chinese numerals in Arabic digits (三楼 → 3楼, 二十一层 → 21层,
    三座 → 3座), as `arabic_numbers` does for house numbers; for the unit only (a street may be
    九层塔路 or 三座门)."""
    return _CN_FLOOR.sub(lambda m: chinese_numeral(m.group(0)) or m.group(0), unit)


def chinese_numeral(text: str) -> str | None:
    """一百零五 → '105', 一二〇 → '120' (digit by digit), 十 → '10'; None if not a number."""
    if not any(c in _CN_UNITS for c in text):
        return "".join(str(_CN_DIGITS[c]) for c in text)
    total, digit, last, zero = 0, None, 10_000, False
    for c in text:
        if c in _CN_UNITS:
            if _CN_UNITS[c] >= last:
                return None  # 十百, 百百: not a number
            last, total = _CN_UNITS[c], total + (1 if digit is None else digit) * _CN_UNITS[c]
            digit, zero = None, False
        elif _CN_DIGITS[c] == 0 and total:
            zero = True  # 一百零五: the 零 holds the tens' place
        elif digit is not None:
            return None  # 二三百: two digits with no unit between
        else:
            digit = _CN_DIGITS[c]
    if digit is not None:  # 一百一 is 110 and 两千三 2300; 一百零一 is 101, 二十三 23
        total += digit if zero or last == 10 else digit * last // 10
    return str(total)
