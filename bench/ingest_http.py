"""Signed webhook ingestion over HTTP against a bare FastAPI floor, in one run (issue 10).

    python bench/ingest_http.py [--rounds 5] [--requests 300] [--profile 20]
                                [--store sqlite|postgres] [--json bench/results/ingest_http.json]
                                [--sqlite-synchronous full] [--one-tx-also-at normal]

Three servers, each its own process on a fresh SQLite file, started once and warmed up, all
served by uvicorn with the settings of `orderpilot api` (one process, access log at info):
    floor    bench/http_floor.py: a bare FastAPI endpoint doing one SQLite INSERT per request
    one_tx   `orderpilot api`: one transaction per request
    group    `orderpilot api --group-commit`: concurrent events share transactions
Each round runs floor, one_tx and group in turn at each concurrency (closed loop: that many
clients each sending its next request when answered). Placements are signed shop webhooks
from distinct buyers in China (their own +86 mobile, device and IP; a one-line address in
Chinese characters in one of ten cities; CNY), a share of them to a landmark instead of an
address (`--held-share`, held for review as a shop's vague addresses are); then the gateway's
payments for every order the risk engine let through. Per phase: requests/s, p50/p99 latency
at the client, server CPU per request (utime + stime of the server process, /proc/<pid>/stat)
and how long its threads waited for a CPU while runnable (/proc/<pid>/task/*/schedstat: on a
shared machine a server whose work runs on one thread, as group commit's does, waits more).
Ratios are taken within a round, and the medians over rounds reported. `--store postgres` puts
the two product servers on fresh PostgreSQL databases (where a COMMIT waits for the WAL flush);
their server CPU then leaves out PostgreSQL's own processes. `--profile S` samples
the one_tx server with py-spy for S seconds of placements and tells where its time goes.
`--sqlite-synchronous LEVEL` runs floor, one_tx and group with ORDERPILOT_SQLITE_SYNCHRONOUS=LEVEL
(default: normal, as every figure before 2026-11-29, unless the environment sets it:
bench/sqlite_level.py); `--one-tx-also-at LEVEL` adds `one_tx_LEVEL`, one transaction
per request at that level, in turn with the others: what the durability level costs, same run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if not __package__:  # run as `python bench/ingest_http.py` from a checkout
    sys.path.insert(0, str(ROOT))

from bench import http_layers, sqlite_level  # noqa: E402
from bench.http_servers import SECRETS, SKUS, Server, database, start, stop, waited  # noqa: E402
from integrations.http.signing import signed_headers  # noqa: E402
from orderpilot.demo_risk import REGIONS, STREETS  # noqa: E402

CONCURRENCY = {"floor": (4, 16, 32), "one_tx": (4, 16, 32), "group": (4, 16, 32),
               "base_one_tx": (4, 16, 32), "base_group": (4, 16, 32)}
OTHER_LEVEL = "one_tx_"  # + the level of --one-tx-also-at
MOBILE = ("138", "139", "150", "186", "188", "135", "159", "177")  # none a virtual segment
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄丽")
Request = tuple[str, bytes, str]  # path, body, source


def placement(n: int, held_every: int) -> dict[str, Any]:
    """Order n of a server: buyer n, a new buyer with their own phone, device, IP and address."""
    province, city, district = REGIONS[n % len(REGIONS)]
    street = STREETS[n // len(REGIONS) % len(STREETS)]
    house = f"{n // (len(REGIONS) * len(STREETS)) % 999 + 1}号{n % 6 + 1}单元"
    vague = held_every > 0 and n % held_every == 0
    phone = f"+86{MOBILE[n % len(MOBILE)]}{n:08d}"
    lines = [{"sku": SKUS[n % 4][0], "quantity": 1, "unit_price": SKUS[n % 4][1]}]
    if n % 2:
        lines.append({"sku": "CABLE-3", "quantity": 2, "unit_price": 2_900})
    return {"event_id": f"shop-{n}", "order": {
        "buyer_id": f"b-{n}", "currency": "CNY", "phone": phone, "device_id": f"d-{n}",
        "ip": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", "lines": lines,
        "shipping_address": {"line": f"{province}{city}{district}{street}"
                                     + ("万达广场附近" if vague else house),
                             "recipient": NAMES[n % len(NAMES)], "phone": phone}}}


def payment(order: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": f"pay-{order['id']}", "type": "succeeded", "order_id": order["id"],
            "amount": order["total"], "currency": "CNY", "payment_ref": f"pr-{order['id']}"}


def encode(path: str, payload: dict[str, Any], source: str) -> Request:
    return path, json.dumps(payload, ensure_ascii=False).encode(), source


def send(port: int, requests: list[Request], concurrency: int) -> tuple[float, list[Any]]:
    """Closed loop: `concurrency` clients on kept-alive connections; (wall s, results)."""
    results: list[Any] = [None] * len(requests)
    numbers = itertools.count()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while (i := next(numbers)) < len(requests):
            path, body, source = requests[i]
            headers = {"content-type": "application/json",
                       **signed_headers(SECRETS[source], body, datetime.now(UTC))}
            started = time.perf_counter()
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            data = response.read()
            results[i] = (time.perf_counter() - started, response.status, data)
        connection.close()

    clients = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return time.perf_counter() - started, results


def phase(server: Server, requests: list[Request], concurrency: int) -> tuple[dict, list]:
    """One timed phase: throughput, latency and server CPU per request."""
    cpu, waits = server.cpu(), server.runqueue_waits()
    logged = server.batch_log.stat().st_size if server.batch_log else 0
    wall, results = send(server.port, requests, concurrency)
    if None in results:
        raise RuntimeError(f"{server.name} stopped answering (exit {server.process.poll()})")
    cpu, queued = server.cpu() - cpu, waited(waits, server.runqueue_waits())
    ms = sorted(r[0] * 1000 for r in results)
    return {"requests": len(ms), "concurrency": concurrency, "per_s": round(len(ms) / wall, 1),
            "p50_ms": round(statistics.median(ms), 2),
            "p99_ms": round(ms[max(0, -(-len(ms) * 99 // 100) - 1)], 2),
            "server_cpu_ms": round(cpu * 1000 / len(ms), 3),
            "server_runqueue_wait_ms": round(queued * 1000 / len(ms), 3),
            "statuses": dict(Counter(str(r[1]) for r in results)),
            **({"batches": _batches(server.batch_log, logged)} if server.batch_log else {})
            }, results


def _batches(log: Path, start: int) -> list[list[float]]:
    """The batches committed since byte `start` of the server's log: [members, open ms,
    COMMIT ms] each (every caller is answered after its batch's line is written)."""
    with log.open("rb") as lines:
        lines.seek(start)
        return [[float(x) for x in line.split()[:3]] for line in lines.read().splitlines()]


def batch_sizes(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per group server, concurrency and kind, over all rounds: how many commands its batches
    held (mean, median, 90th percentile, max; the share of commands in batches of 1) and the
    median time a batch was open before its COMMIT and the COMMIT itself."""
    out: dict[str, Any] = {}
    for name, levels in rounds[0].items() if rounds else ():
        for level, kinds in levels.items() if isinstance(levels, dict) else ():
            for kind, first in kinds.items():
                if "batches" not in first:
                    continue
                batches = [b for r in rounds for b in r[name][level][kind]["batches"]]
                sizes = sorted(int(b[0]) for b in batches)
                if not sizes:
                    continue
                out[f"{name}.{level}.{kind}"] = {
                    "batches": len(sizes), "mean": round(statistics.mean(sizes), 2),
                    "p50": statistics.median(sizes), "p90": sizes[len(sizes) * 9 // 10],
                    "max": sizes[-1],
                    "alone_share": round(sizes.count(1) / sum(sizes), 3),
                    "open_ms_p50": round(statistics.median(b[1] for b in batches), 3),
                    "commit_ms_p50": round(statistics.median(b[2] for b in batches), 3)}
    return out


def placements(server: Server, count: int, held_every: int) -> list[Request]:
    return [encode("/v1/shop/orders", placement(next(server.placed), held_every), "shop")
            for _ in range(count)]


def place_and_pay(server: Server, count: int, concurrency: int, held_every: int
                  ) -> dict[str, dict]:
    """Placements, then the payments of the orders let through (awaiting payment)."""
    placed, results = phase(server, placements(server, count, held_every), concurrency)
    if server.name == "floor":
        return {"place": placed}
    orders = [json.loads(r[2])["order"] for r in results if r[1] == 201]
    server.states.update(o["state"] for o in orders)
    placed["states"] = dict(Counter(o["state"] for o in orders))
    payable = [o for o in orders if o["state"] == "awaiting_payment"]
    paid, _ = phase(server, [encode("/v1/payments/events", payment(o), "payments")
                             for o in payable], concurrency)
    return {"place": placed, "pay": paid}


def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    held_every = round(1 / args.held_share) if args.held_share > 0 else 0
    names = ["floor", "one_tx", "group"]
    with contextlib.ExitStack() as started:
        base = None
        if args.base:
            base = started.enter_context(_checkout(args.base, directory / "base"))
            names += ["base_one_tx", "base_group"]
        if args.one_tx_also_at:
            names.append(OTHER_LEVEL + args.one_tx_also_at)
        servers = []
        for k, name in enumerate(names):
            url = started.enter_context(database(args.store, directory, name))
            level = (args.one_tx_also_at if name.startswith(OTHER_LEVEL)
                     else args.sqlite_synchronous)
            log = (directory / f"{name}.batches" if args.batch_sizes and name.endswith("group")
                   else None)
            servers.append(start(name, url, args.port + k,
                                 base if name.startswith("base_") and base else ROOT, level,
                                 batch_log=log))
            started.callback(stop, servers[-1])  # before its database is dropped
        return {"store": args.store, "base": args.base,
                "sqlite_synchronous": args.sqlite_synchronous,
                "one_tx_also_at": args.one_tx_also_at,
                "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
                **_measure(servers, args, held_every, directory)}


@contextlib.contextmanager
def _checkout(commit: str, into: Path) -> Any:
    """`commit` checked out (detached) into `into`, removed afterwards."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(into),
                    commit], check=True, capture_output=True)
    try:
        yield into
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(into)],
                       check=False, capture_output=True)


