"""What one signed webhook placement costs the server, counted: instructions and a CPU profile.

    python bench/placement_cost.py [--placements 400] [--repeat-share 0.3] [--instructions]
                                   [--profile FILE] [--seed 1] [--json FILE]

The ingestion app of `orderpilot api` (create_app, the same settings, a SQLite file at the
benchmarks' durability level) called in-process as an ASGI app — no uvicorn, no socket, no
client: only what the server's code does for a placement (signature check, routing, body
validation, the command and its one transaction, the JSON answer). Placements are those of
bench/ingest_http.py (distinct buyers in China, a one-line address, 5 % to a landmark and
held). `--repeat-share R`: that share of the placements is a returning buyer's — an earlier
buyer (drawn at random among those placed before) ordering again with the same id, phone,
device, IP and address, as a shop re-sends a saved address; 0 (the default, and ingest_http's):
every address is seen once.

`--instructions`: user-space instructions per placement under valgrind (cachegrind), the run
at N placements minus the run at N/5, so start-up, imports and the address tables cancel. A
count the machine's load does not move (the kernel's part — the WAL writes — is not in it);
runs of the same code differ by a few per cent (allocation): compare runs with the same
`--seed` (it seeds the draw of returning buyers and PYTHONHASHSEED). `--profile FILE`: cProfile
stats (thread-CPU clock) of the command, in the worker thread that runs it, over the timed
placements (read them with `python -m pstats FILE`; cProfile inflates many small calls).
`--clients C` keeps C placements in flight (closed loop), `--group-commit` serves them with
`orderpilot api --group-commit`'s app, `--commits` times every COMMIT (wall and thread CPU,
the fsync included at ORDERPILOT_SQLITE_SYNCHRONOUS=full): where a burst's time goes.
Neither is a test; figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python bench/placement_cost.py` from a checkout
    sys.path.insert(0, str(ROOT))

from bench import sqlite_level  # noqa: E402

WARMUP = 40


def requests(count: int, repeat_share: float, seed: int) -> list[dict[str, Any]]:
    """The placements in order: new buyers (bench/ingest_http.py's), and with probability
    `repeat_share` a returning one (an earlier placement's buyer, phone, device, IP, address)."""
    from bench.ingest_http import placement

    rng, placed, fresh = random.Random(seed), [], 1
    for n in range(count):
        if placed and rng.random() < repeat_share:
            order = dict(rng.choice(placed)["order"])
        else:
            order = placement(fresh, 20)["order"]
            fresh += 1
        placed.append({"event_id": f"shop-{n}", "order": order})
    return placed


async def asgi_post(app: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """POST one signed placement to the ingestion app as uvicorn would (an ASGI call, no
    socket); the JSON answer. Anything but 201 raises."""
    from bench.http_servers import SECRETS
    from integrations.http.signing import signed_headers

    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"),
               *((k.encode(), v.encode()) for k, v in
                 signed_headers(SECRETS["shop"], body, datetime.now(UTC)).items())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/shop/orders",
             "raw_path": b"/v1/shop/orders", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000)}
    sent, out = [{"type": "http.request", "body": body, "more_body": False}], []

    async def receive() -> dict[str, Any]:
        return sent.pop() if sent else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        out.append(message)
    await app(scope, receive, send)
    answer = b"".join(m.get("body", b"") for m in out[1:])
    if out[0]["status"] != 201:
        raise RuntimeError(f"placement answered {out[0]['status']}: {answer[:300]!r}")
    return json.loads(answer)


# The driver runs in its own process (under valgrind for --instructions); it prints the
# placements' states and CPU µs per placement, and with a fourth argument dumps the command's
# cProfile stats there.
DRIVER = r"""
import asyncio, json, sys, tempfile, threading, time
from collections import Counter
from datetime import UTC, datetime
from bench import placement_cost as bench
from bench.http_servers import SECRETS, SKUS
from integrations.db import units
from integrations.http.settings import HttpSettings
from orderpilot import OrderPilot
from orderpilot.api_integrations import http_app

options = json.loads(sys.argv[1])
count, clients = options["count"], options["clients"]
payloads = bench.requests(bench.WARMUP + count, options["repeat_share"], options["seed"])
commits = []  # (wall s, thread CPU s) of each COMMIT, with --commits
if options["commits"]:
    commit = units._commit

    def timed(connection, driver):
        wall, cpu = time.perf_counter(), time.thread_time()
        commit(connection, driver)
        commits.append((time.perf_counter() - wall, time.thread_time() - cpu))
    units._commit = timed
with tempfile.TemporaryDirectory() as folder:
    pilot = OrderPilot(f"sqlite:///{folder}/shop.db")
    for sku, _ in SKUS:
        pilot.inventory.receive(sku=sku, warehouse="WH-HANGZHOU", quantity=10_000_000)
    app = http_app(pilot, HttpSettings(secrets=SECRETS, group_commit=options["group"]))

    async def post(payload):
        return (await bench.asgi_post(app, payload))["order"]["state"]

    async def placed(todo, states):  # closed loop: `clients` of these, each its next when answered
        while todo:
            states[await post(todo.pop())] += 1

    async def main():
        async with app.router.lifespan_context(app):  # the address tables, as served
            for payload in payloads[:bench.WARMUP]:
                await post(payload)
            profiler = None
            if options["profile"]:  # the command, in the worker thread that runs it
                import cProfile
                from integrations.http.deps import Runner
                profiler, call = cProfile.Profile(time.thread_time), Runner.__call__

                def profiled(self, command):
                    profiler.enable()
                    try:
                        return call(self, command)
                    finally:
                        profiler.disable()
                Runner.__call__ = profiled
            commits.clear()
            todo, states = payloads[bench.WARMUP:][::-1], Counter()
            wall, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(placed(todo, states) for _ in range(clients)))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if profiler:
                profiler.dump_stats(options["profile"])
            return states, wall, cpu
    states, wall, cpu = asyncio.run(main())
    pilot.close()
print(json.dumps({"states": states, "cpu_us": cpu / count * 1e6, "wall_us": wall / count * 1e6,
                  "commits": len(commits), "commit_wall_s": sum(w for w, _ in commits),
                  "commit_cpu_s": sum(c for _, c in commits), "wall_s": wall, "cpu_s": cpu}))
"""


def drive(count: int, repeat_share: float, seed: int, profile: Path | None = None,
          valgrind_out: Path | None = None, clients: int = 1, group: bool = False,
          commits: bool = False) -> tuple[dict[str, Any], int | None]:
    """(the driver's answer, its instruction count under cachegrind or None)."""
    options = {"count": count, "repeat_share": repeat_share, "seed": seed, "clients": clients,
               "group": group, "commits": commits, "profile": str(profile) if profile else None}
    command = [sys.executable, "-c", DRIVER, json.dumps(options)]
    if valgrind_out:
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                   f"--cachegrind-out-file={valgrind_out}", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": str(seed),
           sqlite_level.ENV: sqlite_level.level()}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    refs = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr) if valgrind_out else None
    return (json.loads(done.stdout.strip().splitlines()[-1]),
            int(refs[1].replace(",", "")) if refs else None)


