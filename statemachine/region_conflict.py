"""A structured Chinese address whose region fields contradict each other.

Shops send province, city and district as fields, each typed or picked on its own: 广东省 /
杭州市 / 西湖区 happens. The address library resolves such an address to one region (two
fields agreeing outvote the third), and the key is right, but the fields the order keeps —
and a label prints — still say 广东省. A contradiction is therefore not repaired silently: the
Python API and the HTTP placement refuse it naming the field; an order that cannot be refused
(a Shopify webhook, an import) is held for review with the reason, and its label carries it.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("province", "city", "district")  # widest first: each should contain the next


@dataclass(frozen=True, slots=True)
class RegionConflict:
    """`field` (the wider one) does not contain what `other` names: `why` says where that is.
    Regions written in one text (a `line`, a street holding the whole address) contradict each
    other within it (`field == other`); a street that names a region the fields contradict is
    `street` against the field (`other`)."""

    field: str  # "province" or "city"; "line" or "street"
    other: str  # "city" or "district"; "line" or "street" (itself), or the field it contradicts
    why: str  # "广东省 does not contain 杭州市 (浙江省)"

    def __str__(self) -> str:
        if self.field == self.other:
            return f"{self.field} contradicts itself: {self.why}"
        return f"{self.field} contradicts {self.other}: {self.why}"


def describe(conflicts: tuple[RegionConflict, ...]) -> str:
    """One readable line for people (a review reason, a label's remark)."""
    return "; ".join(map(str, conflicts))