def _measure(servers: list[Server], args: argparse.Namespace, held_every: int,
             directory: Path) -> dict[str, Any]:
    for server in servers:  # warm-up: imports, address tables, connections, page cache
        place_and_pay(server, args.warmup, 4, held_every)
        server.states.clear()
    rounds = []
    for number in range(args.rounds):
        rounds.append({server.name: {} for server in servers})
        for c in CONCURRENCY["floor"]:  # the servers in turn at each level: pairs see one load
            for server in servers:
                rounds[-1][server.name][f"c{c}"] = place_and_pay(server, args.requests, c,
                                                                 held_every)
        rounds[-1]["load_average_1min"] = round(os.getloadavg()[0], 1)
        print(json.dumps({"round": number + 1, **_ratios(rounds[-1])}), flush=True)
    profiles = {s.name: _profile(s, args, held_every, directory)
                for s in servers if s.name in args.profile_servers} if args.profile else {}
    return {"benchmark": "ingest_http", "requests_per_phase": args.requests,
            "rounds": rounds, "ratios_median": _medians([_ratios(r) for r in rounds]),
            "batch_sizes": batch_sizes(rounds),
            "phases_median": _phase_medians(rounds),
            "placement_states": {s.name: dict(s.states) for s in servers[1:]},
            "profile_one_tx_placement": profiles.get("one_tx"),
            "profile_floor": profiles.get("floor"),
            **{f"profile_{name}": profile for name, profile in profiles.items()
               if name not in ("one_tx", "floor")}}


