"""The benchmark suite: `python -m bench [--quick] [--only NAME ...]`.

Runs each script in its own process (so peak RSS and imports do not leak between them), prints
its table, saves its JSON to bench/results/NAME.json, then draws the plots. Nothing here is a
timed test: the figures are measurements to read, on whatever machine runs them.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

FULL = {
    "lifecycle": ["--sweep-orders", "10000", "100000", "1000000", "--json", "{json}"],
    "bulk": ["--json", "{json}"],
    "pg_scaling": ["--json", "{json}"],
    "pg_roundtrips": ["--json", "{json}"],
    "replay": ["--json", "{json}"],
    "risk": [],
    "webhooks_out": ["--json", "{json}"],
}
QUICK = {
    "lifecycle": ["--orders", "300", "--rounds", "3", "--sweep-orders", "10000", "100000",
                  "--sweep-due", "2000", "--json", "{json}"],
    "bulk": ["--orders", "10000", "--json", "{json}"],
    "pg_scaling": ["--seconds", "3", "--scarce", "50", "--json", "{json}"],
    "pg_roundtrips": ["--orders", "100", "--json", "{json}"],
    "replay": ["--limit", "1000", "--compare", "100", "--json", "{json}"],
    "risk": ["20000"],
    "webhooks_out": ["--orders", "200", "--rounds", "1", "--json", "{json}"],
}


def run_script(name: str, args: list[str]) -> dict:
    """Run bench/NAME.py, echo its output, return the JSON it printed last."""
    target = RESULTS / f"{name}.json"
    command = [sys.executable, str(HERE / f"{name}.py"),
               *[a.replace("{json}", str(target)) for a in args]]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return {"benchmark": name, "failed": done.returncode}
    result = last_json(done.stdout) or {"benchmark": name, "output": "no JSON printed"}
    result["suite_seconds"] = round(time.perf_counter() - started, 1)
    target.write_text(json.dumps(result, indent=2))
    return result


def last_json(text: str) -> dict | None:
    """The last JSON object printed (one line, or an indented block)."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
    return None


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30,
                                                           1),
            "processor": platform.processor() or platform.machine()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Run the orderpilot benchmark suite.")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="+", choices=sorted(FULL))
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    plan = QUICK if args.quick else FULL
    summary = {"machine": machine(), "quick": args.quick, "results": {}}
    for name in args.only or list(plan):
        if not (HERE / f"{name}.py").exists():
            print(f"[skip] bench/{name}.py is not in this checkout")
            continue
        print(f"\n=== bench/{name}.py ===", flush=True)
        summary["results"][name] = run_script(name, plan[name])
    from bench.plots import main as plots

    summary["plots"] = [str(p) for p in plots([str(RESULTS)])]
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nresults in {RESULTS}")
    return summary


if __name__ == "__main__":
    main()
