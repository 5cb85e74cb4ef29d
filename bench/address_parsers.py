"""Which Chinese address library: jionlp vs cpca on the test corpus (region code + speed).

    pip install cpca   # only for this comparison; orderpilot depends on jionlp
    python bench/address_parsers.py

Each corpus row (tests/fixtures/cn_addresses.csv) is given to each library as one line (the
"fields" rows joined in Chinese order); a hit is the expected district code. Time is per
address, first sight (no cache), single thread. cpca is called through its internal
`_get_one_addr`: its public `transform` builds a pandas DataFrame per call (~2 ms).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
import time
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "cn_addresses.csv"


def texts() -> list[tuple[str, str, str]]:
    with CORPUS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [(r["form"], r["text"] or r["province_in"] + r["city_in"] + r["district_in"]
             + r["street_in"], r["code"]) for r in rows]


def jionlp_codes():
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    codes = {}
    for prov, cities in jionlp.china_location_loader().items():
        for city, counties in ((c, v) for c, v in cities.items() if not c.startswith("_")):
            for county, info in ((k, v) for k, v in counties.items() if not k.startswith("_")):
                codes[(prov, None if "直辖" in city else city, county)] = info["_admin_code"]

    def parse(text: str) -> str | None:
        found = jionlp.parse_location(text)
        return codes.get((found["province"], found["city"], found["county"]))
    return parse


def cpca_codes():
    import cpca

    return lambda text: cpca._get_one_addr(text, False, {})["adcode"]


def measure(name: str, parse, rows) -> dict:
    misses: Counter = Counter()
    start = time.perf_counter()
    hits = 0
    for form, text, code in rows:
        if parse(text) == code:
            hits += 1
        else:
            misses[form] += 1
    per = (time.perf_counter() - start) / len(rows) * 1000
    return {"library": name, "hits": hits, "rows": len(rows), "ms_per_address": round(per, 3),
            "misses_by_form": dict(misses)}


def main() -> None:
    rows = texts()
    results = [measure("jionlp", jionlp_codes(), rows)]
    try:
        results.append(measure("cpca", cpca_codes(), rows))
    except ImportError:
        print("cpca not installed: pip install cpca to compare", file=sys.stderr)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