def _ratios(round_: dict[str, Any]) -> dict[str, float]:
    def of(name: str, c: int, kind: str, key: str = "per_s") -> float:
        return round_[name][f"c{c}"][kind][key]

    out = {}
    for c in CONCURRENCY["floor"]:
        out[f"placement_vs_floor_c{c}"] = of("one_tx", c, "place") / of("floor", c, "place")
        out[f"group_placement_vs_floor_c{c}"] = of("group", c, "place") / of("floor", c, "place")
        out[f"floor_cpu_over_placement_cpu_c{c}"] = (of("floor", c, "place", "server_cpu_ms")
                                                     / of("one_tx", c, "place", "server_cpu_ms"))
    for c in CONCURRENCY["group"]:
        for kind in ("place", "pay"):
            out[f"group_vs_one_tx_{kind}_c{c}"] = of("group", c, kind) / of("one_tx", c, kind)
            out[f"one_tx_cpu_over_group_cpu_{kind}_c{c}"] = (
                of("one_tx", c, kind, "server_cpu_ms") / of("group", c, kind, "server_cpu_ms"))
            for name in ("one_tx", "group"):
                if f"base_{name}" in round_:  # this checkout against --base, same round
                    out[f"{name}_vs_base_{kind}_c{c}"] = (of(name, c, kind)
                                                          / of(f"base_{name}", c, kind))
                    out[f"{name}_cpu_over_base_cpu_{kind}_c{c}"] = (
                        of(name, c, kind, "server_cpu_ms")
                        / of(f"base_{name}", c, kind, "server_cpu_ms"))
            for other in (n for n in round_ if n.startswith(OTHER_LEVEL)):
                level = other.removeprefix(OTHER_LEVEL)  # one_tx at this run's level / at that
                out[f"one_tx_vs_one_tx_{level}_{kind}_c{c}"] = (of("one_tx", c, kind)
                                                              / of(other, c, kind))
                out[f"one_tx_cpu_over_one_tx_{level}_cpu_{kind}_c{c}"] = (
                    of("one_tx", c, kind, "server_cpu_ms") / of(other, c, kind, "server_cpu_ms"))
        if "base_group" in round_:
            out[f"base_group_vs_base_one_tx_place_c{c}"] = (of("base_group", c, "place")
                                                            / of("base_one_tx", c, "place"))
    return {k: round(v, 3) for k, v in out.items()}


