"""Which captured statements read a whole table: EXPLAIN QUERY PLAN for each (SQLite).

    python bench/query_plans.py CAPTURE.json [--db FILE] [--analyze] [--all]

CAPTURE.json comes from bench/sql_capture.py. Each statement's expanded example is explained on
a copy of a store (by default a fresh one migrated to head, no rows: without ANALYZE SQLite plans
as if every table were large, which is how the product runs, since it never runs ANALYZE).
Printed: every plan step that reads a table or index from end to end (`SCAN x`, not
`SEARCH x USING INDEX`), with the statement's shape, how often the capture saw it and where the
product runs it. `--analyze` runs ANALYZE first (then plans follow the rows the file holds).
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
from pathlib import Path

if not __package__:  # run as `python bench/query_plans.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.bootstrap import open_store  # noqa: E402

_SCAN = re.compile(r"^SCAN (\S+)(?: USING (?:COVERING )?INDEX (\S+))?")
_ALIAS = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", re.IGNORECASE)


def tables_of(sql: str) -> dict[str, str]:
    """alias -> table, as the statement names them (a table is its own alias)."""
    names: dict[str, str] = {}
    for table, alias in _ALIAS.findall(sql):
        names[table] = table
        if alias and alias.upper() not in {"WHERE", "SET", "ON", "JOIN", "LEFT", "INNER",
                                           "ORDER", "GROUP", "LIMIT", "VALUES", "USING",
                                           "SELECT", "RETURNING", "DEFAULT", "AND", "OR"}:
            names[alias] = table
    return names


def scans(db: sqlite3.Connection, example: str) -> list[str] | str:
    """The full-table steps of one statement's plan, or the error that stopped EXPLAIN."""
    try:
        plan = db.execute("EXPLAIN QUERY PLAN " + example).fetchall()
    except sqlite3.Error as error:
        return f"not explained: {error}"
    names, found = tables_of(example), []
    for _id, _parent, _unused, detail in plan:
        match = _SCAN.match(detail)
        if match and match.group(1) != "CONSTANT":
            table = names.get(match.group(1), match.group(1))
            found.append(f"{table}: {detail}")
    return found


def report(capture: dict, db_path: Path, show_all: bool) -> list[dict]:
    db = sqlite3.connect(db_path)
    out = []
    for shape, entry in sorted(capture.items(), key=lambda kv: -kv[1]["count"]):
        found = scans(db, entry["example"])
        if not found and not show_all:
            continue
        out.append({"shape": shape, "count": entry["count"], "scans": found,
                    "sites": sorted(entry["sites"], key=lambda s: -entry["sites"][s])})
    db.close()
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--db", type=Path, help="a store to copy (default: a fresh one)")
    parser.add_argument("--analyze", action="store_true")
    parser.add_argument("--all", action="store_true", help="statements without a scan too")
    args = parser.parse_args(argv)
    capture = json.loads(args.capture.read_text())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plans.db"
        if args.db:
            with sqlite3.connect(args.db) as source, sqlite3.connect(path) as copy:
                source.backup(copy)
        else:
            open_store(f"sqlite:///{path}").dispose()
        if args.analyze:
            with sqlite3.connect(path) as db:
                db.execute("ANALYZE")
        found = report(capture, path, args.all)
    for item in found:
        print(f"{item['count']:>7}  {item['shape'][:400]}")
        for step in item["scans"] if isinstance(item["scans"], list) else [item["scans"]]:
            print(f"         SCAN  {step}")
        for site in item["sites"][:4]:
            print(f"         from  {site}")
    return found


if __name__ == "__main__":
    main()
