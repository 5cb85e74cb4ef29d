"""What one order transition through the public Python API costs, counted: instructions, and
where they go.

    python bench/transition_cost.py [--trigger start_picking] [--orders 40] [--instructions]
                                    [--inside MODULE:NAME[.METHOD] ...] [--base COMMIT]
                                    [--profile FILE]

One process places and pays `--orders` orders (SQLite file, the benchmarks' durability level,
risk approves everything), leads each to the state `--trigger` is fired from, then fires it on
each of them through `pilot.orders.fire` (on 20 more first, as warm-up). `--instructions`:
user-space instructions per call under valgrind's callgrind, collected only while the timed
calls run — they run inside `functools.reduce`, the C function callgrind's
`--toggle-collect` switches collection on and off with — so set-up, imports and warm-up are
not in the count, and one run suffices. Set-up runs uninstrumented (`--instr-atstart=no`; the
driver switches instrumentation on with `callgrind_control` before the timed calls): ~1 min a
count instead of 4–6 (counts agree with a fully instrumented run to ~0.2 %). A count the
machine's load does not move (the kernel's part, the WAL writes at COMMIT, is not in it); runs
of the same code agree to a few hundred instructions. `--inside F` counts only the
instructions inside F during those calls (F wrapped so that it runs inside
`functools.reduce`, the calls themselves outside it; e.g.
`integrations.db.writer:Writer.apply`): where a call's instructions go, layer by layer.
`--base COMMIT` counts that commit too (checked out in a temporary git worktree), in the same
run: the ratio is the figure to quote. `--profile FILE`: cProfile stats of the timed calls
(not under valgrind; cProfile inflates many small calls). Not a test: figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python bench/transition_cost.py` from a checkout
    sys.path.insert(0, str(ROOT))
from bench import sqlite_level  # noqa: E402

# the steps that lead each order to the state its trigger is fired from (after place, pay)
BEFORE = {"start_picking": [], "pack": ["start_picking"], "ship": ["start_picking", "pack"],
          "cancel": []}

DRIVER = r"""
import functools, importlib, json, os, sys, tempfile, time
from datetime import UTC, datetime
import orderpilot
from orderpilot import ManualClock, OrderPilot
assert orderpilot.__file__.startswith(os.getcwd()), orderpilot.__file__  # the tree under test
from statemachine.risk_port import approve_everything

options = json.loads(sys.argv[1])
orders, fired, trigger = options["orders"], options["fired"], options["trigger"]
address = {"street": "文三路 18 号", "city": "杭州市", "district": "西湖区", "province": "浙江省"}
with tempfile.TemporaryDirectory() as folder:
    pilot = OrderPilot(f"sqlite:///{folder}/shop.db", clock=ManualClock(datetime(2026, 11, 11,
                       tzinfo=UTC)), risk_check=approve_everything)
    pilot.inventory.receive(sku="SKU-1", warehouse="WH-1", quantity=orders + 50)
    ids = []
    for n in range(orders + 20):
        order = pilot.orders.place(buyer_id=f"b-{n % 500}", shipping_address=address,
                                   lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}])
        pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref=f"p-{n}")
        for step in options["before"]:
            pilot.orders.fire(order.id, step)
        ids.append(order.id)
    fire = pilot.orders.fire
    for order_id in ids[:20]:  # warm-up: the first calls of a kind fill caches
        fire(order_id, trigger)
    profiler = None
    if options["profile"]:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    for target in options["inside"]:  # run F inside functools.reduce: callgrind counts it
        module, _, name = target.partition(":")
        owner = importlib.import_module(module)
        if "." in name:
            holder_name, name = name.split(".")
            owner = getattr(owner, holder_name)

        def counted(*args, __f=getattr(owner, name), **kwargs):
            out = []
            functools.reduce(lambda _, __: out.append(__f(*args, **kwargs)), range(1), None)
            return out[0]
        setattr(owner, name, counted)
    todo = ids[20:20 + fired]
    if options["counted"]:  # callgrind: instrument from here on (set-up ran uninstrumented)
        os.system(f"callgrind_control --instr=on {os.getpid()} > /dev/null")
    cpu = time.process_time()
    if options["inside"]:
        for order_id in todo:
            fire(order_id, trigger)
    else:  # the calls inside functools.reduce: callgrind counts them and nothing else
        functools.reduce(lambda _, order_id: fire(order_id, trigger), todo, None)
    cpu = time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(options["profile"])
    pilot.close()
print(json.dumps({"cpu_us": cpu / max(fired, 1) * 1e6}))
"""


def drive(tree: Path, options: dict, tool: list[str] | None = None) -> tuple[dict, str]:
    # one BLAS thread: numpy's idle worker threads would spin inside the count
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "1",
           "OPENBLAS_NUM_THREADS": "1",
           sqlite_level.ENV: sqlite_level.level()}
    done = subprocess.run([*(tool or []), sys.executable, "-c", DRIVER, json.dumps(options)],
                          cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def instructions(tree: Path, args: argparse.Namespace, inside: str | None = None) -> float:
    """Instructions per fired call (inside `inside` only, when given), one callgrind run."""
    with tempfile.TemporaryDirectory() as scratch:
        tool = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
                "--toggle-collect=functools_reduce", f"--callgrind-out-file={scratch}/out"]
        drive(tree, {**_options(args, args.orders, inside=inside), "counted": True}, tool)
        totals = [line for line in Path(f"{scratch}/out").read_text().splitlines()
                  if line.startswith(("summary:", "totals:"))]
    return int(totals[0].split()[1]) / args.orders


def _options(args: argparse.Namespace, fired: int, profile: Path | None = None,
             inside: str | None = None) -> dict:
    return {"orders": args.orders, "fired": fired, "trigger": args.trigger,
            "before": BEFORE[args.trigger], "profile": str(profile) if profile else None,
            "inside": [inside] if inside else [], "counted": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trigger", default="start_picking", choices=sorted(BEFORE))
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--base", help="a commit to count too, in the same run")
    parser.add_argument("--inside", nargs="*", default=[],
                        help="count the instructions inside these functions too")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    result: dict = {"trigger": args.trigger, "orders": args.orders,
                    "load": os.getloadavg()}
    trees = {"current": ROOT}
    with tempfile.TemporaryDirectory() as scratch:
        if args.base:
            trees["base"] = Path(scratch) / "base"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f",
                            str(trees["base"]), args.base], check=True, capture_output=True)
        try:
            for side, tree in trees.items():
                drive(tree, _options(args, 5))  # compile the .pyc files outside the count
                answer, _ = drive(tree, _options(args, args.orders, args.profile
                                                 if side == "current" else None))
                result[f"{side}_cpu_us"] = round(answer["cpu_us"], 1)
                if args.instructions:
                    result[f"{side}_instructions"] = round(instructions(tree, args))
                for target in args.inside:
                    result[f"{side}_inside"] = result.get(f"{side}_inside", {})
                    result[f"{side}_inside"][target] = round(instructions(tree, args, target))
        finally:
            if args.base:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(trees["base"])], capture_output=True)
    if "base_instructions" in result:
        result["ratio"] = round(result["base_instructions"] / result["current_instructions"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
