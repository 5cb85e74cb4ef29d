"""Every distinct SQL statement the product runs on SQLite, with where it comes from.

    ORDERPILOT_SQL_CAPTURE=/tmp/sql.json pytest -p bench.sql_capture tests/integration/...
    ORDERPILOT_SQL_CAPTURE=/tmp/sql.json python -c 'import bench.sql_capture as c; c.install(); ...'

Each SQLite connection the store opens gets a sqlite3 trace callback, so the statements run on
the DBAPI cursor (integrations/db/sql.py) are seen as well as SQLAlchemy's. The statement comes
expanded (values in place); its shape is the text with literals replaced by `?` and IN lists by
one `?…`. Saved per shape: how many times it ran, one expanded example (for EXPLAIN QUERY PLAN:
bench/query_plans.py) and up to eight product call sites (the innermost frames outside
sqlalchemy and the tests). Measurement only: nothing in the product imports this.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = tuple(str(ROOT / p) + os.sep for p in ("integrations", "orderpilot", "flows",
                                                    "statemachine"))
SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE", "CREATE", "DROP",
        "ALTER", "ANALYZE", "VACUUM")
_LITERAL = re.compile(r"'(?:[^']|'')*'|\bX'[0-9A-Fa-f]*'|(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_IN_LIST = re.compile(r"\bIN \((?:\?\s*,\s*)*\?\)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

counts: Counter[str] = Counter()
examples: dict[str, str] = {}
sites: dict[str, Counter[str]] = {}
_installed = False


def shape(sql: str) -> str:
    """The statement with its values taken out: one shape per statement the code writes."""
    text = _SPACE.sub(" ", _LITERAL.sub("?", sql)).strip()
    text = re.sub(r"(?<!IS )(?<!IS NOT )\bNULL\b", "?", text)
    return _IN_LIST.sub("IN (?…)", text)


def _site() -> str:
    """The innermost product frame that ran the statement, and the one that called into it."""
    frame, found, outside = sys._getframe(2), [], "?"
    while frame is not None and len(found) < 3:
        name = frame.f_code.co_filename
        if name.startswith(PRODUCT) and "/sql.py" not in name and "/rows.py" not in name:
            found.append(f"{name[len(str(ROOT)) + 1:]}:{frame.f_lineno} {frame.f_code.co_name}")
        elif outside == "?" and name.startswith(str(ROOT)) and "/bench/" not in name:
            outside = f"{name[len(str(ROOT)) + 1:]}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back
    return " <- ".join(found) or f"(not the product) {outside}"


def _trace(sql: str) -> None:
    head = sql.lstrip()[:9].upper()
    if head.startswith(SKIP):
        return
    key = shape(sql)
    counts[key] += 1
    if key not in examples:
        examples[key] = sql
    where = sites.setdefault(key, Counter())
    if len(where) < 8 or counts[key] < 50:
        where[_site()] += 1


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if hasattr(dbapi_connection, "set_trace_callback"):
        dbapi_connection.set_trace_callback(_trace)


def save(path: str | Path | None = None) -> None:
    """Write (or merge into) the capture file."""
    target = Path(path or os.environ["ORDERPILOT_SQL_CAPTURE"])
    old = json.loads(target.read_text()) if target.exists() else {}
    for key, n in counts.items():
        entry = old.setdefault(key, {"count": 0, "example": examples[key], "sites": {}})
        entry["count"] += n
        for site, m in sites[key].items():
            entry["sites"][site] = entry["sites"].get(site, 0) + m
    target.write_text(json.dumps(old, indent=1, ensure_ascii=False))
    counts.clear()


def install() -> None:
    """Trace every SQLite connection opened from now on; save at exit."""
    global _installed
    if not _installed:
        event.listen(Pool, "connect", _on_connect)
        atexit.register(save)
        _installed = True


def pytest_configure(config: Any) -> None:  # as a pytest plugin: -p bench.sql_capture
    install()
