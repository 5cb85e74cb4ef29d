"""Fulfilment policy, pure: who goes into a pick wave, which orders need a double check, and
where the stock for a short pick comes from (the nearest warehouse that can serve, or a split).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from statemachine.currency import shown


class SkuFlag(StrEnum):
    HIGH_VALUE = "high_value"
    HIGH_RETURN = "high_return"
    EASILY_CONFUSED = "easily_confused"


@dataclass(frozen=True, slots=True)
class WaveCandidate:
    order_id: int
    paid_at: datetime
    express: bool


def plan_wave(candidates: Iterable[WaveCandidate], size: int) -> list[int]:
    """Express orders first, then the longest-paid; at most `size` orders."""
    ranked = sorted(candidates, key=lambda c: (not c.express, c.paid_at, c.order_id))
    return [c.order_id for c in ranked[:size]]


def next_cutoff(now: datetime, cutoff: str) -> datetime:
    """The next carrier cut-off (HH:MM, UTC) at or after `now`."""
    hour, minute = (int(part) for part in cutoff.split(":"))
    today = datetime.combine(now.date(), time(hour, minute), tzinfo=now.tzinfo)
    return today if today >= now else today + timedelta(days=1)


def double_check_reasons(total: int, threshold: int, flags: Mapping[str, Iterable[str]],
                         currency: str = "CNY") -> list[str]:
    """Why an order needs a second person at packing (empty: it does not); amounts as staff
    read them (the threshold is in the order's currency's minor units)."""
    reasons = [f"order value {shown(total, currency)} is above {shown(threshold, currency)}"
               ] if total > threshold else []
    for sku in sorted(flags):
        names = ", ".join(sorted(flags[sku]))
        reasons.append(f"{sku} is flagged {names}")
    return reasons


@dataclass(frozen=True, slots=True)
class Source:
    warehouse: str
    quantity: int


def plan_refill(missing: int, origin: str, free: Mapping[str, int],
                distance: Callable[[str, str], float], *,
                include_origin: bool = False) -> list[Source]:
    """Where `missing` units come from: the nearest warehouse that has them all, else the
    nearest ones in turn (a split); empty when all of them together cannot serve it."""
    others = sorted((wh for wh, qty in free.items()
                     if (include_origin or wh != origin) and qty > 0),
                    key=lambda wh: (distance(origin, wh), wh))
    whole = next((wh for wh in others if free[wh] >= missing), None)
    if whole is not None:
        return [Source(whole, missing)]
    if sum(free[wh] for wh in others) < missing:
        return []
    plan, left = [], missing
    for wh in others:
        take = min(free[wh], left)
        plan.append(Source(wh, take))
        left -= take
        if left == 0:
            break
    return plan


@dataclass(frozen=True, slots=True)
class Load:
    """`quantity` sold units of hold row `hold` travel in parcel `parcel`."""

    hold: int
    quantity: int
    parcel: int


Declared = Sequence[tuple[int, str, int]]
"""What a label says its box holds: (line_no, warehouse the units were sold from, quantity)."""


def parcel_loads(units: Sequence[tuple[int, int, str, int]],
                 parcels: Sequence[tuple[int, str]],
                 contents: Mapping[int, Declared] | None = None) -> list[Load]:
    """Which parcel carries which sold units (`units`: hold id, line_no, warehouse, quantity,
    in hold order; `parcels`: id, warehouse, in label order). With `contents` (per parcel,
    what its label declares, checked by `contents_problems`), each box carries exactly the
    units it declares, taken in hold order. Otherwise a warehouse's units travel in its
    parcel; labels that do not say which units a box holds, when several parcels leave one
    warehouse or none names the warehouse the units are in (its units are then in one of the
    step's parcels), get the units dealt out in hold order, in blocks as even as can be, the
    first parcels taking one more: every unit in exactly one parcel (no parcel: none)."""
    loads: list[Load] = []
    if not parcels:
        return loads
    if contents is not None:
        for key in dict.fromkeys((line, wh) for _, line, wh, _ in units):
            wanted = [(p, sum(q for line, wh, q in contents.get(p, ()) if (line, wh) == key))
                      for p, _ in parcels]
            rows = [(hold, qty) for hold, line, wh, qty in units if (line, wh) == key]
            loads += _deal(rows, [p for p, q in wanted if q], [q for _, q in wanted if q])
        return loads
    for warehouse in dict.fromkeys(wh for _, _, wh, _ in units):
        ours = [p for p, wh in parcels if wh == warehouse] or [p for p, _ in parcels]
        rows = [(hold, qty) for hold, _, wh, qty in units if wh == warehouse]
        share, extra = divmod(sum(qty for _, qty in rows), len(ours))
        loads += _deal(rows, ours, [share + (i < extra) for i in range(len(ours))])
    return loads


def _deal(rows: list[tuple[int, int]], parcels: list[int], room: list[int]) -> list[Load]:
    """Hold rows' units in turn, `parcels[i]` taking the next `room[i]` of them."""
    loads, at, room = [], 0, list(room)
    for hold, qty in rows:
        while qty:
            while room[at] == 0:
                at += 1
            take = min(qty, room[at])
            loads.append(Load(hold, take, parcels[at]))
            room[at], qty = room[at] - take, qty - take
    return loads


def contents_problems(sold: Sequence[tuple[int, str, int]],
                      declared: Sequence[Declared | None]) -> dict[str, str]:
    """What is wrong with the contents labels declare (`sold`: line_no, warehouse, quantity
    of the order's sold units; `declared`: per label, in order, its lines or None), keyed by
    field (`parcels[1].lines[0].quantity`); empty: every sold unit is in exactly one box.
    Every label declares its contents or none does; per line and warehouse, the boxes hold
    what was sold, no more and no less."""
    given = [n for n, lines in enumerate(declared) if lines is not None]
    if not given:
        return {}
    if len(given) < len(declared):
        missing = next(n for n, lines in enumerate(declared) if lines is None)
        return {f"parcels[{missing}].lines": f"declare what every box holds or none does "
                                             f"(parcels[{given[0]}] declares its lines)"}
    left: dict[tuple[int, str], int] = {}
    for line, wh, qty in sold:
        left[line, wh] = left.get((line, wh), 0) + qty
    total, problems, last, over = dict(left), {}, {}, set()
    for n, lines in enumerate(declared):
        for i, (line, wh, qty) in enumerate(lines or ()):
            at = f"parcels[{n}].lines[{i}]"
            if (line, wh) not in left:
                problems[f"{at}.line_no"] = f"no unit of line {line} was sold from {wh}"
            elif qty > left[line, wh]:
                over.add((line, wh))
                problems[f"{at}.quantity"] = (
                    f"{qty} is more than the {left[line, wh]} of line {line}'s {total[line, wh]} "
                    f"unit(s) sold from {wh} that no earlier box holds")
            else:
                left[line, wh] -= qty
                last[line, wh] = f"{at}.quantity"
    for (line, wh), qty in left.items():
        if qty and (line, wh) not in over:
            problems.setdefault(last.get((line, wh), "parcels"), (
                f"{qty} of line {line}'s {total[line, wh]} unit(s) sold from {wh} in no box: "
                "every sold unit travels in exactly one box"))
    return problems
