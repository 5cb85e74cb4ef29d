"""What one deadline sweep costs, counted: instructions of the `pilot.sweep()` call alone,
and its CPU time, for this tree and (`--base COMMIT`) another one, in the same run.

    python bench/sweep_cost.py [--orders 50000] [--due 5000] [--base COMMIT] [--rounds 3]
                               [--placed-attrs] [--no-instructions] [--profile FILE]

Each tree builds its own sweep database (bench/lifecycle.py's `build_sweep_db`: `--orders`
orders, a fifth of them awaiting payment with a live hold, `--due` of those due) once, outside
any count (`--placed-attrs`: every order's attrs the ~0.5 KB document a placement writes,
address in Chinese and risk verdict, instead of `{}`); every run sweeps a fresh copy of it.
`pilot.sweep()` runs inside `functools.reduce`, the C function callgrind's `--toggle-collect`
switches collection on and off with, and instrumentation is switched on (`callgrind_control`)
only once OrderPilot is open: set-up, imports and the build are not in the count, which the
machine's load does not move (the kernel's part — the WAL writes at COMMIT — is not in it).
CPU time (`time.process_time` around the same call) is measured alternating base/current
`--rounds` times each, so both sides see the same load. The instruction ratio is the figure
to quote; the first sweep of each tree (compiling .pyc files) is in neither.
Not a test: figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python bench/sweep_cost.py` from a checkout
    sys.path.insert(0, str(ROOT))
from bench import sqlite_level  # noqa: E402

BUILD = r"""
import json, sys
from pathlib import Path
from bench.lifecycle import build_sweep_db
options = json.loads(sys.argv[1])
build_sweep_db(Path(options["db"]), options["orders"], options["due"],
               waiting=max(options["due"], options["orders"] // 5))
"""

# the attrs document a placement writes (address as given and parsed, risk verdict): 521 bytes
PLACED_ATTRS = json.dumps({
    "shipping_address": {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区",
                         "province": "浙江省", "country": "CN"},
    "address": {"country": "CN", "region_code": "330106", "province": "浙江省", "city": "杭州市",
                "district": "西湖区", "street": "文三路", "number": "18", "unit": "",
                "postcode": None, "locker": False, "landmark": False, "script": "Hani",
                "finest": True, "note": "", "key": "CN|330106|文三路|18|"},
    "risk": {"action": "approve", "score": 0.0, "reasons": [
        {"rule": "default", "text": "no risk rules configured", "values": {}}]}},
    ensure_ascii=False, separators=(",", ":"))

DRIVER = r"""
import functools, json, os, sys, time
from datetime import timedelta
import orderpilot
from orderpilot import ManualClock, OrderPilot
assert orderpilot.__file__.startswith(os.getcwd()), orderpilot.__file__  # the tree under test
from bench.lifecycle import T0
from statemachine.risk_port import approve_everything

options = json.loads(sys.argv[1])
pilot = OrderPilot(f"sqlite:///{options['db']}", clock=ManualClock(T0 + timedelta(minutes=21)),
                   risk_check=approve_everything)
out = []
profiler = None
if options["profile"]:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
if options["counted"]:  # callgrind: instrument from here on (set-up ran uninstrumented)
    os.system(f"callgrind_control --instr=on {os.getpid()} > /dev/null")
cpu = time.process_time()
functools.reduce(lambda _, __: out.append(pilot.sweep()), range(1), None)
cpu = time.process_time() - cpu
if profiler is not None:
    profiler.disable()
    profiler.dump_stats(options["profile"])
pilot.close()
print(json.dumps({"cpu_s": cpu, "counts": out[0]}))
"""


def _env(tree: Path) -> dict:
    # one BLAS thread: numpy's idle worker threads would spin inside the count
    return {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "1",
            "OPENBLAS_NUM_THREADS": "1", sqlite_level.ENV: sqlite_level.level()}


def _run(tree: Path, script: str, options: dict, tool: list[str] | None = None) -> str:
    done = subprocess.run([*(tool or []), sys.executable, "-c", script, json.dumps(options)],
                          cwd=tree, env=_env(tree), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


def sweep_once(tree: Path, pristine: Path, scratch: Path, counted: bool = False,
               profile: Path | None = None) -> dict:
    """One sweep of a fresh copy of `pristine`: CPU seconds, counts (and instructions)."""
    db = scratch / "sweep.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, db)
    options = {"db": str(db), "counted": counted, "profile": str(profile) if profile else None}
    if not counted:
        return json.loads(_run(tree, DRIVER, options).strip().splitlines()[-1])
    tool = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
            "--toggle-collect=functools_reduce", f"--callgrind-out-file={scratch}/callgrind.out"]
    answer = json.loads(_run(tree, DRIVER, options, tool).strip().splitlines()[-1])
    totals = [line for line in (scratch / "callgrind.out").read_text().splitlines()
              if line.startswith(("summary:", "totals:"))]
    return {**answer, "instructions": int(totals[0].split()[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--due", type=int, default=5_000)
    parser.add_argument("--base", help="a commit to measure too, in the same run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-instructions", action="store_true")
    parser.add_argument("--placed-attrs", action="store_true",
                        help="give every order the attrs a placement writes, not '{}'")
    parser.add_argument("--profile", type=Path, help="cProfile stats of the current sweep")
    args = parser.parse_args()
    result: dict = {"orders": args.orders, "due": args.due, "placed_attrs": args.placed_attrs,
                    "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        trees = {"current": ROOT}
        if args.base:
            trees = {"base": scratch / "base", **trees}
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f",
                            str(trees["base"]), args.base], check=True, capture_output=True)
        try:
            pristine = {}
            for side, tree in trees.items():
                pristine[side] = scratch / f"{side}.db"
                _run(tree, BUILD, {"db": str(pristine[side]), "orders": args.orders,
                                   "due": args.due})
                if args.placed_attrs:
                    with sqlite3.connect(pristine[side]) as db:
                        db.execute("UPDATE orders SET attrs = ?", (PLACED_ATTRS,))
                first = sweep_once(tree, pristine[side], scratch)  # .pyc files, outside counts
                result[f"{side}_counts"] = first["counts"]
            for side in trees:
                result[f"{side}_cpu_s"] = []
            for _ in range(args.rounds):  # alternating: both sides see the same load
                for side, tree in trees.items():
                    result[f"{side}_cpu_s"].append(
                        round(sweep_once(tree, pristine[side], scratch)["cpu_s"], 4))
            if not args.no_instructions:
                for side, tree in trees.items():
                    result[f"{side}_instructions"] = sweep_once(
                        tree, pristine[side], scratch, counted=True)["instructions"]
            if args.profile:
                sweep_once(ROOT, pristine["current"], scratch, profile=args.profile)
        finally:
            if args.base:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(trees["base"])], capture_output=True)
    result["load_after"] = os.getloadavg()
    if "base_instructions" in result:
        result["instructions_ratio"] = round(
            result["current_instructions"] / result["base_instructions"], 4)
    if "base_cpu_s" in result:
        result["cpu_ratio"] = round(sum(result["current_cpu_s"]) / sum(result["base_cpu_s"]), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