def instructions(args: argparse.Namespace) -> float:
    """User-space instructions per placement: the run at N minus the run at N/5."""
    low = max(10, args.placements // 5)
    with tempfile.TemporaryDirectory() as scratch:
        counts = [drive(n, args.repeat_share, args.seed, clients=args.clients,
                        group=args.group_commit, valgrind_out=Path(scratch) / f"{n}.out")[1]
                  for n in (low, args.placements)]
    return (counts[1] - counts[0]) / (args.placements - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--placements", type=int, default=400)
    parser.add_argument("--repeat-share", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=1,
                        help="placements in flight at once (closed loop)")
    parser.add_argument("--group-commit", action="store_true",
                        help="the app of `orderpilot api --group-commit`")
    parser.add_argument("--commits", action="store_true",
                        help="time every COMMIT (wall and thread CPU)")
    parser.add_argument("--instructions", action="store_true",
                        help="user-space instructions per placement (valgrind on the PATH)")
    parser.add_argument("--profile", type=Path, help="write the command's cProfile stats here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    drive(5, args.repeat_share, args.seed)  # compile the .pyc files outside the count
    result: dict[str, Any] = {
        "placements": args.placements, "repeat_share": args.repeat_share, "seed": args.seed,
        "clients": args.clients, "group_commit": args.group_commit,
        "synchronous": sqlite_level.level(), "load": os.getloadavg(),
        "at": datetime.now(UTC).isoformat(timespec="seconds")}
    answer, _ = drive(args.placements, args.repeat_share, args.seed, profile=args.profile,
                      clients=args.clients, group=args.group_commit, commits=args.commits)
    result |= {"states": answer["states"], "cpu_us_per_placement": round(answer["cpu_us"], 1),
               "wall_us_per_placement": round(answer["wall_us"], 1)}
    if args.commits:
        result |= {key: round(answer[key], 4) if isinstance(answer[key], float) else answer[key]
                   for key in ("commits", "commit_wall_s", "commit_cpu_s", "wall_s", "cpu_s")}
    if args.instructions:
        result["instructions_per_placement"] = round(instructions(args))
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
