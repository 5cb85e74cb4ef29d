"""The command line of a benchmark measured at several table sizes: `--sizes`, `--lookups`,
`--out`; one JSON line per size as it is measured, and the report written to `--out`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def by_size(name: str, doc: str, measure: Callable[..., dict[str, Any]],
            sizes: Sequence[int], lookups: int, argv: list[str] | None = None,
            choices: Sequence[str] = ()) -> list[dict[str, Any]]:
    """`measure(size, lookups)` for each size asked for on the command line (default `sizes`);
    with `choices`, `--only NAME ...` measures those alone (`measure(size, lookups, only)`)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(sizes))
    parser.add_argument("--lookups", type=int, default=lookups)
    parser.add_argument("--out", type=Path)
    if choices:
        parser.add_argument("--only", nargs="+", choices=list(choices))
    args = parser.parse_args(argv)
    report = []
    for size in args.sizes:
        report.append(measure(size, args.lookups, *([args.only] if choices else [])))
        print(json.dumps(report[-1]), flush=True)
    if args.out:
        args.out.write_text(json.dumps({"benchmark": name, "sizes": report}, indent=1) + "\n")
    return report
