"""Public ids are made and read by one codec (statemachine/ids.py), never written by hand.

Issue 10 found `f"o-{n}"` in ~16 files and `removeprefix("o-")` parsing in adapters: ids changed
form at every layer, and a loose parse accepted what the codec refuses. This check keeps the
product's code on the codec: an f-string that writes a known prefix and a dash before a value,
a `removeprefix("<prefix>-")` or `startswith("<prefix>-")`, or a number cut off a string
(`int(v[2:])`, `int(v.split("-", 1)[1])`), or a `re` pattern capturing one (`o-(\\d+)`) is
reported (tests may spell ids out: they check the form).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from statemachine import ids

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["orderpilot", "deployments", "flows", "integrations", "statemachine"]
CODEC_MODULE = ROOT / "statemachine" / "ids.py"
# Prefixes that mean something else in one place, with the reason.
NOT_IDS = {("orderpilot/demo_risk.py", "d"): "the demo buyers' device ids (d-7), not disputes"}
_PREFIXES = "|".join(sorted(map(re.escape, ids.BY_PREFIX), key=len, reverse=True))
_WRITTEN = re.compile(rf"(?:^|[^0-9A-Za-z_-])({_PREFIXES})-$")
_PATTERN = re.compile(rf"(?:^|[^0-9A-Za-z_-])({_PREFIXES})-\(")  # a regex capturing the number


def hand_made_ids(source: str) -> list[tuple[int, str]]:
    """(line, prefix) of each id written or parsed by hand."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            for part, following in zip(node.values, node.values[1:], strict=False):
                if (isinstance(part, ast.Constant) and isinstance(following, ast.FormattedValue)
                        and (m := _WRITTEN.search(part.value))):
                    found.append((node.lineno, m.group(1)))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("removeprefix", "startswith") and node.args
              and isinstance(node.args[0], ast.Constant)
              and (m := _WRITTEN.search(str(node.args[0].value)))):
            found.append((node.lineno, m.group(1)))
        elif _cut_number(node):
            found.append((node.lineno, "?"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
              and node.args and isinstance(node.args[0], ast.Constant)
              and (m := _PATTERN.search(str(node.args[0].value)))):
            found.append((node.lineno, m.group(1)))
    return found


def _cut_number(node: ast.AST) -> bool:
    """`int(x[2:])`: a prefix cut off by its length, or `int(x.split("-", 1)[1])`: cut at its
    dash, then read as a number."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "int" and len(node.args) == 1
            and isinstance(node.args[0], ast.Subscript)):
        return False
    cut = node.args[0]
    if isinstance(cut.slice, ast.Slice):
        return isinstance(cut.slice.lower, ast.Constant) and cut.slice.upper is None
    split = cut.value
    return (isinstance(split, ast.Call) and isinstance(split.func, ast.Attribute)
            and split.func.attr in ("split", "rsplit", "partition") and bool(split.args)
            and isinstance(split.args[0], ast.Constant) and split.args[0].value == "-")


def test_the_check_catches_ids_written_or_parsed_by_hand_and_nothing_else():
    assert hand_made_ids('x = f"o-{n}"\n') == [(1, "o")]
    assert hand_made_ids('x = f"chased cl-{n} today"\n') == [(1, "cl")]
    assert hand_made_ids('n = int(v.removeprefix("s-"))\n') == [(1, "s")]
    assert hand_made_ids('ok = v.startswith("o-")\n') == [(1, "o")]
    assert hand_made_ids('n = int(case.order_id[2:])\n') == [(1, "?")]
    assert hand_made_ids('ID = re.compile(r"^o-(\\d{1,18})$")\n') == [(1, "o")]
    assert hand_made_ids('X = re.compile(r"^promo-(\\d+)$")\n') == []
    assert hand_made_ids('n = int(entity.split("-", 1)[1])\n') == [(1, "?")]
    assert hand_made_ids('n = int(entity.partition("-")[2])\n') == [(1, "?")]
    assert hand_made_ids('n = int(line.split(",")[1])\n') == []  # a CSV field, not an id
    assert hand_made_ids('n = int(line[2:10])\n') == []  # a fixed-width field, not a prefix
    assert hand_made_ids('x = f"{ids.ORDER(n)}-evidence"\n') == []
    assert hand_made_ids('x = f"promo-{n}"\n') == []  # not a known prefix
    assert hand_made_ids('x = f"pr-{n}"\n') == []


def test_no_module_writes_or_parses_an_id_by_hand():
    offenders = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path == CODEC_MODULE:
                continue
            name = str(path.relative_to(ROOT))
            found = [(line, prefix) for line, prefix in hand_made_ids(path.read_text())
                     if (name, prefix) not in NOT_IDS]
            if found:
                offenders[name] = found
    assert offenders == {}