def _medians(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {k: round(statistics.median(r[k] for r in rows), 3) for k in rows[0]}


def _phase_medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, levels in rounds[0].items() if rounds else ():
        if not isinstance(levels, dict):
            continue
        for level, kinds in levels.items():
            for kind in kinds:
                out[f"{name}.{level}.{kind}"] = {
                    key: round(statistics.median(r[name][level][kind][key] for r in rounds), 3)
                    for key in ("per_s", "p50_ms", "p99_ms", "server_cpu_ms",
                                "server_runqueue_wait_ms")}
    return out


def _profile(server: Server, args: argparse.Namespace, held_every: int,
             directory: Path) -> dict[str, Any]:
    """py-spy on `server` while 4 clients send it placements (the floor stores them)."""
    py_spy = args.py_spy or shutil.which("py-spy")
    if not py_spy:
        return {"skipped": "py-spy not found (pip install py-spy, or --py-spy PATH)"}
    out = (args.folded or directory) / f"{server.name}.folded"
    sampler = http_layers.record(server.process.pid, args.profile, out, py_spy)
    time.sleep(1)  # attached
    cpu, placed = server.cpu(), 0
    while sampler.poll() is None:
        placed += phase(server, placements(server, 50, held_every), 4)[0]["requests"]
    cpu = server.cpu() - cpu
    if sampler.returncode != 0 or not out.exists():
        return {"skipped": f"py-spy failed: {sampler.stderr.read().decode()[-300:]}"}
    return {"placements": placed, "server_cpu_ms_per_placement": round(cpu * 1000 / placed, 3),
            **http_layers.layers(out)}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300, help="placements per phase")
    parser.add_argument("--warmup", type=int, default=60, help="placements per server first")
    parser.add_argument("--held-share", type=float, default=0.05,
                        help="share of placements to a landmark (held for review)")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                        help="the product servers' store (the floor is always SQLite)")
    parser.add_argument("--port", type=int, default=18740)
    parser.add_argument("--profile", type=float, default=0, help="py-spy seconds (0: none)")
    parser.add_argument("--py-spy", help="path of py-spy (default: on PATH)")
    parser.add_argument("--profile-servers", nargs="+", default=["floor", "one_tx"],
                        help="the servers --profile samples, one after another")
    parser.add_argument("--folded", type=Path,
                        help="a directory to keep py-spy's folded stacks in (<server>.folded)")
    parser.add_argument("--base", help="also run `orderpilot api` (one-tx and group) from "
                        "this commit, checked out into a temporary worktree: before / after "
                        "in the same run (base_one_tx, base_group)")
    parser.add_argument("--sqlite-synchronous", choices=("normal", "full"),
                        help="ORDERPILOT_SQLITE_SYNCHRONOUS of floor, one_tx and group "
                             "(default: normal, see bench/sqlite_level.py)")
    parser.add_argument("--one-tx-also-at", choices=("normal", "full"),
                        help="also run one_tx at this SQLite level (server one_tx_LEVEL)")
    parser.add_argument("--clients", type=int, nargs="+", default=[4, 16, 32],
                        help="concurrency levels (closed-loop clients)")
    parser.add_argument("--batch-sizes", action="store_true",
                        help="log each batch of the group servers (bench/batch_probe) and "
                             "report how many commands they held")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    if args.sqlite_synchronous:  # the environment of every server started (the floor's level
        os.environ[sqlite_level.ENV] = args.sqlite_synchronous  # passed to it as --synchronous)
    args.sqlite_synchronous = sqlite_level.level()
    for name in CONCURRENCY:
        CONCURRENCY[name] = tuple(args.clients)
    return args


if __name__ == "__main__":
    arguments = _arguments()
    with tempfile.TemporaryDirectory(prefix="ingest-http-") as tmp:
        report = run(arguments, Path(tmp))
    print(json.dumps(report["ratios_median"] | {"states": report["placement_states"]}
                     | ({"batch_sizes": report["batch_sizes"]} if arguments.batch_sizes else {}),
                     indent=1))
    if arguments.json:
        arguments.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
