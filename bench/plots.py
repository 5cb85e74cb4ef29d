"""PNG plots from the suite's JSON: throughput vs workers, sweep time vs table size.

    python bench/plots.py [RESULTS_DIR]

Reads `pg_scaling*.json` (bench/pg_scaling.py, one line per file) and `lifecycle.json`
(bench/lifecycle.py, whose `sweeps` list holds one {"orders", "due", "seconds", "peak_rss_mb"}
per table size) from the results folder and writes `throughput_vs_workers.png` and
`sweep_time_vs_table_size.png` there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def plot_scaling(results: list[dict], out: Path) -> Path:
    """Orders/s against worker processes (one line per sku count), with linear scaling."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for result in results:
        rows = result["rows"]
        workers = [r["workers"] for r in rows]
        rates = [r["orders_per_s"] for r in rows]
        line = ax.plot(workers, rates, "o-", label=f"{result['skus']} hot skus (place + pay)")
        ax.plot(workers, [rates[0] * w / workers[0] for w in workers], "--", alpha=0.4,
                color=line[0].get_color(), label=f"linear from 1 worker ({result['skus']} skus)")
    ax.set(xlabel="worker processes", ylabel="orders/s", xticks=workers, ylim=(0, None),
           title=f"PostgreSQL, {results[0].get('cpus', '?')} CPUs, oversells 0")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_sweeps(result: dict, out: Path) -> Path:
    """Sweep seconds (and peak RSS) against the number of orders in the table."""
    sweeps = sorted(result["sweeps"], key=lambda s: s["orders"])
    sizes = [s["orders"] for s in sweeps]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sizes, [s["seconds"] for s in sweeps], "o-", label="sweep time (s)")
    for s in sweeps:
        ax.annotate(f"{s['due']:,} due", (s["orders"], s["seconds"]), fontsize=8,
                    textcoords="offset points", xytext=(4, 4))
    ax.axhline(1.0, color="red", linestyle=":", label="target 1 s")
    ax.set(xscale="log", xlabel="orders in the table", ylabel="seconds",
           ylim=(0, max(1.5, *(s["seconds"] * 1.2 for s in sweeps))),
           title="one sweep of due holds, SQLite file (bench/lifecycle.py)")
    rss = ax.twinx()
    rss.plot(sizes, [s["peak_rss_mb"] for s in sweeps], "s--", color="green",
             label="peak RSS (MB)")
    rss.axhline(300, color="green", linestyle=":", label="target 300 MB")
    rss.set(ylabel="peak RSS MB", ylim=(0, max(350, *(s["peak_rss_mb"] * 1.2 for s in sweeps))))
    fig.legend(loc="upper left", bbox_to_anchor=(0.12, 0.88), fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> list[Path]:
    folder = Path(argv[0]) if argv else RESULTS
    made = []
    scaling = [json.loads(p.read_text()) for p in sorted(folder.glob("pg_scaling*.json"))]
    if scaling:
        made.append(plot_scaling(scaling, folder / "throughput_vs_workers.png"))
    if (folder / "lifecycle.json").exists():
        made.append(plot_sweeps(json.loads((folder / "lifecycle.json").read_text()),
                                folder / "sweep_time_vs_table_size.png"))
    for path in made:
        print(f"wrote {path}")
    return made


if __name__ == "__main__":
    main(sys.argv[1:])
