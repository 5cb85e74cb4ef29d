"""Which Chinese address library: jionlp vs cpca on the test corpus (region code + speed).

    pip install cpca   # only for this comparison; orderpilot depends on jionlp
    python bench/address_parsers.py [--every 20]

Each corpus row (tests/fixtures/cn_addresses.csv) is given to each library as one line (the
"fields" rows joined in Chinese order); a hit is the expected district code. Time is per
address, first sight (no cache), single thread. cpca is called through its internal
`_get_one_addr`: its public `transform` builds a pandas DataFrame per call (~2 ms).

Then orderpilot's finder (`find_region`, jionlp's parser shown only the entries whose names
occur in the text) against jionlp's own scan of every name (`region_by_jionlp`), in the same
run, interleaved address by address, on first-seen addresses (no cache by text): the corpus
and addresses written from jionlp's division table (tests/unit/geo/address_variants.py, every
`--every`-th county in each form). Per-parse µs: median, 5th-95th percentile, min-max, and
whether each pair of answers is the same. CPU time of the thread (`time.thread_time`, so a
shared machine's waits are left out) and the wall-clock median.

Last, the whole parse of a one-line address (`parse_line`: notes, the region, the checks around
it, the detail split, the key) on the same addresses: first sight (the region cache emptied
before each) and with the region cached (what is left: orderpilot's own steps), median of
`--passes` passes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "cn_addresses.csv"


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


def spread(values: list[float], scale: float = 1e6) -> dict:
    """Median, 5th-95th percentile and min-max (seconds → µs by default)."""
    v = sorted(x * scale for x in values)
    cuts = statistics.quantiles(v, n=20)
    return {"median": round(statistics.median(v), 1), "p5": round(cuts[0], 1),
            "p95": round(cuts[-1], 1), "min": round(v[0], 1), "max": round(v[-1], 1)}


def finders(every: int) -> dict:
    """find_region (prefiltered) vs region_by_jionlp (every name), interleaved, first sight."""
    sys.path.insert(0, str(ROOT))
    from integrations.geo.regions import find_region, region_by_jionlp
    from tests.unit.geo.address_variants import corpus

    named = {"jionlp_scan": region_by_jionlp, "prefiltered": find_region.__wrapped__}  # no cache
    addresses = [text for _, text, _ in texts()] + corpus(seed=12, every=every)
    for finder in named.values():
        finder(addresses[0])  # load jionlp and the index
    cpu: dict[str, list[float]] = {name: [] for name in named}
    wall: dict[str, list[float]] = {name: [] for name in named}
    same = 0
    for n, text in enumerate(addresses):
        got = []
        for name in sorted(named, reverse=n % 2 == 1):  # alternate which goes first
            start, start_cpu = time.perf_counter(), time.thread_time()
            got.append(named[name](text))
            cpu[name].append(time.thread_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
        same += got[0] == got[1]
    old, new = cpu["jionlp_scan"], cpu["prefiltered"]
    ratios = [a / max(b, 1e-9) for a, b in zip(old, new, strict=True)]
    return {"addresses": len(addresses), "same_region": same,
            "cpu_us_per_parse": {name: spread(cpu[name]) for name in named},
            "wall_us_per_parse_median": {name: round(statistics.median(wall[name]) * 1e6, 1)
                                         for name in named},
            "cpu_ratio_of_medians": round(statistics.median(old) / statistics.median(new), 1),
            "cpu_ratio_per_address": spread(ratios, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def whole_parses(every: int, passes: int) -> dict:
    """`parse_line` per address: CPU µs, first sight and with the region cached."""
    sys.path.insert(0, str(ROOT))
    from integrations.geo.addresses import parse_line
    from integrations.geo.regions import find_region
    from statemachine.errors import InvalidInput
    from tests.unit.geo.address_variants import corpus

    def parse(text: str) -> None:
        with contextlib.suppress(InvalidInput):
            parse_line(text)

    addresses = [text for _, text, _ in texts()] + corpus(seed=12, every=every)
    parse(addresses[0])
    first: list[float] = []
    for text in addresses:
        find_region.cache_clear()
        start = time.thread_time()
        parse(text)
        first.append(time.thread_time() - start)
    for text in addresses:  # every region in the cache
        parse(text)
    cached: list[float] = []
    for _ in range(passes):
        start = time.thread_time()
        for text in addresses:
            parse(text)
        cached.append((time.thread_time() - start) / len(addresses))
    return {"addresses": len(addresses), "cpu_us_first_sight": spread(first),
            "cpu_us_region_cached_mean_of_pass": {
                "median": round(statistics.median(cached) * 1e6, 1),
                "passes": [round(x * 1e6, 1) for x in cached]},
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=20,
                        help="generated addresses: every N-th county of jionlp's table")
    parser.add_argument("--passes", type=int, default=7,
                        help="passes of the whole parse with the region cached")
    args = parser.parse_args()
    rows = texts()
    results = [measure("jionlp", jionlp_codes(), rows)]
    try:
        results.append(measure("cpca", cpca_codes(), rows))
    except ImportError:
        print("cpca not installed: pip install cpca to compare", file=sys.stderr)
    print(json.dumps({"libraries": results, "finders": finders(args.every),
                      "parse_line": whole_parses(args.every, args.passes)}, indent=2,
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
