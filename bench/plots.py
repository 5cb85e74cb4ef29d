"""PNG plots from the suite's JSON: throughput vs workers, sweep time vs table size.

    python bench/plots.py [RESULTS_DIR]

Reads `pg_scaling.json` (bench/pg_scaling.py) and `lifecycle.json` (bench/lifecycle.py, whose
`sweeps` list holds one {"orders", "due", "seconds", "peak_rss_mb"} per table size) from the
results folder and writes `throughput_vs_workers.png` and `sweep_time_vs_table_size.png` there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def plot_scaling(result: dict, out: Path) -> Path:
    """Orders/s against worker processes, with the linear-scaling line for reference."""
    rows = result["rows"]
    workers = [r["workers"] for r in rows]
    rates = [r["orders_per_s"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(workers, rates, "o-", label="measured (place + pay)")
    ax.plot(workers, [rates[0] * w / workers[0] for w in workers], "--", color="grey",
            label="linear scaling")
    ax.set(xlabel="worker processes", ylabel="orders/s", xticks=workers,
           title=f"PostgreSQL, {result['skus']} hot skus, {result.get('cpus', '?')} CPUs")
    ax.legend()
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
           title="one sweep of due holds, SQLite file")
    rss = ax.twinx()
    rss.plot(sizes, [s["peak_rss_mb"] for s in sweeps], "s--", color="green",
             label="peak RSS (MB)")
    rss.set_ylabel("peak RSS MB")
    fig.legend(loc="upper left", bbox_to_anchor=(0.12, 0.88), fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> list[Path]:
    folder = Path(argv[0]) if argv else RESULTS
    made = []
    if (folder / "pg_scaling.json").exists():
        made.append(plot_scaling(json.loads((folder / "pg_scaling.json").read_text()),
                                 folder / "throughput_vs_workers.png"))
    if (folder / "lifecycle.json").exists():
        made.append(plot_sweeps(json.loads((folder / "lifecycle.json").read_text()),
                                folder / "sweep_time_vs_table_size.png"))
    for path in made:
        print(f"wrote {path}")
    return made


if __name__ == "__main__":
    main(sys.argv[1:])
